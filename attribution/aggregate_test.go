package attribution

import (
	"context"
	"errors"
	"math"
	"runtime"
	"testing"
)

// TestSumsKnownAnswer: two samples whose normalised values are known give the literal mean,
// signed mean and sample standard deviation; samples with a zero or infinite sum, or NaN on
// ocean, are skipped.
func TestSumsKnownAnswer(t *testing.T) {
	nan := float32(math.NaN())
	s := NewSums(2, 1, 2) // values [lag][1][2]
	for _, v := range [][]float32{
		{1, -1, 2, nan}, // Σ|a| = 4 → 0.25 -0.25 0.5 NaN
		{0, 3, -1, nan}, // Σ|a| = 4 → 0 0.75 -0.25 NaN
		{0, 0, 0, nan},  // skipped: Σ|a| = 0
		{float32(math.Inf(1)), 1, 0, nan},
		{1, nan, 1, nan}, // skipped: NaN on an ocean cell
	} {
		if _, err := s.Add(v); err != nil {
			t.Fatal(err)
		}
	}
	a, err := s.Mean()
	if err != nil {
		t.Fatal(err)
	}
	if a.Samples != 2 || a.Skipped != 3 {
		t.Fatalf("samples %d skipped %d", a.Samples, a.Skipped)
	}
	sd := func(x, y float64) float64 { m := (x + y) / 2; return math.Sqrt((x-m)*(x-m) + (y-m)*(y-m)) }
	want := []struct{ abs, signed, std, sstd float64 }{
		{0.125, 0.125, sd(0.25, 0), sd(0.25, 0)},
		{0.5, 0.25, sd(0.25, 0.75), sd(-0.25, 0.75)},
		{0.375, 0.125, sd(0.5, 0.25), sd(0.5, -0.25)},
	}
	for i, w := range want {
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"mean |a|", float64(a.MeanAbs[i]), w.abs}, {"signed", float64(a.Signed[i]), w.signed},
			{"std", float64(a.Std[i]), w.std}, {"signed std", float64(a.SignedStd[i]), w.sstd}} {
			if math.Abs(c.got-c.want) > 1e-7 {
				t.Errorf("value %d: %s = %g, want %g", i, c.name, c.got, c.want)
			}
		}
	}
	if !math.IsNaN(float64(a.MeanAbs[3])) || !math.IsNaN(float64(a.Std[3])) {
		t.Errorf("land is %g, %g; want NaN", a.MeanAbs[3], a.Std[3])
	}
	var total float64
	for _, v := range a.MeanAbs[:3] {
		total += float64(v)
	}
	if math.Abs(total-1) > 1e-6 {
		t.Errorf("mean |a| sums to %g, want 1", total)
	}
	if _, err := NewSums(1, 1, 1).Mean(); !errors.Is(err, ErrNoSamples) {
		t.Errorf("empty sums: %v", err)
	}
	if err := s.Merge(NewSums(1, 2, 2)); !errors.Is(err, ErrBadAggregate) {
		t.Errorf("merging other layouts: %v", err)
	}
}

