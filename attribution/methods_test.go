package attribution

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"climxai/onnx"
)

// TestSmoothGradLiteral compares SmoothGrad, SmoothGrad² and VarGrad with a literal loop of
// saliency maps over the same noisy inputs.
func TestSmoothGradLiteral(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	e.Budget = 1 // one sample per batch: the stream must give the same as one run
	ocean := testOcean()
	x := randomInput(6, ocean)
	tg := cellTarget(t, "45,-60", ocean)
	req := Request{Emulator: e, X: x, Target: tg, Ocean: ocean}
	const n = 6
	base := SmoothGrad{NoiseSamples: n, Sigma: 0.2, Seed: 9}
	xs := base.noisy(req)
	// The noise has the asked spread, and land stays 0.
	var s2 float64
	cnt := 0
	for k := range n {
		for i := range x {
			d := float64(xs[k*len(x)+i] - x[i])
			if !ocean[i%(35*63)] && xs[k*len(x)+i] != 0 {
				t.Fatal("noise on land")
			}
			if ocean[i%(35*63)] {
				s2 += d * d
				cnt++
			}
		}
	}
	if sd, want := math.Sqrt(s2/float64(cnt)), 0.2*spread(req); math.Abs(sd/want-1) > 0.02 {
		t.Errorf("noise sd %.4g, want %.4g", sd, want)
	}
	mean, sq := make([]float64, len(x)), make([]float64, len(x))
	for k := range n {
		r, err := Saliency{}.Attribute(context.Background(), Request{Emulator: e, X: xs[k*len(x) : (k+1)*len(x)], Target: tg, Ocean: ocean})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range r.Values {
			mean[i] += float64(v) / n
			sq[i] += float64(v) * float64(v) / n
		}
	}
	for _, kind := range []SmoothingKind{SmoothGradMean, SmoothGradSquared, VarGrad} {
		m := base
		m.Kind = kind
		res, err := m.Attribute(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		var maxErr, scale float64
		for i, v := range res.Values {
			want := mean[i]
			switch kind {
			case SmoothGradSquared:
				want = sq[i]
			case VarGrad:
				want = sq[i] - mean[i]*mean[i]
			}
			if math.IsNaN(want) != math.IsNaN(float64(v)) {
				t.Fatalf("%s: NaN mismatch at %d", m.Name(), i)
			}
			if v == v {
				maxErr = max(maxErr, math.Abs(float64(v)-want))
				scale = max(scale, math.Abs(want))
			}
		}
		t.Logf("%s: max |method - literal| = %.3g (scale %.3g)", m.Name(), maxErr, scale)
		if maxErr > 1e-5*scale {
			t.Errorf("%s differs from the literal loop by %.3g", m.Name(), maxErr)
		}
	}
}

// TestOcclusionLiteral compares occlusion with literal forward runs of each occluded input.
func TestOcclusionLiteral(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	e.Budget = 3 * e.Forward().SampleBytes() // several batches
	ocean := testOcean()
	x := randomInput(7, ocean)
	tg := cellTarget(t, "box:41,49,-64,-54", ocean)
	fx := fOf(t, e, x, tg.Weights)
	n := 35 * 63
	for _, w := range []OcclusionWindow{{Mode: OccludeMonth}, {Mode: OccludePatch, Size: 5}, {Mode: OccludeBlock, Size: 7, Months: 10}} {
		t.Run(w.String(), func(t *testing.T) {
			res, err := Occlusion{Window: w}.Attribute(context.Background(), Request{Emulator: e, X: x, Target: tg, Ocean: ocean})
			if err != nil {
				t.Fatal(err)
			}
			got := channelOrder(res)
			want := make([]float64, len(x))
			ks, kc := 35*63, 1
			if w.Mode != OccludeMonth {
				ks, kc = w.Size, 36
				if w.Mode == OccludeBlock {
					kc = w.Months
				}
			}
			for c0 := 0; c0 < 36; c0 += kc {
				for i0 := 0; i0 < 35; i0 += ks {
					for j0 := 0; j0 < 63; j0 += ks {
						xo := append([]float32(nil), x...)
						var idx []int
						for c := c0; c < min(c0+kc, 36); c++ {
							for i := i0; i < min(i0+ks, 35); i++ {
								for j := j0; j < min(j0+ks, 63); j++ {
									if ocean[i*63+j] {
										xo[c*n+i*63+j] = 0
										idx = append(idx, c*n+i*63+j)
									}
								}
							}
						}
						if len(idx) == 0 {
							continue
						}
						d := (fx - fOf(t, e, xo, tg.Weights)) / float64(len(idx))
						for _, k := range idx {
							want[k] = d
						}
					}
				}
			}
			var maxErr, scale float64
			for i := range got {
				if got[i] == got[i] {
					maxErr = max(maxErr, math.Abs(float64(got[i])-want[i]))
					scale = max(scale, math.Abs(want[i]))
				}
			}
			t.Logf("max |occlusion - literal| = %.3g (scale %.3g)", maxErr, scale)
			if scale == 0 || maxErr > 1e-6*scale+1e-9 {
				t.Errorf("occlusion differs from literal forward runs by %.3g", maxErr)
			}
		})
	}
}

// TestDeepLIFTSummationToDelta: Σ DeepLIFT = f(x) - f(reference) on the tiny ReLU model and the
// reference DenseNet.
func TestDeepLIFTSummationToDelta(t *testing.T) {
	for _, model := range []string{"tinyrelu.onnx", "random2deg.onnx"} {
		t.Run(model, func(t *testing.T) {
			if testing.Short() && model == "random2deg.onnx" {
				t.Skip("reference DenseNet in -short mode")
			}
			e := openTest(t, model)
			x := goldenInput(t)
			tg := cellTarget(t, "45,-40", nil)
			res, err := DeepLIFT{}.Attribute(context.Background(), Request{Emulator: e, X: x, Target: tg})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Completeness
			t.Logf("Σ DeepLIFT = %.6g, f(x) - f(ref) = %.6g, delta %.3g (%.3g%%), %v", c.Sum, c.Expected, c.Delta, 100*c.Relative, res.Duration)
			if c.Relative > 1e-3 {
				t.Errorf("summation-to-delta off by %.3g%%", 100*c.Relative)
			}
		})
	}
}

// TestLRPEpsilonIsInputXGradient: on a bias-free ReLU network LRP-ε with ε → 0 equals
// input × gradient, and relevance is conserved (Σ R = f(x)).
func TestLRPEpsilonIsInputXGradient(t *testing.T) {
	e := openTest(t, "tinyrelu_nobias.onnx")
	x := randomInput(8, nil)
	tg := cellTarget(t, "45,-60", nil)
	req := Request{Emulator: e, X: x, Target: tg}
	lrp, err := LRP{Composite: LRPEpsilon, Epsilon: 1e-9}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	ixg, err := InputXGradient{}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var maxErr, scale float64
	for i := range lrp.Values {
		maxErr = max(maxErr, math.Abs(float64(lrp.Values[i]-ixg.Values[i])))
		scale = max(scale, math.Abs(float64(ixg.Values[i])))
	}
	c := lrp.Completeness
	t.Logf("max |LRP-ε - IxG| = %.3g (scale %.3g); Σ R = %.6g, f(x) = %.6g (%.3g%%)", maxErr, scale, c.Sum, c.Expected, 100*c.Relative)
	if maxErr > 1e-4*scale {
		t.Errorf("LRP-ε differs from IxG by %.3g", maxErr)
	}
	if c.Relative > 1e-4 {
		t.Errorf("relevance not conserved: %.3g%%", 100*c.Relative)
	}
}

// TestLRPComposites: every composite runs on the reference DenseNet and the tiny ReLU model;
// the conservation delta is reported (bias and stabiliser terms make it non-zero).
func TestLRPComposites(t *testing.T) {
	models := []string{"tinyrelu.onnx", "random2deg.onnx"}
	if testing.Short() {
		models = models[:1]
	}
	for _, model := range models {
		e := openTest(t, model)
		x := goldenInput(t)
		tg := cellTarget(t, "45,-40", nil)
		for c := range LRPComposite(len(lrpNames)) {
			m := LRP{Composite: c, Epsilon: 1e-6}
			res, err := m.Attribute(context.Background(), Request{Emulator: e, X: x, Target: tg})
			if err != nil {
				t.Fatalf("%s %s: %v", model, m.Name(), err)
			}
			cc := res.Completeness
			nonzero := 0
			for _, v := range res.Values {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("%s %s: non-finite relevance", model, m.Name())
				}
				if v != 0 {
					nonzero++
				}
			}
			t.Logf("%s %-22s Σ R = %+.5g, f(x) = %+.5g, delta %.3g%%, %d non-zero, %v", model, m.Name(), cc.Sum, cc.Expected, 100*cc.Relative, nonzero, res.Duration)
			if nonzero == 0 {
				t.Errorf("%s %s: all relevance zero", model, m.Name())
			}
		}
	}
}

