package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
	"climxai/plots"
)

// aggregateSynopsis is aggregate's usage line.
const aggregateSynopsis = "aggregate --card C --data D --lead L --target T --method M [method flags] --samples train|test|all|N|SET:N [--shard i/n] --out AGG.nc [--json] [--device D] [--threads N]"

// cmdAggregate is `climxai aggregate`: the mean attribution of one target's forecast over a
// sample set, each sample's attribution normalised to Σ|a| = 1 first, streamed so that memory
// does not grow with the number of samples (attribution.AggregateSamples). The result file is
// the contract's layout with attribution = mean |a|, signed_mean, std and signed_std, and the
// running sums (sum_abs, sum_signed, sum_sq, each with a _residual) that `climxai merge` adds.
// --shard i/n keeps the samples k (0-based, in time order) with k mod n = i-1: n array jobs with
// i = 1..n cover the set once, and each holds every season.
func cmdAggregate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("aggregate", aggregateSynopsis, stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	lead := fs.Int("lead", 0, "lead in months (default: the card's only lead)")
	targetStr := fs.String("target", "", "LAT,LON | box:S,N,W,E | "+namedBoxes())
	samples := fs.String("samples", "train", "train | test | all (the data's train/test split by target year) | N (N evenly spaced of all) | SET:N (N evenly spaced of train, test or all)")
	shardStr := fs.String("shard", "", "i/n: only samples k with k mod n = i-1 (for array jobs; combine with climxai merge)")
	out := fs.String("out", "", "aggregate NetCDF file to write")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	fig := addFigureFlag(fs, "a map of the importance summed over all lags")
	rf := addRunFlags(fs, true)
	mf := addMethodFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return unexpectedArgs("aggregate", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *targetStr == "" || *out == "":
		return app.Usagef("aggregate: --card, --data, --target and --out are required")
	}
	if err := checkOutput("aggregate", *out, *dataPath, map[string]string{"--card": *cardPath}); err != nil {
		return err
	}
	if err := rf.check("aggregate", 1024, " (aggregation stays within 1 GiB)"); err != nil {
		return err
	}
	sel, err := parseSampleSpec(*samples)
	if err != nil {
		return app.Usagef("aggregate: --samples: %v", err)
	}
	shard, err := parseShard(*shardStr)
	if err != nil {
		return app.Usagef("aggregate: --shard: %v", err)
	}
	mc, err := mf.parse("aggregate", fs)
	if err != nil {
		return err
	}

	w, err := openWork(*cardPath, *dataPath, lead, "aggregate", stderr)
	if err != nil {
		return err
	}
	m, err := mc.build(w.card)
	if err != nil {
		return err
	}
	target, err := attribution.ParseTarget(*targetStr, w.card.Grid, w.p.Ocean)
	if err != nil {
		return err
	}
	inits, setDesc, err := sel.inits(w.p, w.card.InputMonths, *lead)
	if err != nil {
		return err
	}
	total := len(inits)
	inits = shard.pick(inits)
	if len(inits) == 0 {
		return &attribution.Error{Kind: attribution.ErrNoSamples, Msg: fmt.Sprintf("shard %s of %d samples (%s) is empty", shard, total, setDesc),
			Hint: "use fewer shards than samples"}
	}

	rt, err := inference.NewRuntime("")
	if err != nil {
		return err
	}
	defer rt.Close()
	e, err := attribution.OpenEmulator(rt, w.card, *lead, rf.options())
	if err != nil {
		return err
	}
	e.Budget = rf.budgetBytes()
	label := "aggregate " + m.Name()
	if shard.n > 0 {
		label += " shard " + shard.String()
	}
	prog := app.NewProgress(stderr, label)
	sums, st, err := attribution.AggregateSamples(ctx, attribution.AggregateRequest{Emulator: e, Method: m, Target: target,
		Ocean: w.p.Ocean, Samples: len(inits), Progress: prog.Func(),
		Fill: func(k int, dst []float32) error { return w.card.Window(w.p, inits[k], dst) }})
	prog.Done()
	if err != nil {
		return err
	}
	other := map[string]string{
		"sample_set":       setDesc,
		"samples_in_set":   strconv.Itoa(total),
		"skipped":          strconv.Itoa(sums.Skipped),
		"first_init":       inits[0].String(),
		"last_init":        inits[len(inits)-1].String(),
		"target_resolved":  target.String(),
		"target_lat":       strconv.FormatFloat(target.Lat, 'g', 10, 64),
		"target_lon":       strconv.FormatFloat(target.Lon, 'g', 10, 64),
		"device":           st.Device,
		"duration_seconds": strconv.FormatFloat(st.Duration.Seconds(), 'f', 3, 64),
		"card":             *cardPath,
		"normalisation":    "each sample's attribution divided by its sum of |attribution| over ocean cells and lags",
	}
	if shard.n > 0 {
		other["shard"] = shard.String()
	}
	meta := dataset.AttributionMeta{Method: m.Name(), Parameters: m.Params().String(), Target: *targetStr, Lead: *lead,
		ModelFile: w.cm.File, ModelSHA256: e.SHA256, DataFile: dataPath.String(), Version: app.Version, Other: other}
	agg, err := app.WriteAggregate(*out, w.card.Grid.Grid(), sums, meta)
	if err != nil {
		return err
	}
	allLags := make([]int, sums.Lags)
	for k := range allLags {
		allLags[k] = k
	}
	if err := fig.write(stderr, plots.KindMap, []string{*out}, allLags, nil); err != nil {
		return err
	}
	return printAggregate(stdout, *asJSON, *out, meta, agg, st.Device, st.Duration.Seconds())
}

