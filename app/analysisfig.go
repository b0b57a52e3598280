package app

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"climxai/plots"
)

// AnalysisFigure is a figure of an analysis result, as a dialog lists it: Kind is a plots kind,
// or KindAblationRadius / KindAblationLags for the ablation's two curves.
type AnalysisFigure struct{ Label, Kind string }

// The ablation's figures: correlation against the radius kept, or against the months kept (both
// plots.KindLines in the sidecar).
const (
	KindAblationRadius = "lines:radius"
	KindAblationLags   = "lines:lags"
)

// AnalysisResult is the outcome of an analysis that the window shows, saves and draws:
// *AggregateResult, *DecayMapResult or *AblationOutcome.
type AnalysisResult interface {
	// Figures are the figures it can be drawn as, the usual first.
	Figures() []AnalysisFigure
	// write writes it at path as its verb's --out does.
	write(w *Workspace, path string) error
	// spec is the spec of figure o.Kind drawn from its file nc (absolute); an aggregate's map
	// sums o.Lags (none: every lag) of o.Variable ("": mean |attribution|).
	spec(w *Workspace, nc string, o FigureOptions) (plots.Spec, error)
}

// Figures are the map summed over all lags, the decay curve, the distance curve and lag
// against latitude.
func (r *AggregateResult) Figures() []AnalysisFigure {
	return []AnalysisFigure{
		{"Map of the importance summed over all lags", plots.KindMap},
		{"Importance against lag (decay)", plots.KindDecay},
		{"Cumulative importance against distance", plots.KindDistance},
		{"Lag against latitude", plots.KindLagLat},
	}
}

func (r *AggregateResult) write(w *Workspace, path string) error {
	return w.WriteAggregateResult(path, r)
}

func (r *AggregateResult) spec(w *Workspace, nc string, o FigureOptions) (plots.Spec, error) {
	lags := o.Lags
	switch {
	case o.Kind != plots.KindMap:
		lags = nil // the curves show every lag
	case len(lags) == 0:
		lags = make([]int, w.Card.InputMonths) // the map sums every lag
		for k := range lags {
			lags[k] = k
		}
	}
	s, err := plots.NewSpec(o.Kind, []string{nc}, lags)
	if o.Kind == plots.KindMap || o.Kind == plots.KindLagLat {
		s.Variable = o.Variable // the curves are of mean |attribution|
	}
	if o.Kind == plots.KindDecay {
		s.FitMaxLag = o.FitMaxLag
	}
	return s, err
}

// Figures are the maps of the e-folding time and R90.
func (r *DecayMapResult) Figures() []AnalysisFigure {
	return []AnalysisFigure{{"Maps of the e-folding time and R90", plots.KindDecayMap}}
}

func (r *DecayMapResult) write(w *Workspace, path string) error {
	return w.WriteDecayMapResult(path, r)
}

func (r *DecayMapResult) spec(_ *Workspace, nc string, o FigureOptions) (plots.Spec, error) {
	return plots.NewSpec(o.Kind, []string{nc}, nil)
}

// Figures are the correlation against the radius kept (when a finite radius was asked for)
// and against the months kept (when months were).
func (r *AblationOutcome) Figures() []AnalysisFigure {
	var out []AnalysisFigure
	if slices.ContainsFunc(r.RadiiKm, func(k float64) bool { return !math.IsInf(k, 1) }) {
		out = append(out, AnalysisFigure{"Correlation against the radius kept", KindAblationRadius})
	}
	if len(r.Lags) > 0 {
		out = append(out, AnalysisFigure{"Correlation against the months kept", KindAblationLags})
	}
	return out
}

func (r *AblationOutcome) write(w *Workspace, path string) error {
	return w.WriteAblationOutcome(path, r)
}

// spec keeps the curves in the sidecar (kind lines), as ablate --figure does.
func (r *AblationOutcome) spec(_ *Workspace, nc string, o FigureOptions) (plots.Spec, error) {
	s := ProvenanceSpec(plots.KindLines, []string{nc})
	if o.Kind == KindAblationRadius {
		s.Lines = AblationLines(r.RadiiKm, nil, r.Result, r.Full, r.Pers)
	} else {
		s.Lines = AblationLines(nil, r.Lags, r.Result, r.Full, r.Pers)
	}
	return s, nil
}

// ProvenanceSpec is the spec of a figure whose data live in its sidecar (kinds lines and
// fidelity): the inputs are hashed as provenance but not read.
func ProvenanceSpec(kind string, inputs []string) plots.Spec {
	s := plots.Spec{Kind: kind, Preset: plots.DefaultPreset, DPI: plots.DefaultDPI, Version: Version}
	for _, p := range inputs {
		s.Inputs = append(s.Inputs, plots.Input{Path: p})
	}
	return s
}

// checkFigure validates a figure's file name and options before anything is computed or written.
func checkFigure(path string, o FigureOptions) error {
	if _, err := plots.Format(path); err != nil {
		return err
	}
	if _, err := plots.LookupPreset(o.Preset); err != nil {
		return err
	}
	if o.DPI < 0 || o.DPI > 2400 {
		return fmt.Errorf("%w: dpi %d outside 1..2400", ErrFigure, o.DPI)
	}
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("%w: folder %s does not exist (choose another place to save)", ErrFigure, dir)
		}
	}
	return nil
}

// WriteAnalysisFigure writes the figure o.Kind (one of r.Figures()) of an analysis result as
// the verb's --figure would: the result's NetCDF file beside path (path with .nc, as the verb's
// --out writes it), then the figure at path (format from its extension) drawn from it, and its
// sidecar path.json. An aggregate's map sums o.Lags (none: every lag) of o.Variable (its
// signed_mean, say); the curves show every lag of the mean |attribution|. It returns the NetCDF
// file.
func (w *Workspace) WriteAnalysisFigure(path string, r AnalysisResult, o FigureOptions) (string, error) {
	if err := checkFigure(path, o); err != nil {
		return "", err
	}
	var kinds []string
	for _, f := range r.Figures() {
		kinds = append(kinds, f.Kind)
	}
	if !slices.Contains(kinds, o.Kind) {
		return "", fmt.Errorf("%w: kind %q for this result; it has %s", ErrFigure, o.Kind, strings.Join(kinds, ", "))
	}
	nc := strings.TrimSuffix(path, filepath.Ext(path)) + ".nc"
	if err := w.checkSideFile(nc); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(nc)
	if err != nil {
		return "", err
	}
	if err := r.write(w, nc); err != nil {
		return "", err
	}
	s, err := r.spec(w, abs, o)
	if err != nil {
		return "", err
	}
	if o.Preset != "" {
		s.Preset = o.Preset
	}
	if o.DPI != 0 {
		s.DPI = o.DPI
	}
	s.Scale = o.Scale
	if err := plots.Make(s, ".", path); err != nil {
		return "", err
	}
	return nc, nil
}
