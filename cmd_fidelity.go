package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
	"climxai/plots"
)

// fidelitySynopsis is fidelity's usage line.
const fidelitySynopsis = "fidelity --card C --data D --truth TRUTH.nc --lead L [--methods a,b,c] [--targets i,j] [--samples N] [--curve-steps K] [--random-samples R] [--out FID.nc|FID.json] [--json] [--figure F] [--device D] [--threads N]"

// cmdFidelity is `climxai fidelity`: on synthetic data whose ground truth is known (`climxai
// synth --truth`), how faithful each attribution method is for this emulator: agreement with
// the truth's optimal linear predictor per sample and aggregated, the model-parameter
// randomisation sanity check, and deletion and insertion curves (attribution.Fidelity says
// exactly what is computed). One table per truth target. An emulator that reads several input
// variables (sst and tsub of `climxai synth --subsurface`) is checked against the joint
// predictor of the truth file (`synth --subsurface --truth`), each variable's coefficients in
// model units (attribution.TruthInModelUnits), with a per-variable table beside.
func cmdFidelity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fidelity", fidelitySynopsis, stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	truthPath := fs.String("truth", "", "its ground truth (climxai synth --truth; an emulator that reads sst and tsub needs the joint predictor of synth --subsurface --truth)")
	lead := fs.Int("lead", 0, "lead in months (default: the card's only lead); the truth must have it")
	methodsStr := fs.String("methods", strings.Join(attribution.MethodNames(), ","), "comma-separated methods (default: all), each with its default parameters")
	targetsStr := fs.String("targets", "all", "indices (0-based, in the truth file's order) of the truth targets to check, comma-separated, or all")
	samplesStr := fs.String("samples", "2", "N test samples spread evenly over the test years, or test | train | all")
	steps := fs.Int("curve-steps", attribution.DefaultFidelitySteps, "deletion and insertion steps")
	randomSamples := fs.Int("random-samples", 1, "samples on which the model-parameter randomisation check runs (0: skip it)")
	seed := fs.Uint64("seed", 1, "seed of the weight randomisation")
	out := fs.String("out", "", "write the scores and curves: FILE.nc (NetCDF) or FILE.json")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	rf := addRunFlags(fs, true)
	fig := addFigureFlag(fs, "the correlations with the truth, the randomisation check and the deletion and insertion curves per method")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := fig.check("fidelity"); err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	switch {
	case len(pos) != 0:
		return unexpectedArgs("fidelity", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *truthPath == "":
		return app.Usagef("fidelity: --card, --data and --truth are required")
	case *out != "" && ext != ".nc" && ext != ".json":
		return app.Usagef("fidelity: --out %s: name a .nc or .json file", *out)
	case *steps < 1 || *steps > 10000:
		return app.Usagef("fidelity: --curve-steps must be 1 to 10000")
	case *randomSamples < 0:
		return app.Usagef("fidelity: --random-samples must be 0 (skip) or positive")
	}
	if err := checkOutput("fidelity", *out, *dataPath, map[string]string{"--card": *cardPath, "--truth": *truthPath}); err != nil {
		return err
	}
	if err := rf.check("fidelity", 0, ""); err != nil {
		return err
	}
	var methods []attribution.Method
	for _, name := range strings.Split(*methodsStr, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		spec, err := attribution.LookupMethod(name)
		if err != nil {
			return app.Usagef("fidelity: --methods: %v", err)
		}
		m, err := spec.New(attribution.DefaultSettings())
		if err != nil {
			return err
		}
		methods = append(methods, m)
	}
	if len(methods) == 0 {
		return app.Usagef("fidelity: --methods names no method")
	}

	card, err := inference.LoadCard(*cardPath)
	if err != nil {
		return err
	}
	if card.Index != "" {
		// The synthetic truth holds each target cell's optimal linear predictor; the index's
		// would be their area-weighted mean, which the truth file does not hold.
		return &attribution.Error{Kind: attribution.ErrNotForecast,
			Msg:  fmt.Sprintf("fidelity scores attributions of target cells against the generator's truth for those cells; this emulator forecasts the %s index", card.Index),
			Hint: "check the methods on a field emulator trained on the same synthetic data, or compare methods on this one with climxai compare"}
	}
	if *lead, err = cardLead(card, *lead, "fidelity"); err != nil {
		return err
	}
	cm, err := card.Model(*lead)
	if err != nil {
		return err
	}
	truth, err := readTruth("fidelity", *truthPath)
	if err != nil {
		return err
	}
	li := -1
	for i, l := range truth.leads {
		if l == *lead {
			li = i
		}
	}
	if li < 0 {
		return fmt.Errorf("fidelity: %s has no lead %d; its leads are %v (write it with climxai synth --truth-leads)", *truthPath, *lead, truth.leads)
	}
	if err := truth.matches(card); err != nil {
		return fmt.Errorf("fidelity: %s: %w", *truthPath, err)
	}
	if card.InputMonths != truth.lags {
		return fmt.Errorf("fidelity: %s has %d lags, the card %d input months", *truthPath, truth.lags, card.InputMonths)
	}
	// The truth of every target, before the data are read: a truth without a variable the card
	// reads fails here.
	picked, err := pickTargets(*targetsStr, len(truth.targetLat))
	if err != nil {
		return err
	}
	truths := make([]attribution.GroundTruth, len(picked))
	for k, ti := range picked {
		if truths[k], err = truth.groundTruth(card, *truthPath, ti, li); err != nil {
			return fmt.Errorf("fidelity: %w", err)
		}
	}
	p, err := prepareData(card, *dataPath, stderr)
	if err != nil {
		if len(card.Inputs) > 0 && errors.Is(err, dataset.ErrNoVariable) {
			return fmt.Errorf("fidelity: %w; --data must hold every variable the card reads (%s): write synthetic data with climxai synth --subsurface",
				err, strings.Join(card.Variables(), ", "))
		}
		return err
	}
	inits, split, err := selectSamples(p, card, *lead, *samplesStr, "fidelity")
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
	var rnd *attribution.Emulator
	if *randomSamples > 0 {
		dir, err := os.MkdirTemp("", "climxai-fidelity-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if rnd, err = e.Randomized(dir, *seed); err != nil {
			return err
		}
		rnd.Budget = e.Budget
	}

	type targetScores struct {
		Target        string                       `json:"target"`
		Resolved      string                       `json:"target_resolved"`
		Lat           float64                      `json:"lat"`
		Lon           float64                      `json:"lon"`
		Neighbourhood int                          `json:"neighbourhood_cells"`
		Scores        []attribution.FidelityScores `json:"-"`
		Rows          []map[string]any             `json:"methods"`
		// Several input variables: their names and each one's share of Σ|w|.
		Vars         []string       `json:"input_variables,omitempty"`
		WeightShares map[string]any `json:"weight_share,omitempty"`
		weights      []float64
	}
	var all []targetScores
	fid := attribution.Fidelity{Steps: *steps}
	for k, ti := range picked {
		spec := fmt.Sprintf("%g,%g", truth.targetLat[ti], truth.targetLon[ti])
		tg, err := attribution.ParseTarget(spec, card.Grid, p.Ocean)
		if err != nil {
			return fmt.Errorf("fidelity: truth target %d: %w", ti, err)
		}
		gt := truths[k]
		gt.Target = tg
		prog := app.NewProgress(stderr, "fidelity "+spec+": method runs")
		res, err := fid.Run(ctx, attribution.FidelityRequest{Emulator: e, Randomized: rnd, RandomSamples: *randomSamples, Methods: methods,
			Truth: gt, Ocean: p.Ocean, N: len(inits),
			Fill:     func(k int, x []float32) error { return card.Window(p, inits[k], x) },
			Progress: prog.Func()})
		prog.Done()
		if err != nil {
			return err
		}
		ts := targetScores{Target: spec, Resolved: tg.String(), Lat: tg.Lat, Lon: tg.Lon, Neighbourhood: res.Neighbourhood, Scores: res.Scores,
			Vars: res.Vars, WeightShares: byVariable(res.Vars, res.WeightShares), weights: res.WeightShares}
		for _, s := range res.Scores {
			ts.Rows = append(ts.Rows, scoresJSON(s, res.Vars, false))
		}
		all = append(all, ts)
	}

	if *out != "" {
		if ext == ".json" {
			full := make([]map[string]any, 0, len(all))
			for _, ts := range all {
				rows := make([]map[string]any, 0, len(ts.Scores))
				for _, s := range ts.Scores {
					rows = append(rows, scoresJSON(s, ts.Vars, true))
				}
				tj := map[string]any{"target": ts.Target, "target_resolved": ts.Resolved, "neighbourhood_cells": ts.Neighbourhood, "methods": rows}
				if ts.Vars != nil {
					tj["input_variables"], tj["weight_share"] = ts.Vars, ts.WeightShares
				}
				full = append(full, tj)
			}
			b, err := json.MarshalIndent(map[string]any{"card": *cardPath, "data": dataPath.String(), "truth": *truthPath, "lead": *lead,
				"samples": len(inits), "split": split, "model_sha256": e.SHA256, "curve_steps": *steps, "targets": full}, "", "  ")
			if err != nil {
				return err
			}
			if err := dataset.WriteAtomic(*out, func(tmp string) error { return os.WriteFile(tmp, append(b, '\n'), 0o644) }); err != nil {
				return err
			}
		} else if err := writeFidelityNC(*out, all[0].Scores, all[0].Vars, func(yield func(lat, lon float64, s []attribution.FidelityScores, weights []float64)) {
			for _, ts := range all {
				yield(ts.Lat, ts.Lon, ts.Scores, ts.weights)
			}
		}, len(all), map[string]string{
			"title": "climxai fidelity of attribution methods against a known linear truth", "card": *cardPath,
			"data_file": dataPath.String(), "truth_file": *truthPath, "model_file": cm.File, "model_sha256": e.SHA256,
			"lead": strconv.Itoa(*lead), "samples": strconv.Itoa(len(inits)), "split": split,
			"climxai_version": app.Version,
		}); err != nil {
			return err
		}
	}

	if *fig.path != "" {
		targets := make([]string, len(all))
		scores := make([][]attribution.FidelityScores, len(all))
		weights := make([][]float64, len(all))
		for i, ts := range all {
			targets[i], scores[i], weights[i] = ts.Resolved, ts.Scores, ts.weights
		}
		inputs := append(append([]string{}, *dataPath...), *truthPath) // data first, as before
		if *out != "" {
			inputs = append(inputs, *out)
		}
		if err := fig.writeFidelity(stderr, inputs, fidelityFigure(*lead, len(inits), targets, scores, all[0].Vars, weights)); err != nil {
			return err
		}
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"lead": *lead, "samples": len(inits), "init_first": inits[0].String(),
			"init_last": inits[len(inits)-1].String(), "split": split, "randomization_samples": min(*randomSamples, len(inits)),
			"curve_steps": *steps, "out": *out, "targets": all})
	}
	fmt.Fprintf(stdout, "fidelity at lead %d over %d samples (init %s..%s; %s)\n", *lead, len(inits), inits[0], inits[len(inits)-1], split)
	fmt.Fprintln(stdout, "per sample: correlation with the truth's contributions w·(x − x0); aggregate: mean |attribution| with |w|;")
	fmt.Fprintln(stdout, "near = the truth's neighbourhood, grid = every ocean feature; random: Spearman of |maps| on trained vs randomised weights (low is good);")
	fmt.Fprintln(stdout, "deletion area low and insertion area high are good (the truth row is the best a ranking can do on a linear model;")
	fmt.Fprintln(stdout, "the random row, a random ranking, is the chance level every column should beat)")
	for _, ts := range all {
		fmt.Fprintf(stdout, "\ntarget %s (%d neighbourhood cells)\n", ts.Resolved, ts.Neighbourhood)
		fmt.Fprintf(stdout, "%-22s %7s %7s %7s %7s %7s %7s %8s %8s %8s\n", "method", "r near", "ρ near", "r grid",
			"agg r", "agg ρ", "agg r g", "random", "deletion", "insert")
		for _, s := range ts.Scores {
			fmt.Fprintf(stdout, "%-22s %7s %7s %7s %7s %7s %7s %8s %8s %8s\n", s.Method, f3(s.SamplePearson), f3(s.SampleSpearman),
				f3(s.SamplePearsonGrid), f3(s.AggPearson), f3(s.AggSpearman), f3(s.AggPearsonGrid), f3(s.RandomAbs), f3(s.DeletionAUC), f3(s.InsertionAUC))
		}
		if ts.Vars != nil {
			writeFidelityVars(stdout, ts.Vars, ts.weights, ts.Scores)
		}
	}
	if *out != "" {
		fmt.Fprintln(stdout, "\nwrote", *out)
	}
	return nil
}

