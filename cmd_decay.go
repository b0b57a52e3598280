package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/plots"
)

// decaySynopsis is decay's usage line.
const decaySynopsis = "decay AGG.nc... [--truth TRUTH.nc] [--max-lag K] [--bin-km W] [--variable NAME] [--json]"

// decayRow is one aggregate file's temporal decay and spatial extent.
type decayRow struct {
	File     string  `json:"file"`
	Lead     int     `json:"lead"`
	Method   string  `json:"method"`
	Target   string  `json:"target"`
	Samples  int     `json:"samples"`
	Variable string  `json:"variable,omitempty"` // the input variables analysed ("sst+tsub"; absent for one)
	Efold    any     `json:"efold_months"`       // null when not finite
	EfoldLo  any     `json:"efold_lo"`
	EfoldHi  any     `json:"efold_hi"`
	FitLags  int     `json:"fit_lags"`
	R2       float64 `json:"fit_r2"`
	FitError string  `json:"fit_error,omitempty"`
	R50      any     `json:"r50_km"`
	R90      any     `json:"r90_km"`
	// R50Uniform and R90Uniform are the radii that importance spread evenly over the file's
	// ocean cells would give, and MaxKm the distance to the farthest ocean cell: the domain's
	// yardsticks for how local R50 and R90 are.
	R50Uniform any `json:"r50_uniform_km"`
	R90Uniform any `json:"r90_uniform_km"`
	MaxKm      any `json:"max_distance_km"`
	// Curves: importance per lag (lag 0 first, sums to 1), importance per distance bin and its
	// cumulative share.
	LagImportance []float64 `json:"lag_importance"`
	BinKm         float64   `json:"distance_bin_km"`
	DistanceShare []float64 `json:"distance_share"`
	Cumulative    []float64 `json:"distance_cumulative"`

	tau, lo, hi float64 // for the table: NaN when there is no fit, +Inf printed as inf
}

// cmdDecay is `climxai decay`: for aggregate files (one per lead, say) the temporal-decay curve
// and its e-folding time with a 95% interval (attribution.FitDecay), and the spatial extent
// (attribution.SpatialExtent: R50, R90 in km around the target), as one table.
func cmdDecay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("decay", decaySynopsis, stderr)
	maxLag := fs.Int("max-lag", -1, "fit the e-folding time over lags 0..K only (-1: all lags)")
	binKm := fs.Float64("bin-km", 100, "width of the distance bins (km) of the distance curve")
	asJSON := fs.Bool("json", false, "print the table and the curves as JSON")
	variable := fs.String("variable", "", "with an emulator of several input variables: analyse this variable's attributions alone (default: summed over every variable)")
	truthPath := fs.String("truth", "", "also a row per target and lead of this ground truth (climxai synth --truth): the optimal linear predictor's |coefficients|, which are its saliency; with --variable, that variable's block of the joint predictor (synth --subsurface --truth)")
	fig := addFigureFlag(fs, "the decay curves with their e-folding fits")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) == 0 && *truthPath == "":
		return app.Usagef("decay: give one or more aggregate files (climxai aggregate --out)")
	case len(files) == 0 && *fig.path != "":
		return app.Usagef("decay: --figure draws aggregate files; give some")
	case !(*binKm > 0):
		return app.Usagef("decay: --bin-km must be positive")
	}
	if err := fig.check("decay"); err != nil {
		return err
	}
	var rows []decayRow
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, err := dataset.ReadAttribution(path)
		if err != nil {
			return err
		}
		if err := selectVariable(a, path, *variable); err != nil {
			return err
		}
		lat0, lon0, err := targetCentre(a)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, decayOf(path, a, lat0, lon0, *maxLag, *binKm))
	}
	if *truthPath != "" {
		tr, err := readTruth("decay", *truthPath)
		if err != nil {
			return err
		}
		coef, name, err := tr.decayCoef(*variable)
		if err != nil {
			return err
		}
		for _, r := range truthDecay(*truthPath, tr, coef, *maxLag, *binKm) {
			r.Variable = name
			rows = append(rows, r)
		}
	}
	if len(files) > 0 && *fig.path != "" {
		abs, err := absPaths(files)
		if err != nil {
			return err
		}
		s, err := plots.NewSpec(plots.KindDecay, abs, nil)
		if err != nil {
			return err
		}
		// The curves of the rows: the variable asked for, or the sum over every input variable
		// of files that hold several.
		if s.Variable = *variable; s.Variable == "" && slices.ContainsFunc(rows, func(r decayRow) bool { return r.Variable != "" }) {
			s.Variable = "all"
		}
		if err := fig.make(stderr, s); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"rows": rows})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\tlead\tmethod\ttarget\tsamples\te-folding (months)\t95% interval\tR50 (km)\tR90 (km)\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t\n", filepath.Base(r.File), r.Lead, r.Method, r.Target, r.Samples,
			num3(r.tau), "["+num3(r.lo)+", "+num3(r.hi)+"]", num0(r.R50), num0(r.R90))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	said := map[string]bool{}
	for _, r := range rows {
		if line := fmt.Sprintf("%s: importance of %s", filepath.Base(r.File), r.Variable); r.Variable != "" && !said[line] {
			fmt.Fprintln(stdout, line) // once per file: a truth file gives a row per target and lead
			said[line] = true
		}
	}
	for _, r := range rows {
		if r.FitError != "" {
			fmt.Fprintf(stdout, "%s: %s\n", filepath.Base(r.File), r.FitError)
		}
	}
	return nil
}

