package attribution

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// fdGradient is the central finite difference of Σ w·f at input index i.
func fdGradient(t testing.TB, e *Emulator, x, w []float32, i int, h float32) float64 {
	xp := append([]float32(nil), x...)
	xp[i] = x[i] + h
	hi := xp[i]
	fp := fOf(t, e, xp, w)
	xp[i] = x[i] - h
	fm := fOf(t, e, xp, w)
	return (fp - fm) / float64(hi-xp[i])
}

// TestSaliencyMatchesFiniteDifferences compares the saliency map with central finite differences
// of the forward model run by inference, at the inputs nearest the target and at random ones, on
// the linear tiny model (exact) and the nonlinear tinyrelu model.
func TestSaliencyMatchesFiniteDifferences(t *testing.T) {
	ocean := testOcean()
	for _, tc := range []struct {
		model, target string
		tol           float64
	}{
		{"tiny.onnx", "45,-60", 1e-3},
		{"tinyrelu.onnx", "45,-60", 2e-2},
		{"tinyrelu.onnx", "box:41,47,-64,-56", 2e-2},
	} {
		t.Run(tc.model+" "+tc.target, func(t *testing.T) {
			e := openTest(t, tc.model)
			x := randomInput(1, ocean)
			tg := cellTarget(t, tc.target, ocean)
			res, err := Saliency{}.Attribute(context.Background(), Request{Emulator: e, X: x, Target: tg, Ocean: ocean})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Output, fOf(t, e, x, tg.Weights); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
				t.Errorf("output %g, forward %g", got, want)
			}
			g := channelOrder(res)
			rng := rand.New(rand.NewPCG(2, 2))
			checked, maxErr, scale := 0, 0.0, 0.0
			for _, v := range g {
				if v == v {
					scale = max(scale, math.Abs(float64(v)))
				}
			}
			for c := 30; c < 36; c++ { // recent months near the target (non-zero gradient), then random
				for di := -2; di <= 2; di++ {
					for dj := -2; dj <= 2; dj += 2 {
						i := c*35*63 + (tg.Row+di)*63 + tg.Col + dj
						if rng.IntN(3) != 0 {
							continue
						}
						fd := fdGradient(t, e, x, tg.Weights, i, 1e-2)
						maxErr = max(maxErr, math.Abs(fd-float64(g[i])))
						checked++
					}
				}
			}
			for range 20 {
				i := rng.IntN(len(x))
				if g[i] != g[i] {
					continue
				}
				maxErr = max(maxErr, math.Abs(fdGradient(t, e, x, tg.Weights, i, 1e-2)-float64(g[i])))
				checked++
			}
			t.Logf("%d coordinates: max |saliency - FD| = %.3g (max |saliency| %.3g)", checked, maxErr, scale)
			if maxErr > tc.tol*scale {
				t.Errorf("max |saliency - FD| = %.3g > %.3g", maxErr, tc.tol*scale)
			}
		})
	}
}

// TestResultLayout: lags are ordered lag 0 first, land is NaN, ixg is x times saliency.
func TestResultLayout(t *testing.T) {
	ocean := testOcean()
	e := openTest(t, "tinyrelu.onnx")
	x := randomInput(4, ocean)
	tg := cellTarget(t, "45,-60", ocean)
	req := Request{Emulator: e, X: x, Target: tg, Ocean: ocean}
	sal, err := Saliency{}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	ixg, err := InputXGradient{}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	n := 35 * 63
	if sal.Lags != 36 || len(sal.Values) != 36*n {
		t.Fatalf("%d lags, %d values", sal.Lags, len(sal.Values))
	}
	for k := range 36 {
		c := 35 - k // lag k is channel 35-k
		for i := range n {
			v, w := sal.Values[k*n+i], ixg.Values[k*n+i]
			if !ocean[i] {
				if v == v || w == w {
					t.Fatalf("land cell %d lag %d not NaN", i, k)
				}
				continue
			}
			if want := v * x[c*n+i]; math.Abs(float64(w-want)) > 1e-6*(1+math.Abs(float64(want))) {
				t.Fatalf("ixg %g, x*saliency %g at lag %d cell %d", w, want, k, i)
			}
		}
	}
	// The 3x3 -> 3x3 model sees only the last months through the target's neighbourhood: the
	// gradient outside a 5x5 window around the target is zero.
	for k := range 36 {
		for i := range 35 {
			for j := range 63 {
				v := sal.Values[k*n+i*63+j]
				if v == v && v != 0 && (abs(i-tg.Row) > 2 || abs(j-tg.Col) > 2) {
					t.Fatalf("non-zero saliency %g at (%d,%d), far from the target", v, i, j)
				}
			}
		}
	}
}