// writeFidelityVars prints the per-variable table of an emulator of several input variables:
// each variable's share of Σ|attribution|, then the per-sample and aggregate Pearson correlation
// within the variable's neighbourhood features.
func writeFidelityVars(w io.Writer, vars []string, weights []float64, scores []attribution.FidelityScores) {
	shares := make([]string, len(vars))
	for v, name := range vars {
		shares[v] = fmt.Sprintf("%s %s", name, f3(weights[v]))
	}
	fmt.Fprintf(w, "per input variable: share of Σ|attribution| (the truth row's: of its contributions; of |w|, what |saliency|\n")
	fmt.Fprintf(w, "of a perfect emulator shows: %s), per-sample r and aggregate r within the variable's neighbourhood\n", strings.Join(shares, ", "))
	fmt.Fprintf(w, "%-22s", "method")
	for _, head := range []string{"share", "r", "agg r"} {
		for _, name := range vars {
			fmt.Fprintf(w, " %10s", head+" "+name)
		}
	}
	fmt.Fprintln(w)
	for _, s := range scores {
		fmt.Fprintf(w, "%-22s", s.Method)
		for _, col := range [][]float64{s.VarShares, s.VarSamplePearson, s.VarAggPearson} {
			for _, x := range col {
				fmt.Fprintf(w, " %10s", f3(x))
			}
		}
		fmt.Fprintln(w)
	}
}

