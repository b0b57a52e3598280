package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"climxai/app"
	"climxai/plots"
)

// cmdFigure is `climxai figure`: a figure for papers from result files, or the same figure
// again from its sidecar (FIG.ext.json) with --spec.
func cmdFigure(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("figure", "figure (--spec FIG.json | --kind KIND RESULT.nc...) --out FIG.{png,pdf,svg,eps}\n\n"+
		"kinds: map (one file; --lags summed, default lag 0), decay (one file per lead), distance (files;\n"+
		"--lags summed, default all), leads (one file per lead; a row per lag in --lags, default 0),\n"+
		"methods (one file per method of one forecast, each on its own scale; rows as leads),\n"+
		"laglat (one file: lag against latitude), decaymap (one map file of climxai decaymap); lines and\n"+
		"fidelity figures keep their data in the sidecar (--figure of ablate, skill, fidelity) and redraw with --spec", stderr)
	spec := fs.String("spec", "", "sidecar of an earlier figure (FIG.ext.json): draw that figure again")
	kind := fs.String("kind", "", "figure kind: "+strings.Join(plots.Kinds, ", "))
	lagsFlag := fs.String("lags", "", "lags: map and distance sum them, leads has one row each (e.g. 0, 0-11, 0,6,12)")
	preset := fs.String("preset", plots.DefaultPreset, "width preset: agu1 (95 mm), agu2 (190 mm), ams1 (3.2 in), ams2 (6.5 in)")
	dpi := fs.Int("dpi", plots.DefaultDPI, "PNG resolution (dots per inch)")
	scale := fs.String("scale", "auto", "colour scale of maps: auto, diverging (RdBu, symmetric about 0), sequential (viridis)")
	title := fs.String("title", "", "map title (default from the result file)")
	height := fs.Float64("height-mm", 0, "height of curve figures in mm (default 0.7 of the width; maps follow their aspect)")
	contours := fs.String("contours", "", "map contour lines of |value| at fractions of its maximum, e.g. 0.25,0.5")
	normalize := fs.String("normalize", "", "leads: \"lead\" divides each lead's maps by its largest |value| (patterns of weak leads show; default: values as they are)")
	variable := fs.String("var", "", "map, laglat, leads, methods: draw this (lag, lat, lon) variable of the result files instead of attribution (an aggregate's signed_mean, std, signed_std)")
	fitLags := fs.Int("fit-max-lag", 0, "decay: fit the e-folding curve to lags 0..K only (e.g. 11, the first year; as decay --max-lag); 0 fits every lag")
	out := fs.String("out", "", "output figure; the format follows the extension; a sidecar OUT.json is written beside it")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return app.Usagef("figure: --out FIG.png|pdf|svg|eps is required")
	}
	if _, err := plots.Format(*out); err != nil {
		return app.Usagef("figure: %v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var s plots.Spec
	base := "."
	if *spec != "" {
		if *kind != "" || len(pos) > 0 || set["lags"] {
			return app.Usagef("figure: --spec takes the kind, inputs and lags from the sidecar; drop --kind, --lags and the file arguments")
		}
		s, err = plots.ReadSpec(*spec)
		if err != nil {
			return err
		}
		base = filepath.Dir(*spec)
	} else {
		if *kind == "" {
			return app.Usagef("figure: give --spec FIG.json, or --kind (%s) and result files", strings.Join(plots.Kinds, ", "))
		}
		if *kind == plots.KindLines || *kind == plots.KindFidelity {
			return app.Usagef("figure: kind %s carries its data in the sidecar: ablate, skill and fidelity write one with --figure; redraw it with --spec", *kind)
		}
		if len(pos) == 0 {
			if *kind == plots.KindDecayMap {
				return app.Usagef("figure: --kind decaymap needs the map file of climxai decaymap")
			}
			return app.Usagef("figure: --kind %s needs result files (from climxai explain or aggregate)", *kind)
		}
		lags, err := app.ParseLags(*lagsFlag)
		if err != nil {
			return app.Usagef("figure: --lags: %v", err)
		}
		s, err = plots.NewSpec(*kind, pos, lags)
		if err != nil {
			return app.Usagef("figure: %v", err)
		}
		s.Scale, s.Title, s.HeightMM, s.Normalize, s.Variable, s.FitMaxLag = *scale, *title, *height, *normalize, *variable, *fitLags
		if s.Contours, err = parseFractions(*contours); err != nil {
			return app.Usagef("figure: --contours: %v", err)
		}
	}
	// Explicit presentation flags override the sidecar's; the new sidecar records them.
	if *spec == "" || set["preset"] {
		s.Preset = *preset
	}
	if *spec == "" || set["dpi"] {
		s.DPI = *dpi
	}
	if *spec != "" && set["scale"] {
		s.Scale = *scale
	}
	if *spec != "" && set["title"] {
		s.Title = *title
	}
	if *spec != "" && set["contours"] {
		if s.Contours, err = parseFractions(*contours); err != nil {
			return app.Usagef("figure: --contours: %v", err)
		}
	}
	if *spec != "" && set["normalize"] {
		s.Normalize = *normalize
	}
	if *spec != "" && set["height-mm"] {
		s.HeightMM = *height
	}
	if *spec != "" && set["var"] {
		s.Variable = *variable
	}
	if *spec != "" && set["fit-max-lag"] {
		s.FitMaxLag = *fitLags
	}
	if _, err := plots.LookupPreset(s.Preset); err != nil {
		return app.Usagef("figure: %v", err)
	}
	if s.DPI < 1 || s.DPI > 2400 {
		return app.Usagef("figure: --dpi %d outside 1..2400", s.DPI)
	}
	for _, c := range s.Contours {
		if !(c > 0 && c < 1) {
			return app.Usagef("figure: --contours: %g is not a fraction between 0 and 1", c)
		}
	}
	if err := plots.CheckNormalize(s.Kind, s.Normalize); err != nil {
		return app.Usagef("figure: --normalize: %v", err)
	}
	if err := plots.CheckVariable(s.Kind, s.Variable); err != nil {
		return app.Usagef("figure: --var: %v", err)
	}
	if err := plots.CheckFitMaxLag(s.Kind, s.FitMaxLag); err != nil {
		return app.Usagef("figure: --fit-max-lag: %v", err)
	}
	if err := plots.Make(s, base, *out); err != nil {
		if errors.Is(err, plots.ErrSpec) {
			return fmt.Errorf("%w (check --kind, --lags and the result files)", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s\n", *out, plots.SidecarPath(*out))
	return nil
}

// parseFractions reads "0.25,0.5" (empty: none).
func parseFractions(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, part := range strings.Split(s, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("bad fraction %q (want e.g. 0.25,0.5)", part)
		}
		out = append(out, f)
	}
	return out, nil
}