// decayOf analyses one aggregate.
func decayOf(path string, a *dataset.AttributionFile, lat0, lon0 float64, maxLag int, binKm float64) decayRow {
	lags := len(a.Lags)
	imp := attribution.LagImportance(a.Values, lags, a.Grid.NLat(), a.Grid.NLon())
	ex := attribution.SpatialExtent(a.Values, lags, a.Grid.Lat, a.Grid.Lon, lat0, lon0, binKm)
	r := decayRow{File: path, Lead: a.Meta.Lead, Method: a.Meta.Method, Target: a.Meta.Target, Samples: a.Meta.Samples, Variable: a.Meta.Other["variable"],
		R50: finite(ex.R50), R90: finite(ex.R90), LagImportance: imp, BinKm: ex.BinWidth,
		DistanceShare: ex.Share, Cumulative: ex.Cumulative, tau: math.NaN(), lo: math.NaN(), hi: math.NaN()}
	r.R50Uniform, r.R90Uniform, r.MaxKm = uniformExtent(a, lat0, lon0)
	fit, err := attribution.FitDecay(imp, maxLag)
	if err != nil {
		r.FitError = err.Error()
		return r
	}
	r.Efold, r.EfoldLo, r.EfoldHi = finite(fit.Tau), finite(fit.TauLo), finite(fit.TauHi)
	r.FitLags, r.R2 = fit.N, fit.R2
	r.tau, r.lo, r.hi = fit.Tau, fit.TauLo, fit.TauHi
	if math.IsInf(fit.Tau, 1) {
		r.FitError = "importance does not decay with lag (fitted slope >= 0): no e-folding time"
	}
	return r
}

// truthDecay returns a row per target and lead of a truth file: the decay and extent of the
// optimal linear predictor's |coefficients|. For a linear predictor they are its saliency,
// the same for every sample, so the row is what aggregating its saliency would give: the
// yardstick for an emulator's saliency aggregates (within the truth's neighbourhood radius,
// outside which the coefficients are 0). coef is tr.coef or one of tr.jointCoef (decayCoef).
func truthDecay(path string, tr *truthFile, coef []float32, maxLag int, binKm float64) []decayRow {
	grid := dataset.Grid{Lat: tr.lat, Lon: tr.lon}
	n := tr.lags * grid.Size()
	var rows []decayRow
	for i := range tr.targetLat {
		for l, lead := range tr.leads {
			off := (i*len(tr.leads) + l) * n
			a := &dataset.AttributionFile{Grid: grid, Lags: make([]int, tr.lags), Values: coef[off : off+n],
				Meta: dataset.AttributionMeta{Method: "truth", Lead: lead, Target: fmt.Sprintf("%g,%g", tr.targetLat[i], tr.targetLon[i])}}
			for k := range a.Lags {
				a.Lags[k] = k
			}
			rows = append(rows, decayOf(path, a, tr.targetLat[i], tr.targetLon[i], maxLag, binKm))
		}
	}
	return rows
}

