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
	"climxai/dataset/synth"
	"climxai/inference"
	"climxai/onnx"
	"climxai/plots"
)

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
[grid]
lat_start = 5.0
lat_step = 2.0
nlat = 35
lon_start = -100.0
lon_step = 2.0
nlon = 63
[preprocess]
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
