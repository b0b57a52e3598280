package backward

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"climxai/onnx"
)

// lrpTol bounds max |R_engine - R_literal| / max |R_literal|: the engine runs in float32 in ONNX
// Runtime, the literal reference in float64.
const lrpTol = 1e-4

// denseLayer is a linear layer as a dense matrix, y = A a + b (A is out x in, row-major).
type denseLayer struct {
	a     [][]float64
	b     []float64
	first bool
}

// literalConv writes a Conv (no groups) as a dense matrix, literally from ONNX's definition
// y[m,oh,ow] = b[m] + Σ_{c,kh,kw} W[m,c,kh,kw] x[c, oh·s - p + kh·d, ow·s - p + kw·d].
func literalConv(w []float32, wd []int64, bias []float32, c, h, wi, stride, pad int64) (denseLayer, int64, int64) {
	m, kh, kw := wd[0], wd[2], wd[3]
	oh := (h+2*pad-kh)/stride + 1
	ow := (wi+2*pad-kw)/stride + 1
	l := denseLayer{a: make([][]float64, m*oh*ow), b: make([]float64, m*oh*ow)}
	for o := range l.a {
		l.a[o] = make([]float64, c*h*wi)
	}
	for mm := int64(0); mm < m; mm++ {
		for y := int64(0); y < oh; y++ {
			for x := int64(0); x < ow; x++ {
				row := (mm*oh+y)*ow + x
				if bias != nil {
					l.b[row] = float64(bias[mm])
				}
				for cc := int64(0); cc < c; cc++ {
					for i := int64(0); i < kh; i++ {
						for j := int64(0); j < kw; j++ {
							iy, ix := y*stride-pad+i, x*stride-pad+j
							if iy < 0 || iy >= h || ix < 0 || ix >= wi {
								continue
							}
							l.a[row][(cc*h+iy)*wi+ix] += float64(w[((mm*c+cc)*kh+i)*kw+j])
						}
					}
				}
			}
		}
	}
	return l, oh, ow
}

// literalRule is an LRP rule written out literally from Montavon et al. (2019): the relevance
// of input j from outputs k, for one layer with input activations a and output relevance r.
type literalRule func(l denseLayer, a, r []float64) []float64

func stab(z, eps float64) float64 {
	if z == 0 {
		return z + eps
	}
	return z + math.Copysign(eps, z)
}

func literalEpsilon(eps float64) literalRule {
	return func(l denseLayer, a, r []float64) []float64 {
		out := make([]float64, len(a))
		for k, row := range l.a {
			z := l.b[k]
			for j, w := range row {
				z += a[j] * w
			}
			for j, w := range row {
				out[j] += a[j] * w / stab(z, eps) * r[k]
			}
		}
		return out
	}
}

func literalAlphaBeta(alpha, beta float64) literalRule {
	return func(l denseLayer, a, r []float64) []float64 {
		out := make([]float64, len(a))
		for k, row := range l.a {
			var p, n float64
			for j, w := range row {
				p += math.Max(a[j]*w, 0)
				n += math.Min(a[j]*w, 0)
			}
			for j, w := range row {
				out[j] += (alpha*math.Max(a[j]*w, 0)/stab(p, 1e-6) - beta*math.Min(a[j]*w, 0)/stab(n, 1e-6)) * r[k]
			}
		}
		return out
	}
}

// literalShare is R_j = Σ_k f(w_jk) / Σ_j f(w_jk) R_k over the connections (w ≠ 0) of the
// layer: Flat with f = 1, w² with f = w².
func literalShare(f func(w float64) float64) literalRule {
	return func(l denseLayer, a, r []float64) []float64 {
		out := make([]float64, len(a))
		for k, row := range l.a {
			var z float64
			for _, w := range row {
				if w != 0 {
					z += f(w)
				}
			}
			for j, w := range row {
				if w != 0 {
					out[j] += f(w) / stab(z, 1e-6) * r[k]
				}
			}
		}
		return out
	}
}

func forwardLayer(l denseLayer, a []float64) []float64 {
	out := make([]float64, len(l.a))
	for k, row := range l.a {
		out[k] = l.b[k]
		for j, w := range row {
			out[k] += w * a[j]
		}
	}
	return out
}

