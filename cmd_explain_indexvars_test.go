package main

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"climxai/attribution"
	"climxai/dataset"
	"climxai/dataset/synth"
	"climxai/inference"
	"climxai/onnx"
)

// TestIndexEmulatorSeveralInputs: an index emulator (index = "spg", output [N, 1]) that reads
// sst and tsub, month-major and newest first, is the linear model y = Σ w·x, so its saliency is
// w and IG from the zero anomaly is w·x exactly: explain gives both variables' maps in lag
// order, whatever target inside the region is asked for, and IG is complete.
func TestIndexEmulatorSeveralInputs(t *testing.T) {
	dir := t.TempDir()
	res, err := synth.Generate(context.Background(), synth.Config{Years: 5, Grid: 2, Seed: 3, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "sst_tsub.nc")
	if err := res.WriteNetCDF(data, nil); err != nil {
		t.Fatal(err)
	}
	const vars, months, nlat, nlon = 2, 36, 35, 63
	n := nlat * nlon
	// w: [variable][lag][lat][lon] in model units, lag 0 the init month.
	rng := rand.New(rand.NewPCG(5, 7))
	w := make([]float32, vars*months*n)
	for i := range w {
		w[i] = float32(rng.NormFloat64()) * 1e-3
	}
	grid := dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: nlat, LonStart: -100, LonStep: 2, NLon: nlon}
	tg, err := attribution.ParseTarget("spg", grid, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := attribution.LinearEmulatorModelVars(w, tg, vars, months, nlat, nlon, true, inference.MonthMajor)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the flattening and the one MatMul: output [N, 1], the index.
	g := m.Graph
	g.Node = g.Node[:2]
	g.Node[1].Output = []string{"y"}
	g.Initializer = g.Initializer[:2]
	g.Output[0].Type.GetTensorType().Shape.Dim = g.Output[0].Type.GetTensorType().Shape.Dim[:2]
	if err := onnx.Save(filepath.Join(dir, "index2.onnx"), m); err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(dir, "card.toml")
	if err := os.WriteFile(card, []byte(`name = "linear spg index from sst and tsub"
variable = "sst"
input_months = 36
channel_order = "newest-first"
input_layout = "month-major"
index = "spg"
`+grid2deg+`[preprocess]
anomaly = "monthly-climatology"
filter = "none"
scale_std = 0.5
[[input]]
variable = "tsub"
scale_std = 2.0
[[model]]
lead = 3
file = "index2.onnx"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := inference.LoadCard(card)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Prepare(data)
	if err != nil {
		t.Fatal(err)
	}
	const init = "0004-06"
	mon, _ := dataset.ParseMonth(init)
	x := make([]float32, vars*months*n) // the model's input, channel order
	if err := c.Window(p, mon, x); err != nil {
		t.Fatal(err)
	}
	input := func(v, lag, i int) float32 { return x[c.Channel(v, lag)*n+i] } // newest first: position = lag

	for _, target := range []string{"spg", "55,-35"} {
		for _, method := range []string{"saliency", "ig"} {
			out := filepath.Join(dir, method+".nc")
			args := []string{"--card", card, "--data", data, "--init", init, "--target", target, "--method", method,
				"--out", out, "--json", "--threads", "1"}
			if method == "ig" {
				args = append(args, "--steps", "8")
			}
			sum, af, err := runExplain(t, args, out)
			if err != nil {
				t.Fatal(err)
			}
			var tsub []float32
			for _, e := range af.Extra {
				if e.Name == "attribution_tsub" {
					tsub = e.Values
				}
			}
			if tsub == nil || len(af.Values) != months*n {
				t.Fatalf("%s %s: no attribution_tsub or %d values", target, method, len(af.Values))
			}
			var worst float64
			for v, got := range [][]float32{af.Values, tsub} {
				for lag := range months {
					for i := range n {
						a := got[lag*n+i]
						if !p.Ocean[i] {
							if a == a {
								t.Fatalf("%s %s: variable %d lag %d cell %d on land is %g, want NaN", target, method, v, lag, i, a)
							}
							continue
						}
						want := float64(w[(v*months+lag)*n+i])
						if method == "ig" {
							want *= float64(input(v, lag, i))
						}
						worst = max(worst, math.Abs(float64(a)-want))
					}
				}
			}
			if worst > 1e-6 {
				t.Errorf("%s %s: largest difference from the linear model's answer %.3g", target, method, worst)
			}
			if method == "ig" && (sum.Completeness == nil || math.Abs(sum.Completeness.Relative) > 1e-4) {
				t.Errorf("%s: IG of a linear index is complete, got %+v", target, sum.Completeness)
			}
			t.Logf("%s %s: largest difference %.2g, index %.4f", target, method, worst, sum.Output)
		}
	}
}
