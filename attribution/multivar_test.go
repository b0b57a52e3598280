package attribution

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"climxai/inference"
)

// Emulators that read several input variables. The 36-channel test models stand for
// emulators of two variables of 18 months each: the network is the same, only the card's
// reading of its channels changes, so every result must be the one-variable result relabelled.

// twoVars makes e read two variables of 18 months each.
func twoVars(e *Emulator, newestFirst, monthMajor bool) {
	e.Vars, e.InputZero = []string{"sst", "tsub"}, []float32{0.75}
	e.ZeroAnomaly = -0.25
	e.NewestFirst, e.Layout = newestFirst, inference.VariableMajor
	if monthMajor {
		e.Layout = inference.MonthMajor
	}
}

// literalChannel is the channel of variable v at lag k of an emulator with two variables of 18
// months, written out for each channel order and layout.
func literalChannel(v, k int, newestFirst, monthMajor bool) int {
	pos := 17 - k // oldest first: position 17 is the init month
	if newestFirst {
		pos = k
	}
	if monthMajor {
		return 2*pos + v
	}
	return 18*v + pos
}

func TestMultiVarLagOrder(t *testing.T) {
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
		for _, mm := range []bool{false, true} {
			twoVars(e, newest, mm)
			if e.Months() != 18 || e.Slabs() != 36 || e.NVars() != 2 {
				t.Fatalf("months %d, slabs %d, vars %d", e.Months(), e.Slabs(), e.NVars())
			}
			l := e.toLags(v, ocean)
			for u := range 2 {
				for k := range 18 {
					s := u*18 + k
					if want := float32(literalChannel(u, k, newest, mm)); l[s*n] != want || l[s*n+40] == l[s*n+40] {
						t.Fatalf("newest-first %v month-major %v: variable %d lag %d holds channel %g, want %g (land %g)",
							newest, mm, u, k, l[s*n], want, l[s*n+40])
					}
				}
			}
			checkLagRoundTrip(t, e, v, l, ocean)
		}
	}
}

