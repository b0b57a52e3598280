package attribution

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"climxai/dataset"
	"climxai/dataset/synth"
	"climxai/inference"
)

// cardData loads a card and prepares synthetic SST of cfg for it.
func cardData(t *testing.T, card string, cfg synth.Config) (*inference.Card, *dataset.Prepared) {
	t.Helper()
	c, err := inference.LoadCard(card)
	if err != nil {
		t.Fatal(err)
	}
	syn, err := synth.Generate(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dataset.Prepare(syn.SST, c.Grid, c.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// TestCardIGCompleteness is proof (c) through the whole chain a user runs: a card over the
// reference DenseNet (with a scaling whose zero anomaly is -0.25 in model units), synthetic SST
// prepared by the card, a named-box target on the data's ocean mask, and IG at 64 steps against
// the zero-anomaly baseline, complete within 1%.
func TestCardIGCompleteness(t *testing.T) {
	if testing.Short() {
		t.Skip("reference DenseNet in -short mode")
	}
	card, p := cardData(t, filepath.Join("testdata", "random2deg.toml"), synth.Config{Years: 4, Grid: 2, Seed: 5})
	init := p.Inits(1, 36)[0]
	x := make([]float32, 36*35*63)
	if err := card.Window(p, init, x); err != nil {
		t.Fatal(err)
	}
	e, err := OpenEmulator(testRT, card, 1, inference.Options{Device: inference.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if e.ZeroAnomaly != -0.25 {
		t.Fatalf("zero anomaly %g in model units, want -0.25", e.ZeroAnomaly)
	}
	land := 0
	for _, o := range p.Ocean {
		if !o {
			land++
		}
	}
	for _, spec := range []string{"spg"} {
		tg, err := ParseTarget(spec, card.Grid, p.Ocean)
		if err != nil {
			t.Fatal(err)
		}
		req := Request{Emulator: e, X: x, Target: tg, Ocean: p.Ocean}
		b, err := Baseline{}.input(req)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range b {
			if want := map[bool]float32{true: -0.25, false: 0}[p.Ocean[i%(35*63)]]; v != want {
				t.Fatalf("baseline %g at %d, want %g", v, i, want)
			}
		}
		res, err := IntegratedGradients{Steps: 64}.Attribute(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Completeness
		t.Logf("%s, init %s, %d land cells: Σ IG = %.6g, f(x) - f(b) = %.6g, delta %.3g (%.3g%%), %v",
			tg, init, land, c.Sum, c.Expected, c.Delta, 100*c.Relative, res.Duration)
		if c.Relative > 0.01 {
			t.Errorf("completeness off by %.3g%%", 100*c.Relative)
		}
	}
}

// TestDemoIGCompleteness is proof (c) on the demo emulators (resources/emulators/demo, trained
// ReLU networks whose IG integrand jumps along the path; README, IG completeness): for every
// lead, IG with 64 adaptive steps at eight forecasts 25 years apart in the test years (801-1000)
// of the demo's synthetic ocean, at a cell and the subpolar-gyre box. Measured (16 forecasts a
// lead): 13, 14 and 7 within 1% at leads 1, 6 and 9, medians 0.21%, 0.24% and 1.2%; the uniform
// trapezoid on the same forecasts: 13, 13 and 3, medians 0.35%, 0.37% and 3.3%. So the test asks
// 12 of 16 and a median below 0.5% at leads 1 and 6, and at lead 9, where 64 steps do not reach
// 1% for every forecast, 6 of 16 and a median below 2%: the uniform rule, or a regression in the
// quadrature or the gradients, fails it.
func TestDemoIGCompleteness(t *testing.T) {
	if testing.Short() {
		t.Skip("demo emulators in -short mode")
	}
	card, p := cardData(t, filepath.Join("..", "resources", "emulators", "demo", "card.toml"), synth.Config{Years: 1000, Grid: 2, Seed: 1})
	x := make([]float32, 36*35*63)
	for _, lead := range card.Leads() {
		e, err := OpenEmulator(testRT, card, lead, inference.Options{Device: inference.CPU, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		inits := p.Inits(lead, 36)
		var rel []float64
		for _, spec := range []string{"39,-38", "spg"} {
			tg, err := ParseTarget(spec, card.Grid, p.Ocean)
			if err != nil {
				t.Fatal(err)
			}
			for k := range 8 {
				init := inits[len(inits)-1-k*300]
				if err := card.Window(p, init, x); err != nil {
					t.Fatal(err)
				}
				res, err := IntegratedGradients{Steps: 64, Quadrature: Adaptive}.Attribute(context.Background(),
					Request{Emulator: e, X: x, Target: tg, Ocean: p.Ocean})
				if err != nil {
					t.Fatal(err)
				}
				rel = append(rel, res.Completeness.Relative)
			}
		}
		within := 0
		for _, r := range rel {
			if r <= 0.01 {
				within++
			}
		}
		slices.Sort(rel)
		median := (rel[len(rel)/2-1] + rel[len(rel)/2]) / 2
		t.Logf("lead %d: %d of %d within 1%%, median %.3g%%, worst %.3g%%", lead, within, len(rel), 100*median, 100*rel[len(rel)-1])
		wantWithin, wantMedian := 12, 0.005
		if lead == 9 {
			wantWithin, wantMedian = 6, 0.02
		}
		if median > wantMedian || within < wantWithin {
			t.Errorf("lead %d: %d of %d forecasts within 1%% (median %.3g%%); want %d or more and a median below %.3g%%",
				lead, within, len(rel), 100*median, wantWithin, 100*wantMedian)
		}
	}
}