func abs(a int) int { return max(a, -a) }

// TestIGCompleteness: Σ IG = f(x) - f(baseline) within 1% at 64 steps on the random-weight
// reference DenseNet (proof (c)) and on the tiny models, with both quadratures and baselines.
func TestIGCompleteness(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		quad        Quadrature
		base        Baseline
		target      string
		tol         float64
	}{
		{"tiny linear", "tiny.onnx", Riemann, Baseline{}, "45,-60", 1e-4},
		{"tinyrelu riemann", "tinyrelu.onnx", Riemann, Baseline{}, "45,-60", 1e-2},
		{"tinyrelu gauss-legendre", "tinyrelu.onnx", GaussLegendre, Baseline{}, "45,-60", 1e-2},
		{"tinyrelu blur box", "tinyrelu.onnx", Riemann, Baseline{Kind: BaselineBlur, BlurSigma: 2}, "box:41,55,-70,-50", 1e-2},
		{"reference densenet riemann", "random2deg.onnx", Riemann, Baseline{}, "45,-40", 1e-2},
		{"reference densenet gauss-legendre", "random2deg.onnx", GaussLegendre, Baseline{}, "spg", 1e-2},
		{"tiny linear adaptive", "tiny.onnx", Adaptive, Baseline{}, "45,-60", 1e-4},
		{"tiny linear mean", "tiny.onnx", Riemann, Baseline{Kind: BaselineMean}, "45,-60", 1e-4},
		{"tinyrelu mean:time adaptive", "tinyrelu.onnx", Adaptive, Baseline{Kind: BaselineMean, Over: MeanTime}, "45,-60", 1e-2},
		{"tinyrelu mean:space box", "tinyrelu.onnx", Adaptive, Baseline{Kind: BaselineMean, Over: MeanSpace}, "box:41,55,-70,-50", 1e-2},
		{"reference densenet adaptive", "random2deg.onnx", Adaptive, Baseline{}, "45,-40", 1e-2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.model == "random2deg.onnx" {
				t.Skip("reference DenseNet in -short mode")
			}
			e := openTest(t, tc.model)
			x := goldenInput(t)
			tg := cellTarget(t, tc.target, nil)
			m := IntegratedGradients{Steps: 64, Quadrature: tc.quad, Baseline: tc.base}
			res, err := m.Attribute(context.Background(), Request{Emulator: e, X: x, Target: tg})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Completeness
			t.Logf("%s: Σ IG = %.6g, f(x) - f(b) = %.6g, delta %.3g (%.3g%%), %v on %s",
				m.Params(), c.Sum, c.Expected, c.Delta, 100*c.Relative, res.Duration, res.Device)
			if c.Relative > tc.tol {
				t.Errorf("completeness off by %.3g%%", 100*c.Relative)
			}
		})
	}
}

// TestIGLiteral compares IG with a literal Riemann sum of per-step saliency maps (each one
// backward run of its own, proven against finite differences above) times x - b.
func TestIGLiteral(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	e.Budget = 1 // one step per batch
	ocean := testOcean()
	x := randomInput(5, ocean)
	tg := cellTarget(t, "45,-60", ocean)
	const steps = 7
	res, err := IntegratedGradients{Steps: steps, Quadrature: Riemann}.Attribute(context.Background(),
		Request{Emulator: e, X: x, Target: tg, Ocean: ocean})
	if err != nil {
		t.Fatal(err)
	}
	// The trapezoid's end nodes are x and b = 0: their outputs from the backward runs are the
	// forward model's.
	fx, fb := fOf(t, e, x, tg.Weights), fOf(t, e, make([]float32, len(x)), tg.Weights)
	if c := res.Completeness; math.Abs(res.Output-fx) > 1e-6*(1+math.Abs(fx)) || math.Abs(c.Expected-(fx-fb)) > 1e-6*(1+math.Abs(fx-fb)) {
		t.Errorf("f(x) = %.7g, expected %.7g; forward runs give %.7g and %.7g", res.Output, c.Expected, fx, fx-fb)
	}
	want := make([]float64, len(x))
	for k := range steps {
		a := float32(k) / (steps - 1)
		xa := make([]float32, len(x))
		for i := range x {
			xa[i] = a * x[i]
		}
		s, err := Saliency{}.Attribute(context.Background(), Request{Emulator: e, X: xa, Target: tg, Ocean: ocean})
		if err != nil {
			t.Fatal(err)
		}
		w := 1.0 / (steps - 1)
		if k == 0 || k == steps-1 {
			w /= 2
		}
		for i, v := range channelOrder(s) {
			if v == v {
				want[i] += w * float64(v) * float64(x[i])
			}
		}
	}
	got := channelOrder(res)
	var maxErr, scale float64
	for i := range got {
		if got[i] == got[i] {
			maxErr = max(maxErr, math.Abs(float64(got[i])-want[i]))
			scale = max(scale, math.Abs(want[i]))
		}
	}
	t.Logf("max |IG - literal| = %.3g (scale %.3g)", maxErr, scale)
	if maxErr > 1e-5*scale {
		t.Errorf("IG differs from the literal sum by %.3g", maxErr)
	}
}

