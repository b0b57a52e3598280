package attribution

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"climxai/inference"
	"climxai/onnx"
)

// linearTruth returns coefficients [lag][lat][lon] that are non-zero on the 5 x 5 cells around
// (row, col), with signs mixed unless positive, NaN on land.
func linearTruth(seed uint64, row, col int, ocean []bool, positive bool) []float32 {
	rng := rand.New(rand.NewPCG(seed, 5))
	n := 35 * 63
	w := make([]float32, 36*n)
	for l := range 36 {
		for i := range n {
			r, c := i/63, i%63
			switch {
			case ocean != nil && !ocean[i]:
				w[l*n+i] = float32(math.NaN())
			case r >= row-2 && r <= row+2 && c >= col-2 && c <= col+2:
				v := rng.NormFloat64() * math.Exp(-float64(l)/6)
				if positive {
					v = math.Abs(v)
				}
				w[l*n+i] = float32(v)
			}
		}
	}
	return w
}

// openLinear writes LinearEmulatorModel(w, tg) and opens it.
func openLinear(t *testing.T, w []float32, tg Target) *Emulator {
	t.Helper()
	m, err := LinearEmulatorModel(w, tg, 36, 35, 63, false)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "linear.onnx")
	if err := onnx.Save(path, m); err != nil {
		t.Fatal(err)
	}
	return openTest(t, path)
}

func scoresOf(t *testing.T, res *FidelityResult, name string) FidelityScores {
	t.Helper()
	for _, s := range res.Scores {
		if s.Method == name {
			return s
		}
	}
	t.Fatalf("no scores for %s", name)
	return FidelityScores{}
}