// TestBackwardOptimizationLinear: on the linear tiny model J(x) = g·x - λ‖x‖² has its maximum at
// x* = g / 2λ, and gradient ascent reaches it with a non-decreasing objective.
func TestBackwardOptimizationLinear(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	ocean := testOcean()
	tg := cellTarget(t, "45,-60", ocean)
	req := Request{Emulator: e, X: make([]float32, 36*35*63), Target: tg, Ocean: ocean}
	sal, err := Saliency{}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	const lambda = 1.0
	res, err := BackwardOptimization{Lambda: lambda, Step: 0.25, Iters: 40}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var maxErr, scale float64
	for i, v := range res.Values {
		if v != v {
			continue
		}
		want := float64(sal.Values[i]) / (2 * lambda)
		maxErr = max(maxErr, math.Abs(float64(v)-want))
		scale = max(scale, math.Abs(want))
	}
	for k := 1; k < len(res.Trace); k++ {
		if res.Trace[k] < res.Trace[k-1]-1e-6*math.Abs(res.Trace[k-1]) { // float32 round-off once converged
			t.Fatalf("objective fell at iteration %d: %v", k, res.Trace)
		}
	}
	t.Logf("max |x - g/2λ| = %.3g (scale %.3g); objective %.4g -> %.4g", maxErr, scale, res.Trace[0], res.Trace[len(res.Trace)-1])
	if maxErr > 1e-4*scale {
		t.Errorf("optimal input off by %.3g", maxErr)
	}
}