// lrpNet is a two-layer ReLU network as an ONNX graph and as dense layers.
type lrpNet struct {
	model  *onnx.ModelProto
	layers []denseLayer
	x      []int64 // input shape, batch 1
}

func floats(g *testGraph, name string) []float32 {
	for _, t := range g.inits {
		if t.Name == name {
			v, _ := onnx.Float32s(t)
			return v
		}
	}
	return nil
}

func lrpNets(bias bool) map[string]lrpNet {
	nets := map[string]lrpNet{}
	{ // dense: Gemm(transB) -> Relu -> Gemm
		g := newTestGraph()
		w1, w2 := g.w([]int64{5, 6}, -1, 1), g.w([]int64{5, 3}, -1, 1)
		in1, in2 := []string{"x", w1}, []string{"", w2}
		var b1, b2 string
		if bias {
			b1, b2 = g.w([]int64{5}, -0.5, 0.5), g.w([]int64{3}, -0.5, 0.5)
			in1, in2 = append(in1, b1), append(in2, b2)
		}
		in2[0] = g.op("Relu", []string{g.op("Gemm", in1, "", IntAttr("transB", 1))}, "")
		g.op("Gemm", in2, "y")
		l1 := denseLayer{first: true, a: make([][]float64, 5), b: make([]float64, 5)}
		l2 := denseLayer{a: make([][]float64, 3), b: make([]float64, 3)}
		W1, W2 := floats(g, w1), floats(g, w2)
		for k := range 5 {
			l1.a[k] = make([]float64, 6)
			for j := range 6 {
				l1.a[k][j] = float64(W1[k*6+j])
			}
			if bias {
				l1.b[k] = float64(floats(g, b1)[k])
			}
		}
		for k := range 3 {
			l2.a[k] = make([]float64, 5)
			for j := range 5 {
				l2.a[k][j] = float64(W2[j*3+k])
			}
			if bias {
				l2.b[k] = float64(floats(g, b2)[k])
			}
		}
		nets["dense"] = lrpNet{model: g.model(13, []int64{1, 6}), layers: []denseLayer{l1, l2}, x: []int64{1, 6}}
	}
	{ // conv: Conv 3x3 pad 1 -> Relu -> Conv 3x3 pad 1 stride 2
		g := newTestGraph()
		w1, w2 := g.w([]int64{3, 2, 3, 3}, -1, 1), g.w([]int64{2, 3, 3, 3}, -1, 1)
		in1 := []string{"x", w1}
		var bv []float32
		if bias {
			b := g.w([]int64{3}, -0.5, 0.5)
			in1, bv = append(in1, b), floats(g, b)
		}
		h := g.op("Relu", []string{g.op("Conv", in1, "", ia("pads", 1, 1, 1, 1))}, "")
		g.op("Conv", []string{h, w2}, "y", ia("pads", 1, 1, 1, 1), ia("strides", 2, 2))
		l1, oh, ow := literalConv(floats(g, w1), []int64{3, 2, 3, 3}, bv, 2, 5, 6, 1, 1)
		l1.first = true
		l2, _, _ := literalConv(floats(g, w2), []int64{2, 3, 3, 3}, nil, 3, oh, ow, 2, 1)
		nets["conv"] = lrpNet{model: g.model(13, []int64{1, 2, 5, 6}), layers: []denseLayer{l1, l2}, x: []int64{1, 2, 5, 6}}
	}
	return nets
}