// TestGaussLegendreNodes: the nodes integrate polynomials of degree 2n-1 exactly.
func TestGaussLegendreNodes(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 64} {
		a, w := GaussLegendre.nodes(n)
		for d := 0; d <= 2*n-1 && d <= 20; d++ {
			var s float64
			for i := range a {
				s += w[i] * math.Pow(a[i], float64(d))
			}
			if math.Abs(s-1/float64(d+1)) > 1e-12 {
				t.Errorf("n=%d: ∫ α^%d = %.15g, want %.15g", n, d, s, 1/float64(d+1))
			}
		}
	}
}

// TestAttributeBatch: batched saliency and input x gradient equal one Attribute call per window,
// with one target per window and with one target for all, across several batches; wrong
// target counts are errors.
func TestAttributeBatch(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	ocean := testOcean()
	const n = 5
	s := 36 * 35 * 63
	var xs []float32
	for k := range n {
		xs = append(xs, randomInput(uint64(20+k), ocean)...)
	}
	specs := []string{"45,-60", "box:41,49,-64,-54", "30,-40", "spg", "55,-30"}
	var each []Target
	for _, sp := range specs {
		each = append(each, cellTarget(t, sp, ocean))
	}
	for _, m := range []BatchAttributor{Saliency{}, InputXGradient{}} {
		for _, tc := range []struct {
			name    string
			targets []Target
		}{{"one target per window", each}, {"one target for all", each[:1]}} {
			t.Run(m.Name()+"/"+tc.name, func(t *testing.T) {
				g, err := e.graph(gradientRules)
				if err != nil {
					t.Fatal(err)
				}
				e.Budget = 5 * g.SampleBytes() / 2 // two windows per run (with or without the tail window's input): three runs
				calls := 0
				got, err := m.AttributeBatch(context.Background(), BatchRequest{Emulator: e, X: xs, Targets: tc.targets, Ocean: ocean,
					Progress: func(done, total int) { calls++ }})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != n || calls != 3 {
					t.Fatalf("%d results, %d progress calls; want %d results from several runs", len(got), calls, n)
				}
				for k := range n {
					tg := tc.targets[min(k, len(tc.targets)-1)]
					want, err := m.Attribute(context.Background(), Request{Emulator: e, X: xs[k*s : (k+1)*s], Target: tg, Ocean: ocean})
					if err != nil {
						t.Fatal(err)
					}
					if got[k].Method != m.Name() || got[k].Target.String() != tg.String() || math.Abs(got[k].Output-want.Output) > 1e-6*(1+math.Abs(want.Output)) {
						t.Fatalf("window %d: method %s, target %s, output %g; want %s, %s, %g", k, got[k].Method, got[k].Target, got[k].Output, m.Name(), tg, want.Output)
					}
					nonzero := 0
					for i, v := range want.Values {
						w := got[k].Values[i]
						if v != v {
							if w == w {
								t.Fatalf("window %d: land value %g, want NaN", k, w)
							}
							continue
						}
						if math.Abs(float64(w-v)) > 1e-6*(1+math.Abs(float64(v))) {
							t.Fatalf("window %d, index %d: batched %g, alone %g", k, i, w, v)
						}
						if v != 0 {
							nonzero++
						}
					}
					if nonzero == 0 {
						t.Fatalf("window %d: the map is zero", k)
					}
				}
			})
		}
	}
	e.Budget = 0
	if _, err := (Saliency{}).AttributeBatch(context.Background(), BatchRequest{Emulator: e, X: xs, Targets: each[:2]}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("2 targets for 5 windows: %v", err)
	}
	if _, err := (Saliency{}).AttributeBatch(context.Background(), BatchRequest{Emulator: e, X: xs[:s+7], Targets: each[:1]}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("a partial window: %v", err)
	}
}