// fidelityFigure is the data of the default fidelity figure: scores[t] are target t's rows,
// in the same method order for every target (attribution.Fidelity.Run's order). For an emulator
// of several input variables vars, weights[t] are target t's shares of |w| per variable, and
// the figure shows the share on the variables beyond the forecast variable.
func fidelityFigure(lead, samples int, targets []string, scores [][]attribution.FidelityScores, vars []string, weights [][]float64) *plots.Fidelity {
	f := &plots.Fidelity{Lead: lead, Samples: samples, Targets: targets, Fractions: scores[0][0].Fractions}
	// further sums the shares beyond the forecast variable's.
	further := func(shares []float64) plots.Num {
		var s float64
		for _, x := range shares[1:] {
			s += x
		}
		return plots.Num(s)
	}
	if len(vars) > 1 {
		f.FurtherVars = vars[1:]
		for _, w := range weights {
			f.WeightShare = append(f.WeightShare, further(w))
		}
	}
	nums := func(v []float64) []plots.Num {
		out := make([]plots.Num, len(v))
		for i, x := range v {
			out[i] = plots.Num(x)
		}
		return out
	}
	for m, first := range scores[0] {
		r := plots.FidelityRow{Method: first.Method}
		switch first.Method {
		case attribution.TruthName:
			r.Method = plots.FidelityTruth
		case attribution.RandomName:
			r.Method = plots.FidelityRandom
		}
		for _, ts := range scores {
			s := ts[m]
			r.SamplePearson = append(r.SamplePearson, plots.Num(s.SamplePearson))
			r.SampleSpearman = append(r.SampleSpearman, plots.Num(s.SampleSpearman))
			r.AggPearson = append(r.AggPearson, plots.Num(s.AggPearson))
			r.AggSpearman = append(r.AggSpearman, plots.Num(s.AggSpearman))
			r.RandomAbs = append(r.RandomAbs, plots.Num(s.RandomAbs))
			r.RandomSigned = append(r.RandomSigned, plots.Num(s.RandomSigned))
			r.DeletionAUC = append(r.DeletionAUC, plots.Num(s.DeletionAUC))
			r.InsertionAUC = append(r.InsertionAUC, plots.Num(s.InsertionAUC))
			r.Deletion = append(r.Deletion, nums(s.Deletion))
			r.Insertion = append(r.Insertion, nums(s.Insertion))
			if len(vars) > 1 {
				r.FurtherShare = append(r.FurtherShare, further(s.VarShares))
			}
		}
		f.Rows = append(f.Rows, r)
	}
	return f
}

