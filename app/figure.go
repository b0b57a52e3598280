package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"climxai/dataset/netcdf"
	"climxai/plots"
)

// FigureOptions say which figure of explanations to draw and how: what `climxai figure` and the
// verbs' --figure take as flags.
type FigureOptions struct {
	Kind   string // plots.KindMap, KindLeads, KindMethods, KindDecay, KindDistance or KindLagLat
	Lags   []int  // map: lags summed; leads: one row per lag; distance: lags summed (nil: all)
	Preset string // plots preset name (agu1, agu2, ams1, ams2); "" is plots.DefaultPreset
	DPI    int    // PNG resolution; 0 is plots.DefaultDPI
	Scale  string // auto, diverging or sequential; "" is auto
	// Normalize (leads): "lead" divides each lead's maps by its largest |value| (plots.Spec).
	Normalize string
	// Variable (an aggregate's map or lag-latitude figure): the (lag, lat, lon) variable drawn
	// instead of the mean |attribution|, e.g. "signed_mean" (plots.Spec).
	Variable string
	// FitMaxLag (an aggregate's decay figure) fits the e-folding curve to lags 0..FitMaxLag
	// only; 0 fits every lag (plots.Spec).
	FitMaxLag int
}

// FigureKinds are the figure kinds drawn from explanations, in the order a dialog lists them.
var FigureKinds = []string{plots.KindMap, plots.KindLeads, plots.KindMethods, plots.KindDecay, plots.KindDistance, plots.KindLagLat}

// ErrFigure is the kind of error for a figure that cannot be drawn from the explanations given.
var ErrFigure = errors.New("cannot draw the figure")

// FigureResultPaths are the result files WriteFigure writes for a figure at path over n
// explanations: path with .nc for one, path-leadNN.nc per explanation (by lead) for several
// leads, path-METHOD.nc for several methods of one lead.
func FigureResultPaths(path string, exs []*Explanation) []string {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	if len(exs) == 1 {
		return []string{base + ".nc"}
	}
	byMethod := true
	for _, ex := range exs {
		byMethod = byMethod && ex.Selection.Lead == exs[0].Selection.Lead
	}
	out := make([]string, len(exs))
	for i, ex := range exs {
		if byMethod {
			out[i] = fmt.Sprintf("%s-%s.nc", base, ex.Result.Method)
		} else {
			out[i] = fmt.Sprintf("%s-lead%02d.nc", base, ex.Selection.Lead)
		}
	}
	return out
}

// WriteFigure writes what the command line's --figure writes for explanations exs: each
// explanation's result file beside path (FigureResultPaths), then the figure at path (format
// from its extension: png, pdf, svg, eps) drawn from those files, and its sidecar path.json from
// which `climxai figure --spec` draws it again. Kinds map and laglat take one explanation; leads,
// decay and distance one per lead. Every file is written atomically. It returns the result files.
func (w *Workspace) WriteFigure(path string, exs []*Explanation, o FigureOptions) ([]string, error) {
	if err := checkFigure(path, o); err != nil {
		return nil, err
	}
	if len(exs) == 0 {
		return nil, fmt.Errorf("%w: nothing explained yet (click a cell on the map)", ErrFigure)
	}
	switch o.Kind {
	case plots.KindMap, plots.KindLagLat:
		if len(exs) != 1 {
			return nil, fmt.Errorf("%w: a %s figure shows one explanation, got %d", ErrFigure, o.Kind, len(exs))
		}
	case plots.KindLeads, plots.KindMethods, plots.KindDecay, plots.KindDistance:
	default:
		return nil, fmt.Errorf("%w: unknown kind %q; kinds: %s", ErrFigure, o.Kind, strings.Join(FigureKinds, ", "))
	}
	ncs := FigureResultPaths(path, exs)
	for _, nc := range ncs {
		if err := w.checkSideFile(nc); err != nil {
			return nil, err
		}
	}
	abs := make([]string, len(ncs))
	for i, ex := range exs {
		if err := w.WriteResult(ncs[i], ex); err != nil {
			return nil, err
		}
		a, err := filepath.Abs(ncs[i])
		if err != nil {
			return nil, err
		}
		abs[i] = a
	}
	s, err := plots.NewSpec(o.Kind, abs, o.Lags)
	if err != nil {
		return nil, err
	}
	if o.Preset != "" {
		s.Preset = o.Preset
	}
	if o.DPI != 0 {
		s.DPI = o.DPI
	}
	s.Scale = o.Scale
	if o.Kind == plots.KindLeads {
		s.Normalize = o.Normalize
	}
	if err := plots.Make(s, ".", path); err != nil {
		return nil, err
	}
	return ncs, nil
}

// IsDataFile reports whether path names one of the workspace's data files (however spelt).
func (w *Workspace) IsDataFile(path string) bool {
	return slices.ContainsFunc(w.DataPaths, func(d string) bool { return SameFile(path, d) })
}

// SameFile reports whether paths a and b name one existing file.
func SameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// checkSideFile makes sure that writing a figure's result file at nc, which the user did not
// name (it goes beside the figure), replaces nothing but an earlier climxai result: not the
// data file in use, not any other file. Results carry the global attribute climxai_version.
func (w *Workspace) checkSideFile(nc string) error {
	_, err := os.Stat(nc)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: the figure's result file %s %s; name the figure differently (its result file goes beside it, with the extension .nc)",
			ErrFigure, nc, why)
	}
	if err != nil {
		return refuse(fmt.Sprintf("cannot be checked (%v)", err))
	}
	if w.IsDataFile(nc) {
		return refuse("is a data file in use")
	}
	f, err := netcdf.Open(nc)
	if err != nil {
		return refuse("exists and is not a NetCDF file")
	}
	defer f.Close()
	if _, err := f.Attr("climxai_version"); err != nil {
		return refuse("exists and was not written by climxai")
	}
	return nil
}
