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
	"strings"
	"testing"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/dataset/netcdf"
	"climxai/dataset/synth"
	"climxai/inference"
	"climxai/onnx"
	"climxai/plots"
)

// grid2deg is the [grid] table of cards on the synthetic runs' 2° North Atlantic grid.
const grid2deg = `[grid]
lat_start = 5.0
lat_step = 2.0
nlat = 35
lon_start = -100.0
lon_step = 2.0
nlon = 63
`

// fidelityFixture writes five synthetic years at 2°, the truth of one target at lead 1 fitted
// on them, and a card whose lead-1 emulator IS that truth (attribution.LinearEmulatorModel).
func fidelityFixture(t *testing.T) (card, data, truth string) {
	t.Helper()
	dir := t.TempDir()
	res, err := synth.Generate(context.Background(), synth.Config{Years: 5, Grid: 2, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "sst.nc")
	if err := dataset.WriteSeries(data, res.SST, nil); err != nil {
		t.Fatal(err)
	}
	tr, err := synth.FitTruth(context.Background(), res.Anomaly, []synth.LatLon{{Lat: 45, Lon: -40}}, []int{1}, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	truth = filepath.Join(dir, "truth.nc")
	if err := tr.WriteNetCDF(truth, nil); err != nil {
		t.Fatal(err)
	}
	grid := dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	tg, err := attribution.ParseTarget(fmt.Sprintf("%g,%g", tr.Targets[0].Lat, tr.Targets[0].Lon), grid, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := attribution.LinearEmulatorModel(tr.Coefficients(0, 0), tg, 36, 35, 63, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(filepath.Join(dir, "linear.onnx"), m); err != nil {
		t.Fatal(err)
	}
	card = filepath.Join(dir, "card.toml")
	text := `name = "linear truth"
variable = "sst"
input_months = 36
channel_order = "oldest-first"
` + grid2deg + `[preprocess]
anomaly = "monthly-climatology"
filter = "none"
scale_mean = 0.0
scale_std = 1.0
[[model]]
lead = 1
file = "linear.onnx"
`
	if err := os.WriteFile(card, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return card, data, truth
}

// TestFidelityEndToEnd: on an emulator that is the truth's linear predictor, input x gradient
// is the truth's contribution map sample by sample and |saliency| is |w|: both correlate 1.
func TestFidelityEndToEnd(t *testing.T) {
	if _, err := inference.FindLibrary(); err != nil {
		t.Fatal(err)
	}
	card, data, truth := fidelityFixture(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "fid.nc")
	fig := filepath.Join(dir, "fidelity.png")
	var stdout, stderr bytes.Buffer
	err := cmdFidelity(context.Background(), []string{"--card", card, "--data", data, "--truth", truth, "--lead", "1",
		"--methods", "saliency,ixg,occlusion", "--samples", "3", "--curve-steps", "8", "--random-samples", "3", "--out", out, "--json",
		"--figure", fig, "--device", "cpu", "--threads", "1"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var sum struct {
		Samples int
		Targets []struct {
			Neighbourhood int `json:"neighbourhood_cells"`
			Methods       []map[string]any
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if sum.Samples != 3 || len(sum.Targets) != 1 || len(sum.Targets[0].Methods) != 5 || sum.Targets[0].Neighbourhood < 5 {
		t.Fatalf("summary:\n%s", stdout.String())
	}
	rows := map[string]map[string]any{}
	for _, r := range sum.Targets[0].Methods {
		rows[r["method"].(string)] = r
		t.Logf("%v", r)
	}
	num := func(method, key string) float64 {
		v, ok := rows[method][key].(float64)
		if !ok {
			t.Fatalf("%s %s = %v", method, key, rows[method][key])
		}
		return v
	}
	if v := num("ixg", "sample_pearson_near"); v < 0.9999 {
		t.Errorf("ixg per-sample correlation %.5f, want 1", v)
	}
	if v := num("saliency", "aggregate_pearson_near"); v < 0.9999 {
		t.Errorf("saliency aggregate correlation %.5f, want 1", v)
	}
	if v := num("ixg", "randomization_spearman_signed"); v > 0.5 {
		t.Errorf("ixg on the randomised model correlates %.3f", v)
	}
	if d, td := num("ixg", "deletion_auc"), num("truth", "deletion_auc"); d-td > 1e-3 {
		t.Errorf("ixg deletion area %.4f, the truth's %.4f", d, td)
	}
	for _, name := range []string{"sample_pearson_near", "deletion", "insertion", "deletion_auc", "randomization_spearman_abs"} {
		if v := readNCVar(t, out, name); len(v) == 0 {
			t.Errorf("%s empty", name)
		}
	}
	if v := readNCVar(t, out, "deletion"); len(v) != 5*9 {
		t.Errorf("deletion holds %d values, want 5 rows x 9 steps", len(v))
	}
	// The figure's sidecar carries the same scores, per target, with the inputs hashed.
	checkFigure(t, fig, plots.KindFidelity)
	side, err := plots.ReadSpec(plots.SidecarPath(fig))
	if err != nil {
		t.Fatal(err)
	}
	ff := side.Fidelity
	if len(side.Inputs) != 3 || len(ff.Rows) != 5 || ff.Rows[0].Method != plots.FidelityTruth || ff.Rows[1].Method != plots.FidelityRandom ||
		len(ff.Targets) != 1 || len(ff.Fractions) != 9 || ff.Samples != 3 || ff.Lead != 1 {
		t.Fatalf("sidecar: %d inputs, fidelity %+v", len(side.Inputs), ff)
	}
	for _, r := range ff.Rows {
		if want := num(r.Method, "sample_pearson_near"); math.Abs(float64(r.SamplePearson[0])-want) > 1e-12 {
			t.Errorf("%s: figure's per-sample Pearson %v, summary's %v", r.Method, r.SamplePearson[0], want)
		}
	}

	// Text output, JSON file, no randomisation.
	stdout.Reset()
	jout := filepath.Join(dir, "fid.json")
	err = cmdFidelity(context.Background(), []string{"--card", card, "--data", data, "--truth", truth,
		"--methods", "ig", "--samples", "2", "--random-samples", "0", "--targets", "0", "--out", jout, "--device", "cpu", "--threads", "1"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, s := range []string{"fidelity at lead 1 over 2 samples", "truth", "ig", "deletion", "wrote"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
		}
	}
	b, err := os.ReadFile(jout)
	if err != nil || !bytes.Contains(b, []byte(`"deletion": [`)) {
		t.Errorf("JSON file: %v\n%.300s", err, b)
	}
}

// TestFidelityUsage: malformed flags are usage errors, a truth without the lead a user error.
func TestFidelityUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"missing truth", []string{"--card", "c.toml", "--data", "d.nc"}},
		{"unknown method", []string{"--card", "c.toml", "--data", "d.nc", "--truth", "t.nc", "--methods", "magic"}},
		{"bad out", []string{"--card", "c.toml", "--data", "d.nc", "--truth", "t.nc", "--out", "f.csv"}},
		{"bad steps", []string{"--card", "c.toml", "--data", "d.nc", "--truth", "t.nc", "--curve-steps", "0"}},
		{"bad random samples", []string{"--card", "c.toml", "--data", "d.nc", "--truth", "t.nc", "--random-samples", "-1"}},
		{"bad figure", []string{"--card", "c.toml", "--data", "d.nc", "--truth", "t.nc", "--figure", "f.jpg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := cmdFidelity(context.Background(), tc.args, &stdout, &stderr)
			var ue *app.UsageError
			if !errors.As(err, &ue) {
				t.Errorf("error %v, want a usage error", err)
			}
		})
	}
}

// fidelityFixtureTwoVars writes five synthetic years of sst and tsub at 2°, a truth file of one
// target at lead 1 fitted on them with the joint predictor from both beside the SST-only one, the
// SST-only truth alone, and a card whose lead-1 emulator IS the joint predictor in model units:
// sst scaled by 0.5, tsub by 2 around a mean of 0.3 (so tsub's zero anomaly is -0.15), months
// interleaved. The model's gradient with respect to input v is coef_v · scale_std_v / 0.5,
// written out here, not taken from the code under test.
func fidelityFixtureTwoVars(t *testing.T) (card, data, truth, sstTruth string) {
	t.Helper()
	dir := t.TempDir()
	res, err := synth.Generate(context.Background(), synth.Config{Years: 5, Grid: 2, Seed: 3, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "sst_tsub.nc")
	if err := res.WriteNetCDF(data, nil); err != nil {
		t.Fatal(err)
	}
	target, leads := []synth.LatLon{{Lat: 45, Lon: -40}}, []int{1}
	tr, err := synth.FitTruth(context.Background(), res.Anomaly, target, leads, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	sstTruth = filepath.Join(dir, "truth_sst.nc")
	if err := tr.WriteNetCDF(sstTruth, nil); err != nil {
		t.Fatal(err)
	}
	if tr.Joint, err = synth.FitTruthJoint(context.Background(), []synth.Predictor{{Name: "sst", Anomaly: res.Anomaly}, {Name: "tsub", Anomaly: res.SubsurfaceAnomaly}},
		target, leads, 300, nil); err != nil {
		t.Fatal(err)
	}
	truth = filepath.Join(dir, "truth.nc")
	if err := tr.WriteNetCDF(truth, nil); err != nil {
		t.Fatal(err)
	}
	grid := dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	tg, err := attribution.ParseTarget(fmt.Sprintf("%g,%g", tr.Targets[0].Lat, tr.Targets[0].Lon), grid, nil)
	if err != nil {
		t.Fatal(err)
	}
	const stdSST, stdTsub = 0.5, 2.0
	var w []float32
	for v, std := range []float64{stdSST, stdTsub} {
		for _, c := range tr.Joint.VarCoefficients(v, 0, 0) {
			w = append(w, float32(float64(c)*std/stdSST))
		}
	}
	m, err := attribution.LinearEmulatorModelVars(w, tg, 2, 36, 35, 63, false, inference.MonthMajor)
	if err != nil {
		t.Fatal(err)
	}
	if err := onnx.Save(filepath.Join(dir, "linear2.onnx"), m); err != nil {
		t.Fatal(err)
	}
	card = filepath.Join(dir, "card.toml")
	text := fmt.Sprintf(`name = "linear joint truth"
variable = "sst"
input_months = 36
channel_order = "oldest-first"
input_layout = "month-major"
`+grid2deg+`[preprocess]
anomaly = "monthly-climatology"
filter = "none"
scale_mean = 0.0
scale_std = %g
[[input]]
variable = "tsub"
scale_mean = 0.3
scale_std = %g
[[model]]
lead = 1
file = "linear2.onnx"
`, stdSST, stdTsub)
	if err := os.WriteFile(card, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return card, data, truth, sstTruth
}

// TestFidelityTwoVarsEndToEnd: on an emulator of sst and tsub that is the joint truth's linear
// predictor, with the variables on different scales, |saliency| is |w| in model units (the
// aggregate correlates 1 overall and within each variable, and puts |w|'s share on tsub), IG
// and DeepLIFT are the truth's contributions from each variable's own zero anomaly (per-sample
// correlation 1, the truth's shares and deletion area), and every row's deletion curve ends at
// climatology's forecast; the NetCDF file, the JSON and the figure carry the per-variable
// scores. A truth without tsub's coefficients and data without tsub are refused with what to
// do.
func TestFidelityTwoVarsEndToEnd(t *testing.T) {
	if _, err := inference.FindLibrary(); err != nil {
		t.Fatal(err)
	}
	card, data, truth, sstTruth := fidelityFixtureTwoVars(t)
	dir := t.TempDir()
	out, jout, fig := filepath.Join(dir, "fid.nc"), filepath.Join(dir, "fid.json"), filepath.Join(dir, "fidelity.png")
	var stdout, stderr bytes.Buffer
	run := func(args ...string) error {
		stdout.Reset()
		stderr.Reset()
		return cmdFidelity(context.Background(), append([]string{"--card", card, "--data", data, "--lead", "1", "--device", "cpu", "--threads", "1"}, args...), &stdout, &stderr)
	}
	if err := run("--truth", truth, "--methods", "saliency,ixg,ig,deeplift", "--samples", "3", "--curve-steps", "6", "--random-samples", "1",
		"--out", out, "--json", "--figure", fig); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var sum struct {
		Targets []struct {
			Vars    []string           `json:"input_variables"`
			Weights map[string]float64 `json:"weight_share"`
			Methods []map[string]any
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if len(sum.Targets) != 1 || strings.Join(sum.Targets[0].Vars, " ") != "sst tsub" || len(sum.Targets[0].Methods) != 6 {
		t.Fatalf("summary:\n%s", stdout.String())
	}
	wTsub := sum.Targets[0].Weights["tsub"]
	if math.Abs(wTsub+sum.Targets[0].Weights["sst"]-1) > 1e-9 || !(wTsub > 0.05 && wTsub < 0.95) {
		t.Fatalf("shares of |w| %v", sum.Targets[0].Weights)
	}
	rows := map[string]map[string]any{}
	for _, r := range sum.Targets[0].Methods {
		rows[r["method"].(string)] = r
		t.Logf("%s: r %.4f, agg r %.4f, shares %v, per-variable r %v, agg r %v, deletion %.4f", r["method"], r["sample_pearson_near"], r["aggregate_pearson_near"],
			r["variable_share"], r["variable_sample_pearson_near"], r["variable_aggregate_pearson_near"], r["deletion_auc"])
	}
	num := func(method, key string) float64 {
		t.Helper()
		v, ok := rows[method][key].(float64)
		if !ok {
			t.Fatalf("%s %s = %v", method, key, rows[method][key])
		}
		return v
	}
	perVar := func(method, key, v string) float64 {
		t.Helper()
		m, _ := rows[method][key].(map[string]any)
		x, ok := m[v].(float64)
		if !ok {
			t.Fatalf("%s %s[%s] = %v", method, key, v, rows[method][key])
		}
		return x
	}
	t.Logf("share of |w| on tsub %.4f, of the truth's contributions %.4f", wTsub, perVar("truth", "variable_share", "tsub"))
	if v := num("saliency", "aggregate_pearson_near"); v < 0.9999 {
		t.Errorf("saliency aggregate correlation %.5f, want 1", v)
	}
	for _, v := range []string{"sst", "tsub"} {
		if x := perVar("saliency", "variable_aggregate_pearson_near", v); x < 0.9999 {
			t.Errorf("saliency aggregate correlation within %s %.5f, want 1", v, x)
		}
	}
	if s := perVar("saliency", "variable_share", "tsub"); math.Abs(s-wTsub) > 1e-4 {
		t.Errorf("saliency's share on tsub %.5f, |w|'s %.5f", s, wTsub)
	}
	for _, m := range []string{"ig", "deeplift"} {
		if v := num(m, "sample_pearson_near"); v < 0.9999 {
			t.Errorf("%s per-sample correlation %.5f, want 1", m, v)
		}
		for _, v := range []string{"sst", "tsub"} {
			if x := perVar(m, "variable_sample_pearson_near", v); x < 0.9999 {
				t.Errorf("%s per-sample correlation within %s %.5f, want 1", m, v, x)
			}
		}
		if s, ts := perVar(m, "variable_share", "tsub"), perVar("truth", "variable_share", "tsub"); math.Abs(s-ts) > 1e-4 {
			t.Errorf("%s's share on tsub %.5f, the truth's %.5f", m, s, ts)
		}
		if d, td := num(m, "deletion_auc"), num("truth", "deletion_auc"); math.Abs(d-td) > 1e-3 {
			t.Errorf("%s deletion area %.4f, the truth's %.4f", m, d, td)
		}
	}
	// Input x gradient is w·x, not w·(x − x0): tsub's zero anomaly is -0.15.
	if v := num("ixg", "sample_pearson_near"); v > 0.999 {
		t.Errorf("ixg per-sample correlation %.5f with a non-zero zero anomaly of tsub", v)
	}
	del := readNCVar(t, out, "deletion")
	for r := range 6 {
		if d := del[r*7+6]; math.Abs(d) > 1e-4 {
			t.Errorf("row %d: deletion ends at %.5f, want 0 (every variable removed)", r, d)
		}
	}
	// (target, method, variable): saliency is method 2.
	if v := readNCVar(t, out, "variable_share"); len(v) != 6*2 || math.Abs(v[2*2+1]-perVar("saliency", "variable_share", "tsub")) > 1e-12 {
		t.Errorf("variable_share holds %v", v)
	}
	if v := readNCVar(t, out, "weight_share"); len(v) != 2 || math.Abs(v[1]-wTsub) > 1e-12 {
		t.Errorf("weight_share holds %v, want [.. %g]", v, wTsub)
	}
	nc, err := netcdf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := nc.Attr("input_variables"); err != nil || a.Text != "sst tsub" {
		t.Errorf("input_variables = %+v, %v", a, err)
	}
	nc.Close()
	checkFigure(t, fig, plots.KindFidelity)
	side, err := plots.ReadSpec(plots.SidecarPath(fig))
	if err != nil {
		t.Fatal(err)
	}
	if ff := side.Fidelity; strings.Join(ff.FurtherVars, " ") != "tsub" || len(ff.WeightShare) != 1 || math.Abs(float64(ff.WeightShare[0])-wTsub) > 1e-12 ||
		len(ff.Rows[2].FurtherShare) != 1 || math.Abs(float64(ff.Rows[2].FurtherShare[0])-perVar("saliency", "variable_share", "tsub")) > 1e-12 {
		t.Errorf("figure's shares: further %v, |w| %v, saliency %v", ff.FurtherVars, ff.WeightShare, ff.Rows[2].FurtherShare)
	}

	// Text and JSON file.
	if err := run("--truth", truth, "--methods", "saliency", "--samples", "2", "--random-samples", "0", "--out", jout); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, s := range []string{"per input variable", "share tsub", "agg r sst", "tsub 0."} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
		}
	}
	if b, err := os.ReadFile(jout); err != nil || !bytes.Contains(b, []byte(`"variable_share": {`)) || !bytes.Contains(b, []byte(`"weight_share": {`)) {
		t.Errorf("JSON file: %v\n%.300s", err, b)
	}

	// The SST-only truth lacks tsub; SST-only data lack it too.
	err = run("--truth", sstTruth, "--methods", "saliency", "--samples", "1")
	if !errors.Is(err, attribution.ErrTruthVariables) || !strings.Contains(err.Error(), "synth --subsurface --truth") || !strings.Contains(err.Error(), "sst, tsub") {
		t.Errorf("a truth from SST alone: %v", err)
	}
	res, err := synth.Generate(context.Background(), synth.Config{Years: 5, Grid: 2, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sstOnly := filepath.Join(dir, "sst.nc")
	if err := dataset.WriteSeries(sstOnly, res.SST, nil); err != nil {
		t.Fatal(err)
	}
	data = sstOnly
	err = run("--truth", truth, "--methods", "saliency", "--samples", "1")
	if !errors.Is(err, dataset.ErrNoVariable) || !strings.Contains(err.Error(), "tsub") || !strings.Contains(err.Error(), "synth --subsurface") {
		t.Errorf("data without tsub: %v", err)
	}
}

// TestFidelityMultiVarFixture runs fidelity on the emulator of sst and tsub (resources/emulators/
// multivar, a trained CNN) with the joint truth of a short companion run: every method's maps
// are scored over both variables, every row's deletion curve ends at climatology's forecast
// and insertion at the forecast (each variable's features removed and restored; the fixture's
// two zero anomalies are both about 0, so which zero each gets is TestFidelityTwoVarsEndToEnd's),
// the shares of both variables sum to 1, and the trained network's gradients put a share of
// their weight on tsub, which it was trained to use.
func TestFidelityMultiVarFixture(t *testing.T) {
	if _, err := inference.FindLibrary(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	syn, err := synth.Generate(context.Background(), synth.Config{Years: 12, Grid: 2, Seed: 7, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "sst_tsub.nc")
	if err := syn.WriteNetCDF(data, nil); err != nil {
		t.Fatal(err)
	}
	// The truth of one subpolar-gyre cell at lead 9, fitted on 60 years of an independent run
	// (noisy, but a truth of both variables on the card's grid is what is checked here).
	fit, err := synth.Generate(context.Background(), synth.Config{Years: 60, Grid: 2, Seed: 7, Stream: 1, AnomalyOnly: true, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	target, leads := []synth.LatLon{{Lat: 55, Lon: -35}}, []int{9}
	tr, err := synth.FitTruth(context.Background(), fit.Anomaly, target, leads, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Joint, err = synth.FitTruthJoint(context.Background(), []synth.Predictor{{Name: "sst", Anomaly: fit.Anomaly}, {Name: "tsub", Anomaly: fit.SubsurfaceAnomaly}},
		target, leads, 300, nil); err != nil {
		t.Fatal(err)
	}
	truth := filepath.Join(dir, "truth.nc")
	if err := tr.WriteNetCDF(truth, nil); err != nil {
		t.Fatal(err)
	}
	card, _, _ := goldenCard(t, dir, multivarDir, "lead09.onnx", "0001-01/0012-12")
	out := filepath.Join(dir, "fid.nc")
	var stdout, stderr bytes.Buffer
	if err := cmdFidelity(context.Background(), []string{"--card", card, "--data", data, "--truth", truth, "--methods", "saliency,ixg,ig,occlusion",
		"--samples", "2", "--curve-steps", "8", "--random-samples", "1", "--out", out, "--json", "--threads", "1"}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var sum struct {
		Targets []struct {
			Vars    []string           `json:"input_variables"`
			Weights map[string]float64 `json:"weight_share"`
			Methods []struct {
				Method  string             `json:"method"`
				R       *float64           `json:"sample_pearson_near"`
				Shares  map[string]float64 `json:"variable_share"`
				VarR    map[string]float64 `json:"variable_sample_pearson_near"`
				Random  *float64           `json:"randomization_spearman_abs"`
				Del     float64            `json:"deletion_auc"`
				Ins     float64            `json:"insertion_auc"`
				Seconds float64            `json:"seconds"`
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || len(sum.Targets) != 1 {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	ts := sum.Targets[0]
	if strings.Join(ts.Vars, " ") != "sst tsub" || len(ts.Methods) != 6 || math.Abs(ts.Weights["sst"]+ts.Weights["tsub"]-1) > 1e-9 {
		t.Fatalf("summary:\n%s", stdout.String())
	}
	t.Logf("share of |w| on tsub %.3f", ts.Weights["tsub"])
	for _, m := range ts.Methods {
		r := math.NaN()
		if m.R != nil {
			r = *m.R
		}
		rnd := math.NaN()
		if m.Random != nil {
			rnd = *m.Random
		}
		t.Logf("%-9s r %.3f (sst %.3f, tsub %.3f)  tsub share %.3f  deletion %.3f insertion %.3f  randomisation %.3f  %.1f s", m.Method, r, m.VarR["sst"], m.VarR["tsub"], m.Shares["tsub"], m.Del, m.Ins, rnd, m.Seconds)
		if math.Abs(m.Shares["sst"]+m.Shares["tsub"]-1) > 1e-9 {
			t.Errorf("%s: shares %v do not sum to 1", m.Method, m.Shares)
		}
		if m.Method == "truth" && (m.VarR["sst"] != 1 || m.VarR["tsub"] != 1) {
			t.Errorf("truth's per-variable correlations %v, want 1", m.VarR)
		}
		if (m.Method == "ixg" || m.Method == "ig" || m.Method == "saliency") && !(m.Shares["tsub"] > 0.05) {
			t.Errorf("%s puts %.3f of its weight on tsub; the network was trained to use it", m.Method, m.Shares["tsub"])
		}
		// Saliency and IG depend on the weights (Adebayo et al.'s check they pass: 0.23 and
		// 0.54 here); counting the features outside this CNN's 7 x 7-cell receptive field,
		// which are 0 whatever the weights, scored them 0.78 and 1.000.
		if (m.Method == "saliency" || m.Method == "ig") && (m.Random == nil || !(*m.Random < 0.7)) {
			t.Errorf("%s's randomisation Spearman %v: the maps' common zeros outside the receptive field count as agreement", m.Method, rnd)
		}
	}
	del, ins := readNCVar(t, out, "deletion"), readNCVar(t, out, "insertion")
	for r := range 6 {
		if d, i := del[r*9+8], ins[r*9+8]; math.Abs(d) > 1e-4 || math.Abs(i-1) > 1e-4 || math.Abs(del[r*9]-1) > 1e-4 {
			t.Errorf("%s: deletion %.5f..%.5f, insertion ends at %.5f; want 1..0 and 1 (every variable removed or restored)", ts.Methods[r].Method, del[r*9], d, i)
		}
	}
}