// work is a card, its model for one lead and the data prepared for it.
type work struct {
	card *inference.Card
	cm   inference.CardModel
	p    *dataset.Prepared
}

// openWork loads the card, resolves lead (the card's only lead when 0) and prepares the data.
func openWork(cardPath string, dataPath dataFiles, lead *int, verb string, stderr io.Writer) (*work, error) {
	card, err := inference.LoadCard(cardPath)
	if err != nil {
		return nil, err
	}
	if *lead, err = cardLead(card, *lead, verb); err != nil {
		return nil, err
	}
	cm, err := card.Model(*lead)
	if err != nil {
		return nil, err
	}
	p, err := prepareData(card, dataPath, stderr)
	if err != nil {
		return nil, err
	}
	return &work{card: card, cm: cm, p: p}, nil
}

// sampleSpec is a parsed --samples (app.SampleSet, shared with the GUI's analyses).
type sampleSpec struct{ app.SampleSet }

// parseSampleSpec parses train | test | all | N | SET:N.
func parseSampleSpec(s string) (sampleSpec, error) {
	sp, err := app.ParseSampleSet(s)
	return sampleSpec{sp}, err
}

// inits returns the selected init months in time order and a description of the set.
func (sp sampleSpec) inits(p *dataset.Prepared, months, lead int) ([]dataset.Month, string, error) {
	return sp.Inits(p, months, lead)
}

// shardSpec is a parsed --shard i/n (n = 0: no sharding).
type shardSpec struct{ i, n int }

func parseShard(s string) (shardSpec, error) {
	if s == "" {
		return shardSpec{}, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return shardSpec{}, fmt.Errorf("%q: want i/n with 1 <= i <= n (e.g. 3/8, or $SLURM_ARRAY_TASK_ID/8)", s)
	}
	return shardSpec{i, n}, nil
}

func (sh shardSpec) String() string { return fmt.Sprintf("%d/%d", sh.i, sh.n) }

// pick keeps the samples k with k mod n = i-1.
func (sh shardSpec) pick(inits []dataset.Month) []dataset.Month {
	if sh.n == 0 {
		return inits
	}
	var out []dataset.Month
	for k := sh.i - 1; k < len(inits); k += sh.n {
		out = append(out, inits[k])
	}
	return out
}

// printAggregate prints the summary of an aggregate: samples and the lags holding most importance.
func printAggregate(stdout io.Writer, asJSON bool, out string, meta dataset.AttributionMeta, agg *attribution.Aggregate, device string, seconds float64) error {
	imp := attribution.LagImportance(agg.AllVariables(), agg.Lags, agg.NLat, agg.NLon) // summed over input variables, as decay does
	order := make([]int, len(imp))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case imp[a] > imp[b]:
			return -1
		case imp[a] < imp[b]:
			return 1
		}
		return 0
	})
	type lagShare struct {
		Lag   int     `json:"lag"`
		Share float64 `json:"share"`
	}
	var top []lagShare
	for _, k := range order[:min(5, len(order))] {
		top = append(top, lagShare{k, imp[k]})
	}
	fit, fitErr := attribution.FitDecay(imp, -1)
	if asJSON {
		sum := map[string]any{"out": out, "method": meta.Method, "parameters": meta.Parameters, "target": meta.Target,
			"target_resolved": meta.Other["target_resolved"], "lead": meta.Lead, "samples": agg.Samples, "skipped": agg.Skipped,
			"sample_set": meta.Other["sample_set"], "shard": meta.Other["shard"], "device": device, "seconds": seconds,
			"model_sha256": meta.ModelSHA256, "top_lags": top, "lag_importance": imp}
		if fitErr == nil {
			sum["efold_months"] = finite(fit.Tau)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(stdout, "%s of lead %d forecasts for %s\n", methodLabel(meta.Method, meta.Parameters), meta.Lead, meta.Other["target_resolved"])
	fmt.Fprintf(stdout, "samples: %d (%s", agg.Samples, meta.Other["sample_set"])
	if sh := meta.Other["shard"]; sh != "" {
		fmt.Fprintf(stdout, ", shard %s", sh)
	}
	fmt.Fprintf(stdout, "), skipped %d\n", agg.Skipped)
	if device != "" {
		fmt.Fprintf(stdout, "time: %.3f s on %s\n", seconds, device)
	}
	fmt.Fprint(stdout, "top lags by mean normalised |attribution|:")
	for _, l := range top {
		fmt.Fprintf(stdout, " %d (%.1f%%)", l.Lag, 100*l.Share)
	}
	fmt.Fprintln(stdout)
	if fitErr == nil && !math.IsInf(fit.Tau, 0) {
		fmt.Fprintf(stdout, "e-folding time: %.3g months (climxai decay %s for the interval and R50/R90)\n", fit.Tau, out)
	}
	fmt.Fprintln(stdout, "wrote", out)
	return nil
}

// methodLabel is "ig (steps=64 ...)", or the bare name of a method without parameters.
func methodLabel(name, params string) string {
	if params == "" {
		return name
	}
	return name + " (" + params + ")"
}
