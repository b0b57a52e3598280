package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"climxai/app"
	"climxai/attribution"
	"climxai/inference"
	"climxai/plots"
)

// decaymapSynopsis is decaymap's usage line.
const decaymapSynopsis = "decaymap --card C --data D --lead L --method M [method flags] --stride K [--samples test:24] --out MAP.nc [--max-lag K] [--json] [--figure F] [--device D] [--threads N]"

// cmdDecaymap is `climxai decaymap`, the location-independence test of the reference study: for
// every K-th ocean cell in latitude and in longitude (rows and columns 0, K, 2K, ...) it
// aggregates the attribution with that cell as the target over a modest sample set (default 24
// evenly spaced test samples), fits the e-folding time (attribution.FitDecay) and measures R90
// (attribution.SpatialExtent), and writes both as maps on the card's grid (NaN at other cells)
// with their median, interquartile range and coefficient of variation.
func cmdDecaymap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("decaymap", decaymapSynopsis, stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	lead := fs.Int("lead", 0, "lead in months (default: the card's only lead)")
	stride := fs.Int("stride", 4, "every K-th ocean cell in latitude and longitude is a target")
	samples := fs.String("samples", "test:24", "samples per target: train | test | all | N | SET:N (as aggregate)")
	maxLag := fs.Int("max-lag", -1, "fit the e-folding time over lags 0..K only (-1: all lags)")
	out := fs.String("out", "", "map NetCDF file to write")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	rf := addRunFlags(fs, true)
	mf := addMethodFlags(fs)
	fig := addFigureFlag(fs, "maps of the e-folding time and R90 with their median, IQR and CV")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := fig.check("decaymap"); err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return unexpectedArgs("decaymap", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *out == "":
		return app.Usagef("decaymap: --card, --data and --out are required")
	case *stride < 1:
		return app.Usagef("decaymap: --stride must be 1 or more")
	}
	if err := checkOutput("decaymap", *out, *dataPath, map[string]string{"--card": *cardPath}); err != nil {
		return err
	}
	if err := rf.check("decaymap", 1024, ""); err != nil {
		return err
	}
	sel, err := parseSampleSpec(*samples)
	if err != nil {
		return app.Usagef("decaymap: --samples: %v", err)
	}
	mc, err := mf.parse("decaymap", fs)
	if err != nil {
		return err
	}
	w, err := openWork(*cardPath, *dataPath, lead, "decaymap", stderr)
	if err != nil {
		return err
	}
	m, err := mc.build(w.card)
	if err != nil {
		return err
	}
	inits, setDesc, err := sel.inits(w.p, w.card.InputMonths, *lead)
	if err != nil {
		return err
	}
	grid := w.card.Grid.Grid()
	targets, err := app.DecayMapTargets(w.card.Grid, w.p.Ocean, *stride)
	if err != nil {
		return err
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
	prog := app.NewProgress(stderr, fmt.Sprintf("decaymap %s, %d targets x %d samples", m.Name(), len(targets), len(inits)))
	start := time.Now()
	d, err := app.ComputeDecayMap(ctx, e, m, w.card, w.p, inits, targets, *maxLag, prog.Update)
	prog.Done()
	if err != nil {
		return err
	}
	device0 := d.Device
	seconds := time.Since(start).Seconds()
	se, sr := app.Summarise(d.Tau), app.Summarise(d.Radius90)

	attrs := app.DecayMapAttrs(app.DecayMapProvenance{Method: m.Name(), Parameters: m.Params().String(), Lead: *lead,
		Stride: *stride, Samples: len(inits), SampleSet: setDesc, ModelFile: w.cm.File, ModelSHA256: e.SHA256,
		DataFile: dataPath.String(), Card: *cardPath, Device: device0, Seconds: seconds}, d, se, sr)
	if err := app.WriteDecayMap(*out, grid, d, attrs); err != nil {
		return err
	}
	if err := fig.write(stderr, plots.KindDecayMap, []string{*out}, nil, nil); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"out": *out, "method": m.Name(), "parameters": m.Params().String(), "lead": *lead,
			"stride": *stride, "targets": len(targets), "samples": len(inits), "sample_set": setDesc, "device": device0,
			"seconds": seconds, "efold_months": jsonStat(se), "r90_km": jsonStat(sr)})
	}
	fmt.Fprintf(stdout, "%s, lead %d: %d target cells (stride %d) x %d samples (%s)\n", methodLabel(m.Name(), m.Params().String()), *lead, len(targets), *stride, len(inits), setDesc)
	for _, q := range []struct {
		name, unit string
		s          app.MapStat
	}{{"e-folding time", "months", se}, {"R90", "km", sr}} {
		fmt.Fprintf(stdout, "%-15s median %.4g %s, IQR %.4g (%.4g..%.4g), CV %.3g over %d cells", q.name+":", q.s.Median, q.unit, q.s.IQR, q.s.Q1, q.s.Q3, q.s.CV, q.s.Cells)
		if q.s.Infinite > 0 {
			fmt.Fprintf(stdout, "; %d cells without a value", q.s.Infinite)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "time: %.1f s on %s\n", seconds, device0)
	fmt.Fprintln(stdout, "wrote", *out)
	return nil
}

// jsonStat is st with non-finite numbers as null.
func jsonStat(st app.MapStat) map[string]any {
	return map[string]any{"cells": st.Cells, "without_value": st.Infinite, "median": finite(st.Median), "q1": finite(st.Q1),
		"q3": finite(st.Q3), "iqr": finite(st.IQR), "mean": finite(st.Mean), "std": finite(st.Std), "cv": finite(st.CV)}
}