// runLRP builds the backward model with the composite made by comp and returns y and R_in for
// the initial relevance y ⊙ onehot(k).
func runLRP(t *testing.T, m *onnx.ModelProto, comp func(g *Graph) Composite, x tensor, k int) (y, r []float32) {
	t.Helper()
	g, err := NewGraph(m, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var rules Composite
	if comp != nil {
		rules = comp(g)
	}
	bm, err := BuildGraph(g, Options{Rules: rules})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	fwd, err := newSession(t, m, []string{"x"}, []string{"y"}).run(x)
	if err != nil {
		t.Fatal(err)
	}
	seed := tensor{shape: fwd[0].shape, data: make([]float32, len(fwd[0].data))}
	seed.data[k] = fwd[0].data[k]
	out, err := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"}).run(x, seed)
	if err != nil {
		t.Fatal(err)
	}
	return fwd[0].data, out[1].data
}

// TestLRPRulesMatchLiteralDefinitions compares every LRP rule and composite, run as backward
// graphs in ONNX Runtime, with slow literal implementations of the paper's formulas on tiny
// dense and convolutional ReLU networks with biases.
func TestLRPRulesMatchLiteralDefinitions(t *testing.T) {
	type ruleCase struct {
		name    string
		comp    func(g *Graph) Composite
		first   literalRule
		rest    literalRule
		restMap map[string]literalRule // overrides rest per network
	}
	eps := literalEpsilon(0.1)
	cases := []ruleCase{
		{"epsilon", func(g *Graph) Composite { return EpsilonComposite(g, 0.1) }, eps, eps, nil},
		{"z-plus", func(g *Graph) Composite { return LayerMap(g, ZPlus(), ZPlus(), Epsilon(0.1), nil) }, literalAlphaBeta(1, 0), literalAlphaBeta(1, 0), nil},
		{"alpha1beta0", func(g *Graph) Composite { return AlphaBetaComposite(g, 1, 0, 0.1) }, literalAlphaBeta(1, 0), literalAlphaBeta(1, 0), nil},
		{"alpha2beta1", func(g *Graph) Composite { return AlphaBetaComposite(g, 2, 1, 0.1) }, literalAlphaBeta(2, 1), literalAlphaBeta(2, 1), nil},
		{"epsilon-plus-flat", func(g *Graph) Composite { return EpsilonPlus(g, 0.1, Flat()) },
			literalShare(func(float64) float64 { return 1 }), nil,
			map[string]literalRule{"dense": eps, "conv": literalAlphaBeta(1, 0)}},
		{"epsilon-plus-wsquare", func(g *Graph) Composite { return EpsilonPlus(g, 0.1, WSquare()) },
			literalShare(func(w float64) float64 { return w * w }), nil,
			map[string]literalRule{"dense": eps, "conv": literalAlphaBeta(1, 0)}},
	}
	for netName, net := range lrpNets(true) {
		for _, c := range cases {
			t.Run(netName+"/"+c.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(8, 9))
				x := inputFor(opCase{x: net.x}, rng)
				xs := make([]float64, len(x.data))
				for i, v := range x.data {
					xs[i] = float64(v)
				}
				h := forwardLayer(net.layers[0], xs)
				for i := range h {
					h[i] = math.Max(h[i], 0)
				}
				yl := forwardLayer(net.layers[1], h)
				for k := range yl {
					y, got := runLRP(t, net.model, c.comp, x, k)
					if math.Abs(float64(y[k])-yl[k]) > 1e-4*(1+math.Abs(yl[k])) {
						t.Fatalf("literal forward %g, ONNX Runtime %g", yl[k], y[k])
					}
					rOut := make([]float64, len(yl))
					rOut[k] = yl[k]
					rest := c.rest
					if c.restMap != nil {
						rest = c.restMap[netName]
					}
					// The ReLU passes relevance unchanged (Zennit's Pass).
					checkLiteral(t, fmt.Sprintf("output %d", k), got, c.first(net.layers[0], xs, rest(net.layers[1], h, rOut)))
				}
			})
		}
	}
}

// checkLiteral compares the engine's relevance with the literal reference's: max |got - want|
// relative to max |want| within lrpTol.
func checkLiteral(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	var num, den float64
	for i := range want {
		num = math.Max(num, math.Abs(float64(got[i])-want[i]))
		den = math.Max(den, math.Abs(want[i]))
	}
	if den == 0 || num/den > lrpTol {
		t.Errorf("%s: max error %.3g relative to max |R| %.3g\n got %v\nwant %v", what, num/den, den, got, want)
	}
}

