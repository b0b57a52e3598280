package backward

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// attentionNet is a one-head attention block with a SiLU gate on a sequence of 4 tokens of 3
// features (opset 17):
//
//	n = LayerNorm(x; γ, β)   q, k = n Wq, n Wk   v = n Wv + bv
//	P = softmax(q kᵀ)   o = P v   h = o ⊙ σ(o)   y = h Wo
//
// with its weights, for the literal reference.
type attentionNet struct {
	g                  *testGraph
	gamma, beta, bv    []float32
	wq, wk, wv, wo     []float32 // row-major [3,2], [3,2], [3,2], [2,1]
	tokens, dim, heads int
}

func newAttentionNet() attentionNet {
	g := newTestGraph()
	a := attentionNet{g: g, tokens: 4, dim: 3, heads: 2}
	gamma, beta := g.w([]int64{3}, 0.5, 1.5), g.w([]int64{3}, -0.3, 0.3)
	wq, wk, wv := g.w([]int64{3, 2}, -1, 1), g.w([]int64{3, 2}, -1, 1), g.w([]int64{3, 2}, -1, 1)
	bv, wo := g.w([]int64{2}, -0.3, 0.3), g.w([]int64{2, 1}, -1, 1)
	a.gamma, a.beta, a.wq, a.wk, a.wv, a.bv, a.wo = floats(g, gamma), floats(g, beta), floats(g, wq), floats(g, wk), floats(g, wv), floats(g, bv), floats(g, wo)
	n := g.op("LayerNormalization", []string{"x", gamma, beta}, "", IntAttr("axis", -1), FloatAttr("epsilon", 1e-5))
	q, k := g.op("MatMul", []string{n, wq}, ""), g.op("MatMul", []string{n, wk}, "")
	v := g.op("Add", []string{g.op("MatMul", []string{n, wv}, ""), bv}, "")
	p := g.op("Softmax", []string{g.op("MatMul", []string{q, g.op("Transpose", []string{k}, "", ia("perm", 0, 2, 1))}, "")}, "", IntAttr("axis", -1))
	o := g.op("MatMul", []string{p, v}, "")
	h := g.op("Mul", []string{o, g.op("Sigmoid", []string{o}, "")}, "")
	g.op("MatMul", []string{h, wo}, "y")
	return a
}

// literal returns y and the relevance of x for the initial relevance y[k] at token k, written out
// from the rules' definitions with every gate held constant: dense (the rule of the output
// layer, of attention with the weights P and of the value projection) and norm (the layer norm
// with σ fixed, a linear layer) are literal rules on the layers as dense matrices, and the SiLU
// gate passes the relevance unchanged.
func (a attentionNet) literal(x []float64, k int, dense, norm literalRule) (y, r []float64) {
	T, D, H := a.tokens, a.dim, a.heads
	ln := denseLayer{a: make([][]float64, T*D), b: make([]float64, T*D)}
	for t := range T {
		var mu, v float64
		for i := range D {
			mu += x[t*D+i] / float64(D)
		}
		for i := range D {
			v += (x[t*D+i] - mu) * (x[t*D+i] - mu) / float64(D)
		}
		sigma := math.Sqrt(v + 1e-5)
		for i := range D {
			row := make([]float64, T*D)
			for j := range D {
				delta := 0.0
				if i == j {
					delta = 1
				}
				row[t*D+j] = float64(a.gamma[i]) * (delta - 1/float64(D)) / sigma
			}
			ln.a[t*D+i], ln.b[t*D+i] = row, float64(a.beta[i])
		}
	}
	n := forwardLayer(ln, x)
	proj := func(w []float32, b []float32) denseLayer {
		l := denseLayer{a: make([][]float64, T*H), b: make([]float64, T*H)}
		for t := range T {
			for j := range H {
				row := make([]float64, T*D)
				for i := range D {
					row[t*D+i] = float64(w[i*H+j])
				}
				l.a[t*H+j] = row
				if b != nil {
					l.b[t*H+j] = float64(b[j])
				}
			}
		}
		return l
	}
	lv := proj(a.wv, a.bv)
	q, kk, v := forwardLayer(proj(a.wq, nil), n), forwardLayer(proj(a.wk, nil), n), forwardLayer(lv, n)
	att := denseLayer{a: make([][]float64, T*H), b: make([]float64, T*H)}
	for t := range T {
		s := make([]float64, T)
		var norm float64
		for u := range T {
			for j := range H {
				s[u] += q[t*H+j] * kk[u*H+j]
			}
		}
		m := slicesMax(s)
		for u := range T {
			s[u] = math.Exp(s[u] - m)
			norm += s[u]
		}
		for j := range H {
			row := make([]float64, T*H)
			for u := range T {
				row[u*H+j] = s[u] / norm
			}
			att.a[t*H+j] = row
		}
	}
	o := forwardLayer(att, v)
	h := make([]float64, len(o))
	for i, ov := range o {
		h[i] = ov / (1 + math.Exp(-ov))
	}
	out := denseLayer{a: make([][]float64, T), b: make([]float64, T)}
	for t := range T {
		out.a[t] = make([]float64, T*H)
		for j := range H {
			out.a[t][t*H+j] = float64(a.wo[j])
		}
	}
	y = forwardLayer(out, h)
	ry := make([]float64, T)
	ry[k] = y[k]
	rh := dense(out, h, ry)
	rv := dense(att, v, rh) // the SiLU gate passes R_o = R_h
	return y, norm(ln, x, dense(lv, n, rv))
}

