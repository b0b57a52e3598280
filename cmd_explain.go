package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
	"climxai/plots"
)

// explainSynopsis is explain's usage line.
const explainSynopsis = "explain --card C --data D --init YYYY-MM --lead L --target T --method M [method flags] --out A.nc [--json] [--device D] [--threads N]"

// cmdExplain is `climxai explain`: one attribution of one emulator forecast (one init month,
// lead and target) by one method of attribution.Methods, written as the contract's result file
// (attribution(lag, lat, lon), lag 0 = the init month) with a text or JSON summary.
func cmdExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explain", explainSynopsis, stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	initStr := fs.String("init", "", "init month YYYY-MM (the last observed month)")
	lead := fs.Int("lead", 0, "lead in months (default: the card's only lead)")
	targetStr := fs.String("target", "", "LAT,LON | box:S,N,W,E | "+namedBoxes())
	out := fs.String("out", "", "result NetCDF file to write")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	fig := addFigureFlag(fs, "a map of the attribution at lag 0")
	rf := addRunFlags(fs, true)
	mf := addMethodFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return unexpectedArgs("explain", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *initStr == "" || *targetStr == "" || *out == "":
		return app.Usagef("explain: --card, --data, --init, --target and --out are required")
	}
	if err := checkOutput("explain", *out, *dataPath, map[string]string{"--card": *cardPath}); err != nil {
		return err
	}
	if err := rf.check("explain", 0, ""); err != nil {
		return err
	}
	if _, err := mf.parse("explain", fs); err != nil {
		return err
	}
	if err := fig.check("explain"); err != nil {
		return err
	}
	init, err := dataset.ParseMonth(*initStr)
	if err != nil {
		return app.Usagef("explain: --init: %v", err)
	}

	w, err := openWork(*cardPath, *dataPath, lead, "explain", stderr)
	if err != nil {
		return err
	}
	card, cm, p := w.card, w.cm, w.p
	target, err := attribution.ParseTarget(*targetStr, card.Grid, p.Ocean)
	if err != nil {
		return err
	}
	x := make([]float32, card.Channels()*card.Grid.NLat*card.Grid.NLon)
	if err := card.Window(p, init, x); err != nil {
		return err
	}
	m, err := mf.build(card)
	if err != nil {
		return err
	}

	rt, err := inference.NewRuntime("")
	if err != nil {
		return err
	}
	defer rt.Close()
	e, err := attribution.OpenEmulator(rt, card, *lead, rf.options())
	if err != nil {
		return err
	}
	e.Budget = rf.budgetBytes()
	prog := app.NewProgress(stderr, "explain "+mf.spec.Name)
	res, err := m.Attribute(ctx, attribution.Request{Emulator: e, X: x, Target: target, Ocean: p.Ocean, Progress: prog.Func()})
	prog.Done()
	if err != nil {
		return err
	}

	other := map[string]string{
		"device":            res.Device,
		"duration_seconds":  strconv.FormatFloat(res.Duration.Seconds(), 'f', 3, 64),
		"target_output":     strconv.FormatFloat(res.Output, 'g', 8, 64),
		"target_resolved":   target.String(),
		"card":              *cardPath,
		"output_units":      "model output units (scaled anomaly); degC = value * scale_std + scale_mean",
		"attribution_units": "model output units per input feature",
	}
	if c := res.Completeness; c != nil {
		other["completeness_sum"] = strconv.FormatFloat(c.Sum, 'g', 8, 64)
		other["completeness_expected"] = strconv.FormatFloat(c.Expected, 'g', 8, 64)
		other["completeness_delta"] = strconv.FormatFloat(c.Delta, 'g', 6, 64)
		other["completeness_delta_relative"] = strconv.FormatFloat(c.Relative, 'g', 6, 64)
	}
	if len(res.Trace) > 0 {
		tr := make([]string, len(res.Trace))
		for i, v := range res.Trace {
			tr[i] = strconv.FormatFloat(v, 'g', 6, 64)
		}
		other["objective_trace"] = strings.Join(tr, " ")
		other["attribution_units"] = "the optimal input (model input units)"
	}
	af := app.ResultFile(res, card.Grid.Grid(), dataset.AttributionMeta{Method: res.Method, Parameters: res.Params.String(),
		Target: *targetStr, Lead: *lead, Init: init.String(), ModelFile: cm.File, ModelSHA256: e.SHA256,
		DataFile: dataPath.String(), Version: app.Version, Other: other})
	if err := dataset.WriteAttribution(*out, af); err != nil {
		return err
	}
	if err := fig.write(stderr, plots.KindMap, []string{*out}, []int{0}, nil); err != nil {
		return err
	}

	sums := res.LagSums()
	order := make([]int, len(sums))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sums[order[a]] > sums[order[b]] })
	var total float64
	for _, v := range sums {
		total += v
	}
	type lagShare struct {
		Lag   int     `json:"lag"`
		Month string  `json:"month"`
		Sum   float64 `json:"sum_abs"`
		Share float64 `json:"share"`
	}
	var top []lagShare
	for _, k := range order[:min(5, len(order))] {
		top = append(top, lagShare{k, (init - dataset.Month(k)).String(), sums[k], sums[k] / math.Max(total, math.SmallestNonzeroFloat64)})
	}
	degC := res.Output*card.Preprocess.ScaleStd + card.Preprocess.ScaleMean
	type varShare struct {
		Name  string  `json:"name"`
		Sum   float64 `json:"sum_abs"`
		Share float64 `json:"share"`
	}
	var shares []varShare
	if len(res.Vars) > 0 {
		share := res.VarShares()
		for v, s := range res.VarSums() {
			shares = append(shares, varShare{res.Vars[v], s, share[v]})
		}
	}
	if *asJSON {
		sum := map[string]any{
			"out": *out, "method": res.Method, "parameters": res.Params.String(), "target": *targetStr,
			"target_resolved": target.String(), "lead": *lead, "init": init.String(),
			"target_month": (init + dataset.Month(*lead)).String(),
			"output":       res.Output, "output_degC": degC, "device": res.Device,
			"seconds": res.Duration.Seconds(), "model_sha256": e.SHA256, "top_lags": top,
		}
		if c := res.Completeness; c != nil {
			sum["completeness"] = map[string]any{"sum": c.Sum, "expected": c.Expected, "delta": c.Delta, "relative": finite(c.Relative)}
		}
		if shares != nil {
			sum["input_variables"] = shares
		}
		if len(res.Trace) > 0 {
			sum["objective_first"], sum["objective_last"] = res.Trace[0], res.Trace[len(res.Trace)-1]
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(stdout, "%s (%s) of lead %d forecast for %s, init %s\n", res.Method, res.Params, *lead,
		(init + dataset.Month(*lead)).String(), init)
	fmt.Fprintf(stdout, "target: %s\n", target)
	fmt.Fprintf(stdout, "output f(x) = %+.6g (model units) = %+.4g °C anomaly\n", res.Output, degC)
	if c := res.Completeness; c != nil {
		fmt.Fprintf(stdout, "completeness: Σ attribution = %.6g, expected %.6g, delta %.3g (%.3g%%)\n",
			c.Sum, c.Expected, c.Delta, 100*c.Relative)
		if res.Method == "ig" && c.Relative > 0.01 {
			// README, "IG completeness": the gradient of a ReLU network jumps along the path, so
			// the quadrature converges slowly, and f(x) - f(b) may be small next to its swings.
			advice := "raise --steps (e.g. 256)"
			if !slices.Contains(res.Params, attribution.Param{Name: "quadrature", Value: "adaptive"}) {
				advice += " or use --quadrature adaptive"
			}
			fmt.Fprintln(stdout, "  more than 1% off: the gradient jumps along the path (ReLU kinks); "+advice)
		}
	}
	if len(res.Trace) > 0 {
		fmt.Fprintf(stdout, "objective: %.6g -> %.6g over %d iterations\n", res.Trace[0], res.Trace[len(res.Trace)-1], len(res.Trace)-1)
	}
	fmt.Fprintf(stdout, "time: %.3f s on %s\n", res.Duration.Seconds(), res.Device)
	fmt.Fprint(stdout, "top lags by Σ|attribution|:")
	for _, l := range top {
		fmt.Fprintf(stdout, " %d (%s, %.1f%%)", l.Lag, l.Month, 100*l.Share)
	}
	fmt.Fprintln(stdout)
	if shares != nil {
		fmt.Fprint(stdout, "Σ|attribution| by input variable:")
		for _, v := range shares {
			fmt.Fprintf(stdout, " %s %.1f%%", v.Name, 100*v.Share)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, "wrote", *out)
	return nil
}

// readBaseline reads a custom baseline: a NetCDF file in the result layout (lag, lat, lon) on
// the card's grid with lags 0..InputMonths-1, in model input units; returned by lag. For a card
// with several input variables the file must hold each of them as a result file does
// (attribution, then attribution_NAME, named in input_variables; backopt writes such files),
// and the blocks are returned one after the other.
func readBaseline(path string, card *inference.Card) ([]float32, error) {
	a, err := dataset.ReadAttribution(path)
	if err != nil {
		return nil, fmt.Errorf("--baseline %s: %w", path, err)
	}
	n := card.Grid.NLat * card.Grid.NLon
	if a.Grid.NLat() != card.Grid.NLat || a.Grid.NLon() != card.Grid.NLon || len(a.Lags) != card.InputMonths {
		return nil, fmt.Errorf("--baseline %s: the file holds %d lags on a %d x %d grid; the card wants %d lags on %d x %d (write it with climxai explain --method backopt, or in that layout)",
			path, len(a.Lags), a.Grid.NLat(), a.Grid.NLon(), card.InputMonths, card.Grid.NLat, card.Grid.NLon)
	}
	blocks := [][]float32{a.Values}
	if vars := card.Variables(); len(vars) > 1 {
		if got := a.Meta.Other["input_variables"]; got != strings.Join(vars, " ") {
			return nil, fmt.Errorf("--baseline %s: the file holds the input variables %q; the card reads %q (write it with climxai explain --method backopt on this card, or in that layout)",
				path, got, strings.Join(vars, " "))
		}
		for _, v := range vars[1:] {
			b, err := a.InputVariable(v)
			if err != nil {
				return nil, fmt.Errorf("--baseline %s: %w", path, err)
			}
			blocks = append(blocks, b)
		}
	}
	m := card.InputMonths * n
	vals := make([]float32, len(blocks)*m)
	seen := make([]bool, card.InputMonths)
	for i, k := range a.Lags {
		if k < 0 || k >= card.InputMonths || seen[k] {
			return nil, fmt.Errorf("--baseline %s: lag values %v are not 0..%d", path, a.Lags, card.InputMonths-1)
		}
		seen[k] = true
		for b, v := range blocks {
			copy(vals[b*m+k*n:b*m+(k+1)*n], v[i*n:(i+1)*n])
		}
	}
	return vals, nil
}

func namedBoxes() string {
	var names []string
	for _, b := range attribution.NamedBoxes() {
		names = append(names, b.Name)
	}
	return strings.Join(names, " | ")
}

func flagList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "--" + n
	}
	return strings.Join(out, " ")
}

func finite(v float64) any {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return v
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
