package app

import (
	"bytes"
	"image"
	"image/png"
	"math"

	"climxai/attribution"
	"climxai/plots"
)

// AblationLines is the default ablation figure: correlation against the radius kept (finite
// radii; the full input is the reference line for an infinite one), or against the months kept
// when no radius was asked for, with the full input and persistence as references.
func AblationLines(radii []float64, lags []int, res *attribution.AblationResult, full, pers attribution.Skill) *plots.Lines {
	l := &plots.Lines{YLabel: "correlation with the truth",
		References: []plots.Reference{{Label: "full input", Y: full.Corr}, {Label: "persistence", Y: pers.Corr}}}
	var c plots.Series
	if len(radii) > 0 {
		l.XLabel = "radius kept around the target (km)"
		c.Label = "inputs within the radius"
		for i, r := range radii {
			if !math.IsInf(r, 1) && !math.IsNaN(res.Radius[i].Corr) {
				c.X, c.Y = append(c.X, r), append(c.Y, res.Radius[i].Corr)
			}
		}
	}
	if len(c.X) == 0 {
		l.XLabel, c = "most recent months kept", plots.Series{Label: "inputs of the most recent months"}
		for i, k := range lags {
			if !math.IsNaN(res.Lag[i].Corr) {
				c.X, c.Y = append(c.X, float64(k)), append(c.Y, res.Lag[i].Corr)
			}
		}
	}
	l.Series = []plots.Series{c}
	return l
}

// LinesImage draws curves as the figure verb draws kind lines at preset's width (height 0.7 of
// it), rasterised at dpi, for showing in a window.
func LinesImage(l *plots.Lines, preset string, dpi int) (image.Image, error) {
	pr, err := plots.LookupPreset(preset)
	if err != nil {
		return nil, err
	}
	f, err := plots.LinesFigure(*l, pr.Width, 0, plots.DefaultStyle())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Encode(&buf, "png", dpi); err != nil {
		return nil, err
	}
	return png.Decode(&buf)
}