// TestMultiVarMethods: saliency is the one-variable map relabelled; IG's baseline holds each
// variable's own zero anomaly and IG is complete against f of that literal baseline; occlusion
// by month replaces one (variable, month) by that variable's zero anomaly; the mean baseline
// averages each variable over its own values only.
func TestMultiVarMethods(t *testing.T) {
	ocean := testOcean()
	n := 35 * 63
	x := randomInput(5, ocean)
	for u := range 2 { // the second variable lives on another scale
		for i := 18 * n * u; i < 18*n*(u+1); i++ {
			if ocean[i%n] {
				x[i] = x[i]*float32(1+3*u) + float32(2*u)
			}
		}
	}
	tg := cellTarget(t, "box:41,47,-64,-56", ocean)
	one := openTest(t, "tinyrelu.onnx")
	sal1, err := Saliency{}.Attribute(context.Background(), Request{Emulator: one, X: x, Target: tg, Ocean: ocean})
	if err != nil {
		t.Fatal(err)
	}
	g1 := channelOrder(sal1)
	for _, newest := range []bool{false, true} {
		for _, mm := range []bool{false, true} {
			e := openTest(t, "tinyrelu.onnx")
			twoVars(e, newest, mm)
			req := Request{Emulator: e, X: x, Target: tg, Ocean: ocean}
			sal, err := Saliency{}.Attribute(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if sal.Lags != 18 || len(sal.Vars) != 2 || len(sal.Values) != 36*n {
				t.Fatalf("result of %d lags, vars %v, %d values", sal.Lags, sal.Vars, len(sal.Values))
			}
			for u := range 2 {
				blk := sal.Block(u)
				for k := range 18 {
					c := literalChannel(u, k, newest, mm)
					for i := range n {
						if a, b := blk[k*n+i], g1[c*n+i]; a != b && (a == a || b == b) {
							t.Fatalf("saliency of variable %d lag %d cell %d = %g, channel %d of the one-variable map %g", u, k, i, a, c, b)
						}
					}
				}
			}

			// IG from the zero anomaly: each variable's own.
			b := make([]float32, len(x))
			for c := range 36 {
				z := e.ZeroAnomaly
				if (!mm && c >= 18) || (mm && c%2 == 1) {
					z = e.InputZero[0]
				}
				for i := range n {
					if ocean[i] {
						b[c*n+i] = z
					}
				}
			}
			ig, err := IntegratedGradients{Steps: 64, Quadrature: GaussLegendre}.Attribute(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			want := fOf(t, e, x, tg.Weights) - fOf(t, e, b, tg.Weights)
			if c := ig.Completeness; math.Abs(c.Expected-want) > 1e-5*(1+math.Abs(want)) || c.Relative > 0.02 {
				t.Errorf("IG: expected %g, literal f(x) - f(zero anomalies) %g; relative delta %.3g", c.Expected, want, c.Relative)
			}

			// Mean baseline: variable 1's block is the mean of variable 1's ocean values.
			mb, err := Baseline{Kind: BaselineMean}.input(req)
			if err != nil {
				t.Fatal(err)
			}
			for u := range 2 {
				var s, ws float64
				for k := range 18 {
					c := literalChannel(u, k, newest, mm)
					for i := range n {
						if ocean[i] {
							w := e.rowWeights()[i/63]
							s, ws = s+w*float64(x[c*n+i]), ws+w
						}
					}
				}
				c := literalChannel(u, 3, newest, mm)
				if got := float64(mb[c*n+100]); math.Abs(got-s/ws) > 1e-5*(1+math.Abs(s/ws)) {
					t.Errorf("mean baseline of variable %d = %g, want %g", u, got, s/ws)
				}
			}
		}
	}

	// Occlusion by month: a (variable, month) replaced by that variable's zero anomaly.
	e := openTest(t, "tinyrelu.onnx")
	twoVars(e, false, true)
	occ, err := Occlusion{Window: OcclusionWindow{Mode: OccludeMonth}}.Attribute(context.Background(), Request{Emulator: e, X: x, Target: tg, Ocean: ocean})
	if err != nil {
		t.Fatal(err)
	}
	fx := fOf(t, e, x, tg.Weights)
	cells := 0
	for _, o := range ocean {
		if o {
			cells++
		}
	}
	for _, vk := range [][2]int{{0, 0}, {1, 0}, {1, 5}, {0, 17}} {
		u, k := vk[0], vk[1]
		c := literalChannel(u, k, false, true)
		xo := append([]float32(nil), x...)
		for i := range n {
			if ocean[i] {
				xo[c*n+i] = e.zero(u)
			}
		}
		want := (fx - fOf(t, e, xo, tg.Weights)) / float64(cells)
		if got := float64(occ.Block(u)[k*n+100]); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
			t.Errorf("occlusion of variable %d lag %d = %g, literal %g", u, k, got, want)
		}
	}

	// A custom baseline holds a block per variable, in lag order.
	blocks := make([]float32, len(x))
	for i := range blocks {
		blocks[i] = float32(i / (18 * n)) // 0 in variable 0's block, 1 in variable 1's
	}
	cb, err := Baseline{Kind: BaselineCustom, Values: blocks}.input(Request{Emulator: e, X: x, Target: tg, Ocean: ocean})
	if err != nil {
		t.Fatal(err)
	}
	for u := range 2 {
		if c := literalChannel(u, 7, false, true); cb[c*n+100] != float32(u) || cb[c*n+40] != 0 {
			t.Errorf("custom baseline of variable %d in channel %d: %g (land %g)", u, c, cb[c*n+100], cb[c*n+40])
		}
	}
	if _, err := (Baseline{Kind: BaselineCustom, Values: blocks[:18*n]}).input(Request{Emulator: e, X: x, Target: tg, Ocean: ocean}); !errors.Is(err, ErrBadBaseline) || !strings.Contains(err.Error(), "2 input variables") {
		t.Errorf("a one-variable baseline for two variables: %v", err)
	}
}

// TestMultiVarFidelityNeedsEveryVariable: a truth without coefficients of each variable the
// emulator reads, in its order, is refused, saying what the emulator reads and what the truth
// holds.
func TestMultiVarFidelityNeedsEveryVariable(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	twoVars(e, false, false)
	ocean := testOcean()
	for _, vars := range [][]string{nil, {"sst"}, {"tsub", "sst"}} {
		_, err := Fidelity{}.Run(context.Background(), FidelityRequest{Emulator: e, N: 1, Ocean: ocean,
			Fill:  func(int, []float32) error { return nil },
			Truth: GroundTruth{Target: cellTarget(t, "45,-60", ocean), Coef: make([]float32, e.sampleLen()), Vars: vars}})
		if !errors.Is(err, ErrTruthVariables) || !strings.Contains(err.Error(), "sst, tsub") || !strings.Contains(err.Error(), "synth --subsurface --truth") {
			t.Errorf("fidelity on two variables with a truth of %v: %v", vars, err)
		}
	}
}

// TestMultiVarAblation: ablating beyond a radius or a lag sets every input variable to its own
// zero anomaly there, and removing a variable sets all of it, checked against forward runs of
// inputs masked here.
func TestMultiVarAblation(t *testing.T) {
	e := openTest(t, "tinyrelu.onnx")
	twoVars(e, true, false)
	ocean := testOcean()
	n := 35 * 63
	xs := [][]float32{randomInput(8, ocean), randomInput(9, ocean)}
	tg := cellTarget(t, "box:41,47,-64,-56", ocean)
	res, err := Ablation{RadiiKm: []float64{500}, Lags: []int{4}, Variables: true}.Run(context.Background(), AblationRequest{
		Emulator: e, Target: tg, Ocean: ocean, Grid: grid2deg, N: 2, Truth: []float64{0, 1},
		Fill: func(k int, x []float32) error { copy(x, xs[k]); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	dist := Distances(tg, grid2deg)
	for k, x := range xs {
		far, old := append([]float32(nil), x...), append([]float32(nil), x...)
		without := [2][]float32{append([]float32(nil), x...), append([]float32(nil), x...)}
		for u := range 2 {
			for lag := range 18 {
				c := literalChannel(u, lag, true, false)
				for i := range n {
					if !ocean[i] {
						continue
					}
					if dist[i] > 500 {
						far[c*n+i] = e.zero(u)
					}
					if lag >= 4 {
						old[c*n+i] = e.zero(u)
					}
					without[u][c*n+i] = e.zero(u)
				}
			}
		}
		for v, want := range []float64{fOf(t, e, x, tg.Weights), fOf(t, e, far, tg.Weights), fOf(t, e, old, tg.Weights),
			fOf(t, e, without[0], tg.Weights), fOf(t, e, without[1], tg.Weights)} {
			if got := res.Predictions[v][k]; math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
				t.Errorf("sample %d variant %d: %g, literal %g", k, v, got, want)
			}
		}
	}
	if len(res.Variable) != 2 || len(res.Vars) != 2 {
		t.Errorf("skill without each variable: %+v for %v", res.Variable, res.Vars)
	}
	one := openTest(t, "tinyrelu.onnx")
	if _, err := (Ablation{Variables: true}).Run(context.Background(), AblationRequest{Emulator: one, Target: tg, Ocean: ocean,
		Grid: grid2deg, N: 2, Truth: []float64{0, 1}, Fill: func(k int, x []float32) error { return nil }}); !errors.Is(err, ErrBadParameter) {
		t.Errorf("removing the variables of a one-variable emulator: %v", err)
	}
}
