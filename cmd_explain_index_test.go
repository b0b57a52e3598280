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
	"climxai/inference"
	"climxai/onnx"
)

// indexDir holds the index emulator: a small CNN (Conv-Tanh-MaxPool twice, Conv-Tanh, two dense
// layers) that forecasts the spg index, output [N, 1], exported by torch.onnx.export in
// tools/emulator/export_index.py, with PyTorch autograd goldens.
var indexDir = filepath.Join("resources", "emulators", "index")

// TestIndexEmulator runs the verbs on an index emulator (card key index = "spg"), on the 12
// years of synthetic SST its goldens were computed from: the inputs and the index equal
// PyTorch's, saliency of the index equals autograd, any target inside the region explains the
// index and one outside is refused, IG and DeepLIFT are complete, predict writes the index over
// the region only, skill scores the index, aggregate runs and decaymap says why it cannot.
func TestIndexEmulator(t *testing.T) {
	checkSHA256Sums(t, indexDir)
	var gold struct {
		Input, Output, Grad struct {
			File  string
			Shape []int
		}
		Inits         []string
		Lead          int
		Index         string
		AnomalyPeriod string `json:"anomaly_period"`
	}
	b, err := os.ReadFile(filepath.Join(indexDir, "golden06.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &gold); err != nil {
		t.Fatal(err)
	}
	const months, nlat, nlon = 36, 35, 63
	cells, sample := nlat*nlon, months*nlat*nlon
	gx := readGoldenF32(t, indexDir, gold.Input.File, 2*sample)
	gy := readGoldenF32(t, indexDir, gold.Output.File, 2)
	gg := readGoldenF32(t, indexDir, gold.Grad.File, 2*sample)

	// The goldens' data, and the card with its anomalies over the whole of them (golden06.json,
	// "anomaly"): the training years' anomaly_period lies beyond a 12-year file.
	dir := t.TempDir()
	data := goldenData(t, dir)
	model, _ := filepath.Abs(filepath.Join(indexDir, "lead06.onnx"))
	card, edited, c := goldenCard(t, dir, indexDir, "lead06.onnx", gold.AnomalyPeriod)
	if c.Index != "spg" || gold.Index != "spg" || c.Preprocess.AnomalyPeriod != gold.AnomalyPeriod {
		t.Fatalf("card index %q, golden index %q, anomaly period %q", c.Index, gold.Index, c.Preprocess.AnomalyPeriod)
	}
	s, err := dataset.Open(data, dataset.OpenOptions{Var: c.Variable, MinMonths: c.InputMonths})
	if err != nil {
		t.Fatal(err)
	}
	p, err := dataset.Prepare(s, c.Grid, c.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	fwd, xs := cardForward(t, c, p, gold.Lead, gold.Inits)
	cm, _ := c.Model(gold.Lead)
	region := c.Spec(cm).Region
	for k, init := range gold.Inits {
		if d := maxRelDiff(xs[k], gx[k*sample:(k+1)*sample]); d > 1e-5 {
			t.Fatalf("init %s: the card's input differs from the golden input by %.3g relative", init, d)
		}
		y, err := fwd.Run(context.Background(), xs[k], 1)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range y {
			if want := float32(0); region[i] {
				want = gy[k]
				if math.Abs(float64(v-want)) > 1e-5*(1+math.Abs(float64(want))) {
					t.Fatalf("init %s, cell %d: ONNX Runtime's index %g, PyTorch's %g", init, i, v, want)
				}
			} else if v != 0 {
				t.Fatalf("init %s: cell %d outside the region is %g, not 0", init, i, v)
			}
		}
	}

	explain := func(t *testing.T, k int, target, method string, args ...string) ([]float32, explainSummary, error) {
		t.Helper()
		out := filepath.Join(dir, method+".nc")
		sum, a, err := runExplain(t, append([]string{"--card", card, "--data", data, "--init", gold.Inits[k], "--lead", "6",
			"--target", target, "--method", method, "--out", out, "--json", "--threads", "1"}, args...), out)
		if err != nil {
			return nil, explainSummary{}, err
		}
		for i, v := range a.Values {
			if p.Ocean[i%cells] != (v == v) || math.IsInf(float64(v), 0) {
				t.Fatalf("%s: value %g at %d (ocean %v)", method, v, i, p.Ocean[i%cells])
			}
		}
		return a.Values, sum, nil
	}
	mustExplain := func(t *testing.T, k int, target, method string, args ...string) ([]float32, explainSummary) {
		t.Helper()
		v, sum, err := explain(t, k, target, method, args...)
		if err != nil {
			t.Fatalf("explain %s at %s: %v", method, target, err)
		}
		return v, sum
	}
	ocean := func(v []float32) []float32 {
		out := append([]float32(nil), v...)
		for i := range out {
			if !p.Ocean[i%cells] {
				out[i] = float32(math.NaN())
			}
		}
		return out
	}
	// Oldest-first maps are stored by lag: lag l is channel months-1-l.
	byLag := func(v []float32) []float32 {
		out := make([]float32, len(v))
		for l := range months {
			copy(out[l*cells:(l+1)*cells], v[(months-1-l)*cells:(months-l)*cells])
		}
		return out
	}
	check := func(t *testing.T, what string, got, tol float64) {
		t.Helper()
		t.Logf("%s: %.3g (tolerance %.3g)", what, got, tol)
		if !(got <= tol) {
			t.Errorf("%s = %.3g > %.3g", what, got, tol)
		}
	}

	t.Run("saliency", func(t *testing.T) {
		for k := range 2 {
			sal, sum := mustExplain(t, k, "spg", "saliency")
			if math.Abs(sum.Output-float64(gy[k])) > 1e-5*(1+math.Abs(float64(gy[k]))) {
				t.Errorf("init %s: f(x) = %.7g, the golden index %.7g", gold.Inits[k], sum.Output, gy[k])
			}
			check(t, "init "+gold.Inits[k]+": max |saliency - autograd| / max |autograd|",
				maxRelDiff(sal, ocean(byLag(gg[k*sample:(k+1)*sample]))), 1e-4)
			if k == 0 {
				// A cell or a box inside the region forecasts the same index.
				cell, _ := mustExplain(t, k, "55,-30", "saliency")
				check(t, "max |saliency at a cell in the region - at the region| / max", maxRelDiff(cell, sal), 1e-6)
			}
		}
	})
	t.Run("outside the region", func(t *testing.T) {
		_, _, err := explain(t, 0, "39,-38", "saliency")
		if !errors.Is(err, attribution.ErrNotForecast) || !strings.Contains(err.Error(), "--target spg") {
			t.Errorf("a target outside the index region: %v", err)
		}
		_, _, err = explain(t, 0, "box:40,60,-40,-20", "ig")
		if !errors.Is(err, attribution.ErrNotForecast) {
			t.Errorf("a box reaching outside the index region: %v", err)
		}
	})
	t.Run("completeness", func(t *testing.T) {
		// A smooth network (tanh): the integrand of IG is smooth, so 64 steps are plenty.
		for _, q := range []string{"adaptive", "gausslegendre"} {
			_, sum := mustExplain(t, 1, "spg", "ig", "--steps", "64", "--quadrature", q)
			check(t, q+": |Σ IG - (f(x) - f(b))| / |f(x) - f(b)|", sum.Completeness.Relative, 0.01)
		}
		_, sum := mustExplain(t, 1, "spg", "deeplift")
		check(t, "|Σ DeepLIFT - (f(x) - f(ref))| / |f(x) - f(ref)|", sum.Completeness.Relative, 1e-3)
		for _, m := range []string{"lrp-epsilon", "lrp-epsilon-plus", "occlusion"} {
			_, sum := mustExplain(t, 1, "spg", m)
			t.Logf("%s: f(x) = %.5g", m, sum.Output)
		}
	})
	t.Run("predict", func(t *testing.T) {
		out := filepath.Join(dir, "pred.nc")
		var stdout, stderr bytes.Buffer
		if err := cmdPredict(context.Background(), []string{"--card", card, "--data", data, "--init", gold.Inits[0], "--out", out}, &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "spg index") {
			t.Errorf("predict's summary does not name the index:\n%s", stdout.String())
		}
		s, err := dataset.Open(out, dataset.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		init, _ := dataset.ParseMonth(gold.Inits[0])
		tgt := s.Index(init + 6)
		want := float64(gy[0])*c.Preprocess.ScaleStd + c.Preprocess.ScaleMean
		for k, v := range s.Values[tgt*cells : (tgt+1)*cells] {
			if in := region[k] && p.Ocean[k]; in != (v == v) || in && math.Abs(float64(v)-want) > 1e-5 {
				t.Fatalf("cell %d (region %v, ocean %v): %g, want the index %g on the region's ocean cells and NaN elsewhere", k, region[k], p.Ocean[k], v, want)
			}
		}
	})
	t.Run("skill and aggregate", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if err := cmdSkill(context.Background(), []string{"--card", card, "--data", data, "--split", "all", "--out", filepath.Join(dir, "skill.nc")}, &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "of the spg index") {
			t.Errorf("skill does not say it scores the index:\n%s", stdout.String())
		}
		if f, err := netcdf.Open(filepath.Join(dir, "skill.nc")); err != nil {
			t.Error(err)
		} else {
			a, err := f.Attr("index")
			f.Close()
			if err != nil || a.Text != "spg" {
				t.Errorf("the skill file does not name the index: %q, %v", a.Text, err)
			}
		}
		// One skill, the index's, over the region's ocean cells; NaN elsewhere.
		acc := readNCVar(t, filepath.Join(dir, "skill.nc"), "acc")
		var one float64
		for k, v := range acc {
			if in := region[k] && p.Ocean[k]; in != (v == v) || in && one != 0 && v != one {
				t.Fatalf("skill map at cell %d (region %v, ocean %v): %g, want one value over the region", k, region[k], p.Ocean[k], v)
			} else if in {
				one = v
			}
		}
		t.Logf("index correlation over the 12 years: %.3f", one)
		stdout.Reset()
		if err := cmdAggregate(context.Background(), []string{"--card", card, "--data", data, "--lead", "6", "--target", "spg", "--method", "saliency",
			"--samples", "4", "--out", filepath.Join(dir, "agg.nc"), "--threads", "1"}, &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		err := cmdDecaymap(context.Background(), []string{"--card", card, "--data", data, "--lead", "6", "--method", "saliency",
			"--stride", "8", "--samples", "all:2", "--out", filepath.Join(dir, "dm.nc")}, &stdout, &stderr)
		if !errors.Is(err, attribution.ErrNotForecast) || !strings.Contains(err.Error(), "aggregate with --target spg") {
			t.Errorf("decaymap on an index emulator: %v", err)
		}
		err = cmdFidelity(context.Background(), []string{"--card", card, "--data", data, "--truth", filepath.Join(dir, "truth.nc"), "--lead", "6",
			"--out", filepath.Join(dir, "fid.json")}, &stdout, &stderr)
		if !errors.Is(err, attribution.ErrNotForecast) || !strings.Contains(err.Error(), "spg index") {
			t.Errorf("fidelity on an index emulator: %v", err)
		}
	})
	t.Run("several entries", func(t *testing.T) {
		// One file whose output holds three entries, (index, 2 index, -index), for leads 6, 7 and
		// 8 of one card: each lead explains its own entry, also when one workspace (one runtime,
		// one cache of backward graphs) explains them side by side.
		m, err := onnx.Load(model)
		if err != nil {
			t.Fatal(err)
		}
		g := m.Graph
		for _, n := range g.Node {
			for i, o := range n.Output {
				if o == "index" {
					n.Output[i] = "index1"
				}
			}
		}
		g.Initializer = append(g.Initializer, onnx.FloatTensor("two", nil, []float32{2}))
		g.Node = append(g.Node,
			&onnx.NodeProto{OpType: "Mul", Input: []string{"index1", "two"}, Output: []string{"index2"}},
			&onnx.NodeProto{OpType: "Neg", Input: []string{"index1"}, Output: []string{"index3"}},
			&onnx.NodeProto{OpType: "Concat", Input: []string{"index1", "index2", "index3"}, Output: []string{"index"},
				Attribute: []*onnx.AttributeProto{{Name: "axis", Type: onnx.AttributeProto_INT, I: 1}}})
		g.Output[0].Type.GetTensorType().Shape.Dim[1].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 3}
		three := filepath.Join(dir, "three.onnx")
		if err := onnx.Save(three, m); err != nil {
			t.Fatal(err)
		}
		text := strings.Split(edited, "[[model]]")[0]
		for k, lead := range []int{6, 7, 8} {
			text += fmt.Sprintf("[[model]]\nlead = %d\nfile = %q\noutput = \"index\"\noutput_entry = %d\n", lead, three, k)
		}
		card3 := filepath.Join(dir, "three.toml")
		if err := os.WriteFile(card3, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := app.Open(card3, []string{data}, inference.Options{Device: inference.CPU, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		init, _ := dataset.ParseMonth(gold.Inits[0])
		if err := w.SetInit(init); err != nil {
			t.Fatal(err)
		}
		exs, err := w.ExplainLeads(context.Background(), w.Selection(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := ocean(byLag(gg[:sample]))
		for k, ex := range exs {
			f := []float32{1, 2, -1}[k]
			scaled := make([]float32, len(want))
			for i, v := range want {
				scaled[i] = f * v
			}
			check(t, fmt.Sprintf("lead %d (entry %d, %g x the index): max |saliency - %g x autograd| / max", ex.Selection.Lead, k, f, f),
				maxRelDiff(ex.Result.Values, scaled), 1e-4)
		}
	})
	t.Run("workspace", func(t *testing.T) {
		w, err := app.Open(card, []string{data}, inference.Options{Device: inference.CPU, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if tg := w.Selection().Target; tg.Name != "spg" {
			t.Errorf("the first target of an index emulator is %s, want its region", tg)
		}
		var se *app.SelectionError
		if _, err := w.SetTarget("39,-38"); !errors.As(err, &se) || !strings.Contains(err.Error(), "spg index only") {
			t.Errorf("selecting a cell outside the region: %v", err)
		}
		if _, err := w.SetTarget("55,-30"); err != nil {
			t.Errorf("selecting a cell inside the region: %v", err)
		}
	})
}
