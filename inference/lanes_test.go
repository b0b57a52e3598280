package inference

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// call is one run that spread made.
type call struct {
	sess *ort.DynamicAdvancedSession
	i, k int
}

// record runs spread with a run that records its calls and how many ran at once.
func record(t *testing.T, l *lanes, main *ort.DynamicAdvancedSession, n int, sampleBytes int64, maxChunk int, fail func(ctx context.Context, i int) error) ([]call, int, error) {
	t.Helper()
	var (
		mu      sync.Mutex
		calls   []call
		running atomic.Int32
		peak    atomic.Int32
	)
	err := l.spread(context.Background(), main, n, sampleBytes, maxChunk, func(ctx context.Context, sess *ort.DynamicAdvancedSession, i, k int) error {
		r := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
		}
		mu.Lock()
		calls = append(calls, call{sess, i, k})
		mu.Unlock()
		if fail != nil {
			return fail(ctx, i)
		}
		return nil
	})
	return calls, int(peak.Load()), err
}

// covered checks that calls run samples 0..n-1 exactly once.
func covered(t *testing.T, calls []call, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, c := range calls {
		for s := c.i; s < c.i+c.k; s++ {
			seen[s]++
		}
	}
	for s, v := range seen {
		if v != 1 {
			t.Errorf("sample %d run %d times (calls %v)", s, v, calls)
		}
	}
}

func TestSpread(t *testing.T) {
	main, lane := &ort.DynamicAdvancedSession{}, &ort.DynamicAdvancedSession{}
	withLanes := func(n int) *lanes {
		return &lanes{n: n, make: func() (*ort.DynamicAdvancedSession, error) { return lane, nil }}
	}

	// Without lanes: one call on the main session, or one per sample for a fixed batch axis.
	calls, _, err := record(t, nil, main, 7, 1, 0, nil)
	if err != nil || len(calls) != 1 || calls[0] != (call{main, 0, 7}) {
		t.Errorf("no lanes: %v %v", calls, err)
	}
	calls, _, _ = record(t, nil, main, 3, 1, 1, nil)
	covered(t, calls, 3)
	if len(calls) != 3 {
		t.Errorf("no lanes, fixed batch: %v", calls)
	}

	// A single sample runs on the main session (all threads), not on a lane.
	calls, _, _ = record(t, withLanes(2), main, 1, 1, 0, nil)
	if len(calls) != 1 || calls[0].sess != main {
		t.Errorf("one sample: %v", calls)
	}

	// Chunks of laneBytes / sampleBytes = 3 samples over 2 lanes: 3 + 3 + 3 + 2.
	calls, peak, err := record(t, withLanes(2), main, 11, laneBytes/3, 0, nil)
	if err != nil || len(calls) != 4 || peak > 2 {
		t.Errorf("11 samples in chunks of 3 on 2 lanes: %v (%d at once) %v", calls, peak, err)
	}
	covered(t, calls, 11)
	for _, c := range calls {
		if c.sess != lane || c.k > 3 {
			t.Errorf("call %v: want the lane session and at most 3 samples", c)
		}
	}
	// Every lane gets work: 4 small samples on 2 lanes go 2 + 2, not 4 + 0.
	calls, _, _ = record(t, withLanes(2), main, 4, 1, 0, nil)
	covered(t, calls, 4)
	if len(calls) != 2 || calls[0].k != 2 || calls[1].k != 2 {
		t.Errorf("4 small samples: %v", calls)
	}
	// Samples larger than laneBytes go one at a time; maxChunk caps the chunk.
	calls, _, _ = record(t, withLanes(3), main, 5, 2*laneBytes, 0, nil)
	covered(t, calls, 5)
	if len(calls) != 5 {
		t.Errorf("large samples: %v", calls)
	}
	calls, _, _ = record(t, withLanes(2), main, 6, 1, 1, nil)
	if len(calls) != 6 {
		t.Errorf("maxChunk 1: %v", calls)
	}

	// A lane session that cannot be made: everything runs on the main session.
	broken := &lanes{n: 2, make: func() (*ort.DynamicAdvancedSession, error) { return nil, errors.New("no memory") }}
	calls, _, err = record(t, broken, main, 5, 1, 0, nil)
	if err != nil || len(calls) != 1 || calls[0] != (call{main, 0, 5}) {
		t.Errorf("broken lanes: %v %v", calls, err)
	}

	// The first failure is returned and stops the lanes from taking more chunks.
	boom := errors.New("boom")
	calls, _, err = record(t, withLanes(2), main, 40, laneBytes, 0, func(ctx context.Context, i int) error {
		if i == 0 {
			return boom
		}
		// The other lane's run is still going when the failure comes (a real run would be):
		// it ends with the cancellation instead of racing through the remaining chunks.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
			return nil
		}
	})
	if !errors.Is(err, boom) || len(calls) >= 40 {
		t.Errorf("failure: err %v after %d of 40 calls", err, len(calls))
	}
}

