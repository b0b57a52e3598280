package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"climxai/app"
	"climxai/dataset"
	"climxai/dataset/netcdf"
	"climxai/dataset/synth"
	"climxai/inference"
)

// multivarDir holds an emulator of two input variables: SST and the temperature below the mixed
// layer (tsub) of `climxai synth --subsurface`, 72 channels (variable-major), lead 9, a small
// ReLU CNN exported by torch.onnx.export in tools/emulator/export_multivar.py, with PyTorch
// autograd goldens.
var multivarDir = filepath.Join("resources", "emulators", "multivar")

// TestMultiVarEmulator runs the verbs on the emulator of two input variables, on the 12 years of
// synthetic SST and tsub its goldens were computed from: the card's inputs (each variable with
// its own scaling, in the card's layout) and the forecast equal PyTorch's; explain's maps of
// both variables equal autograd for a cell and a box; IG is complete; aggregate keeps each
// variable's block through merge; decay reads either variable; a data file without the second
// variable is refused by name.
func TestMultiVarEmulator(t *testing.T) {
	checkSHA256Sums(t, multivarDir)
	var gold struct {
		Inits []string
		Lead  int
		Input struct {
			File      string
			Shape     []int
			Variables []string
		}
		Output   struct{ File string }
		GradCell struct {
			File string
			Cell struct{ Lat, Lon float64 }
		} `json:"grad_cell"`
		GradSpg       struct{ File string } `json:"grad_spg"`
		AnomalyPeriod string                `json:"anomaly_period"`
	}
	b, err := os.ReadFile(filepath.Join(multivarDir, "golden09.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &gold); err != nil {
		t.Fatal(err)
	}
	const months, nlat, nlon = 36, 35, 63
	cells := nlat * nlon
	sample := 2 * months * cells
	gx := readGoldenF32(t, multivarDir, gold.Input.File, 2*sample)
	gy := readGoldenF32(t, multivarDir, gold.Output.File, 2*cells)
	gcell := readGoldenF32(t, multivarDir, gold.GradCell.File, 2*sample)
	gspg := readGoldenF32(t, multivarDir, gold.GradSpg.File, 2*sample)

	dir := t.TempDir()
	syn, err := synth.Generate(context.Background(), synth.Config{Years: 12, Grid: 2, Seed: 7, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "sst_tsub.nc")
	if err := syn.WriteNetCDF(data, nil); err != nil {
		t.Fatal(err)
	}
	card, _, c := goldenCard(t, dir, multivarDir, "lead09.onnx", gold.AnomalyPeriod)
	if got := strings.Join(c.Variables(), ","); got != "sst,tsub" || got != strings.Join(gold.Input.Variables, ",") || c.Channels() != gold.Input.Shape[1] {
		t.Fatalf("card variables %s (%d channels), goldens %v %v", got, c.Channels(), gold.Input.Variables, gold.Input.Shape)
	}
	p, err := c.Prepare(data)
	if err != nil {
		t.Fatal(err)
	}
	fwd, xs := cardForward(t, c, p, gold.Lead, gold.Inits)
	for k, init := range gold.Inits {
		x := xs[k]
		if d := maxRelDiff(x, gx[k*sample:(k+1)*sample]); d > 1e-5 {
			t.Fatalf("init %s: the card's input differs from the golden input by %.3g relative", init, d)
		}
		y, err := fwd.Run(context.Background(), x, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxRelDiff(y, gy[k*cells:(k+1)*cells]); d > 1e-5 {
			t.Fatalf("init %s: ONNX Runtime's forecast differs from PyTorch's by %.3g relative", init, d)
		}
	}

	// block returns variable v's values of a golden gradient in lag order, NaN on land.
	block := func(g []float32, k, v int) []float32 {
		out := make([]float32, months*cells)
		for lag := range months {
			ch := v*months + months - 1 - lag
			for i := range cells {
				out[lag*cells+i] = g[k*sample+ch*cells+i]
				if !p.Ocean[i] {
					out[lag*cells+i] = float32(math.NaN())
				}
			}
		}
		return out
	}
	type shareJSON struct {
		Name  string
		Share float64
	}
	explain := func(t *testing.T, k int, target, method string, args ...string) (*dataset.AttributionFile, explainSummary, []shareJSON) {
		t.Helper()
		out := filepath.Join(dir, method+".nc")
		var stdout, stderr bytes.Buffer
		a := append([]string{"--card", card, "--data", data, "--init", gold.Inits[k], "--lead", "9",
			"--target", target, "--method", method, "--out", out, "--json", "--threads", "1"}, args...)
		if err := cmdExplain(context.Background(), a, &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		var sum explainSummary
		var shares struct {
			Vars []shareJSON `json:"input_variables"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(stdout.Bytes(), &shares)
		af, err := dataset.ReadAttribution(out)
		if err != nil {
			t.Fatal(err)
		}
		if af.Meta.Other["input_variables"] != "sst tsub" || len(af.Lags) != months {
			t.Fatalf("%s: input_variables %q, %d lags", method, af.Meta.Other["input_variables"], len(af.Lags))
		}
		return af, sum, shares.Vars
	}
	tsubOf := func(t *testing.T, af *dataset.AttributionFile) []float32 {
		t.Helper()
		for _, e := range af.Extra {
			if e.Name == "attribution_tsub" {
				return e.Values
			}
		}
		t.Fatal("no attribution_tsub")
		return nil
	}

	t.Run("saliency against autograd", func(t *testing.T) {
		cell := fmt.Sprintf("%g,%g", gold.GradCell.Cell.Lat, gold.GradCell.Cell.Lon)
		for k := range gold.Inits {
			for _, tc := range []struct {
				target string
				g      []float32
			}{{cell, gcell}, {"spg", gspg}} {
				af, _, shares := explain(t, k, tc.target, "saliency")
				for v, got := range [][]float32{af.Values, tsubOf(t, af)} {
					want := block(tc.g, k, v)
					d := maxRelDiff(got, want)
					t.Logf("init %s target %s variable %d: saliency vs autograd %.2g", gold.Inits[k], tc.target, v, d)
					if d > 1e-4 {
						t.Errorf("init %s target %s variable %d: saliency differs from autograd by %.3g", gold.Inits[k], tc.target, v, d)
					}
				}
				if len(shares) != 2 || math.Abs(shares[0].Share+shares[1].Share-1) > 1e-9 || shares[1].Name != "tsub" {
					t.Errorf("shares %+v", shares)
				}
				s, _ := strconv.ParseFloat(af.Meta.Other["share_tsub"], 64)
				if math.Abs(s-shares[1].Share) > 1e-5 {
					t.Errorf("file's share_tsub %g, summary's %g", s, shares[1].Share)
				}
			}
		}
	})

	t.Run("IG and occlusion", func(t *testing.T) {
		for k := range gold.Inits {
			_, sum, shares := explain(t, k, "spg", "ig", "--steps", "64")
			t.Logf("init %s: IG completeness %.3g%%, tsub share %.2f", gold.Inits[k], 100*sum.Completeness.Relative, shares[1].Share)
			if sum.Completeness == nil || sum.Completeness.Relative > 0.01 {
				t.Errorf("init %s: IG at 64 steps %+v", gold.Inits[k], sum.Completeness)
			}
		}
		// Backwards optimisation's optimal input, both variables, as IG's baseline.
		bo, _, _ := explain(t, 0, "spg", "backopt", "--iters", "10", "--step", "0.5")
		base := filepath.Join(dir, "optimal.nc")
		if err := os.Rename(filepath.Join(dir, "backopt.nc"), base); err != nil {
			t.Fatal(err)
		}
		if !(maxAbs(tsubOf(t, bo)) > 0) {
			t.Fatal("backopt's optimal tsub input is zero")
		}
		_, sum, _ := explain(t, 0, "spg", "ig", "--steps", "64", "--baseline", base)
		t.Logf("IG from the optimal input: completeness %.3g%% of %g", 100*sum.Completeness.Relative, sum.Completeness.Expected)
		if sum.Completeness.Relative > 0.01 || sum.Completeness.Expected == 0 {
			t.Errorf("IG from the optimal input: %+v", sum.Completeness)
		}
		var stdout, stderr bytes.Buffer
		one := filepath.Join(dir, "one.nc")
		bo.Extra, bo.Meta.Other = nil, map[string]string{}
		if err := dataset.WriteAttribution(one, bo); err != nil {
			t.Fatal(err)
		}
		err := cmdExplain(context.Background(), []string{"--card", card, "--data", data, "--init", gold.Inits[0], "--lead", "9",
			"--target", "spg", "--method", "ig", "--baseline", one, "--out", filepath.Join(dir, "x.nc")}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), `the card reads "sst tsub"`) {
			t.Errorf("a one-variable baseline file: %v", err)
		}
		af, _, _ := explain(t, 0, "spg", "occlusion", "--occlude", "month")
		if ts := tsubOf(t, af); !(maxAbs(ts) > 0) || !(maxAbs(af.Values) > 0) {
			t.Errorf("occlusion by month: max |sst| %g, |tsub| %g; both variables' months must be occluded", maxAbs(af.Values), maxAbs(ts))
		}
	})

	t.Run("aggregate, merge, decay", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		run := func(f func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error, args ...string) {
			t.Helper()
			stdout.Reset()
			stderr.Reset()
			if err := f(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
		}
		agg := func(ctx context.Context, a []string, o, e *bytes.Buffer) error { return cmdAggregate(ctx, a, o, e) }
		common := []string{"--card", card, "--data", data, "--lead", "9", "--target", "spg", "--method", "saliency", "--samples", "all:6", "--threads", "1"}
		whole := filepath.Join(dir, "agg.nc")
		run(agg, append(common, "--out", whole)...)
		var parts []string
		for i := 1; i <= 2; i++ {
			parts = append(parts, filepath.Join(dir, fmt.Sprintf("part%d.nc", i)))
			run(agg, append(common, "--shard", fmt.Sprintf("%d/2", i), "--out", parts[i-1])...)
		}
		merged := filepath.Join(dir, "merged.nc")
		run(func(ctx context.Context, a []string, o, e *bytes.Buffer) error { return cmdMerge(ctx, a, o, e) }, append(parts, "--out", merged)...)
		a, err := dataset.ReadAttribution(whole)
		if err != nil {
			t.Fatal(err)
		}
		m, err := dataset.ReadAttribution(merged)
		if err != nil {
			t.Fatal(err)
		}
		ta, tm := tsubOf(t, a), tsubOf(t, m)
		if d := maxRelDiff(tm, ta); d > 1e-6 {
			t.Errorf("merged shards' tsub block differs from the whole run's by %.3g", d)
		}
		var total float64
		for _, vs := range [][]float32{a.Values, ta} {
			for _, v := range vs {
				if v == v {
					total += float64(v)
				}
			}
		}
		if math.Abs(total-1) > 1e-4 {
			t.Errorf("mean |attribution| sums to %g over both variables, want 1", total)
		}
		decay := func(ctx context.Context, a []string, o, e *bytes.Buffer) error { return cmdDecay(ctx, a, o, e) }
		var taus [3]float64
		for v, name := range []string{"sst", "tsub", ""} {
			args := []string{"--json", "--variable", name, whole}
			if name == "" {
				args = []string{"--json", "--figure", filepath.Join(dir, "decay.png"), whole}
			}
			run(decay, args...)
			var rows struct {
				Rows []struct {
					Tau      float64 `json:"efold_months"`
					Variable string
					Imp      []float64 `json:"lag_importance"`
				}
			}
			if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil || len(rows.Rows) != 1 {
				t.Fatalf("decay --variable %s: %v\n%s", name, err, stdout.String())
			}
			if want := map[string]string{"": "sst+tsub"}[name]; want == "" && rows.Rows[0].Variable != name || want != "" && rows.Rows[0].Variable != want {
				t.Errorf("decay --variable %q: row variable %q", name, rows.Rows[0].Variable)
			}
			taus[v] = rows.Rows[0].Tau
		}
		t.Logf("e-folding of the spg forecast's importance: sst %.1f, tsub %.1f, both %.1f months", taus[0], taus[1], taus[2])
		if taus[0] == taus[1] || taus[2] == taus[0] || taus[2] == taus[1] {
			t.Errorf("decay gives e-folding times %v for sst, tsub and both", taus)
		}
		if st, err := os.Stat(filepath.Join(dir, "decay.png")); err != nil || st.Size() == 0 {
			t.Errorf("decay --figure: %v", err)
		}
		err = cmdDecay(context.Background(), []string{"--variable", "ohc", whole}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "sst, tsub") {
			t.Errorf("decay --variable ohc: %v", err)
		}
	})

	t.Run("ablate", func(t *testing.T) {
		// Every variable is ablated: keeping all radii or all 36 months is the full input,
		// keeping nothing beyond 0 km or only the init month changes the forecast.
		var stdout, stderr bytes.Buffer
		if err := cmdAblate(context.Background(), []string{"--card", card, "--data", data, "--lead", "9", "--target", "spg",
			"--radii", "0,inf", "--lags", "1,36", "--samples", "24", "--json", "--threads", "1", "--out", filepath.Join(dir, "abl.nc")}, &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		var r struct {
			Full     struct{ Corr float64 }
			Radius   []struct{ Corr float64 }
			Lag      []struct{ Corr float64 }
			Variable []struct {
				Without string
				Corr    float64
			}
		}
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || len(r.Radius) != 2 || len(r.Lag) != 2 || len(r.Variable) != 2 {
			t.Fatalf("%v\n%s", err, stdout.String())
		}
		t.Logf("without sst %.3f, without tsub %.3f", r.Variable[0].Corr, r.Variable[1].Corr)
		if r.Variable[0].Without != "sst" || r.Variable[1].Without != "tsub" || r.Variable[0].Corr == r.Full.Corr || r.Variable[1].Corr == r.Full.Corr {
			t.Errorf("skill without each variable: %+v", r.Variable)
		}
		nc, err := netcdf.Open(filepath.Join(dir, "abl.nc"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Var("without_tsub_corr"); err != nil {
			t.Errorf("ablation file: %v", err)
		}
		t.Logf("ablation corr: full %.3f, within 0 km %.3f, all %.3f, last month %.3f, 36 months %.3f",
			r.Full.Corr, r.Radius[0].Corr, r.Radius[1].Corr, r.Lag[0].Corr, r.Lag[1].Corr)
		if r.Radius[1].Corr != r.Full.Corr || r.Lag[1].Corr != r.Full.Corr || r.Radius[0].Corr == r.Full.Corr || r.Lag[0].Corr == r.Full.Corr {
			t.Errorf("ablation: %+v", r)
		}
	})

	t.Run("variables in separate files", func(t *testing.T) {
		// sst in one file, tsub in two files of six years each, given in any order: the same
		// maps as from one file of both; with only the last six years of tsub the verbs use
		// the months both variables cover, and say so.
		sub := t.TempDir()
		sst, tsub := splitFiles(t, sub, syn)
		one, _, _ := explain(t, 0, "spg", "saliency")
		out := filepath.Join(sub, "sep.nc")
		_, sep, err := runExplain(t, []string{"--card", card, "--data", tsub[1], "--data", sst, "--data", tsub[0], "--init", gold.Inits[0],
			"--lead", "9", "--target", "spg", "--method", "saliency", "--out", out, "--json", "--threads", "1"}, out)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxRelDiff(sep.Values, one.Values); d != 0 {
			t.Errorf("sst map from separate files differs by %.3g", d)
		}
		if d := maxRelDiff(tsubOf(t, sep), tsubOf(t, one)); d != 0 {
			t.Errorf("tsub map from separate files differs by %.3g", d)
		}
		if want := tsub[1] + " + " + sst + " + " + tsub[0]; sep.Meta.DataFile != want {
			t.Errorf("data_file %q, want %q", sep.Meta.DataFile, want)
		}

		// The anomalies are over the months both cover: the card's anomaly_period must lie in them.
		var stdout, stderr bytes.Buffer
		late, _, _ := goldenCard(t, sub, multivarDir, "lead09.onnx", "0007-01/0012-12")
		err = cmdPredict(context.Background(), []string{"--card", late, "--data", sst, "--data", tsub[1], "--init", "0011-06",
			"--out", filepath.Join(sub, "pred.nc")}, &stdout, &stderr)
		if err != nil || !strings.Contains(stderr.String(), "using the 72 months they share, 0007-01 to 0012-12") {
			t.Errorf("predict with the last six years of tsub: %v\n%s", err, stderr.String())
		}
		err = cmdPredict(context.Background(), []string{"--card", late, "--data", sst, "--data", tsub[1], "--init", "0008-06",
			"--out", filepath.Join(sub, "pred.nc")}, &stdout, &stderr)
		if !errors.Is(err, dataset.ErrMonthOutOfData) {
			t.Errorf("predict from an init whose window starts before tsub's months: %v", err)
		}
		err = cmdPredict(context.Background(), []string{"--card", card, "--data", sst, "--data", tsub[1], "--init", "0011-06",
			"--out", filepath.Join(sub, "pred.nc")}, &stdout, &stderr)
		if !errors.Is(err, dataset.ErrMonthOutOfData) || !strings.Contains(err.Error(), "anomaly_period 0001-01/0012-12") {
			t.Errorf("an anomaly period beyond the months both cover: %v", err)
		}
	})

	t.Run("subsurface on depth levels", func(t *testing.T) {
		// tsub stored as the 100 m level of a three-level thetao(time, lev, lat, lon) in a file
		// of its own, the card's [[input]] naming it with level = 90: the same maps as from tsub.
		sub := t.TempDir()
		sst := filepath.Join(sub, "sst.nc")
		if err := dataset.WriteSeries(sst, syn.SST, nil); err != nil {
			t.Fatal(err)
		}
		thetao := filepath.Join(sub, "thetao.nc")
		writeLevels(t, thetao, syn.Subsurface, []float64{5, 100, 300}, 1)
		_, text, _ := goldenCard(t, sub, multivarDir, "lead09.onnx", gold.AnomalyPeriod)
		leveled := filepath.Join(sub, "card.toml")
		if err := os.WriteFile(leveled, []byte(strings.Replace(text, `variable = "tsub"`, "variable = \"thetao\"\nlevel = 90.0", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		one, _, _ := explain(t, 0, "spg", "saliency")
		out := filepath.Join(sub, "lev.nc")
		_, lev, err := runExplain(t, []string{"--card", leveled, "--data", sst, "--data", thetao, "--init", gold.Inits[0],
			"--lead", "9", "--target", "spg", "--method", "saliency", "--out", out, "--json", "--threads", "1"}, out)
		if err != nil {
			t.Fatal(err)
		}
		var th []float32
		for _, e := range lev.Extra {
			if e.Name == "attribution_thetao" {
				th = e.Values
			}
		}
		if d := maxRelDiff(lev.Values, one.Values); d != 0 || th == nil || maxRelDiff(th, tsubOf(t, one)) != 0 {
			t.Errorf("maps from thetao at 100 m differ from tsub's (sst %.3g, thetao found %v)", d, th != nil)
		}
		var stdout, stderr bytes.Buffer
		if err := cmdPredict(context.Background(), []string{"--card", leveled, "--data", sst, "--data", thetao, "--init", gold.Inits[0],
			"--out", filepath.Join(sub, "p.nc")}, &stdout, &stderr); err != nil || !strings.Contains(stderr.String(), "thetao read at lev = 100 m (level 2 of 3), the nearest to 90") {
			t.Errorf("predict: %v\n%s", err, stderr.String())
		}
		// Without level the card is told how to choose one.
		if err := os.WriteFile(leveled, []byte(strings.Replace(text, `variable = "tsub"`, `variable = "thetao"`, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		err = cmdPredict(context.Background(), []string{"--card", leveled, "--data", sst, "--data", thetao, "--init", gold.Inits[0],
			"--out", filepath.Join(sub, "p.nc")}, &stdout, &stderr)
		if !errors.Is(err, dataset.ErrLayout) || !strings.Contains(err.Error(), "3 levels") || !strings.Contains(err.Error(), "level = DEPTH") {
			t.Errorf("thetao without level: %v", err)
		}
		// The mean over 0-300 m (levels at 5, 100, 300 m: tsub, tsub, tsub + 20, edges 0, 52.5,
		// 200, 400) is tsub + 20/3 everywhere, a constant the anomalies remove: tsub's maps again.
		if err := os.WriteFile(leveled, []byte(strings.Replace(text, `variable = "tsub"`, "variable = \"thetao\"\nlayer = [0, 300]", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		out = filepath.Join(sub, "layer.nc")
		_, lay, err := runExplain(t, []string{"--card", leveled, "--data", sst, "--data", thetao, "--init", gold.Inits[0],
			"--lead", "9", "--target", "spg", "--method", "saliency", "--out", out, "--json", "--threads", "1"}, out)
		if err != nil {
			t.Fatal(err)
		}
		th = nil
		for _, e := range lay.Extra {
			if e.Name == "attribution_thetao" {
				th = e.Values
			}
		}
		if d := maxRelDiff(lay.Values, one.Values); d > 1e-4 || th == nil || maxRelDiff(th, tsubOf(t, one)) > 1e-4 {
			t.Errorf("maps from thetao over 0-300 m differ from tsub's (sst %.3g, thetao found %v)", d, th != nil)
		} else {
			t.Logf("thetao over 0-300 m against tsub: sst map %.2g, thetao map %.2g (relative)", d, maxRelDiff(th, tsubOf(t, one)))
		}
		stdout.Reset()
		stderr.Reset()
		if err := cmdPredict(context.Background(), []string{"--card", leveled, "--data", sst, "--data", thetao, "--init", gold.Inits[0],
			"--out", filepath.Join(sub, "p2.nc")}, &stdout, &stderr); err != nil || !strings.Contains(stderr.String(), "thetao averaged over lev = 0 to 300 m: 3 of 3 levels (5 to 300 m)") {
			t.Errorf("predict over a layer: %v\n%s", err, stderr.String())
		}
		info, err := inspectCard(leveled)
		if err != nil || len(info.Inputs) != 1 || info.Inputs[0].Layer == nil || *info.Inputs[0].Layer != [2]float64{0, 300} {
			t.Errorf("info of the layer card: %v %+v", err, info)
		}
	})

	t.Run("data without the second variable", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := cmdExplain(context.Background(), []string{"--card", card, "--data", goldenData(t, t.TempDir()), "--init", gold.Inits[0],
			"--lead", "9", "--target", "spg", "--method", "saliency", "--out", filepath.Join(dir, "x.nc")}, &stdout, &stderr)
		if !errors.Is(err, dataset.ErrNoVariable) || !strings.Contains(err.Error(), "tsub") {
			t.Errorf("explain on SST alone: %v", err)
		}
	})

	t.Run("workspace and info", func(t *testing.T) {
		w, err := app.Open(card, []string{data}, inference.Options{Device: inference.CPU, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		found := false
		for _, n := range w.Notices {
			found = found || strings.Contains(n, "reads sst, tsub")
		}
		if !found {
			t.Errorf("workspace notices %q do not say the window shows sst's attributions", w.Notices)
		}
		info, err := inspectCard(card)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Inputs) != 1 || info.Inputs[0].Variable != "tsub" || info.InputLayout != "variable-major" || info.Models[0].InputShape != "[?, 72, 35, 63]" {
			t.Errorf("info: %+v %+v", info.Inputs, info.Models)
		}
	})
}

// writeLevels writes s as level at (0-based) of a variable thetao(time, lev, lat, lon) on the
// given depth levels (metres) in a NetCDF-4 file, the other levels holding s plus 10 times their
// index: ocean temperature on depth levels as CMIP's thetao stores it. Times are mid-month days
// since 0001-01-01 in the noleap calendar, as climxai's own files.
func writeLevels(t *testing.T, path string, s *dataset.Series, levels []float64, at int) {
	t.Helper()
	f, err := netcdf.Create(path, netcdf.NetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nt, nz, nlat, nlon := s.N, len(levels), s.Grid.NLat(), s.Grid.NLon()
	dt, _ := f.DefDim("time", nt)
	dz, _ := f.DefDim("lev", nz)
	dy, _ := f.DefDim("lat", nlat)
	dx, _ := f.DefDim("lon", nlon)
	def := ncDef(t, f)
	vt := def("time", netcdf.Double, []netcdf.Dim{dt}, map[string]string{"units": "days since 0001-01-01 00:00:00", "calendar": "noleap"})
	vz := def("lev", netcdf.Double, []netcdf.Dim{dz}, map[string]string{"units": "m", "positive": "down", "standard_name": "depth"})
	vy := def("lat", netcdf.Double, []netcdf.Dim{dy}, map[string]string{"units": "degrees_north"})
	vx := def("lon", netcdf.Double, []netcdf.Dim{dx}, map[string]string{"units": "degrees_east"})
	vv := def("thetao", netcdf.Float, []netcdf.Dim{dt, dz, dy, dx}, map[string]string{"units": "degC"})
	if err := vv.PutAttr("_FillValue", float32(1e20)); err != nil {
		t.Fatal(err)
	}
	if err := f.EndDef(); err != nil {
		t.Fatal(err)
	}
	days := noleapDays(s)
	cells := nlat * nlon
	vals := make([]float32, nt*nz*cells)
	for k := range nt {
		for z := range nz {
			for c := range cells {
				v := s.Values[k*cells+c]
				switch {
				case v != v:
					v = 1e20
				case z != at:
					v += float32(10 * z)
				}
				vals[(k*nz+z)*cells+c] = v
			}
		}
	}
	for _, w := range []error{
		vt.WriteFloat64(nil, nil, days), vz.WriteFloat64(nil, nil, levels),
		vy.WriteFloat64(nil, nil, s.Grid.Lat), vx.WriteFloat64(nil, nil, s.Grid.Lon), vv.WriteFloat32(nil, nil, vals),
	} {
		if w != nil {
			t.Fatal(w)
		}
	}
}

// splitFiles writes a 12-year synthetic run's sst into dir/sst.nc and its tsub into two files of
// six years each, dir/tsub_0.nc and dir/tsub_1.nc: data stored one variable and one period per
// file, as CMIP's are.
func splitFiles(t *testing.T, dir string, syn *synth.Result) (sst string, tsub []string) {
	t.Helper()
	sst = filepath.Join(dir, "sst.nc")
	if err := dataset.WriteSeries(sst, syn.SST, nil); err != nil {
		t.Fatal(err)
	}
	n := syn.Subsurface.Grid.Size()
	for k, from := range []int{0, 72} {
		part := *syn.Subsurface
		part.Start, part.N = part.Start+dataset.Month(from), 72
		part.Values = part.Values[from*n : (from+72)*n]
		tsub = append(tsub, filepath.Join(dir, fmt.Sprintf("tsub_%d.nc", k)))
		if err := dataset.WriteSeries(tsub[k], &part, nil); err != nil {
			t.Fatal(err)
		}
	}
	return sst, tsub
}

// ncDef returns a function that defines a variable of f with its attributes, failing t on error.
func ncDef(t *testing.T, f *netcdf.File) func(name string, typ netcdf.Type, dims []netcdf.Dim, attrs map[string]string) *netcdf.Var {
	return func(name string, typ netcdf.Type, dims []netcdf.Dim, attrs map[string]string) *netcdf.Var {
		t.Helper()
		v, err := f.DefVar(name, typ, dims)
		if err != nil {
			t.Fatal(err)
		}
		if err := netcdf.PutAttrs(v.PutAttr, attrs); err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// noleapDays returns the 15th of each of s's months in days since 0001-01-01 (noleap).
func noleapDays(s *dataset.Series) []float64 {
	cum := []float64{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}
	days := make([]float64, s.N)
	for k := range days {
		m := s.Month(k)
		days[k] = float64(m.Year()-1)*365 + cum[m.MonthOfYear()-1] + 14
	}
	return days
}
