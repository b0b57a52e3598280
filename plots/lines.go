package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one labelled curve of a LinesFigure (e.g. skill against ablation radius for one
// lead, or a deletion curve for one method).
type Series struct {
	Label string    `json:"label"`
	X     []float64 `json:"x"`
	Y     []float64 `json:"y"`
}

// Reference is a labelled horizontal line (e.g. the skill of the full input, or persistence).
type Reference struct {
	Label string  `json:"label"`
	Y     float64 `json:"y"`
}

// Lines describes a curve figure: ablation curves (skill against radius or lag, with the full
// input and persistence as references) and fidelity curves (deletion/insertion).
type Lines struct {
	Series     []Series    `json:"series"`
	References []Reference `json:"references,omitempty"`
	XLabel     string      `json:"x_label"`
	YLabel     string      `json:"y_label"`
	LegendTop  bool        `json:"legend_top,omitempty"` // legend top-right instead of bottom-right
	// XTicks, if given, are the only labelled x values (e.g. the leads of a skill figure).
	XTicks []float64 `json:"x_ticks,omitempty"`
}

// LinesFigure draws the curves in Okabe–Ito colours with markers, references as grey dashed
// lines; height is 0.7 of the width unless given.
func LinesFigure(l Lines, width, height vg.Length, st Style) (*Figure, error) {
	if len(l.Series) == 0 {
		return nil, fmt.Errorf("%w: no curves", ErrData)
	}
	p := st.newPlot()
	p.X.Label.Text, p.Y.Label.Text = l.XLabel, l.YLabel
	if len(l.XTicks) > 0 {
		ts := make([]plot.Tick, len(l.XTicks))
		for i, x := range l.XTicks {
			ts[i] = plot.Tick{Value: x, Label: tickLabel(x, decimals(x))}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ts)
	}
	leg := newLegend(st)
	leg.Top = l.LegendTop
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for k, s := range l.Series {
		if len(s.X) == 0 || len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("%w: curve %q has %d x and %d y values", ErrData, s.Label, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, len(s.X))
		for i := range s.X {
			xy[i] = plotter.XY{X: s.X[i], Y: s.Y[i]}
		}
		ln, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("%w: curve %q: %v", ErrData, s.Label, err)
		}
		col := CategoryColors[k%len(CategoryColors)]
		ln.Color, ln.Width = col, st.Line
		pts.Color, pts.Shape, pts.Radius = col, glyphs[k%len(glyphs)], 1.6
		p.Add(ln, pts)
		leg.Add(s.Label, ln, pts)
		leg.occupy(xy)
		lo, hi := minMax(s.X)
		xmin, xmax = math.Min(xmin, lo), math.Max(xmax, hi)
	}
	for k, r := range l.References {
		ref, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: r.Y}, {X: xmax, Y: r.Y}})
		if err != nil {
			return nil, fmt.Errorf("%w: reference %q: %v", ErrData, r.Label, err)
		}
		ref.Color, ref.Width = rgb([]uint32{0x555555, 0x999999}[k%2]), st.Line*0.8
		ref.Dashes = [][]vg.Length{{3, 1.5}, {1, 1.5}}[k%2]
		p.Add(ref)
		leg.Add(r.Label, ref)
		leg.occupy(plotter.XYs{{X: xmin, Y: r.Y}, {X: xmax, Y: r.Y}})
	}
	// Room above and below, so that a reference at the top of the range stays visible.
	pad := 0.04 * (p.Y.Max - p.Y.Min)
	p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad
	if height == 0 {
		height = width * 0.7
	}
	return &Figure{Width: width, Height: height, draw: func(c draw.Canvas) { drawWithLegend(c, p, leg) }}, nil
}
