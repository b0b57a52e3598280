package inference

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"climxai/attribution/backward"
	"climxai/onnx"
)

// tinyBackward returns the serialised saliency model of testdata/tiny.onnx:
// (x [N,36,35,63], seed [N,1,35,63]) -> (y, grad).
func tinyBackward(t testing.TB) ([]byte, GraphSpec) {
	t.Helper()
	m, err := onnx.Load(filepath.Join("testdata", "tiny.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	bm, err := backward.Build(m, backward.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(bm)
	if err != nil {
		t.Fatal(err)
	}
	x, y := []int64{36, 35, 63}, []int64{1, 35, 63}
	return b, GraphSpec{Key: "tiny saliency", Name: "tiny.onnx (saliency)",
		Inputs:  []GraphIO{{"x", x}, {"seed", y}},
		Outputs: []GraphIO{{"y", y}, {"grad", x}}}
}

func TestOpenGraphRunsAndCaches(t *testing.T) {
	rt := testRuntime(t)
	b, spec := tinyBackward(t)
	builds := 0
	build := func() ([]byte, error) { builds++; return b, nil }
	g, err := rt.OpenGraph(spec, build, Options{Device: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := rt.OpenGraph(spec, build, Options{Device: CPU, Threads: 1})
	if err != nil || g2 != g || builds != 1 {
		t.Fatalf("second open: %v, same graph %v, %d builds", err, g2 == g, builds)
	}
	if g.Placement().Device != CPU {
		t.Errorf("placement %v", g.Placement())
	}

	// Forward part equals the forward model; RunBatched in batches of 2 equals one Run.
	const n = 5
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*36*35*63)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	seed := oneHotSeeds(rng, n)
	out, err := g.Run(context.Background(), [][]float32{x, seed}, n)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := rt.Open(ModelSpec{Path: filepath.Join("testdata", "tiny.onnx")}, Options{Device: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	y, err := fwd.Run(context.Background(), x, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		if y[i] != out[0][i] {
			t.Fatalf("y[%d] = %g, forward model %g", i, out[0][i], y[i])
		}
	}
	var progress []int
	batched, err := g.RunBatched(context.Background(), [][]float32{x, seed}, n, 2*g.SampleBytes(),
		func(done, total int) { progress = append(progress, done) })
	if err != nil {
		t.Fatal(err)
	}
	for o := range out {
		for i := range out[o] {
			if out[o][i] != batched[o][i] {
				t.Fatalf("output %d differs in batches at %d", o, i)
			}
		}
	}
	if len(progress) != 3 || progress[2] != n {
		t.Errorf("progress %v, want 3 batches of at most 2", progress)
	}

	// Concurrent runs share the session.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := g.Run(context.Background(), [][]float32{x[:36*35*63], seed[:35*63]}, 1)
			if err == nil && r[1][0] != out[1][0] {
				err = errors.New("concurrent result differs")
			}
			errs[w] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	// Bad input sizes, cancellation, and Close.
	if _, err := g.Run(context.Background(), [][]float32{x}, n); !errors.Is(err, ErrBadInput) {
		t.Errorf("one input: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.RunBatched(ctx, [][]float32{x, seed}, n, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Run(context.Background(), [][]float32{x, seed}, n); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestOpenGraphErrors(t *testing.T) {
	rt := testRuntime(t)
	b, spec := tinyBackward(t)
	if _, err := rt.OpenGraph(GraphSpec{Name: "no key"}, func() ([]byte, error) { return b, nil }, Options{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("no key: %v", err)
	}
	bad := spec
	bad.Key = "garbage"
	if _, err := rt.OpenGraph(bad, func() ([]byte, error) { return []byte("not onnx"), nil }, Options{Device: CPU}); !errors.Is(err, ErrModelLoad) {
		t.Errorf("garbage model: %v", err)
	}
	boom := errors.New("build failed")
	bad.Key = "fails"
	if _, err := rt.OpenGraph(bad, func() ([]byte, error) { return nil, boom }, Options{Device: CPU}); !errors.Is(err, boom) {
		t.Errorf("failing build: %v", err)
	}
	if _, err := rt.OpenGraph(spec, func() ([]byte, error) { return b, nil }, Options{Device: Device{Kind: DeviceCUDA}}); err == nil {
		if _, statErr := os.Stat("/dev/nvidia0"); statErr != nil {
			t.Error("an explicit cuda device opened without a GPU")
		}
	} else if !errors.Is(err, ErrDeviceUnavailable) {
		t.Errorf("cuda: %v", err)
	}
}

// oneHotSeeds is n seeds over the 35 x 63 test grid, each 1 at one random cell.
func oneHotSeeds(rng *rand.Rand, n int) []float32 {
	seed := make([]float32, n*35*63)
	for k := range n {
		seed[k*35*63+rng.IntN(35*63)] = 1
	}
	return seed
}