func TestSpreadCancel(t *testing.T) {
	l := &lanes{n: 2, make: func() (*ort.DynamicAdvancedSession, error) { return &ort.DynamicAdvancedSession{}, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	err := l.spread(ctx, nil, 50, laneBytes, 0, func(ctx context.Context, _ *ort.DynamicAdvancedSession, i, k int) error {
		switch r := runs.Add(1); {
		case r == 3:
			cancel()
		case r > 3:
			// The third run's lane may not have called cancel yet: wait for it, as a real run
			// would still be running, rather than finish every chunk in the meantime.
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				return errors.New("not cancelled")
			}
		}
		return ctx.Err()
	})
	// At most one run per lane starts after the third.
	if !errors.Is(err, context.Canceled) || runs.Load() > 4 {
		t.Errorf("cancel: %v after %d runs, want context.Canceled after at most 4", err, runs.Load())
	}
}

// TestLanesMatchOneSession: with lanes (two threads) the model and a backward graph give what
// one single-threaded session gives, sample for sample, and the lane session is made only for
// runs of several samples; CLIMXAI_ORT_LANES=0 turns lanes off.
func TestLanesMatchOneSession(t *testing.T) {
	rt := testRuntime(t)
	const n = 5
	rng := rand.New(rand.NewPCG(3, 4))
	one, err := rt.Open(tinySpec, Options{Device: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	two, err := rt.Open(tinySpec, Options{Device: CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if one.lanes != nil || two.lanes == nil || two.lanes.n != 2 {
		t.Fatalf("lanes: one thread %v, two threads %v", one.lanes, two.lanes)
	}
	in := make([]float32, n*one.SampleLen())
	for i := range in {
		in[i] = float32(rng.NormFloat64())
	}
	if _, err := two.Run(context.Background(), in[:two.SampleLen()], 1); err != nil {
		t.Fatal(err)
	}
	if two.lanes.sess != nil {
		t.Error("a one-sample run made the lane session")
	}
	want, err := one.Run(context.Background(), in, n)
	if err != nil {
		t.Fatal(err)
	}
	got, err := two.Run(context.Background(), in, n)
	if err != nil {
		t.Fatal(err)
	}
	if two.lanes.sess == nil {
		t.Error("a five-sample run did not use lanes")
	}
	if e := maxRelErr(got, want); e > 1e-6 {
		t.Errorf("model on lanes differs from one session by %g", e)
	}

	b, spec := tinyBackward(t)
	build := func() ([]byte, error) { return b, nil }
	g1, err := rt.OpenGraph(spec, build, Options{Device: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := rt.OpenGraph(spec, build, Options{Device: CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	seed := oneHotSeeds(rng, n)
	w, err := g1.Run(context.Background(), [][]float32{in, seed}, n)
	if err != nil {
		t.Fatal(err)
	}
	o, err := g2.Run(context.Background(), [][]float32{in, seed}, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		if e := maxRelErr(o[i], w[i]); e > 1e-6 {
			t.Errorf("graph output %d on lanes differs from one session by %g", i, e)
		}
	}
	if g2.model.lanes == nil || g2.model.lanes.sess == nil {
		t.Error("the graph's five-sample run did not use lanes")
	}

	t.Setenv(LanesEnv, "0")
	rt2 := testRuntime(t)
	off, err := rt2.Open(tinySpec, Options{Device: CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if off.lanes != nil {
		t.Errorf("%s=0 left lanes on", LanesEnv)
	}
}
