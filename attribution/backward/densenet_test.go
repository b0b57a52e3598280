package backward

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"climxai/onnx"
)

// goldenTol is the tolerance of the PyTorch comparison: max |grad - golden| over max |golden|
// (relative to the gradient map's scale, since single elements may be near zero).
const goldenTol = 1e-4

type goldenArray struct {
	File  string  `json:"file"`
	Shape []int64 `json:"shape"`
}

type goldenMeta struct {
	Model string      `json:"model"`
	X     goldenArray `json:"x"`
	Seed  goldenArray `json:"seed"`
	Y     goldenArray `json:"y"`
	Grad  goldenArray `json:"grad"`
}

func readF32(t *testing.T, dir string, a goldenArray) tensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, a.File))
	if err != nil {
		t.Fatal(err)
	}
	n := 1
	for _, d := range a.Shape {
		n *= int(d)
	}
	if len(b) != 4*n {
		t.Fatalf("%s has %d bytes, want %d for shape %v", a.File, len(b), 4*n, a.Shape)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return tensor{shape: a.Shape, data: v}
}

// relErr returns max |got - want| / max |want|.
func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		num = math.Max(num, math.Abs(float64(got[i])-float64(want[i])))
		den = math.Max(den, math.Abs(float64(want[i])))
	}
	return num / den
}

// TestDenseNetMatchesPyTorchAutograd builds the backward graph of a tiny random-weight DenseNet
// of the reference architecture, exported by PyTorch (testdata/make_densenet.py), and compares
// its input gradient for one-hot seeds with torch.autograd's.
func TestDenseNetMatchesPyTorchAutograd(t *testing.T) {
	dir := "testdata"
	b, err := os.ReadFile(filepath.Join(dir, "densenet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta goldenMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(filepath.Join(dir, meta.Model))
	if err != nil {
		t.Fatal(err)
	}
	bm, err := Build(m, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	x, seed := readF32(t, dir, meta.X), readF32(t, dir, meta.Seed)
	wantY, wantGrad := readF32(t, dir, meta.Y), readF32(t, dir, meta.Grad)
	s := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"})
	out, err := s.run(x, seed)
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(out[0].data, wantY.data); e > goldenTol {
		t.Errorf("y differs from PyTorch's by %.3g relative", e)
	}
	if fmt.Sprint(out[1].shape) != fmt.Sprint(wantGrad.shape) {
		t.Fatalf("grad shape %v, want %v", out[1].shape, wantGrad.shape)
	}
	e := relErr(out[1].data, wantGrad.data)
	t.Logf("grad vs torch.autograd: max abs error / max |grad| = %.3g", e)
	if e > goldenTol {
		t.Errorf("grad differs from torch.autograd's by %.3g relative (tolerance %g)", e, goldenTol)
	}
	// Each sample's seed is one-hot, so its gradient must be its own (no batch mixing).
	per := len(x.data) / int(x.shape[0])
	for k := 0; k < int(x.shape[0]); k++ {
		if e := relErr(out[1].data[k*per:(k+1)*per], wantGrad.data[k*per:(k+1)*per]); e > goldenTol {
			t.Errorf("sample %d: grad differs by %.3g relative", k, e)
		}
	}
}

// TestReferenceEmulatorMatchesPyTorchAutograd compares the input gradient of the full-width
// reference emulator (inference/testdata/random2deg.onnx, 0.66 M weights, 35 x 63 grid) for a
// one-hot seed with torch.autograd's at 2000 spot-checked elements (the 1000 largest and 1000
// random) and in every channel's sum, to goldenTol relative to the map's largest magnitude.
func TestReferenceEmulatorMatchesPyTorchAutograd(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "random2deg_grad.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Model      string    `json:"model"`
		Input      string    `json:"input"`
		InputShape []int64   `json:"input_shape"`
		Sample     int       `json:"sample"`
		SeedCell   [2]int    `json:"seed_cell"`
		Index      []int     `json:"index"`
		Grad       []float64 `json:"grad"`
		ChannelSum []float64 `json:"channel_sum"`
		MaxAbs     float64   `json:"max_abs"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(filepath.Join("testdata", want.Model))
	if err != nil {
		t.Fatal(err)
	}
	bm, err := Build(m, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	all := readF32(t, "testdata", goldenArray{File: want.Input, Shape: want.InputShape})
	c, h, w := want.InputShape[1], want.InputShape[2], want.InputShape[3]
	per := int(c * h * w)
	x := tensor{shape: []int64{1, c, h, w}, data: all.data[want.Sample*per : (want.Sample+1)*per]}
	seed := tensor{shape: []int64{1, 1, h, w}, data: make([]float32, h*w)}
	seed.data[want.SeedCell[0]*int(w)+want.SeedCell[1]] = 1
	out, err := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"}).run(x, seed)
	if err != nil {
		t.Fatal(err)
	}
	check := func(form string, g []float32) {
		var worst float64
		for k, i := range want.Index {
			worst = math.Max(worst, math.Abs(float64(g[i])-want.Grad[k]))
		}
		t.Logf("%s: spot checks: max abs error / max |grad| = %.3g", form, worst/want.MaxAbs)
		if worst > goldenTol*want.MaxAbs {
			t.Errorf("%s: grad differs from torch.autograd's by %.3g relative at the spot checks", form, worst/want.MaxAbs)
		}
		plane := int(h * w)
		for ch, ws := range want.ChannelSum {
			var s float64
			for _, v := range g[ch*plane : (ch+1)*plane] {
				s += float64(v)
			}
			if math.Abs(s-ws) > goldenTol*want.MaxAbs*math.Sqrt(float64(plane)) {
				t.Errorf("%s: channel %d: sum of grad %.6g, torch %.6g", form, ch, s, ws)
			}
		}
	}
	check("whole graph", out[1].data)

	// The same with the local tail (the last two convolutions) on a window around the cell.
	cr, ok, err := SplitCrop(m, "", "")
	if err != nil || !ok {
		t.Fatalf("SplitCrop: ok %v, %v", ok, err)
	}
	r, col := int64(want.SeedCell[0]), int64(want.SeedCell[1])
	_, size := cr.Window(r, r, col, col)
	start := [2]int64{r, col}
	wm := windowedModel(t, cr, size)
	win := tensor{shape: []int64{1, int64(cr.WindowWidth())}}
	for _, v := range cr.Starts(start[0], start[1], size) {
		win.data = append(win.data, float32(v))
	}
	wout, err := newSession(t, wm, []string{"x", "seed", "win"}, []string{"y", "grad"}).run(x, seed, win)
	if err != nil {
		t.Fatal(err)
	}
	if cr.WindowWidth() != 4 {
		t.Errorf("the DenseNet's windows stop at the last Resize; want them through the last dense block")
	}
	check(fmt.Sprintf("tail on %dx%d cells, the last dense block on %v", size[0], size[1], cr.LowSize(size)), wout[1].data)
}