// TestAggregateShardsMerge: the saliency and ixg aggregates of 7 samples equal the sums of
// literal per-sample attributions, and shards k mod 3 merged equal the whole run to 1e-12.
func TestAggregateShardsMerge(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	ocean := testOcean()
	target := cellTarget(t, "45,-40", ocean)
	const n = 7
	fill := func(k int, dst []float32) error { copy(dst, randomInput(uint64(100+k), ocean)); return nil }
	for _, m := range []Method{Saliency{}, InputXGradient{}, LRP{Composite: LRPEpsilon, Epsilon: 1e-6}} {
		t.Run(m.Name(), func(t *testing.T) {
			calls := 0
			whole, st, err := AggregateSamples(context.Background(), AggregateRequest{Emulator: e, Method: m, Target: target,
				Ocean: ocean, Samples: n, Fill: fill, Progress: func(done, total int) { calls++ }})
			if err != nil {
				t.Fatal(err)
			}
			_, isGrad := m.(Saliency)
			_, isIxG := m.(InputXGradient)
			if st.Batched != (isGrad || isIxG) || calls == 0 || whole.Samples != n {
				t.Fatalf("stats %+v, progress calls %d, samples %d", st, calls, whole.Samples)
			}
			// Literal: one Attribute per sample, normalised by hand.
			lit := NewSums(whole.Lags, whole.NLat, whole.NLon)
			x := make([]float32, 36*35*63)
			for k := range n {
				fill(k, x)
				r, err := m.Attribute(context.Background(), Request{Emulator: e, X: x, Target: target, Ocean: ocean})
				if err != nil {
					t.Fatal(err)
				}
				lit.Add(r.Values)
			}
			// Shards: sample k in shard k mod 3.
			merged := NewSums(whole.Lags, whole.NLat, whole.NLon)
			for i := range 3 {
				var idx []int
				for k := i; k < n; k += 3 {
					idx = append(idx, k)
				}
				part, _, err := AggregateSamples(context.Background(), AggregateRequest{Emulator: e, Method: m, Target: target,
					Ocean: ocean, Samples: len(idx), Fill: func(k int, dst []float32) error { return fill(idx[k], dst) }})
				if err != nil {
					t.Fatal(err)
				}
				if err := merged.Merge(part); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct {
				name string
				s    *Sums
				tol  float64
			}{{"literal", lit, 1e-6}, {"merged shards", merged, 1e-12}} {
				if c.s.Samples != n {
					t.Errorf("%s: %d samples", c.name, c.s.Samples)
				}
				worst := 0.0
				for i := range whole.Abs {
					for _, p := range [][2]float64{{whole.Abs[i], c.s.Abs[i]}, {whole.Signed[i], c.s.Signed[i]}, {whole.Sq[i], c.s.Sq[i]}} {
						if math.IsNaN(p[0]) != math.IsNaN(p[1]) {
							t.Fatalf("%s: land differs at %d", c.name, i)
						}
						if d := math.Abs(p[0] - p[1]); d > worst {
							worst = d
						}
					}
				}
				// Normalised values are O(1e-4); the tolerance is absolute.
				if worst > c.tol {
					t.Errorf("%s differ from the whole run by up to %g (tolerance %g)", c.name, worst, c.tol)
				}
			}
		})
	}
}

func TestAggregateCancel(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := AggregateSamples(ctx, AggregateRequest{Emulator: e, Method: Saliency{}, Target: cellTarget(t, "45,-40", nil),
		Samples: 3, Fill: func(int, []float32) error { return nil }})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	_, _, err = AggregateSamples(ctx, AggregateRequest{Emulator: e, Method: Occlusion{Window: OcclusionWindow{Mode: OccludeMonth}}, Target: cellTarget(t, "45,-40", nil),
		Samples: 3, Fill: func(int, []float32) error { return nil }})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("occlusion: err = %v, want context.Canceled", err)
	}
}