// TestEpsilonLRPTendsToInputTimesGradient checks the identity that LRP-ε with ε → 0 equals
// Input x Gradient on bias-free ReLU networks (Ancona et al. 2018), seeding LRP with y ⊙ onehot.
func TestEpsilonLRPTendsToInputTimesGradient(t *testing.T) {
	for netName, net := range lrpNets(false) {
		t.Run(netName, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(10, 11))
			x := inputFor(opCase{x: net.x}, rng)
			_, r := runLRP(t, net.model, func(g *Graph) Composite { return EpsilonComposite(g, 1e-9) }, x, 1)
			y, grad := runLRP(t, net.model, nil, x, 1)
			// The gradient run's seed was y[1] too, so grad = y[1] ∂y_1/∂x; Input x Gradient with a
			// one-hot seed is x ∂y_1/∂x.
			var num, den float64
			for i := range r {
				ixg := float64(x.data[i]) * float64(grad[i]) / float64(y[1])
				num = math.Max(num, math.Abs(float64(r[i])-ixg))
				den = math.Max(den, math.Abs(ixg))
			}
			if num/den > lrpTol {
				t.Errorf("LRP-ε(1e-9) differs from Input x Gradient by %.3g relative", num/den)
			}
			var sum float64
			for _, v := range r {
				sum += float64(v)
			}
			if math.Abs(sum-float64(y[1])) > 1e-4*math.Abs(float64(y[1])) {
				t.Errorf("relevance sums to %g, want the output %g (conservation without biases)", sum, y[1])
			}
		})
	}
}

// TestCompositesRunOnDenseNet builds and runs every composite on the PyTorch DenseNet (Conv with
// fused BatchNorm biases, BatchNorm, ReLU, Concat, nearest Resize) and checks the relevance maps
// are finite and not all zero. (The relevance sum is logged, not checked: the fused BatchNorm
// biases absorb relevance in this random-weight network.)
func TestCompositesRunOnDenseNet(t *testing.T) {
	m, err := onnx.Load("testdata/densenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	x := readF32(t, "testdata", goldenArray{File: "densenet.x.f32", Shape: []int64{2, 4, 9, 13}})
	for _, c := range []struct {
		name string
		comp func(g *Graph) Composite
	}{
		{"epsilon", func(g *Graph) Composite { return EpsilonComposite(g, 1e-3) }},
		{"epsilon-plus", func(g *Graph) Composite { return EpsilonPlus(g, 1e-3, nil) }},
		{"epsilon-plus-flat", func(g *Graph) Composite { return EpsilonPlus(g, 1e-3, Flat()) }},
		{"epsilon-plus-wsquare", func(g *Graph) Composite { return EpsilonPlus(g, 1e-3, WSquare()) }},
		{"alpha2beta1", func(g *Graph) Composite { return AlphaBetaComposite(g, 2, 1, 1e-3) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			y, r := runLRP(t, m, c.comp, x, 4*13+6)
			var sum float64
			nonzero := false
			for _, v := range r[:len(r)/2] {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("relevance has %v", v)
				}
				nonzero = nonzero || v != 0
				sum += float64(v)
			}
			if !nonzero {
				t.Fatal("relevance is all zero")
			}
			t.Logf("Σ R = %.4g, output %.4g", sum, y[4*13+6])
		})
	}
}

// constNode adds a Constant node holding a float tensor and returns its output's name.
func constNode(g *testGraph, dims []int64, lo, hi float64) string {
	v := g.uniform(dims, lo, hi)
	g.n++
	name := fmt.Sprintf("c%d", g.n)
	g.nodes = append(g.nodes, &onnx.NodeProto{OpType: "Constant", Name: name + "_node", Output: []string{name},
		Attribute: []*onnx.AttributeProto{{Name: "value", Type: onnx.AttributeProto_TENSOR, T: onnx.FloatTensor(name, dims, v)}}})
	return name
}

// lrpCase is a graph of the LRP identity test and the number of bias Adds it has after linear
// nodes.
type lrpCase struct {
	opCase
	fusedBiases int
}

