package backward

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSplitInputConvs: the stem-like convolution (36 input channels read from x, 32 outputs,
// 3 x 3) is split, the inner one (64 channels, a multiple of 16) is not, and the split model and
// the backward model whose forward part it makes give the same outputs and gradients as the
// model itself.
func TestSplitInputConvs(t *testing.T) {
	g := newTestGraph()
	c := g.op("Conv", []string{"x", g.w([]int64{32, 36, 3, 3}, -1, 1), g.w([]int64{32}, -1, 1)}, "", ia("pads", 1, 1, 1, 1), ia("strides", 2, 2))
	r := g.op("Relu", []string{c}, "")
	g.op("Conv", []string{r, g.w([]int64{1, 32, 3, 3}, -1, 1)}, "y", ia("pads", 1, 1, 1, 1))
	m := g.model(13, []int64{Unknown, 36, 9, 10})
	sm, n, err := SplitInputConvs(m)
	if err != nil || n != 1 {
		t.Fatalf("split %d convolutions (%v), want 1", n, err)
	}
	if _, n, _ := SplitInputConvs(g.model(9, []int64{Unknown, 36, 9, 10})); n != 0 {
		t.Errorf("opset 9 (Slice without inputs): %d splits", n)
	}

	rng := rand.New(rand.NewPCG(5, 6))
	x := tensor{shape: []int64{2, 36, 9, 10}, data: make([]float32, 2*36*9*10)}
	for i := range x.data {
		x.data[i] = float32(rng.NormFloat64())
	}
	want, err := newSession(t, m, []string{"x"}, []string{"y"}).run(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newSession(t, sm, []string{"x"}, []string{"y"}).run(x)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(got[0].data, want[0].data); d > 1e-4 {
		t.Errorf("split model's output differs by %g", d)
	}

	seed := tensor{shape: want[0].shape, data: make([]float32, len(want[0].data))}
	for i := range seed.data {
		seed.data[i] = float32(rng.NormFloat64())
	}
	grads := make([][]float32, 2)
	for i, fwd := range []bool{false, true} {
		opt := Options{}
		if fwd {
			opt.Forward = sm
		}
		bm, err := Build(m, opt)
		if err != nil {
			t.Fatal(err)
		}
		out, err := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"}).run(x, seed)
		if err != nil {
			t.Fatal(err)
		}
		grads[i] = out[1].data
	}
	if d := maxAbsDiff(grads[1], grads[0]); d > 1e-4 {
		t.Errorf("gradient with the split forward part differs by %g", d)
	}
}

func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