// pickTargets parses --targets: "all" or 0-based indices below n.
func pickTargets(spec string, n int) ([]int, error) {
	if strings.TrimSpace(spec) == "all" {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	idx, err := parseInts(spec)
	if err != nil || len(idx) == 0 {
		return nil, app.Usagef("fidelity: --targets %q: give all or indices 0 to %d", spec, n-1)
	}
	for _, i := range idx {
		if i < 0 || i >= n {
			return nil, app.Usagef("fidelity: --targets: the truth file has %d targets (indices 0 to %d), not %d", n, n-1, i)
		}
	}
	return idx, nil
}

// f3 prints a score with three decimals, or "—" when undefined.
func f3(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// byVariable maps each variable's name to its value (NaN as null); nil without variables.
func byVariable(vars []string, v []float64) map[string]any {
	if len(vars) == 0 || len(v) != len(vars) {
		return nil
	}
	m := make(map[string]any, len(vars))
	for i, name := range vars {
		m[name] = finite(v[i])
	}
	return m
}

// scoresJSON is one method's scores for JSON (NaN as null), with the curves when curves, and for
// an emulator of several input variables vars the per-variable scores keyed by variable.
func scoresJSON(s attribution.FidelityScores, vars []string, curves bool) map[string]any {
	m := map[string]any{
		"method": s.Method, "parameters": s.Params, "seconds": s.Seconds,
		"sample_pearson_near": finite(s.SamplePearson), "sample_spearman_near": finite(s.SampleSpearman),
		"sample_pearson_grid": finite(s.SamplePearsonGrid), "sample_spearman_grid": finite(s.SampleSpearmanGrid),
		"aggregate_pearson_near": finite(s.AggPearson), "aggregate_spearman_near": finite(s.AggSpearman),
		"aggregate_pearson_grid": finite(s.AggPearsonGrid), "aggregate_spearman_grid": finite(s.AggSpearmanGrid),
		"randomization_spearman_abs": finite(s.RandomAbs), "randomization_spearman_signed": finite(s.RandomSigned),
		"deletion_auc": finite(s.DeletionAUC), "insertion_auc": finite(s.InsertionAUC),
	}
	if s.VarShares != nil {
		m["variable_share"] = byVariable(vars, s.VarShares)
		m["variable_sample_pearson_near"] = byVariable(vars, s.VarSamplePearson)
		m["variable_aggregate_pearson_near"] = byVariable(vars, s.VarAggPearson)
	}
	if curves {
		fin := func(v []float64) []any {
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = finite(x)
			}
			return out
		}
		m["fraction"], m["deletion"], m["insertion"] = s.Fractions, fin(s.Deletion), fin(s.Insertion)
	}
	return m
}

// writeFidelityNC writes the scores as variables over (target, method) and the curves over
// (target, method, step); the method names are the global attribute "methods" in index order.
// For an emulator of several input variables (vars) it adds the per-variable scores over
// (target, method, variable), each variable's share of |w| over (target, variable), and the
// global attribute "input_variables" naming the variables in index order.
func writeFidelityNC(path string, first []attribution.FidelityScores, vars []string,
	each func(func(lat, lon float64, s []attribution.FidelityScores, weights []float64)), targets int, global map[string]string) error {
	nm, ns := len(first), len(first[0].Fractions)
	names := make([]string, nm)
	for i, s := range first {
		names[i] = s.Method
	}
	global["methods"] = strings.Join(names, ",")
	global["comment"] = "method index i is the i-th name of the global attribute methods; scores are NaN where undefined (see climxai fidelity -h and attribution.Fidelity)"
	cols := []struct {
		name, long string
		get        func(attribution.FidelityScores) float64
	}{
		{"sample_pearson_near", "mean per-sample Pearson correlation with w*(x-x0) over the truth's neighbourhood", func(s attribution.FidelityScores) float64 { return s.SamplePearson }},
		{"sample_spearman_near", "mean per-sample Spearman correlation with w*(x-x0) over the neighbourhood", func(s attribution.FidelityScores) float64 { return s.SampleSpearman }},
		{"sample_pearson_grid", "mean per-sample Pearson correlation with w*(x-x0) over every ocean feature", func(s attribution.FidelityScores) float64 { return s.SamplePearsonGrid }},
		{"sample_spearman_grid", "mean per-sample Spearman correlation with w*(x-x0) over every ocean feature", func(s attribution.FidelityScores) float64 { return s.SampleSpearmanGrid }},
		{"aggregate_pearson_near", "Pearson correlation of mean normalised |attribution| with |w| over the neighbourhood", func(s attribution.FidelityScores) float64 { return s.AggPearson }},
		{"aggregate_spearman_near", "Spearman correlation of mean normalised |attribution| with |w| over the neighbourhood", func(s attribution.FidelityScores) float64 { return s.AggSpearman }},
		{"aggregate_pearson_grid", "Pearson correlation of mean normalised |attribution| with |w| over every ocean feature", func(s attribution.FidelityScores) float64 { return s.AggPearsonGrid }},
		{"aggregate_spearman_grid", "Spearman correlation of mean normalised |attribution| with |w| over every ocean feature", func(s attribution.FidelityScores) float64 { return s.AggSpearmanGrid }},
		{"randomization_spearman_abs", "mean Spearman correlation of |maps| on the trained and the weight-randomised model", func(s attribution.FidelityScores) float64 { return s.RandomAbs }},
		{"randomization_spearman_signed", "mean Spearman correlation of signed maps on the trained and the weight-randomised model", func(s attribution.FidelityScores) float64 { return s.RandomSigned }},
		{"deletion_auc", "area under the normalised deletion curve", func(s attribution.FidelityScores) float64 { return s.DeletionAUC }},
		{"insertion_auc", "area under the normalised insertion curve", func(s attribution.FidelityScores) float64 { return s.InsertionAUC }},
	}
	varCols := []struct {
		name, long string
		get        func(attribution.FidelityScores) []float64
	}{
		{"variable_share", "mean over samples of the input variable's share of the sum of |attribution| over ocean features (the truth row's: of its contributions w*(x-x0))", func(s attribution.FidelityScores) []float64 { return s.VarShares }},
		{"variable_sample_pearson_near", "mean per-sample Pearson correlation with w*(x-x0) over the input variable's neighbourhood features", func(s attribution.FidelityScores) []float64 { return s.VarSamplePearson }},
		{"variable_aggregate_pearson_near", "Pearson correlation of mean normalised |attribution| with |w| over the input variable's neighbourhood features", func(s attribution.FidelityScores) []float64 { return s.VarAggPearson }},
	}
	several := len(vars) > 1
	var lat, lon, weights []float64
	data := make([][]float64, len(cols))
	varData := make([][]float64, len(varCols))
	var del, ins []float64
	each(func(la, lo float64, ss []attribution.FidelityScores, ws []float64) {
		lat, lon = append(lat, la), append(lon, lo)
		for _, s := range ss {
			for c, col := range cols {
				data[c] = append(data[c], col.get(s))
			}
			del, ins = append(del, s.Deletion...), append(ins, s.Insertion...)
			if several {
				for c, col := range varCols {
					varData[c] = append(varData[c], col.get(s)...)
				}
			}
		}
		weights = append(weights, ws...)
	})
	ncVars := []app.NCVar{
		{Name: "target_lat", Dims: []string{"target"}, Data: lat, Attrs: map[string]string{"long_name": "latitude of the target cell", "units": "degrees_north"}},
		{Name: "target_lon", Dims: []string{"target"}, Data: lon, Attrs: map[string]string{"long_name": "longitude of the target cell", "units": "degrees_east"}},
		{Name: "fraction", Dims: []string{"step"}, Data: first[0].Fractions, Attrs: map[string]string{"long_name": "fraction of ocean features removed (deletion) or inserted (insertion)", "units": "1"}},
		{Name: "deletion", Dims: []string{"target", "method", "step"}, Data: del, Attrs: map[string]string{"long_name": "normalised forecast as features are set to a zero anomaly, most important first", "units": "1"}},
		{Name: "insertion", Dims: []string{"target", "method", "step"}, Data: ins, Attrs: map[string]string{"long_name": "normalised forecast as features are restored from a zero anomaly, most important first", "units": "1"}},
	}
	for c, col := range cols {
		ncVars = append(ncVars, app.NCVar{Name: col.name, Dims: []string{"target", "method"}, Data: data[c], Attrs: map[string]string{"long_name": col.long, "units": "1"}})
	}
	dims := []app.NCDim{{Name: "target", N: targets}, {Name: "method", N: nm}, {Name: "step", N: ns}}
	if several {
		global["input_variables"] = strings.Join(vars, " ")
		dims = append(dims, app.NCDim{Name: "variable", N: len(vars)})
		for c, col := range varCols {
			ncVars = append(ncVars, app.NCVar{Name: col.name, Dims: []string{"target", "method", "variable"}, Data: varData[c], Attrs: map[string]string{"long_name": col.long, "units": "1"}})
		}
		ncVars = append(ncVars, app.NCVar{Name: "weight_share", Dims: []string{"target", "variable"}, Data: weights, Attrs: map[string]string{
			"long_name": "the input variable's share of the sum of |w| (model units) over ocean features: what |saliency| of a perfect emulator puts on it", "units": "1"}})
	}
	return app.WriteTableNC(path, dims, ncVars, global)
}

// truthFile is the ground truth written by `climxai synth --truth` (synth.Truth.WriteNetCDF).
type truthFile struct {
	lat, lon             []float64
	targetLat, targetLon []float64
	leads                []int
	lags                 int
	coef                 []float32 // [target][lead][lag][lat][lon], NaN on land
	// jointVars names the variables of the joint predictor (`synth --subsurface --truth`: sst,
	// tsub; the predicted one first), nil when the file holds none; jointCoef[v] holds
	// joint_coef_<jointVars[v]> like coef.
	jointVars []string
	jointCoef [][]float32
}

// readTruth reads a truth file, with errors (prefixed by the verb) that say what is wrong and
// how to get a good one.
func readTruth(verb, path string) (*truthFile, error) {
	hint := "write one with climxai synth --out DATA.nc --truth TRUTH.nc"
	f, err := dataset.OpenChecked(path, hint)
	if err != nil {
		return nil, fmt.Errorf("%s: --truth: %w", verb, err)
	}
	defer f.Close()
	read := func(name string) ([]float64, error) {
		v, err := f.Var(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %s is not a climxai truth file: %w (%s)", verb, path, err, hint)
		}
		return v.ReadFloat64(nil, nil)
	}
	t := &truthFile{}
	// coefVar reads a coefficient variable of shape (target, lead, lag, lat, lon), NaN on land.
	coefVar := func(name string) ([]float32, error) {
		v, err := f.Var(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %s is not a climxai truth file: %w (%s)", verb, path, err, hint)
		}
		shape := v.Shape()
		want := []int{len(t.targetLat), len(t.leads), t.lags, len(t.lat), len(t.lon)}
		if len(shape) != 5 || fmt.Sprint(shape) != fmt.Sprint(want) {
			return nil, fmt.Errorf("%s: %s: %s has shape %v, want (target, lead, lag, lat, lon) = %v (%s)", verb, path, name, shape, want, hint)
		}
		c, err := v.ReadFloat32(nil, nil)
		if err != nil {
			return nil, err
		}
		fill := float32(1e20)
		if a, err := v.Attr("_FillValue"); err == nil {
			if len(a.Values) == 1 {
				fill = float32(a.Values[0])
			}
		}
		for i, x := range c {
			if x == fill || math.Abs(float64(x)) >= 1e19 {
				c[i] = float32(math.NaN())
			}
		}
		return c, nil
	}
	if t.lat, err = read("lat"); err != nil {
		return nil, err
	}
	if t.lon, err = read("lon"); err != nil {
		return nil, err
	}
	if t.targetLat, err = read("target_lat"); err != nil {
		return nil, err
	}
	if t.targetLon, err = read("target_lon"); err != nil {
		return nil, err
	}
	leads, err := read("lead")
	if err != nil {
		return nil, err
	}
	for _, l := range leads {
		t.leads = append(t.leads, int(l))
	}
	lags, err := read("lag")
	if err != nil {
		return nil, err
	}
	t.lags = len(lags)
	if t.coef, err = coefVar("coef"); err != nil {
		return nil, err
	}
	if a, err := f.Attr("joint_predictors"); err == nil {
		for _, name := range strings.Fields(a.Text) {
			c, err := coefVar("joint_coef_" + name)
			if err != nil {
				return nil, err
			}
			t.jointVars, t.jointCoef = append(t.jointVars, name), append(t.jointCoef, c)
		}
	}
	return t, nil
}

// groundTruth returns the truth of target ti at lead index li for the card's emulator, in model
// units (attribution.TruthInModelUnits): coef for an emulator of one input variable, and for
// one of several the joint predictor's coefficients of each variable the card reads, in the
// card's order. It fails with attribution.ErrTruthVariables when the file holds no joint
// predictor or one without a variable the card reads.
func (t *truthFile) groundTruth(card *inference.Card, path string, ti, li int) (attribution.GroundTruth, error) {
	vars := card.Variables()
	var std []float64
	for _, pp := range card.Preprocessing() {
		std = append(std, pp.ScaleStd)
	}
	size := t.lags * len(t.lat) * len(t.lon)
	off := (ti*len(t.leads) + li) * size
	gt := attribution.GroundTruth{}
	var blocks [][]float32
	if len(vars) == 1 {
		blocks = [][]float32{t.coef[off : off+size]}
	} else {
		fix := "write the truth of every variable with climxai synth --subsurface --truth, with the same --seed and --grid as the data"
		if t.jointVars == nil {
			return gt, &attribution.Error{Kind: attribution.ErrTruthVariables,
				Msg:  fmt.Sprintf("%s holds the optimal predictor from %s alone; the card reads %s", path, vars[0], strings.Join(vars, ", ")),
				Hint: fix}
		}
		if vars[0] != t.jointVars[0] {
			return gt, &attribution.Error{Kind: attribution.ErrTruthVariables,
				Msg:  fmt.Sprintf("%s predicts %s; the card forecasts %s", path, t.jointVars[0], vars[0]),
				Hint: "check the emulator of the variable the truth predicts, on the synthetic data's variable names"}
		}
		for _, v := range vars {
			j := slices.Index(t.jointVars, v)
			if j < 0 {
				return gt, &attribution.Error{Kind: attribution.ErrTruthVariables,
					Msg:  fmt.Sprintf("%s's joint predictor reads %s; the card also reads %s", path, strings.Join(t.jointVars, ", "), v),
					Hint: fix + "; the card's variables must be the data's names"}
			}
			blocks = append(blocks, t.jointCoef[j][off:off+size])
		}
		gt.Vars = vars
	}
	coef, err := attribution.TruthInModelUnits(blocks, std, std[0])
	if err != nil {
		return gt, err
	}
	gt.Coef = coef
	return gt, nil
}

// matches checks that the truth lies on the card's grid (same cell centres, within 1e-4°).
func (t *truthFile) matches(card *inference.Card) error {
	g := card.Grid.Grid()
	if len(t.lat) != len(g.Lat) || len(t.lon) != len(g.Lon) {
		return fmt.Errorf("the truth's grid is %d x %d, the card's %d x %d (generate the data with the card's grid: climxai synth --grid)",
			len(t.lat), len(t.lon), len(g.Lat), len(g.Lon))
	}
	for i := range t.lat {
		if math.Abs(t.lat[i]-g.Lat[i]) > 1e-4 {
			return fmt.Errorf("the truth's latitude %d is %g, the card's %g (the grids must match)", i, t.lat[i], g.Lat[i])
		}
	}
	for j := range t.lon {
		if d := math.Mod(math.Abs(t.lon[j]-g.Lon[j]), 360); d > 1e-4 && d < 360-1e-4 {
			return fmt.Errorf("the truth's longitude %d is %g, the card's %g (the grids must match)", j, t.lon[j], g.Lon[j])
		}
	}
	return nil
}
