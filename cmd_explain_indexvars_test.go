package main

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	w := linearIndexModel(t, filepath.Join(dir, "index2.onnx"), 2)
	card := filepath.Join(dir, "card.toml")
	if err := os.WriteFile(card, []byte(`name = "linear spg index from sst and tsub"
`+linearIndexCard+`[[input]]
variable = "tsub"
scale_std = 2.0
[[model]]
lead = 3
file = "index2.onnx"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	checkLinearIndex(t, card, []string{data}, w, "sst", "tsub")
}

// checkLinearIndex explains the linear index emulator of card (weights w: [variable][lag][lat]
// [lon] in model units, lag 0 the init month, for the inputs names; the card newest first) from
// data with saliency and IG at two targets in its region and checks each input's map against w
// and w·x.
func checkLinearIndex(t *testing.T, card string, data []string, w []float32, names ...string) {
	t.Helper()
	const months = 36
	dir := t.TempDir()
	c, err := inference.LoadCard(card)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Prepare(data...)
	if err != nil {
		t.Fatal(err)
	}
	const init = "0004-06"
	mon, _ := dataset.ParseMonth(init)
	n := c.Grid.NLat * c.Grid.NLon
	x := make([]float32, len(names)*months*n) // the model's input, channel order
	if err := c.Window(p, mon, x); err != nil {
		t.Fatal(err)
	}
	input := func(v, lag, i int) float32 { return x[c.Channel(v, lag)*n+i] } // newest first: position = lag

	for _, target := range []string{"spg", "55,-35"} {
		for _, method := range []string{"saliency", "ig"} {
			out := filepath.Join(dir, method+".nc")
			args := []string{"--card", card, "--init", init, "--target", target, "--method", method, "--out", out, "--json", "--threads", "1"}
			for _, d := range data {
				args = append(args, "--data", d)
			}
			if method == "ig" {
				args = append(args, "--steps", "8")
			}
			sum, af, err := runExplain(t, args, out)
			if err != nil {
				t.Fatal(err)
			}
			if got := af.InputVariables(); !slices.Equal(got, names) {
				t.Fatalf("%s %s: input_variables %q, want %q", target, method, got, names)
			}
			maps := [][]float32{af.Values}
			for _, name := range names[1:] {
				for _, e := range af.Extra {
					if e.Name == "attribution_"+name {
						maps = append(maps, e.Values)
					}
				}
			}
			if len(maps) != len(names) || len(af.Values) != months*n {
				t.Fatalf("%s %s: %d of the maps of %q, %d values", target, method, len(maps), names, len(af.Values))
			}
			var worst float64
			for v, got := range maps {
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

// linearIndexCard is the card of linearIndexModel's emulators after its name, up to the
// [[input]] tables: sst on the 2° grid, month-major and newest first, the spg index.
const linearIndexCard = `variable = "sst"
input_months = 36
channel_order = "newest-first"
input_layout = "month-major"
index = "spg"
` + grid2deg + `[preprocess]
anomaly = "monthly-climatology"
filter = "none"
scale_std = 0.5
`

// linearIndexModel writes to path the linear spg index of vars input variables on the 2° North
// Atlantic grid, month-major and newest first (y = Σ w·x, output [N, 1]), and returns its
// random weights w: [variable][lag][lat][lon] in model units, lag 0 the init month.
func linearIndexModel(t *testing.T, path string, vars int) []float32 {
	t.Helper()
	const months, nlat, nlon = 36, 35, 63
	rng := rand.New(rand.NewPCG(5, 7))
	w := make([]float32, vars*months*nlat*nlon)
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
	if err := onnx.Save(path, m); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestIndexEmulatorNamedInputs: one data variable read twice, ocean temperature at 100 m and
// averaged over 0-300 m, as two inputs named t100 and t0_300 beside sst: each input's maps are
// its own block of the linear index's weights (saliency) and weights times input (IG), the
// result names them, and a card that reads a variable twice without names is told to name them
// (one unnamed reading is the variable's name).
func TestIndexEmulatorNamedInputs(t *testing.T) {
	dir := t.TempDir()
	res, err := synth.Generate(context.Background(), synth.Config{Years: 5, Grid: 2, Seed: 3, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sst, thetao := filepath.Join(dir, "sst.nc"), filepath.Join(dir, "thetao.nc")
	if err := dataset.WriteSeries(sst, res.SST, nil); err != nil {
		t.Fatal(err)
	}
	// Levels at 5, 100 and 300 m hold tsub + 0, tsub and tsub + 20: the 100 m level is tsub and
	// the 0-300 m mean tsub + 20/3, whose anomalies are tsub's (the inputs differ in scaling).
	writeLevels(t, thetao, res.Subsurface, []float64{5, 100, 300}, 1)
	w := linearIndexModel(t, filepath.Join(dir, "index3.onnx"), 3)
	text := `name = "linear spg index from sst and two readings of thetao"
` + linearIndexCard + `[[input]]
name = "t100"
variable = "thetao"
level = 100
scale_std = 2.0
[[input]]
name = "t0_300"
variable = "thetao"
layer = [0, 300]
scale_std = 4.0
[[model]]
lead = 3
file = "index3.onnx"
`
	card := filepath.Join(dir, "card.toml")
	if err := os.WriteFile(card, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	checkLinearIndex(t, card, []string{sst, thetao}, w, "sst", "t100", "t0_300")

	unnamed := strings.Replace(strings.Replace(text, "name = \"t0_300\"\n", "", 1), "name = \"t100\"\n", "", 1)
	if err := os.WriteFile(card, []byte(unnamed), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inference.LoadCard(card); !errors.Is(err, inference.ErrBadCard) || !strings.Contains(err.Error(), `give this input a name of its own`) {
		t.Errorf("thetao read twice without a name: %v", err)
	}
}
