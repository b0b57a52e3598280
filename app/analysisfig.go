package app

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
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

// AnalysisFigures are the figures result (*AggregateResult, *DecayMapResult or
// *AblationOutcome) can be drawn as, the usual first.
func AnalysisFigures(result any) []AnalysisFigure {
	switch r := result.(type) {
	case *AggregateResult:
		return []AnalysisFigure{
			{"Map of the importance summed over all lags", plots.KindMap},
			{"Importance against lag (decay)", plots.KindDecay},
			{"Cumulative importance against distance", plots.KindDistance},
			{"Lag against latitude", plots.KindLagLat},
		}
	case *DecayMapResult:
		return []AnalysisFigure{{"Maps of the e-folding time and R90", plots.KindDecayMap}}
	case *AblationOutcome:
		var out []AnalysisFigure
		for _, k := range r.RadiiKm {
			if !math.IsInf(k, 1) {
				out = append(out, AnalysisFigure{"Correlation against the radius kept", KindAblationRadius})
				break
			}
		}
		if len(r.Lags) > 0 {
			out = append(out, AnalysisFigure{"Correlation against the months kept", KindAblationLags})
		}
		return out
	}
	return nil
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

// WriteAnalysisFigure writes the figure o.Kind (one of AnalysisFigures(result)) of an analysis
// result as the verb's --figure would: the result's NetCDF file beside path (path with .nc, as
// the verb's --out writes it), then the figure at path (format from its extension) drawn from
// it, and its sidecar path.json. o.Lags is not used: the map sums every lag, the curves show
// them all. It returns the NetCDF file.
func (w *Workspace) WriteAnalysisFigure(path string, result any, o FigureOptions) (string, error) {
	if err := checkFigure(path, o); err != nil {
		return "", err
	}
	kinds := AnalysisFigures(result)
	known := false
	var names []string
	for _, f := range kinds {
		known = known || f.Kind == o.Kind
		names = append(names, f.Kind)
	}
	if !known {
		return "", fmt.Errorf("%w: kind %q for this result; it has %s", ErrFigure, o.Kind, strings.Join(names, ", "))
	}
	nc := strings.TrimSuffix(path, filepath.Ext(path)) + ".nc"
	abs, err := filepath.Abs(nc)
	if err != nil {
		return "", err
	}
	var s plots.Spec
	switch r := result.(type) {
	case *AggregateResult:
		if err := w.WriteAggregateResult(nc, r); err != nil {
			return "", err
		}
		var lags []int
		if o.Kind == plots.KindMap {
			lags = make([]int, w.Card.InputMonths)
			for k := range lags {
				lags[k] = k
			}
		}
		if s, err = plots.NewSpec(o.Kind, []string{abs}, lags); err != nil {
			return "", err
		}
	case *DecayMapResult:
		if err := w.WriteDecayMapResult(nc, r); err != nil {
			return "", err
		}
		if s, err = plots.NewSpec(o.Kind, []string{abs}, nil); err != nil {
			return "", err
		}
	case *AblationOutcome:
		if err := w.WriteAblationOutcome(nc, r); err != nil {
			return "", err
		}
		s = ProvenanceSpec(plots.KindLines, []string{abs})
		if o.Kind == KindAblationRadius {
			s.Lines = AblationLines(r.RadiiKm, nil, r.Result, r.Full, r.Pers)
		} else {
			s.Lines = AblationLines(nil, r.Lags, r.Result, r.Full, r.Pers)
		}
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