// TestRandomizedWeightsChangeSaliency is Adebayo et al.'s model-parameter randomisation check
// (Adebayo et al. 2018, "Sanity checks for saliency maps"; proof (e)): the reference DenseNet
// with its convolution weights shuffled (re-drawn from each layer's own distribution) gives
// saliency maps with a rank correlation far below 1 with the original's, while the same model
// gives 1.
func TestRandomizedWeightsChangeSaliency(t *testing.T) {
	if testing.Short() {
		t.Skip("reference DenseNet in -short mode")
	}
	m, err := onnx.Load(testModel("random2deg.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	convW := map[string]bool{}
	for _, n := range m.Graph.Node {
		if n.OpType == "Conv" && len(n.Input) > 1 {
			convW[n.Input[1]] = true
		}
	}
	changed := 0
	for i, init := range m.Graph.Initializer {
		if !convW[init.Name] {
			continue
		}
		v, err := onnx.Float32s(init)
		if err != nil {
			t.Fatal(err)
		}
		rng.Shuffle(len(v), func(a, b int) { v[a], v[b] = v[b], v[a] })
		m.Graph.Initializer[i] = onnx.FloatTensor(init.Name, init.Dims, v)
		changed++
	}
	path := filepath.Join(t.TempDir(), "randomized.onnx")
	if err := onnx.Save(path, m); err != nil {
		t.Fatal(err)
	}
	orig := openTest(t, "random2deg.onnx")
	rnd := openTest(t, path)
	x := goldenInput(t)
	tg := cellTarget(t, "45,-40", nil)
	a, err := Saliency{}.Attribute(context.Background(), Request{Emulator: orig, X: x, Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Saliency{}.Attribute(context.Background(), Request{Emulator: orig, X: x, Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Saliency{}.Attribute(context.Background(), Request{Emulator: rnd, X: x, Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	absv := func(v []float32) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(math.Abs(float64(x)))
		}
		return out
	}
	same, signed, mag := spearman(a.Values, again.Values), spearman(a.Values, b.Values), spearman(absv(a.Values), absv(b.Values))
	t.Logf("%d conv weight tensors shuffled; Spearman: same model %.4f, randomised signed %.4f, |saliency| %.4f", changed, same, signed, mag)
	if same < 0.9999 {
		t.Errorf("the same model's saliency is not reproducible: %.4f", same)
	}
	// The signed map decorrelates completely. The magnitude map keeps a high rank correlation:
	// |gradient| is dominated by the architecture's receptive field (how many paths lead from an
	// input cell to the target), which randomisation keeps, the effect Adebayo et al. report for
	// absolute-value maps. It must still change.
	if signed > 0.5 || mag > 0.99 {
		t.Errorf("saliency barely changes with randomised weights: %.3f / %.3f", signed, mag)
	}
}

// TestCancellation: a cancelled context stops a batched method with ctx's error.
func TestCancellation(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	e.Budget = e.Forward().SampleBytes()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	req := Request{Emulator: e, X: randomInput(9, nil), Target: cellTarget(t, "45,-60", nil),
		Progress: func(done, total int) {
			calls++
			if done >= 2 {
				cancel()
			}
		}}
	_, err := IntegratedGradients{Steps: 64}.Attribute(ctx, req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls > 3 {
		t.Errorf("%d batches ran after the cancel", calls-2)
	}
}

// TestCustomBaseline: a custom baseline of zeros is the zero baseline; a wrong size is an error.
func TestCustomBaseline(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	x := randomInput(10, nil)
	tg := cellTarget(t, "45,-60", nil)
	req := Request{Emulator: e, X: x, Target: tg}
	a, err := IntegratedGradients{Steps: 8}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := IntegratedGradients{Steps: 8, Baseline: Baseline{Kind: BaselineCustom, Values: make([]float32, len(x)), Source: "zeros"}}.Attribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Values {
		if a.Values[i] != b.Values[i] {
			t.Fatalf("custom zero baseline differs at %d", i)
		}
	}
	_, err = IntegratedGradients{Steps: 8, Baseline: Baseline{Kind: BaselineCustom, Values: make([]float32, 10), Source: "short"}}.Attribute(context.Background(), req)
	if !errors.Is(err, ErrBadBaseline) {
		t.Errorf("short baseline: %v", err)
	}
}

// TestRegistry: every registry entry builds from the defaults and names itself.
func TestRegistry(t *testing.T) {
	for _, s := range Methods() {
		m, err := s.New(DefaultSettings())
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if m.Name() != s.Name {
			t.Errorf("registry %q builds %q", s.Name, m.Name())
		}
	}
	if _, err := LookupMethod("gradcam"); !errors.Is(err, ErrBadMethod) {
		t.Errorf("unknown method: %v", err)
	}
}

// TestLagOrder: toLags puts lag 0 (the init month) first for both channel orders, NaN on land,
// and fromLags undoes it.
func TestLagOrder(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	n := 35 * 63
	v := make([]float32, 36*n)
	for c := range 36 {
		for i := range n {
			v[c*n+i] = float32(c)
		}
	}
	ocean := testOcean()
	for _, newest := range []bool{false, true} {
		e.NewestFirst = newest
		l := e.toLags(v, ocean)
		for k := range 36 {
			want := float32(35 - k) // oldest first: channel 35 is the init month
			if newest {
				want = float32(k)
			}
			if l[k*n] != want || l[k*n+40] == l[k*n+40] {
				t.Fatalf("newest-first %v: lag %d holds channel %g (want %g), land %g", newest, k, l[k*n], want, l[k*n+40])
			}
		}
		checkLagRoundTrip(t, e, v, l, ocean)
	}
}

// checkLagRoundTrip fails t unless fromLags(l) (l = toLags(v)) gives v back on ocean cells and 0
// on land.
func checkLagRoundTrip(t *testing.T, e *Emulator, v, l []float32, ocean []bool) {
	t.Helper()
	n := len(ocean)
	back := e.fromLags(l)
	for i := range v {
		if want := v[i]; ocean[i%n] && back[i] != want || !ocean[i%n] && back[i] != 0 {
			t.Fatalf("fromLags(toLags) differs at %d", i)
		}
	}
}

// TestBlurBaseline: the blur keeps a constant field constant over ocean, leaves land at 0 and
// smooths a spike into a Gaussian of the asked width.
func TestBlurBaseline(t *testing.T) {
	ocean := testOcean()
	isOcean := func(i int) bool { return ocean[i] }
	src, dst := make([]float32, 35*63), make([]float32, 35*63)
	for i := range src {
		if ocean[i] {
			src[i] = 2
		}
	}
	blur(dst, src, 35, 63, 2, isOcean)
	for i, v := range dst {
		if ocean[i] && math.Abs(float64(v)-2) > 1e-5 || !ocean[i] && v != 0 {
			t.Fatalf("cell %d: %g", i, v)
		}
	}
	clear(src)
	src[10*63+50] = 1
	blur(dst, src, 35, 63, 2, func(int) bool { return true })
	var s, m2 float64
	for i, v := range dst {
		d := float64(i%63 - 50)
		s += float64(v)
		m2 += float64(v) * d * d
	}
	if math.Abs(s-1) > 1e-3 || math.Abs(math.Sqrt(m2/s)-2) > 0.05 {
		t.Errorf("blurred spike: mass %g, width %g cells (want 1 and 2)", s, math.Sqrt(m2/s))
	}
}

// TestParseBaseline: every named baseline prints back as it was given, and near misses are
// ErrBadBaseline errors that list the choices.
func TestParseBaseline(t *testing.T) {
	for _, s := range []string{"zero", "blur:3", "blur:1.5", "mean", "mean:time", "mean:space"} {
		b, err := ParseBaseline(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got := b.String(); got != s {
			t.Errorf("%q prints as %q", s, got)
		}
	}
	for s, want := range map[string]string{"climatology": "zero", "blur": "blur:3", "mean:all": "mean"} {
		if b, err := ParseBaseline(s); err != nil || b.String() != want {
			t.Errorf("%q: %v, %v (want %s)", s, b, err, want)
		}
	}
	for _, s := range []string{"mean:lag", "mean:", "blur:0", "blur:x", "Mean", ""} {
		_, err := ParseBaseline(s)
		if !errors.Is(err, ErrBadBaseline) {
			t.Errorf("%q: %v, want ErrBadBaseline", s, err)
		} else if strings.HasPrefix(s, "mean") && !strings.Contains(err.Error(), "mean:time") {
			t.Errorf("%q: %v does not list the mean baselines", s, err)
		}
	}
}

// TestMeanBaseline: the mean baselines against means written out literally on the test mask,
// with cos(latitude) weights for means over cells; land stays 0.
func TestMeanBaseline(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	e.RowArea = make([]float64, 35)
	for i := range e.RowArea {
		e.RowArea[i] = math.Cos((grid2deg.LatStart + float64(i)*grid2deg.LatStep) * math.Pi / 180)
	}
	ocean := testOcean()
	x := randomInput(11, ocean)
	// A warm north makes the area weighting matter: unweighted means would come out larger.
	for c := range 36 {
		for i := 25; i < 35; i++ {
			for j := range 63 {
				if ocean[i*63+j] {
					x[c*2205+i*63+j] += 3
				}
			}
		}
	}
	req := Request{Emulator: e, X: x, Ocean: ocean}
	at := func(c, i, j int) float64 { return float64(x[c*2205+i*63+j]) }
	spaceMean := func(c int) (weighted, plain float64) {
		var s, ws, p, n float64
		for i := range 35 {
			for j := range 63 {
				if ocean[i*63+j] {
					w := math.Cos((5 + 2*float64(i)) * math.Pi / 180)
					s, ws, p, n = s+w*at(c, i, j), ws+w, p+at(c, i, j), n+1
				}
			}
		}
		return s / ws, p / n
	}
	var all, allPlain float64
	for c := range 36 {
		w, p := spaceMean(c)
		all, allPlain = all+w/36, allPlain+p/36 // every month has the same ocean cells
	}
	if allPlain-all < 0.1 {
		t.Fatalf("the test field does not tell weighted from plain means: %g against %g", all, allPlain)
	}
	for _, over := range []MeanOver{MeanAll, MeanTime, MeanSpace} {
		b, err := Baseline{Kind: BaselineMean, Over: over}.input(req)
		if err != nil {
			t.Fatal(err)
		}
		for c := range 36 {
			sm, _ := spaceMean(c)
			for i := range 35 {
				for j := range 63 {
					got := float64(b[c*2205+i*63+j])
					if !ocean[i*63+j] {
						if got != 0 {
							t.Fatalf("%v: land (%d,%d) month %d holds %g", over, i, j, c, got)
						}
						continue
					}
					var want float64
					switch over {
					case MeanAll:
						want = all
					case MeanSpace:
						want = sm
					case MeanTime:
						for k := range 36 {
							want += at(k, i, j) / 36
						}
					}
					if math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("%v: (%d,%d) month %d: %g, want %g", over, i, j, c, got, want)
					}
				}
			}
		}
	}
}