// decayCoef picks the truth's coefficients for decay --variable name: with name a variable of
// the joint predictor (synth --subsurface --truth), that variable's block of it, the yardstick
// for one variable's attributions in an emulator that reads them all; otherwise the predictor
// from SST alone (coef), for "" (a one-variable emulator's aggregates, or the sum over
// variables, which the joint predictor's blocks cannot give without the card's scalings) and
// for the predicted variable of a file without a joint predictor. It also returns the variable
// to name in the rows ("" for coef).
func (t *truthFile) decayCoef(name string) ([]float32, string, error) {
	if name == "" || name == "all" {
		return t.coef, "", nil
	}
	if i := slices.Index(t.jointVars, name); i >= 0 {
		return t.jointCoef[i], name + " (joint)", nil
	}
	if t.jointVars == nil && name == "sst" {
		return t.coef, "", nil
	}
	have := "only the predictor from sst alone (coef)"
	if t.jointVars != nil {
		have = "the joint predictor of " + strings.Join(t.jointVars, ", ")
	}
	return nil, "", app.Usagef("decay: --variable %s: the truth holds %s; write the truth of every input variable with climxai synth --subsurface --truth", name, have)
}

// uniformExtent returns R50 and R90 of importance spread evenly over the ocean cells of a (the
// cells with a value at some lag) around (lat0, lon0), and the farthest ocean cell's distance.
func uniformExtent(a *dataset.AttributionFile, lat0, lon0 float64) (r50, r90, maxKm any) {
	n := a.Grid.Size()
	even := make([]float32, n)
	far := 0.0
	for i := range even {
		even[i] = float32(math.NaN())
		for k := range len(a.Lags) {
			if v := a.Values[k*n+i]; v == v {
				even[i] = 1
				far = max(far, attribution.DistanceKm(lat0, lon0, a.Grid.Lat[i/a.Grid.NLon()], a.Grid.Lon[i%a.Grid.NLon()]))
				break
			}
		}
	}
	ex := attribution.SpatialExtent(even, 1, a.Grid.Lat, a.Grid.Lon, lat0, lon0, 0)
	return finite(ex.R50), finite(ex.R90), finite(far)
}

// targetCentre returns the target's centre of an aggregate file: the target_lat and target_lon
// attributes climxai aggregate writes, else the target parsed again on the file's grid (its
// ocean: the cells with values).
func targetCentre(a *dataset.AttributionFile) (float64, float64, error) {
	lat, err1 := strconv.ParseFloat(a.Meta.Other["target_lat"], 64)
	lon, err2 := strconv.ParseFloat(a.Meta.Other["target_lon"], 64)
	if err1 == nil && err2 == nil {
		return lat, lon, nil
	}
	g := a.Grid
	if g.NLat() < 2 || g.NLon() < 2 {
		return 0, 0, fmt.Errorf("the grid is too small to locate target %q", a.Meta.Target)
	}
	spec := dataset.GridSpec{LatStart: g.Lat[0], LatStep: g.Lat[1] - g.Lat[0], NLat: g.NLat(),
		LonStart: g.Lon[0], LonStep: g.Lon[1] - g.Lon[0], NLon: g.NLon()}
	ocean := make([]bool, g.Size())
	for i := range ocean {
		ocean[i] = a.Values[i] == a.Values[i]
	}
	t, err := attribution.ParseTarget(a.Meta.Target, spec, ocean)
	if err != nil {
		return 0, 0, err
	}
	return t.Lat, t.Lon, nil
}

// num3 prints a time in months: 2 decimals, inf, or - for none.
func num3(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "inf"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// num0 prints a distance in km, or - for none.
func num0(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return "-"
}

// selectVariable makes a.Values the attributions to input variable name of a file of an
// emulator with several input variables, or with name "" their sum over every variable; a file
// of one variable is kept (dataset.AttributionFile.InputVariable).
func selectVariable(a *dataset.AttributionFile, path, name string) error {
	vars := a.InputVariables()
	if vars == nil && name == "" {
		return nil
	}
	if name == "" {
		name = "all"
	}
	v, err := a.InputVariable(name)
	if err != nil {
		var e *dataset.Error
		if errors.As(err, &e) {
			e.Path = path
		}
		return app.Usagef("decay: --variable %s: %v", name, err)
	}
	a.Values = v
	a.Meta.Other["variable"] = strings.Join(vars, "+")
	if name != "all" {
		a.Meta.Other["variable"] = name
	}
	return nil
}