// TestIGFirstLayerOnce: on models whose first layer is a convolution the input feeds alone, IG
// sums the steps' gradients at that layer's output and applies its adjoint once; the result
// equals IG computed with input gradients at every step (the whole-model path).
func TestIGFirstLayerOnce(t *testing.T) {
	for _, name := range []string{"tinyrelu.onnx", "random2deg.onnx"} {
		t.Run(name, func(t *testing.T) {
			e := openTest(t, name)
			h, err := e.linearHead()
			if err != nil || h == nil {
				t.Fatalf("linearHead: %v, %v; want the first convolution", h, err)
			}
			ocean := testOcean()
			x := randomInput(9, ocean)
			tg := cellTarget(t, "45,-60", ocean)
			m := IntegratedGradients{Steps: 8, Quadrature: Riemann}
			req := Request{Emulator: e, X: x, Target: tg, Ocean: ocean}
			got, err := m.Attribute(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			// The same IG with the cut switched off.
			whole := openTest(t, name)
			whole.headOnce.Do(func() {})
			want, err := m.Attribute(context.Background(), Request{Emulator: whole, X: x, Target: tg, Ocean: ocean})
			if err != nil {
				t.Fatal(err)
			}
			var maxErr, scale float64
			for i, v := range want.Values {
				if v == v {
					maxErr = max(maxErr, math.Abs(float64(got.Values[i]-v)))
					scale = max(scale, math.Abs(float64(v)))
				}
			}
			// f(x) - f(b) comes from forward runs of different graphs (the tail on a window in
			// one, on the whole grid in the other): equal to float32 rounding.
			if ex := want.Completeness.Expected; maxErr > 1e-5*scale || math.Abs(got.Completeness.Expected-ex) > 1e-6*(1+math.Abs(ex)) {
				t.Errorf("first layer once: max |Δ| %.3g (scale %.3g); f(x)-f(b) %g against %g",
					maxErr, scale, got.Completeness.Expected, want.Completeness.Expected)
			}
		})
	}
}

// kinked is f(α) = α/2 + Σ c_j max(0, α - κ_j), a path through a ReLU network in miniature, with
// kinks at positions no dyadic grid hits; it returns f and φ = f' at the nodes and counts them.
func kinked(evaluated *int) func(alpha []float64) (f, phi []float64, err error) {
	kinks := []float64{0.0123, 0.0131, 0.3183, 0.7071, 0.7072}
	c := []float64{-3, 2.5, 1.7, -2.2, 4}
	return func(alpha []float64) (f, phi []float64, err error) {
		*evaluated += len(alpha)
		for _, a := range alpha {
			fa, pa := a/2, 0.5
			for j, k := range kinks {
				if a > k {
					fa, pa = fa+c[j]*(a-k), pa+c[j]
				}
			}
			f, phi = append(f, fa), append(phi, pa)
		}
		return f, phi, nil
	}
}

// TestAdaptiveNodes: the adaptive trapezoid spends exactly its steps on distinct nodes from 0 to
// 1 with weights summing to 1, and on a piecewise-linear f its error is a fifth of the uniform
// grid's or less.
func TestAdaptiveNodes(t *testing.T) {
	for _, steps := range []int{3, 16, 32, 64} {
		n := 0
		alpha, weight, _, err := adaptiveNodes(steps, kinked(&n))
		if err != nil {
			t.Fatal(err)
		}
		if n != steps || len(alpha) != steps || alpha[0] != 0 || alpha[steps-1] != 1 {
			t.Fatalf("%d steps: %d evaluations, %d nodes from %g to %g", steps, n, len(alpha), alpha[0], alpha[len(alpha)-1])
		}
		var wsum float64
		for k := range alpha {
			if k > 0 && alpha[k] <= alpha[k-1] {
				t.Fatalf("%d steps: nodes not increasing at %d: %v", steps, k, alpha)
			}
			wsum += weight[k]
		}
		if math.Abs(wsum-1) > 1e-12 {
			t.Errorf("%d steps: weights sum to %g", steps, wsum)
		}
		if steps < 16 {
			continue
		}
		integral := func(alpha, weight []float64) float64 {
			f, phi, _ := kinked(new(int))(append([]float64{0, 1}, alpha...))
			var s float64
			for k := range alpha {
				s += weight[k] * phi[k+2]
			}
			return math.Abs(s - (f[1] - f[0]))
		}
		ua, uw := Riemann.nodes(steps)
		adaptive, uniform := integral(alpha, weight), integral(ua, uw)
		t.Logf("%d steps: trapezoid error %.3g adaptive, %.3g uniform", steps, adaptive, uniform)
		if adaptive > uniform/5 {
			t.Errorf("%d steps: adaptive error %.3g, uniform %.3g: want a fifth or less", steps, adaptive, uniform)
		}
	}
}

// TestIGAdaptiveConverges: adaptive IG converges to the integral the uniform trapezoid converges
// to (4096 steps), and agrees with it on f(x) - f(b): with 256 steps the maps differ by less than
// 0.1% of their largest value, with 1024 by less than 0.05%.
func TestIGAdaptiveConverges(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	x := goldenInput(t)
	tg := cellTarget(t, "45,-60", nil)
	run := func(m IntegratedGradients) *Result {
		res, err := m.Attribute(context.Background(), Request{Emulator: e, X: x, Target: tg})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ref := run(IntegratedGradients{Steps: 4096, Quadrature: Riemann})
	for _, tc := range []struct {
		steps int
		tol   float64
	}{{256, 1e-3}, {1024, 5e-4}} {
		ad := run(IntegratedGradients{Steps: tc.steps, Quadrature: Adaptive})
		un := run(IntegratedGradients{Steps: tc.steps, Quadrature: Riemann})
		dAd, scale := maxDiff(ad.Values, ref.Values)
		dUn, _ := maxDiff(un.Values, ref.Values)
		t.Logf("%d steps: max |IG - IG(4096)| / max |IG(4096)|: adaptive %.3g, uniform %.3g; completeness %.3g%% and %.3g%%",
			tc.steps, dAd/scale, dUn/scale, 100*ad.Completeness.Relative, 100*un.Completeness.Relative)
		if dAd > tc.tol*scale {
			t.Errorf("%d steps: adaptive IG is %.3g of the scale from the converged map", tc.steps, dAd/scale)
		}
		if math.Abs(ad.Completeness.Expected-ref.Completeness.Expected) > 1e-5*(1+math.Abs(ref.Completeness.Expected)) {
			t.Errorf("f(x) - f(b): adaptive %g, uniform %g", ad.Completeness.Expected, ref.Completeness.Expected)
		}
	}
}

// TestIGStartsRightOfTheBaseline: a bias-free ReLU network is positively homogeneous, so from
// the zero baseline f(αx) = α f(x) and the integrand of IG is the constant f(x) on (0, 1]:
// every quadrature is exact. At α = 0 itself every pre-activation is 0 and the backward pass
// gives ReLU'(0) = 0, so a trapezoid that took the gradient at the baseline would miss
// 1/(2(steps-1)) of f(x), 7% at 8 steps; the first node's gradient is its limit from the right.
func TestIGStartsRightOfTheBaseline(t *testing.T) {
	e := openTest(t, "tinyrelu_nobias.onnx")
	req := Request{Emulator: e, X: randomInput(5, nil), Target: cellTarget(t, "45,-60", nil)}
	for _, q := range []Quadrature{Riemann, Adaptive, GaussLegendre} {
		res, err := IntegratedGradients{Steps: 8, Quadrature: q}.Attribute(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Completeness
		t.Logf("%s, 8 steps: Σ IG = %.7g, f(x) - f(0) = %.7g, relative %.2g", q, c.Sum, c.Expected, c.Relative)
		if c.Expected != res.Output || c.Relative > 1e-5 {
			t.Errorf("%s: Σ IG = %.7g, f(x) - f(0) = %.7g (f(x) = %.7g): not exact", q, c.Sum, c.Expected, res.Output)
		}
	}
}