func slicesMax(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

// TestGateRulesMatchLiteralDefinitions compares the LRP rules through attention, a gated
// activation and a layer norm (gate.go), run as backward graphs in ONNX Runtime, with their
// literal definitions at ε = 0.1, where the stabiliser matters and no identity with a gradient
// holds: the ε composite (ε everywhere), and αβ(2,1) on the dense layers, attention included,
// with ε on the norm.
func TestGateRulesMatchLiteralDefinitions(t *testing.T) {
	net := newAttentionNet()
	m := net.g.model(17, []int64{1, 4, 3})
	eps := literalEpsilon(0.1)
	cases := []struct {
		name        string
		comp        func(g *Graph) Composite
		dense, norm literalRule
	}{
		{"epsilon", func(g *Graph) Composite { return EpsilonComposite(g, 0.1) }, eps, eps},
		{"alpha2beta1", func(g *Graph) Composite { return AlphaBetaComposite(g, 2, 1, 0.1) }, literalAlphaBeta(2, 1), eps},
	}
	x := inputFor(opCase{x: []int64{1, 4, 3}}, rand.New(rand.NewPCG(12, 13)))
	xs := make([]float64, len(x.data))
	for i, v := range x.data {
		xs[i] = float64(v)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k := range net.tokens {
				yl, want := net.literal(xs, k, c.dense, c.norm)
				y, got := runLRP(t, m, c.comp, x, k)
				if math.Abs(float64(y[k])-yl[k]) > 1e-4*(1+math.Abs(yl[k])) {
					t.Fatalf("literal forward %g, ONNX Runtime %g", yl[k], y[k])
				}
				checkLiteral(t, fmt.Sprintf("token %d", k), got, want)
			}
		})
	}
}

// TestProductWithoutGateIsNamed checks that a product of two input-dependent values neither of
// which is a gate (here q kᵀ reaching the output without a softmax) is an *UnsupportedError
// naming the MatMul for the LRP rules, while the gradient still runs.
func TestProductWithoutGateIsNamed(t *testing.T) {
	g := newTestGraph()
	q := g.op("MatMul", []string{"x", g.w([]int64{3, 2}, -1, 1)}, "")
	k := g.op("MatMul", []string{"x", g.w([]int64{3, 2}, -1, 1)}, "")
	g.op("MatMul", []string{q, g.op("Transpose", []string{k}, "", ia("perm", 0, 2, 1))}, "y")
	m := g.model(17, []int64{1, 4, 3})
	if _, err := Build(m, Options{}); err != nil {
		t.Fatalf("gradient: %v", err)
	}
	gr, err := NewGraph(m, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = BuildGraph(gr, Options{Rules: EpsilonComposite(gr, 0.1)})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Op != "MatMul" || ue.Node != "node_y" {
		t.Fatalf("err = %v, want an *UnsupportedError naming MatMul node_y", err)
	}
	t.Log(err)
}
