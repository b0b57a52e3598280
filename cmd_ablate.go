package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
	"climxai/plots"
)

// ablateSynopsis is ablate's usage line.
const ablateSynopsis = "ablate --card C --data D --lead L --target T [--radii 0,250,500,1000,2000,inf] [--lags 1,3,6,12,24,36] [--samples test|train|all|N] --out ABL.nc [--json] [--device D] [--threads N]"

// cmdAblate is `climxai ablate`: the reference study's ablation experiment. Over the test
// samples (or another sample set), the skill of the emulator's forecast of the target when the
// inputs outside a great-circle radius of the target, or older than the k most recent months,
// are set to a zero anomaly; the full input and persistence are the references
// (attribution.Ablation says exactly what is masked).
func cmdAblate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ablate", ablateSynopsis, stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	lead := fs.Int("lead", 0, "lead in months (default: the card's only lead)")
	targetStr := fs.String("target", "", "LAT,LON | box:S,N,W,E | "+namedBoxes())
	radiiStr := fs.String("radii", "0,250,500,1000,2000,inf", "great-circle radii in km around the target outside which inputs are set to a zero anomaly (inf: none)")
	lagsStr := fs.String("lags", "1,3,6,12,24,36", "numbers k of most recent months kept (lags 0..k-1); older months are set to a zero anomaly")
	samplesStr := fs.String("samples", "test", "samples scored: test | train | all (the card-independent split by target year: last 20% of years are test) or N (N test samples spread evenly)")
	out := fs.String("out", "", "NetCDF file to write")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	fig := addFigureFlag(fs, "the correlation against the radius kept (or the months kept), with the full input and persistence")
	rf := addRunFlags(fs, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return unexpectedArgs("ablate", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *targetStr == "" || *out == "":
		return app.Usagef("ablate: --card, --data, --target and --out are required")
	}
	if err := checkOutput("ablate", *out, *dataPath, map[string]string{"--card": *cardPath}); err != nil {
		return err
	}
	if err := rf.check("ablate", 0, ""); err != nil {
		return err
	}
	radii, err := parseRadii(*radiiStr)
	if err != nil {
		return app.Usagef("ablate: --radii: %v", err)
	}
	lags, err := parseInts(*lagsStr)
	if err != nil {
		return app.Usagef("ablate: --lags: %v", err)
	}
	abl := attribution.Ablation{RadiiKm: radii, Lags: lags}
	if err := fig.check("ablate"); err != nil {
		return err
	}

	card, err := inference.LoadCard(*cardPath)
	if err != nil {
		return err
	}
	abl.Variables = len(card.Inputs) > 0 // the skill without each input variable
	if err := abl.Validate(card.InputMonths); err != nil {
		return app.Usagef("ablate: %v", err)
	}
	if *lead, err = cardLead(card, *lead, "ablate"); err != nil {
		return err
	}
	cm, err := card.Model(*lead)
	if err != nil {
		return err
	}
	p, err := prepareData(card, *dataPath, stderr)
	if err != nil {
		return err
	}
	target, err := attribution.ParseTarget(*targetStr, card.Grid, p.Ocean)
	if err != nil {
		return err
	}
	inits, split, err := selectSamples(p, card, *lead, *samplesStr, "ablate")
	if err != nil {
		return err
	}
	truth := make([]float64, len(inits))
	for k, init := range inits {
		f, err := p.Target(init, *lead)
		if err != nil {
			return err
		}
		truth[k] = weightedField(target.Weights, f.Values)
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
	prog := app.NewProgress(stderr, "ablate: forward runs")
	res, err := abl.Run(ctx, attribution.AblationRequest{Emulator: e, Target: target, Ocean: p.Ocean, Grid: card.Grid,
		N: len(inits), Truth: truth, Progress: prog.Func(),
		Fill: func(k int, x []float32) error { return card.Window(p, inits[k], x) }})
	prog.Done()
	if err != nil {
		return err
	}

	std := card.Preprocess.ScaleStd
	degC := func(s attribution.Skill) attribution.Skill { s.RMSE *= std; return s }
	full, pers := degC(res.Full), degC(res.Persistence)
	first, last := inits[0], inits[len(inits)-1]
	err = app.WriteAblation(*out, res, radii, lags, std, app.AblationProvenance{Card: *cardPath, DataFile: dataPath.String(),
		ModelFile: cm.File, ModelSHA256: e.SHA256, Lead: *lead, TargetSpec: *targetStr, Target: target,
		SampleSet: *samplesStr, Split: split, Inits: inits})
	if err != nil {
		return err
	}
	if err := fig.write(stderr, plots.KindLines, []string{*out}, nil, app.AblationLines(radii, lags, res, full, pers)); err != nil {
		return err
	}

	type row struct {
		RadiusKm  any    `json:"radius_km,omitempty"`
		Lag       int    `json:"lag,omitempty"`
		Without   string `json:"without,omitempty"` // the input variable removed
		CellsKept int    `json:"cells_kept,omitempty"`
		Corr      any    `json:"corr"`
		RMSE      any    `json:"rmse_degC"`
		R2        any    `json:"r2"`
		OfFull    any    `json:"corr_fraction_of_full"`
	}
	// The share of the full input's correlation kept (null when the full input has none).
	ofFull := func(c float64) any {
		if !(full.Corr > 0) {
			return nil
		}
		return finite(c / full.Corr)
	}
	var radRows, lagRows, varRows []row
	for i, s := range res.Radius {
		var r any = radii[i]
		if math.IsInf(radii[i], 1) {
			r = "inf"
		}
		radRows = append(radRows, row{RadiusKm: r, CellsKept: res.CellsKept[i], Corr: finite(s.Corr), RMSE: finite(s.RMSE * std), R2: finite(s.R2), OfFull: ofFull(s.Corr)})
	}
	for i, s := range res.Lag {
		lagRows = append(lagRows, row{Lag: lags[i], Corr: finite(s.Corr), RMSE: finite(s.RMSE * std), R2: finite(s.R2), OfFull: ofFull(s.Corr)})
	}
	for i, s := range res.Variable {
		varRows = append(varRows, row{Without: res.Vars[i], Corr: finite(s.Corr), RMSE: finite(s.RMSE * std), R2: finite(s.R2), OfFull: ofFull(s.Corr)})
	}
	skillJSON := func(s attribution.Skill) map[string]any {
		return map[string]any{"corr": finite(s.Corr), "rmse_degC": finite(s.RMSE), "r2": finite(s.R2)}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"out": *out, "lead": *lead, "target": *targetStr, "target_resolved": target.String(),
			"samples": res.Samples, "init_first": first.String(), "init_last": last.String(), "split": split,
			"full": skillJSON(full), "persistence": skillJSON(pers), "radius": radRows, "lag": lagRows, "variable": varRows,
			"device": res.Device, "seconds": res.Duration.Seconds(), "model_sha256": e.SHA256,
		})
	}
	fmt.Fprintf(stdout, "ablation of the lead %d forecast of %s over %d samples (init %s..%s; %s)\n",
		*lead, target, res.Samples, first, last, split)
	fmt.Fprintf(stdout, "%-28s %8s %10s %8s\n", "input", "corr", "RMSE °C", "R²")
	line := func(name string, s attribution.Skill) {
		fmt.Fprintf(stdout, "%-28s %8.3f %10.4f %8.3f\n", name, s.Corr, s.RMSE, s.R2)
	}
	line("full", full)
	line("persistence", pers)
	for i, s := range res.Radius {
		name := fmt.Sprintf("within %g km (%d cells)", radii[i], res.CellsKept[i])
		if math.IsInf(radii[i], 1) {
			name = fmt.Sprintf("within inf km (%d cells)", res.CellsKept[i])
		}
		line(name, degC(s))
	}
	for i, s := range res.Lag {
		line(fmt.Sprintf("last %d months", lags[i]), degC(s))
	}
	for i, s := range res.Variable {
		line("without "+res.Vars[i], degC(s))
	}
	fmt.Fprintf(stdout, "time: %.2f s on %s\n", res.Duration.Seconds(), res.Device)
	fmt.Fprintln(stdout, "wrote", *out)
	return nil
}