// TestFidelityLinearTruth: when the emulator IS the truth's linear predictor, IG and DeepLIFT
// (zero-anomaly baseline) equal the truth's linear attribution w·(x − x0) sample by
// sample (correlation 1), |saliency| = |w| so its aggregate correlates perfectly with |w|, the
// truth's own ranking gives the lowest possible deletion curve (it removes the largest
// contributions first), and the randomised model changes the maps.
func TestFidelityLinearTruth(t *testing.T) {
	ocean := testOcean()
	tg := cellTarget(t, "45,-40", ocean)
	w := linearTruth(3, tg.Row, tg.Col, ocean, false)
	e := openLinear(t, w, tg)
	e.ZeroAnomaly = 0.3 // a card with scale_mean -0.3: contributions are w·(x - 0.3)
	rnd, err := e.Randomized(t.TempDir(), 7)
	if err != nil {
		t.Fatal(err)
	}
	xs := [][]float32{randomInput(1, ocean), randomInput(2, ocean), randomInput(3, ocean)}
	for _, x := range xs {
		for i := range x {
			if ocean[i%(35*63)] {
				x[i] += 0.3
			}
		}
	}
	methods := []Method{Saliency{}, InputXGradient{}, IntegratedGradients{Steps: 4}, DeepLIFT{}, Occlusion{Window: OcclusionWindow{Mode: OccludeMonth}}}
	calls := 0
	res, err := Fidelity{Steps: 20}.Run(context.Background(), FidelityRequest{Emulator: e, Randomized: rnd, Methods: methods,
		Truth: GroundTruth{Target: tg, Coef: w}, Ocean: ocean, N: len(xs),
		Fill:     func(k int, x []float32) error { copy(x, xs[k]); return nil },
		Progress: func(done, total int) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3*7 || res.Samples != 3 || res.Neighbourhood != 25 || len(res.Scores) != 7 || res.Scores[0].Method != TruthName || res.Scores[1].Method != RandomName {
		t.Fatalf("progress calls %d, result %+v", calls, res)
	}
	for _, s := range res.Scores {
		t.Logf("%-10s sample r %.4f ρ %.4f (grid %.4f %.4f)  agg r %.4f ρ %.4f (grid %.4f %.4f)  random |.| %.3f signed %.3f  del %.4f ins %.4f",
			s.Method, s.SamplePearson, s.SampleSpearman, s.SamplePearsonGrid, s.SampleSpearmanGrid,
			s.AggPearson, s.AggSpearman, s.AggPearsonGrid, s.AggSpearmanGrid, s.RandomAbs, s.RandomSigned, s.DeletionAUC, s.InsertionAUC)
	}
	truth := res.Scores[0]
	for _, name := range []string{"ig", "deeplift"} {
		s := scoresOf(t, res, name)
		if s.SamplePearson < 0.9999 || s.SampleSpearman < 0.999 || s.SamplePearsonGrid < 0.9999 {
			t.Errorf("%s: per-sample correlation with w·(x − x0) %.5f / %.5f / %.5f, want 1", name, s.SamplePearson, s.SampleSpearman, s.SamplePearsonGrid)
		}
		if math.Abs(s.DeletionAUC-truth.DeletionAUC) > 1e-3 || math.Abs(s.InsertionAUC-truth.InsertionAUC) > 1e-3 {
			t.Errorf("%s: deletion/insertion areas %.4f/%.4f, the truth's %.4f/%.4f", name, s.DeletionAUC, s.InsertionAUC, truth.DeletionAUC, truth.InsertionAUC)
		}
		if s.RandomSigned > 0.5 {
			t.Errorf("%s: signed maps on the randomised model correlate %.3f", name, s.RandomSigned)
		}
	}
	// Input x gradient is w·x, not w·(x − x0): with a zero anomaly of 0.3 it is not the truth.
	if s := scoresOf(t, res, "ixg"); s.SamplePearson > 0.99 {
		t.Errorf("ixg: per-sample correlation %.4f with a non-zero zero anomaly", s.SamplePearson)
	}
	sal := scoresOf(t, res, "saliency")
	if sal.AggPearson < 0.9999 || sal.AggSpearman < 0.9999 || sal.AggPearsonGrid < 0.9999 {
		t.Errorf("saliency aggregate vs |w|: %.5f %.5f %.5f, want 1", sal.AggPearson, sal.AggSpearman, sal.AggPearsonGrid)
	}
	// Curves: 1 -> 0 and 0 -> 1; the truth's deletion curve is pointwise the lowest.
	for _, s := range res.Scores {
		last := len(s.Deletion) - 1
		if math.Abs(s.Deletion[0]-1) > 1e-4 || math.Abs(s.Deletion[last]) > 1e-4 || math.Abs(s.Insertion[0]) > 1e-4 || math.Abs(s.Insertion[last]-1) > 1e-4 {
			t.Errorf("%s: curve ends deletion %g..%g insertion %g..%g", s.Method, s.Deletion[0], s.Deletion[last], s.Insertion[0], s.Insertion[last])
		}
		for k := range s.Deletion {
			if truth.Deletion[k] > s.Deletion[k]+1e-4 || truth.Insertion[k] < s.Insertion[k]-1e-4 {
				t.Errorf("%s beats the truth's ranking at step %d: deletion %g < %g or insertion %g > %g", s.Method, k,
					s.Deletion[k], truth.Deletion[k], s.Insertion[k], truth.Insertion[k])
				break
			}
		}
	}
	// The random ranking is at chance: correlations near 0, areas between the truth's.
	if r := scoresOf(t, res, RandomName); math.Abs(r.SamplePearson) > 0.1 || math.Abs(r.AggPearson) > 0.3 ||
		!(r.DeletionAUC > truth.DeletionAUC+0.5 && r.InsertionAUC < truth.InsertionAUC-0.5) {
		t.Errorf("random ranking: %+v", r)
	}
	if !(truth.DeletionAUC < 0.2 && truth.InsertionAUC > 0.8) {
		t.Errorf("truth areas deletion %.3f insertion %.3f", truth.DeletionAUC, truth.InsertionAUC)
	}
}

// TestFidelityDeletionMonotone: with positive coefficients and positive anomalies every
// feature's contribution is positive, so removing features in any order can only lower the
// forecast: the deletion curve falls monotonically and insertion rises. With the truth's order
// the curve is exactly 1 − (sum of the largest contributions removed) / (sum of all), which is
// computed here by hand.
func TestFidelityDeletionMonotone(t *testing.T) {
	tg := cellTarget(t, "45,-40", nil)
	w := linearTruth(4, tg.Row, tg.Col, nil, true)
	e := openLinear(t, w, tg)
	x := randomInput(5, nil)
	for i := range x {
		x[i] = float32(math.Abs(float64(x[i])))
	}
	const steps = 10
	res, err := Fidelity{Steps: steps}.Run(context.Background(), FidelityRequest{Emulator: e, Methods: []Method{Saliency{}, InputXGradient{}},
		Truth: GroundTruth{Target: tg, Coef: w}, N: 1, Fill: func(k int, dst []float32) error { copy(dst, x); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	xl := e.toLags(x, nil)
	var c []float64
	var total float64
	for i := range w {
		v := float64(w[i]) * float64(xl[i])
		c = append(c, v)
		total += v
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(c)))
	truth := res.Scores[0]
	for k := range steps + 1 {
		cnt := int(math.Round(float64(k) * float64(len(c)) / steps))
		var removed float64
		for _, v := range c[:cnt] {
			removed += v
		}
		if want := 1 - removed/total; math.Abs(truth.Deletion[k]-want) > 1e-4 {
			t.Errorf("deletion[%d] = %.6f, want %.6f", k, truth.Deletion[k], want)
		}
	}
	for _, s := range res.Scores {
		for k := 1; k <= steps; k++ {
			if s.Deletion[k] > s.Deletion[k-1]+1e-5 || s.Insertion[k] < s.Insertion[k-1]-1e-5 {
				t.Errorf("%s: not monotone at step %d: deletion %v insertion %v", s.Method, k, s.Deletion, s.Insertion)
				break
			}
		}
	}
	// Zero anomaly 0: input x gradient is the truth's attribution.
	if s := res.Scores[3]; s.SamplePearson < 0.9999 || math.Abs(s.DeletionAUC-truth.DeletionAUC) > 1e-4 {
		t.Errorf("ixg: correlation %.5f, deletion area %.5f (truth %.5f)", s.SamplePearson, s.DeletionAUC, truth.DeletionAUC)
	}
	if !math.IsNaN(res.Scores[2].RandomAbs) {
		t.Errorf("randomisation without a randomised model: %g, want NaN", res.Scores[2].RandomAbs)
	}
}

// TestRandomizeWeights permutes the weight tensors only: same multiset of values, other order,
// shapes and other initializers untouched.
func TestRandomizeWeights(t *testing.T) {
	tg := cellTarget(t, "45,-40", nil)
	w := linearTruth(6, tg.Row, tg.Col, nil, false)
	m, err := LinearEmulatorModel(w, tg, 36, 35, 63, false)
	if err != nil {
		t.Fatal(err)
	}
	r, changed, err := RandomizeWeights(m, 1)
	if err != nil || changed != 1 {
		t.Fatalf("changed %d, %v", changed, err)
	}
	for i, init := range m.Graph.Initializer {
		a, _ := onnx.Float32s(init)
		b, _ := onnx.Float32s(r.Graph.Initializer[i])
		if init.Name != "w" {
			if len(init.RawData) != len(r.Graph.Initializer[i].RawData) {
				t.Errorf("%s changed", init.Name)
			}
			continue
		}
		same := 0
		var sa, sb float64
		for j := range a {
			if a[j] == b[j] {
				same++
			}
			sa += float64(a[j])
			sb += float64(b[j])
		}
		if same == len(a) || math.Abs(sa-sb) > 1e-3 {
			t.Errorf("w: %d of %d values in place, sums %g and %g", same, len(a), sa, sb)
		}
	}
	if _, err := (Fidelity{}).Run(context.Background(), FidelityRequest{Emulator: openTest(t, "tiny.onnx"), N: 1,
		Truth: GroundTruth{Target: tg, Coef: make([]float32, 36*35*63)}, Fill: func(int, []float32) error { return nil }}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("all-zero truth: %v, want ErrBadRequest", err)
	}
}

// TestTruthInModelUnits: the gradient of the model with respect to input v is coef_v ·
// scale_std_v / scale_std_out; NaN stays NaN, and the forecast variable's own coefficients are
// unchanged bit for bit.
func TestTruthInModelUnits(t *testing.T) {
	nan := float32(math.NaN())
	sst := []float32{0.1, -0.3, nan}
	got, err := TruthInModelUnits([][]float32{sst, {3, 4, 0}}, []float64{0.7, 2.8}, 0.7)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{0.1, -0.3, nan, 12, 16, 0}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(want[i] != want[i] && got[i] != got[i]) && math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Errorf("[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	for i := range sst {
		if math.Float32bits(got[i]) != math.Float32bits(sst[i]) {
			t.Errorf("forecast variable's coefficient %d changed: %v -> %v", i, sst[i], got[i])
		}
	}
	for _, tc := range []struct {
		name   string
		blocks [][]float32
		in     []float64
		out    float64
	}{
		{"no blocks", nil, nil, 1},
		{"scalings missing", [][]float32{sst, sst}, []float64{1}, 1},
		{"zero output std", [][]float32{sst}, []float64{1}, 0},
		{"negative input std", [][]float32{sst, sst}, []float64{1, -2}, 1},
		{"blocks of other sizes", [][]float32{sst, sst[:2]}, []float64{1, 1}, 1},
	} {
		if _, err := TruthInModelUnits(tc.blocks, tc.in, tc.out); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v, want ErrBadRequest", tc.name, err)
		}
	}
}

// TestFidelityLinearTruthTwoVars: an emulator of two input variables (18 months each, months
// interleaved, newest first, each variable with its own non-zero zero anomaly) that IS a
// two-variable truth's linear predictor. Saliency is the truth's coefficients exactly, so its
// aggregate correlates 1 with |w| overall and within each variable and puts the share of |w|
// on each; IG and DeepLIFT from the zero-anomaly baseline are the truth's contributions sample
// by sample, overall and within each variable, with the truth's shares and deletion curve;
// deletion removes every variable's features (each to its own zero anomaly), so every curve
// ends at climatology's forecast.
func TestFidelityLinearTruthTwoVars(t *testing.T) {
	ocean := testOcean()
	n := 35 * 63
	tg := cellTarget(t, "45,-40", ocean)
	// Two 18-month blocks: variable 0's from one truth, variable 1's from another, the second
	// three times larger so that the shares are far from even.
	w0, w1 := linearTruth(3, tg.Row, tg.Col, ocean, false), linearTruth(4, tg.Row, tg.Col, ocean, false)
	w := append(append([]float32(nil), w0[:18*n]...), w1[:18*n]...)
	for i := 18 * n; i < len(w); i++ {
		w[i] *= 3
	}
	m, err := LinearEmulatorModelVars(w, tg, 2, 18, 35, 63, true, inference.MonthMajor)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "linear2.onnx")
	if err := onnx.Save(path, m); err != nil {
		t.Fatal(err)
	}
	e := openTest(t, path)
	twoVars(e, true, true) // zero anomalies -0.25 (sst) and 0.75 (tsub)
	xs := [][]float32{randomInput(1, ocean), randomInput(2, ocean), randomInput(3, ocean)}
	for _, x := range xs {
		for c := range 36 {
			z := e.zero(c % 2) // month-major: channel c holds variable c%2
			for i := range n {
				if ocean[i] {
					x[c*n+i] += z
				}
			}
		}
	}
	// Saliency on the emulator is the truth, feature for feature.
	sal, err := Saliency{}.Attribute(context.Background(), Request{Emulator: e, X: xs[0], Target: tg, Ocean: ocean})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range sal.Values {
		if wv := w[i]; (wv == wv) != (v == v) || wv == wv && math.Abs(float64(v-wv)) > 1e-6 {
			t.Fatalf("saliency feature %d (variable %d) = %v, the truth's coefficient %v", i, i/(18*n), v, wv)
		}
	}
	const steps = 12
	res, err := Fidelity{Steps: steps}.Run(context.Background(), FidelityRequest{Emulator: e,
		Methods: []Method{Saliency{}, InputXGradient{}, IntegratedGradients{Steps: 4}, DeepLIFT{}},
		Truth:   GroundTruth{Target: tg, Coef: w, Vars: []string{"sst", "tsub"}}, Ocean: ocean, N: len(xs),
		Fill: func(k int, x []float32) error { copy(x, xs[k]); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Vars, []string{"sst", "tsub"}) || len(res.WeightShares) != 2 || res.Neighbourhood != 25 {
		t.Fatalf("vars %v, weight shares %v, neighbourhood %d", res.Vars, res.WeightShares, res.Neighbourhood)
	}
	// |w|'s shares, literally.
	var sums [2]float64
	for i, v := range w {
		if v == v && ocean[i%n] {
			sums[i/(18*n)] += math.Abs(float64(v))
		}
	}
	if want := sums[1] / (sums[0] + sums[1]); math.Abs(res.WeightShares[1]-want) > 1e-9 || want < 0.6 {
		t.Errorf("tsub's share of |w| %.6f, want %.6f (above 0.6)", res.WeightShares[1], want)
	}
	for _, s := range res.Scores {
		t.Logf("%-9s r %.4f (sst %.4f tsub %.4f)  agg r %.4f (sst %.4f tsub %.4f)  tsub share %.4f  del %.4f ins %.4f",
			s.Method, s.SamplePearson, s.VarSamplePearson[0], s.VarSamplePearson[1], s.AggPearson, s.VarAggPearson[0], s.VarAggPearson[1],
			s.VarShares[1], s.DeletionAUC, s.InsertionAUC)
		if len(s.VarShares) != 2 || len(s.VarSamplePearson) != 2 || len(s.VarAggPearson) != 2 || math.Abs(s.VarShares[0]+s.VarShares[1]-1) > 1e-9 {
			t.Errorf("%s: per-variable scores %v %v %v", s.Method, s.VarShares, s.VarSamplePearson, s.VarAggPearson)
		}
		last := len(s.Deletion) - 1
		if math.Abs(s.Deletion[last]) > 1e-4 || math.Abs(s.Insertion[last]-1) > 1e-4 || math.Abs(s.Deletion[0]-1) > 1e-4 || math.Abs(s.Insertion[0]) > 1e-4 {
			t.Errorf("%s: deletion %g..%g, insertion %g..%g; want 1..0 and 0..1 (every variable removed)", s.Method, s.Deletion[0], s.Deletion[last], s.Insertion[0], s.Insertion[last])
		}
	}
	truth := res.Scores[0]
	sal2 := scoresOf(t, res, "saliency")
	if sal2.AggPearson < 0.9999 || sal2.VarAggPearson[0] < 0.9999 || sal2.VarAggPearson[1] < 0.9999 || math.Abs(sal2.VarShares[1]-res.WeightShares[1]) > 1e-6 {
		t.Errorf("saliency: aggregate r %.5f (per variable %v), tsub share %.5f; want 1 and |w|'s share %.5f", sal2.AggPearson, sal2.VarAggPearson, sal2.VarShares[1], res.WeightShares[1])
	}
	for _, name := range []string{"ig", "deeplift"} {
		s := scoresOf(t, res, name)
		if s.SamplePearson < 0.9999 || s.VarSamplePearson[0] < 0.9999 || s.VarSamplePearson[1] < 0.9999 || math.Abs(s.VarShares[1]-truth.VarShares[1]) > 1e-4 {
			t.Errorf("%s: per-sample r %.5f (per variable %v), tsub share %.5f; want 1 and the truth's share %.5f", name, s.SamplePearson, s.VarSamplePearson, s.VarShares[1], truth.VarShares[1])
		}
		if math.Abs(s.DeletionAUC-truth.DeletionAUC) > 1e-3 || math.Abs(s.InsertionAUC-truth.InsertionAUC) > 1e-3 {
			t.Errorf("%s: deletion/insertion areas %.4f/%.4f, the truth's %.4f/%.4f", name, s.DeletionAUC, s.InsertionAUC, truth.DeletionAUC, truth.InsertionAUC)
		}
	}
	// Input x gradient is w·x: with non-zero zero anomalies it is not the truth.
	if s := scoresOf(t, res, "ixg"); s.SamplePearson > 0.99 {
		t.Errorf("ixg: per-sample correlation %.4f with non-zero zero anomalies", s.SamplePearson)
	}
	if !(truth.DeletionAUC < 0.2 && truth.InsertionAUC > 0.8) {
		t.Errorf("truth areas deletion %.3f insertion %.3f", truth.DeletionAUC, truth.InsertionAUC)
	}
}