// lrpIdentityCases are small piecewise-linear graphs in the op styles of different exporters,
// with biases: on each, LRP-ε with ε → 0 must equal Input x Gradient (LayerMap's doc).
func lrpIdentityCases() []lrpCase {
	return []lrpCase{
		{opCase{name: "MatMul_Add_bias_NHWC_dense", x: []int64{1, 3, 4, 5}, static: true, graph: func(g *testGraph) {
			h := g.op("Transpose", []string{"x"}, "", ia("perm", 0, 2, 3, 1))
			h = g.op("Relu", []string{g.op("Add", []string{g.op("MatMul", []string{h, g.w([]int64{3, 6}, -1, 1)}, ""), g.w([]int64{6}, -0.5, 0.5)}, "")}, "")
			g.op("Add", []string{g.w([]int64{2}, -0.5, 0.5), g.op("MatMul", []string{h, g.w([]int64{6, 2}, -1, 1)}, "")}, "y") // bias first
		}}, 2},
		{opCase{name: "Conv_then_Add_bias_from_Constant_node", x: []int64{1, 2, 5, 6}, graph: func(g *testGraph) {
			c := g.op("Conv", []string{"x", g.w([]int64{3, 2, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
			h := g.op("Relu", []string{g.op("Add", []string{c, constNode(g, []int64{1, 3, 1, 1}, -0.5, 0.5)}, "")}, "")
			g.op("Sub", []string{g.op("Conv", []string{h, g.w([]int64{2, 3, 1, 1}, -1, 1)}, ""), g.w([]int64{2, 1, 1}, -0.5, 0.5)}, "y")
		}}, 2},
		{opCase{name: "residual_Add_LeakyRelu_depthwise", x: []int64{1, 3, 5, 6}, graph: func(g *testGraph) {
			h := g.op("LeakyRelu", []string{g.op("Conv", []string{"x", g.w([]int64{3, 3, 3, 3}, -1, 1), g.w([]int64{3}, -0.5, 0.5)}, "", ia("pads", 1, 1, 1, 1))}, "", FloatAttr("alpha", 0.1))
			r := g.op("Relu", []string{g.op("Conv", []string{h, g.w([]int64{3, 1, 3, 3}, -1, 1), g.w([]int64{3}, -0.5, 0.5)}, "", ia("pads", 1, 1, 1, 1), IntAttr("group", 3))}, "")
			g.op("Conv", []string{g.op("Add", []string{h, r}, ""), g.w([]int64{1, 3, 1, 1}, -1, 1)}, "y")
		}}, 0},
		{opCase{name: "normalisation_Sub_Div_and_output_rescaling_Mul_Add_Neg", x: []int64{1, 2, 4, 5}, graph: func(g *testGraph) {
			h := g.op("Div", []string{g.op("Sub", []string{"x", g.w([]int64{2, 1, 1}, -0.5, 0.5)}, ""), g.w([]int64{2, 1, 1}, 0.5, 2)}, "")
			h = g.op("Relu", []string{g.op("Conv", []string{h, g.w([]int64{2, 2, 3, 3}, -1, 1), g.w([]int64{2}, -0.5, 0.5)}, "", ia("pads", 1, 1, 1, 1))}, "")
			h = g.op("Neg", []string{g.op("Conv", []string{h, g.w([]int64{1, 2, 1, 1}, -1, 1)}, "")}, "")
			g.op("Add", []string{g.op("Mul", []string{constNode(g, nil, 0.5, 2), h}, ""), constNode(g, nil, -0.5, 0.5)}, "y")
		}}, 0},
		{opCase{name: "channel_mean_broadcast_into_residual_Sub", x: []int64{1, 3, 4, 5}, graph: func(g *testGraph) {
			h := g.op("Relu", []string{g.op("Conv", []string{"x", g.w([]int64{3, 3, 1, 1}, -1, 1), g.w([]int64{3}, -0.5, 0.5)}, "")}, "")
			m := g.op("ReduceMean", []string{h}, "", ia("axes", 1)) // [N,1,H,W]
			g.op("Sub", []string{h, m}, "y")
		}}, 0},
		{opCase{name: "MaxPool_AveragePool_Pad_Concat_linear_Resize", opset: 16, x: []int64{1, 2, 6, 7}, graph: func(g *testGraph) {
			h := g.op("Relu", []string{g.op("Conv", []string{"x", g.w([]int64{3, 2, 3, 3}, -1, 1), g.w([]int64{3}, -0.5, 0.5)}, "", ia("pads", 1, 1, 1, 1))}, "")
			p := g.op("MaxPool", []string{h}, "", ia("kernel_shape", 3, 3), ia("strides", 2, 2), ia("pads", 1, 1, 1, 1)) // 4x4
			a := g.op("AveragePool", []string{p}, "", ia("kernel_shape", 3, 3), ia("pads", 1, 1, 1, 1))
			u := g.op("Resize", []string{a, "", "", g.ints(1, 3, 6, 7)}, "", StringAttr("mode", "linear"))
			c := g.op("Concat", []string{h, u}, "", IntAttr("axis", 1))
			c = g.op("Pad", []string{c, g.ints(0, 0, 1, 0, 0, 0, 0, 2)}, "")
			g.op("Conv", []string{c, g.w([]int64{1, 6, 3, 3}, -1, 1), g.w([]int64{1}, -0.5, 0.5)}, "y")
		}}, 0},
		{opCase{name: "PixelShuffle_Gather_SpaceToDepth_residual", x: []int64{1, 2, 4, 6}, graph: func(g *testGraph) {
			// Ops that only move or pick elements keep their exact VJPs under LRP, which move
			// relevance without creating any; a repeated index adds its slices' relevance.
			h := g.op("Relu", []string{g.op("Conv", []string{"x", g.w([]int64{8, 2, 3, 3}, -1, 1), g.w([]int64{8}, -0.5, 0.5)}, "", ia("pads", 1, 1, 1, 1))}, "")
			h = g.op("DepthToSpace", []string{h}, "", IntAttr("blocksize", 2), StringAttr("mode", "CRD")) // [1,2,8,12]
			h = g.op("Gather", []string{h, g.ints(1, 0, 1)}, "", IntAttr("axis", 1))                      // [1,3,8,12]
			h = g.op("SpaceToDepth", []string{h}, "", IntAttr("blocksize", 2))                            // [1,12,4,6]
			h = g.op("Relu", []string{g.op("Add", []string{h, g.op("Conv", []string{"x", g.w([]int64{12, 2, 1, 1}, -1, 1)}, "")}, "")}, "")
			g.op("Conv", []string{h, g.w([]int64{1, 12, 3, 3}, -1, 1), g.w([]int64{1}, -0.5, 0.5)}, "y", ia("pads", 1, 1, 1, 1))
		}}, 0},
	}
}

// TestLRPZeroIsInputTimesGradient: on piecewise-linear graphs with biases in several exporters' op
// styles, LRP-ε(1e-9) equals Input x Gradient for every output cell (Ancona et al. 2018). The
// gradient rule on sums, bias Adds and constant scalings breaks the identity; the test also checks
// that it does, so it can fail.
func TestLRPZeroIsInputTimesGradient(t *testing.T) {
	// The rules before sums, scalings and interpolations had their own: the gradient there.
	gradOnSums := func(g *Graph) Composite {
		lm := EpsilonComposite(g, 1e-9)
		return func(n *Node) Rule {
			if isSum(n.Op) || isScale(g, n) || isInterpolation(n) {
				return Gradient{}
			}
			return lm(n)
		}
	}
	for _, c := range lrpIdentityCases() {
		t.Run(c.name, func(t *testing.T) {
			m := c.model()
			x := inputFor(opCase{x: c.x, away: 0.05}, rand.New(rand.NewPCG(18, 19)))
			worst := func(comp func(g *Graph) Composite) float64 {
				var w float64
				ny := 0
				for k := 0; ; k++ {
					y, r := runLRP(t, m, comp, x, k)
					_, grad := runLRP(t, m, nil, x, k)
					ny = len(y)
					var num, den float64
					for i := range r {
						ixg := float64(x.data[i]) * float64(grad[i]) / float64(y[k]) // grad was seeded with y[k]
						num = math.Max(num, math.Abs(float64(r[i])-ixg))
						den = math.Max(den, math.Abs(ixg))
					}
					if den > 0 {
						w = max(w, num/den)
					}
					if k+1 >= ny || k >= 7 {
						break
					}
				}
				return w
			}
			lrp, naive := worst(func(g *Graph) Composite { return EpsilonComposite(g, 1e-9) }), worst(gradOnSums)
			t.Logf("max |LRP-ε - IxG| / max |IxG|: %.2g (gradient on sums and scalings: %.2g)", lrp, naive)
			if lrp > 1e-4 {
				t.Errorf("LRP-ε(1e-9) differs from Input x Gradient by %.3g", lrp)
			}
			// With a bias Add fused into its linear node, the Add's own rule does not matter: the
			// Hook divides by the biased output. Those cases must take that path.
			ir, err := NewGraph(m, "", "")
			if err != nil {
				t.Fatal(err)
			}
			fused := 0
			for _, n := range ir.Nodes {
				if fusedBias(ir, n) != nil {
					fused++
				}
			}
			if c.fusedBiases != fused {
				t.Errorf("%d bias Adds fused into linear nodes, want %d", fused, c.fusedBiases)
			}
			if fused == 0 && naive < 1e-2 {
				t.Errorf("the gradient rule on sums also gives Input x Gradient (%.3g): the case tests nothing", naive)
			}
		})
	}
}

// TestLRPExporterInvariance: a dense layer written as Gemm with C or as MatMul + Add, and a
// convolution with B or followed by an Add of its bias, get the same relevance from every rule.
func TestLRPExporterInvariance(t *testing.T) {
	composites := map[string]func(g *Graph) Composite{
		"epsilon":           func(g *Graph) Composite { return EpsilonComposite(g, 0.1) },
		"z-plus":            func(g *Graph) Composite { return LayerMap(g, ZPlus(), ZPlus(), Epsilon(0.1), nil) },
		"alpha2beta1":       func(g *Graph) Composite { return AlphaBetaComposite(g, 2, 1, 0.1) },
		"epsilon-plus":      func(g *Graph) Composite { return EpsilonPlus(g, 0.1, nil) },
		"epsilon-plus-flat": func(g *Graph) Composite { return EpsilonPlus(g, 0.1, Flat()) },
	}
	type pair struct {
		name   string
		x      []int64
		fused  func(g *testGraph, w, b, w2 string) // the bias inside the op
		split  func(g *testGraph, w, b, w2 string) // the bias as a separate Add
		wd, bd []int64
		w2d    []int64
	}
	for _, p := range []pair{
		{"dense", []int64{1, 6}, func(g *testGraph, w, b, w2 string) {
			h := g.op("Relu", []string{g.op("Gemm", []string{"x", w, b}, "")}, "")
			g.op("Gemm", []string{h, w2}, "y")
		}, func(g *testGraph, w, b, w2 string) {
			h := g.op("Relu", []string{g.op("Add", []string{g.op("MatMul", []string{"x", w}, ""), b}, "")}, "")
			g.op("MatMul", []string{h, w2}, "y")
		}, []int64{6, 5}, []int64{5}, []int64{5, 3}},
		{"conv", []int64{1, 2, 5, 6}, func(g *testGraph, w, b, w2 string) {
			h := g.op("Relu", []string{g.op("Conv", []string{"x", w, b}, "", ia("pads", 1, 1, 1, 1))}, "")
			g.op("Conv", []string{h, w2}, "y")
		}, func(g *testGraph, w, b, w2 string) {
			h := g.op("Relu", []string{g.op("Add", []string{g.op("Conv", []string{"x", w}, "", ia("pads", 1, 1, 1, 1)), g.op("Unsqueeze", []string{b, g.ints(1, 2)}, "")}, "")}, "")
			g.op("Conv", []string{h, w2}, "y")
		}, []int64{3, 2, 3, 3}, []int64{3}, []int64{2, 3, 1, 1}},
	} {
		build := func(f func(g *testGraph, w, b, w2 string)) *onnx.ModelProto {
			g := newTestGraph() // same seed: same weights in both graphs
			w, b, w2 := g.w(p.wd, -1, 1), g.w(p.bd, -0.5, 0.5), g.w(p.w2d, -1, 1)
			f(g, w, b, w2)
			return g.model(13, p.x)
		}
		fused, split := build(p.fused), build(p.split)
		x := inputFor(opCase{x: p.x}, rand.New(rand.NewPCG(20, 21)))
		for name, comp := range composites {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				checked := 0
				for k := 0; checked < 3; k++ {
					ya, a := runLRP(t, fused, comp, x, k)
					_, b := runLRP(t, split, comp, x, k)
					if ya[k] == 0 {
						continue // no relevance to distribute
					}
					checked++
					var num, den float64
					for i := range a {
						num = math.Max(num, math.Abs(float64(a[i]-b[i])))
						den = math.Max(den, math.Abs(float64(a[i])))
					}
					if den == 0 || num/den > 1e-5 {
						t.Errorf("output %d: bias in the op and as a separate Add differ by %.3g relative (max |R| %.3g)", k, num/den, den)
					}
				}
			})
		}
	}
}
