package attribution

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"climxai/attribution/backward"
)

// wholeGrid opens name with the windowed graphs switched off: every part "has no local tail".
func wholeGrid(t *testing.T, name string) *Emulator {
	e := openTest(t, name)
	e.crops = map[part]*backward.Crop{whole: nil, tailPart: nil}
	return e
}

// sameMap fails the test when got differs from want by more than tol of want's largest value.
func sameMap(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if d, s := maxDiff(got, want); s == 0 || d > tol*s {
		t.Errorf("%s differs by %.3g of %.3g", what, d, s)
	}
}

// maxDiff is the largest |a-b| over non-NaN elements and the largest |b|.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i, v := range b {
		if v == v {
			diff = max(diff, math.Abs(float64(a[i]-v)))
			scale = max(scale, math.Abs(float64(v)))
		}
	}
	return diff, scale
}

// TestWindowedGraphsMatchWholeGrid: on the reference DenseNet (random weights, 2°), whose last two
// 3 x 3 convolutions run on a 5 x 5 window around a cell target and its last dense block (from
// the half-resolution Resize on) on 11 x 11 cells of the half grid, saliency at cells in the
// corners, on the edges and inside, and at a box, IG (whose steps stop at the first layer) and an
// aggregation over samples equal the whole-grid graphs' results.
func TestWindowedGraphsMatchWholeGrid(t *testing.T) {
	e, ref := openTest(t, "random2deg.onnx"), wholeGrid(t, "random2deg.onnx")
	c, err := e.crop(whole)
	if err != nil || c == nil {
		t.Fatalf("crop: %v, %v; want the DenseNet's last two convolutions", c, err)
	}
	if c.Lo != [2]int64{2, 2} || c.Hi != [2]int64{2, 2} {
		t.Errorf("tail reads %v before and %v after a cell, want 2 and 2", c.Lo, c.Hi)
	}
	if ls := c.LowSize([2]int64{5, 5}); c.WindowWidth() != 4 || ls != [2]int64{11, 11} {
		t.Errorf("the last dense block runs on %v windows (window input of %d values), want 11 x 11 (4)", ls, c.WindowWidth())
	}
	ctx := context.Background()
	x := goldenInput(t)
	for _, spec := range []string{"5,-100", "73,24", "5,0", "41,-100", "45,-60", "box:41,47,-64,-56"} {
		tg := cellTarget(t, spec, nil)
		got, err := Saliency{}.Attribute(ctx, Request{Emulator: e, X: x, Target: tg})
		if err != nil {
			t.Fatal(err)
		}
		want, err := Saliency{}.Attribute(ctx, Request{Emulator: ref, X: x, Target: tg})
		if err != nil {
			t.Fatal(err)
		}
		sameMap(t, spec+": saliency", got.Values, want.Values, 1e-6)
		if math.Abs(got.Output-want.Output) > 1e-5*(1+math.Abs(want.Output)) {
			t.Errorf("%s: output %g, want %g", spec, got.Output, want.Output)
		}
	}
	windowed := 0
	for k := range e.graphs {
		if strings.Contains(k, "tail on 5x5") {
			windowed++
		}
	}
	if windowed != 1 {
		t.Errorf("%d windowed 5x5 graphs for the cell targets, want one shared", windowed)
	}

	// One batch, every window its own target: each sample's tail runs on its own window.
	var xs []float32
	var each []Target
	for k, spec := range []string{"5,-100", "73,24", "45,-60", "box:41,47,-64,-56"} {
		xs = append(xs, randomInput(uint64(40+k), nil)...)
		each = append(each, cellTarget(t, spec, nil))
	}
	batch := func(e *Emulator) []*Result {
		rs, err := Saliency{}.AttributeBatch(ctx, BatchRequest{Emulator: e, X: xs, Targets: each})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	gotB, wantB := batch(e), batch(ref)
	for k := range each {
		sameMap(t, fmt.Sprintf("batch, window %d (%s): saliency", k, each[k]), gotB[k].Values, wantB[k].Values, 1e-6)
	}
	if _, ok := e.graphs[gradientRules.key+", tail on 8x16 cells"]; !ok {
		t.Errorf("the batch of cells and a box did not share the box's window")
	}

	tg := cellTarget(t, "45,-60", nil)
	ig := IntegratedGradients{Steps: 8, Quadrature: Riemann}
	got, err := ig.Attribute(ctx, Request{Emulator: e, X: x, Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	want, err := ig.Attribute(ctx, Request{Emulator: ref, X: x, Target: tg})
	if err != nil {
		t.Fatal(err)
	}
	sameMap(t, "IG", got.Values, want.Values, 1e-5)
	if _, ok := e.graphs[tailRules.key+", tail on 5x5 cells"]; !ok {
		t.Errorf("IG's steps did not run the windowed graph of the part after the first layer")
	}

	fill := func(k int, dst []float32) error {
		copy(dst, x)
		for i := range dst {
			dst[i] *= 1 + 0.1*float32(k%5)
		}
		dst[k*97] += 1
		return nil
	}
	agg := func(e *Emulator) *Aggregate {
		s, _, err := AggregateSamples(ctx, AggregateRequest{Emulator: e, Method: Saliency{}, Target: tg, Samples: 6, Fill: fill})
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.Mean()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	sameMap(t, "aggregate", agg(e).MeanAbs, agg(ref).MeanAbs, 1e-6)
	// Several targets in one pass (decaymap's path): each row's window is its target's.
	targets := func(e *Emulator) []*Aggregate {
		out := make([]*Aggregate, len(each))
		_, err := AggregateTargets(ctx, TargetsRequest{Emulator: e, Method: Saliency{}, Targets: each, Samples: 3, Fill: fill,
			Done: func(i int, s *Sums) error {
				a, err := s.Mean()
				out[i] = a
				return err
			}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	gotT, wantT := targets(e), targets(ref)
	for i := range each {
		sameMap(t, "targets' aggregate, "+each[i].String(), gotT[i].MeanAbs, wantT[i].MeanAbs, 1e-6)
	}
}
