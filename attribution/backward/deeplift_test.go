package backward

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"climxai/onnx"
)

// TestDeepLiftSummationToDelta checks DeepLIFT-Rescale on the tiny PyTorch DenseNet (Conv,
// BatchNorm, ReLU, Concat, nearest Resize): with a one-hot seed per sample,
// Σ (x - x_ref) ⊙ grad = y(x) - y(x_ref) at the seeded cell, for a zero and a random reference;
// and that the multipliers differ from the gradient (else the test would prove nothing).
func TestDeepLiftSummationToDelta(t *testing.T) {
	m, err := onnx.Load(filepath.Join("testdata", "densenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	sess, fwd := deepLiftSessions(t, m)
	x := readF32(t, "testdata", goldenArray{File: "densenet.x.f32", Shape: []int64{2, 4, 9, 13}})
	seed := readF32(t, "testdata", goldenArray{File: "densenet.seed.f32", Shape: []int64{2, 1, 9, 13}})
	gradWant := readF32(t, "testdata", goldenArray{File: "densenet.grad.f32", Shape: []int64{2, 4, 9, 13}})
	rng := rand.New(rand.NewPCG(14, 15))
	for _, ref := range []struct {
		name string
		x    tensor
	}{
		{"zero", tensor{shape: x.shape, data: make([]float32, len(x.data))}},
		{"random", inputFor(opCase{x: x.shape}, rng)},
	} {
		t.Run(ref.name, func(t *testing.T) {
			if mult := checkDeepLiftSums(t, sess, fwd, x, seed, ref.x); relErr(mult, gradWant.data) < 1e-2 {
				t.Errorf("DeepLIFT multipliers equal the gradient; the reference had no effect")
			}
		})
	}
}

// TestDeepLiftUnnamedNodes builds DeepLIFT on a model whose nodes have no names, which ONNX
// allows and some exporters write: the reference copies must still get unique names, or ONNX
// Runtime refuses the model ("two nodes with same node name").
func TestDeepLiftUnnamedNodes(t *testing.T) {
	m, err := onnx.Load(filepath.Join("testdata", "densenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range m.Graph.Node {
		n.Name = ""
	}
	sess, _ := deepLiftSessions(t, m)
	x := readF32(t, "testdata", goldenArray{File: "densenet.x.f32", Shape: []int64{2, 4, 9, 13}})
	seed := readF32(t, "testdata", goldenArray{File: "densenet.seed.f32", Shape: []int64{2, 1, 9, 13}})
	if _, err := sess.run(x, seed, tensor{shape: x.shape, data: make([]float32, len(x.data))}); err != nil {
		t.Fatalf("ONNX Runtime refused the backward model of an unnamed-node model: %v", err)
	}
}

// TestDeepLiftMaxPool checks summation-to-delta through MaxPool, overlapping (opset 16) and not,
// against random references, whose window winners differ from the input's: DeepLIFT's MaxPool rule
// adds up to y - y_ref for every output cell, where the MaxPool gradient does not.
func TestDeepLiftMaxPool(t *testing.T) {
	for _, c := range []struct {
		name  string
		opset int64
		attrs []*onnx.AttributeProto
	}{
		{"3x3_stride2_pad1_overlapping", 16, []*onnx.AttributeProto{ia("kernel_shape", 3, 3), ia("strides", 2, 2), ia("pads", 1, 1, 1, 1)}},
		{"2x2_stride2", 13, []*onnx.AttributeProto{ia("kernel_shape", 2, 2), ia("strides", 2, 2)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newTestGraph()
			h := g.op("Relu", []string{g.op("Conv", []string{"x", g.w([]int64{3, 2, 3, 3}, -1, 1), g.w([]int64{3}, -0.3, 0.3)}, "", ia("pads", 1, 1, 1, 1))}, "")
			p := g.op("MaxPool", []string{h}, "", c.attrs...)
			g.op("Conv", []string{p, g.w([]int64{2, 3, 1, 1}, -1, 1)}, "y")
			m := g.model(c.opset, []int64{Unknown, 2, 6, 8})
			fwd := newSession(t, m, []string{"x"}, []string{"y"})
			rng := rand.New(rand.NewPCG(16, 17))
			x, ref := inputFor(opCase{x: []int64{1, 2, 6, 8}}, rng), inputFor(opCase{x: []int64{1, 2, 6, 8}}, rng)
			y, err := fwd.run(x)
			if err != nil {
				t.Fatal(err)
			}
			yr, err := fwd.run(ref)
			if err != nil {
				t.Fatal(err)
			}
			worst := func(comp Composite) float64 {
				gr, err := NewGraph(m, "", "")
				if err != nil {
					t.Fatal(err)
				}
				bm, err := BuildGraph(gr, Options{Rules: comp, Reference: "x_ref"})
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				sess := newSession(t, bm, []string{"x", "seed", "x_ref"}, []string{"y", "grad"})
				var w float64
				for k := range y[0].data {
					seed := tensor{shape: y[0].shape, data: make([]float32, len(y[0].data))}
					seed.data[k] = 1
					out, err := sess.run(x, seed, ref)
					if err != nil {
						t.Fatal(err)
					}
					var sum float64
					for i := range x.data {
						sum += float64(x.data[i]-ref.data[i]) * float64(out[1].data[i])
					}
					delta := float64(y[0].data[k] - yr[0].data[k])
					w = max(w, math.Abs(sum-delta)/(math.Abs(delta)+1e-3))
				}
				return w
			}
			rule := worst(DeepLift())
			gradient := worst(func(n *Node) Rule {
				if n.Op == "Relu" {
					return Rescale()
				}
				return Gradient{}
			})
			t.Logf("max |Σ Δx m - Δy| / |Δy| over %d output cells: MaxPool rule %.2g, MaxPool gradient %.2g", len(y[0].data), rule, gradient)
			if rule > 1e-4 {
				t.Errorf("summation-to-delta off by %.3g with DeepLIFT's MaxPool rule", rule)
			}
			if gradient < 1e-2 {
				t.Errorf("the MaxPool gradient also sums to delta (%.3g): the references do not move the winners", gradient)
			}
		})
	}
}

// deepLiftSessions builds DeepLIFT-rescale on m (reference input "x_ref") and opens it and the
// forward model in ONNX Runtime.
func deepLiftSessions(t testing.TB, m *onnx.ModelProto) (sess, fwd *ortSession) {
	t.Helper()
	g, err := NewGraph(m, "", "")
	if err != nil {
		t.Fatal(err)
	}
	bm, err := BuildGraph(g, Options{Rules: DeepLift(), Reference: "x_ref"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return newSession(t, bm, []string{"x", "seed", "x_ref"}, []string{"y", "grad"}), newSession(t, m, []string{"x"}, []string{"y"})
}

// checkDeepLiftSums runs DeepLIFT on x (batch of 2) against ref and checks summation to delta
// per sample: Σ (x − x_ref)·multiplier = <seed, y(x) − y(x_ref)> within 1e-4 relative. It
// returns the multipliers.
func checkDeepLiftSums(t *testing.T, sess, fwd *ortSession, x, seed, ref tensor) []float32 {
	t.Helper()
	out, err := sess.run(x, seed, ref)
	if err != nil {
		t.Fatal(err)
	}
	yr, err := fwd.run(ref)
	if err != nil {
		t.Fatal(err)
	}
	per, cells := len(x.data)/2, len(seed.data)/2
	for k := 0; k < 2; k++ {
		var sum, delta float64
		for i := k * per; i < (k+1)*per; i++ {
			sum += float64(x.data[i]-ref.data[i]) * float64(out[1].data[i])
		}
		for i := k * cells; i < (k+1)*cells; i++ {
			delta += float64(seed.data[i]) * float64(out[0].data[i]-yr[0].data[i])
		}
		t.Logf("sample %d: Σ (x - x_ref) grad = %.7g, y - y_ref = %.7g", k, sum, delta)
		if math.Abs(sum-delta) > 1e-4*math.Abs(delta) {
			t.Errorf("sample %d: Σ (x - x_ref) grad = %.7g, y - y_ref = %.7g", k, sum, delta)
		}
	}
	return out[1].data
}