// cardLead returns lead, or the card's only lead when lead is 0.
func cardLead(card *inference.Card, lead int, verb string) (int, error) {
	if lead != 0 {
		return lead, nil
	}
	if len(card.Models) != 1 {
		return 0, app.Usagef("%s: --lead is required: the card has leads %v", verb, card.Leads())
	}
	return card.Models[0].Lead, nil
}

// prepareData opens the data files and prepares it as the card prescribes, printing notices.
func prepareData(card *inference.Card, paths dataFiles, stderr io.Writer) (*dataset.Prepared, error) {
	p, err := card.Prepare(paths...)
	if err != nil {
		return nil, err
	}
	for _, n := range p.Notices {
		fmt.Fprintln(stderr, "note:", n)
	}
	return p, nil
}

// selectSamples returns the init months of spec: "train", "test", "all" (dataset's split by
// target year), or a number N: N test samples spread evenly over the test set (all of them when
// it holds fewer). It also describes the split.
func selectSamples(p *dataset.Prepared, card *inference.Card, lead int, spec, verb string) ([]dataset.Month, string, error) {
	if err := p.CheckLength(card.InputMonths, lead); err != nil {
		return nil, "", err
	}
	inits := p.Inits(lead, card.InputMonths)
	sub, n := dataset.SubsetTest, 0
	if v, err := strconv.Atoi(spec); err == nil {
		if v < 1 {
			return nil, "", app.Usagef("%s: --samples %d: give a positive number or train, test, all", verb, v)
		}
		n = v
	} else if sub, err = dataset.ParseSubset(spec); err != nil {
		return nil, "", app.Usagef("%s: --samples: %v (or a number of test samples)", verb, err)
	}
	desc := "all samples"
	if sub != dataset.SubsetAll {
		sp, err := p.DefaultSplit()
		if err != nil {
			return nil, "", err
		}
		inits = sp.Select(inits, lead, sub)
		desc = sp.String()
	}
	if len(inits) == 0 {
		return nil, "", fmt.Errorf("%s: the data hold no %s sample at lead %d (use longer data or --samples all)", verb, sub, lead)
	}
	if n > 0 && n < len(inits) {
		picked := make([]dataset.Month, n)
		for i := range n {
			picked[i] = inits[i*len(inits)/n]
		}
		inits = picked
	}
	return inits, desc, nil
}

// weightedField is Σ w·v over cells with a non-zero weight (NaN values there give NaN).
func weightedField(w, v []float32) float64 {
	var s float64
	for i, wi := range w {
		if wi != 0 {
			s += float64(wi) * float64(v[i])
		}
	}
	return s
}

// parseRadii parses comma-separated distances in km; "inf" is no masking (app.ParseRadii).
func parseRadii(s string) ([]float64, error) { return app.ParseRadii(s) }

// parseInts parses comma-separated integers (app.ParseInts).
func parseInts(s string) ([]int, error) { return app.ParseInts(s) }