// TestAggregateMemoryBounded: aggregating 400 samples (127 MB of input windows if they were
// held) under a 16 MiB budget keeps the heap within a few tens of MB: samples are streamed.
func TestAggregateMemoryBounded(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	e.Budget = 16 << 20
	target := cellTarget(t, "45,-40", nil)
	var before, now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := uint64(0)
	sums, _, err := AggregateSamples(context.Background(), AggregateRequest{Emulator: e, Method: InputXGradient{}, Target: target,
		Samples: 400, Fill: func(k int, dst []float32) error {
			for i := range dst {
				dst[i] = float32((i*31+k*17)%101-50) / 50
			}
			return nil
		},
		Progress: func(done, total int) {
			runtime.ReadMemStats(&now)
			peak = max(peak, now.HeapInuse)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if sums.Samples != 400 {
		t.Fatalf("%d samples", sums.Samples)
	}
	grow := int64(peak) - int64(before.HeapInuse)
	t.Logf("heap in use grew by %.1f MB", float64(grow)/(1<<20))
	if grow > 64<<20 {
		t.Errorf("heap grew by %d MB while aggregating 400 samples", grow>>20)
	}
}

// BenchmarkAggregateSaliency1deg: aggregation of 32 samples by saliency on the 1° reference
// emulator (batched backward runs plus normalising and summing), per sample.
func BenchmarkAggregateSaliency1deg(b *testing.B) {
	e, x, tg := open1deg(b)
	req := AggregateRequest{Emulator: e, Method: Saliency{}, Target: tg, Samples: 32,
		Fill: func(k int, dst []float32) error { copy(dst, x); dst[k] += 1; return nil }}
	if _, _, err := AggregateSamples(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := AggregateSamples(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*req.Samples), "ms/sample")
}

// literalSums is the slow reference of an aggregation: one Attribute call (a batch-1 backward
// run) per sample, normalised and added by Sums.Add.
func literalSums(t *testing.T, e *Emulator, m Method, target Target, ocean []bool, n int, fill func(int, []float32) error) *Sums {
	t.Helper()
	s := NewSums(e.Months(), e.NLat(), e.NLon())
	x := make([]float32, e.sampleLen())
	for k := range n {
		if err := fill(k, x); err != nil {
			t.Fatal(err)
		}
		r, err := m.Attribute(context.Background(), Request{Emulator: e, X: x, Target: target, Ocean: ocean})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(r.Values); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// sumsRelDiff is max |a - b| over the three sums divided by max |b.Abs|; land must agree.
func sumsRelDiff(t *testing.T, a, b *Sums) float64 {
	t.Helper()
	if a.Samples != b.Samples || a.Skipped != b.Skipped {
		t.Fatalf("samples %d/%d skipped %d/%d", a.Samples, b.Samples, a.Skipped, b.Skipped)
	}
	var d, m float64
	for i := range b.Abs {
		for _, p := range [][2]float64{{a.Abs[i], b.Abs[i]}, {a.Signed[i], b.Signed[i]}, {a.Sq[i], b.Sq[i]}} {
			if math.IsNaN(p[0]) != math.IsNaN(p[1]) {
				t.Fatalf("land differs at %d", i)
			}
			if !math.IsNaN(p[0]) {
				d = max(d, math.Abs(p[0]-p[1]))
			}
		}
		if !math.IsNaN(b.Abs[i]) {
			m = max(m, math.Abs(b.Abs[i]))
		}
	}
	return d / m
}

// budgetFor returns a memory budget under which the gradient graph runs batches of rows rows
// beside the sums of one target.
func budgetFor(t *testing.T, e *Emulator, rows int) int64 {
	g, err := e.graph(gradientRules)
	if err != nil {
		t.Fatal(err)
	}
	// Half a sample of slack: a windowed graph's window input adds a few bytes a row.
	return int64(rows)*g.SampleBytes() + g.SampleBytes()/2 + int64(24*e.sampleLen())
}

// TestAggregateBatchedEqualsSequential: the batched saliency and ixg aggregation (batches of 3
// samples, the last one short) equals one single-sample run per sample to 1e-6 of the largest
// value, on the tiny model and on the reference DenseNet with BatchNorm: samples in a batch do
// not interact.
func TestAggregateBatchedEqualsSequential(t *testing.T) {
	ocean := testOcean()
	fill := func(k int, dst []float32) error { copy(dst, randomInput(uint64(300+k), ocean)); return nil }
	const n = 7
	for _, model := range []string{"tiny.onnx", "random2deg.onnx"} {
		e := openTest(t, model)
		e.Budget = budgetFor(t, e, 3)
		for _, m := range []Method{Saliency{}, InputXGradient{}} {
			for _, spec := range []string{"45,-40", "box:30,40,-60,-30"} {
				t.Run(model+" "+m.Name()+" "+spec, func(t *testing.T) {
					target := cellTarget(t, spec, ocean)
					got, st, err := AggregateSamples(context.Background(), AggregateRequest{Emulator: e, Method: m, Target: target,
						Ocean: ocean, Samples: n, Fill: fill})
					if err != nil {
						t.Fatal(err)
					}
					if !st.Batched || st.Batch != 3 {
						t.Fatalf("stats %+v: want batches of 3 samples", st)
					}
					want := literalSums(t, e, m, target, ocean, n, fill)
					d := sumsRelDiff(t, got, want)
					t.Logf("batched vs sequential: %.3g of the largest value", d)
					if d > 1e-6 {
						t.Errorf("batched differs from sequential by %.3g of the largest value (tolerance 1e-6)", d)
					}
				})
			}
		}
	}
}

// TestAggregateTargets: 11 targets (cells and a box) aggregated together, in groups of fewer
// targets than there are and in batches that mix samples and targets, equal each target
// aggregated alone by single-sample runs to 1e-6; sums arrive in target order. A method without
// a batched path (LRP) gives exactly AggregateSamples' sums.
func TestAggregateTargets(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	e.Budget = 64 << 20
	ocean := testOcean()
	fill := func(k int, dst []float32) error { copy(dst, randomInput(uint64(500+k), ocean)); return nil }
	specs := []string{"45,-40", "10,-22", "60,-10", "25,-80", "50,10", "35,-50", "box:30,40,-60,-30",
		"15,-60", "55,-30", "40,0", "20,-30"}
	var targets []Target
	for _, s := range specs {
		targets = append(targets, cellTarget(t, s, ocean))
	}
	const n = 5
	run := func(t *testing.T, m Method, n int, targets []Target) ([]*Sums, AggregateStats) {
		var got []*Sums
		calls, last := 0, 0
		st, err := AggregateTargets(context.Background(), TargetsRequest{Emulator: e, Method: m, Targets: targets, Ocean: ocean,
			Samples: n, Fill: fill,
			Done: func(i int, s *Sums) error {
				if i != len(got) {
					t.Fatalf("sums of target %d arrived after %d others", i, len(got))
				}
				got = append(got, s)
				return nil
			},
			Progress: func(done, total int) {
				calls++
				if total != n*len(targets) || done < last || done > total {
					t.Fatalf("progress %d/%d after %d", done, total, last)
				}
				last = done
			}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(targets) || calls == 0 || last != n*len(targets) {
			t.Fatalf("%d sums for %d targets, %d progress calls ending at %d", len(got), len(targets), calls, last)
		}
		return got, st
	}
	for _, m := range []Method{Saliency{}, InputXGradient{}} {
		t.Run(m.Name(), func(t *testing.T) {
			got, st := run(t, m, n, targets)
			if st.TargetsPerPass < 2 || st.TargetsPerPass >= len(targets) || st.Batch < 2 || st.Batch%st.TargetsPerPass == 0 {
				t.Fatalf("stats %+v: want several groups and batches that straddle samples", st)
			}
			for i, tg := range targets {
				want := literalSums(t, e, m, tg, ocean, n, fill)
				if d := sumsRelDiff(t, got[i], want); d > 1e-6 {
					t.Errorf("target %s: batched differs from sequential by %.3g of the largest value (tolerance 1e-6)", specs[i], d)
				}
			}
		})
	}
	t.Run("lrp-epsilon", func(t *testing.T) {
		m := LRP{Composite: LRPEpsilon, Epsilon: 1e-6}
		got, _ := run(t, m, 2, targets[:3])
		for i, tg := range targets[:3] {
			want, _, err := AggregateSamples(context.Background(), AggregateRequest{Emulator: e, Method: m, Target: tg, Ocean: ocean, Samples: 2, Fill: fill})
			if err != nil {
				t.Fatal(err)
			}
			if d := sumsRelDiff(t, got[i], want); d != 0 {
				t.Errorf("target %s differs from AggregateSamples by %g", specs[i], d)
			}
		}
	})
}

// TestAggregateTargetsMemoryBounded: 40 targets' sums would take 76 MB; under a 16 MiB budget
// they are held a few at a time and the heap grows by far less.
func TestAggregateTargetsMemoryBounded(t *testing.T) {
	e := openTest(t, "tiny.onnx")
	e.Budget = 16 << 20
	var targets []Target
	for i := range 40 {
		w := make([]float32, e.cells())
		w[i*50] = 1
		targets = append(targets, NewMaskTarget("cell", w))
	}
	var before, now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := uint64(0)
	st, err := AggregateTargets(context.Background(), TargetsRequest{Emulator: e, Method: Saliency{}, Targets: targets, Samples: 2,
		Fill: func(k int, dst []float32) error { copy(dst, randomInput(uint64(k), nil)); return nil },
		Done: func(int, *Sums) error { return nil },
		Progress: func(int, int) {
			runtime.ReadMemStats(&now)
			peak = max(peak, now.HeapInuse)
		}})
	if err != nil {
		t.Fatal(err)
	}
	grow := int64(peak) - int64(before.HeapInuse)
	t.Logf("stats %+v; heap in use grew by %.1f MB", st, float64(grow)/(1<<20))
	if st.TargetsPerPass > 2 || grow > 48<<20 {
		t.Errorf("%d targets per pass, heap grew by %d MB", st.TargetsPerPass, grow>>20)
	}
}
