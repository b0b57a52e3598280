package inference

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var tinySpec = ModelSpec{Path: filepath.Join("testdata", "tiny.onnx"), Input: "x", Output: "y", Months: 36, NLat: 35, NLon: 63}

// TestDeviceFallback: this machine's ONNX Runtime is the CPU build, so auto must fall back to the
// CPU and say why, and an explicit cuda must fail saying what to do.
func TestDeviceFallback(t *testing.T) {
	rt := testRuntime(t)
	m, err := rt.Open(tinySpec, Options{Device: Device{Kind: DeviceAuto}})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Placement()
	if p.Device.Kind == DeviceCUDA {
		t.Skip("a CUDA device is available; the fallback cannot be observed here")
	}
	if p.Device != CPU || !strings.Contains(p.Reason, "CUDA") || !strings.HasPrefix(p.String(), "CPU (CUDA ") {
		t.Errorf("auto placement = %q, want CPU with a CUDA reason", p)
	}
	t.Logf("auto: %s", p)

	_, err = rt.Open(tinySpec, Options{Device: Device{Kind: DeviceCUDA, ID: 0}})
	if !errors.Is(err, ErrDeviceUnavailable) {
		t.Fatalf("explicit cuda: err = %v, want ErrDeviceUnavailable", err)
	}
	for _, s := range []string{"cuda:0", "--device cpu", LibraryEnv, "onnxruntime-gpu"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("explicit cuda error lacks %q: %v", s, err)
		}
	}

	m, err = rt.Open(tinySpec, Options{Device: CPU})
	if err != nil || m.Placement() != (Placement{Device: CPU}) {
		t.Fatalf("cpu: %v, %v", m.Placement(), err)
	}
}

func TestSessionCache(t *testing.T) {
	rt := testRuntime(t)
	a, err := rt.Open(tinySpec, Options{Device: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	rel := tinySpec
	rel.Path = "./testdata/../testdata/tiny.onnx"
	b, _ := rt.Open(rel, Options{Device: CPU, Threads: 1})
	c, _ := rt.Open(tinySpec, Options{Device: CPU, Threads: 2})
	if a != b {
		t.Error("the same file, device and threads gave two sessions")
	}
	if a == c {
		t.Error("different thread counts share a session")
	}
	if _, err := rt.Open(tinySpec, Options{Threads: -1}); err == nil {
		t.Error("threads -1 accepted")
	}
	rt.Close()
	if _, err := a.Run(context.Background(), make([]float32, a.SampleLen()), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("run after Close: err = %v, want ErrClosed", err)
	}
	if _, err := rt.Open(tinySpec, Options{}); !errors.Is(err, ErrClosed) {
		t.Errorf("open after Close: err = %v, want ErrClosed", err)
	}
}

// TestConcurrentRuns shares one model between goroutines; run with -race.
func TestConcurrentRuns(t *testing.T) {
	rt := testRuntime(t)
	m, err := rt.Open(tinySpec, Options{Device: CPU})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, 3*m.SampleLen())
	for i := range in {
		in[i] = float32(i%97) / 97
	}
	want, err := m.Run(context.Background(), in, 3)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			got, err := m.Run(context.Background(), in, 3)
			if err != nil {
				t.Error(g, err)
				return
			}
			if e := maxRelErr(got, want); e != 0 {
				t.Errorf("goroutine %d: outputs differ by %g", g, e)
			}
		})
	}
	wg.Wait()
}

func TestRunBatched(t *testing.T) {
	rt := testRuntime(t)
	m, err := rt.Open(tinySpec, Options{Device: CPU})
	if err != nil {
		t.Fatal(err)
	}
	const n = 7
	in := make([]float32, n*m.SampleLen())
	for i := range in {
		in[i] = float32((i*7919)%101)/50 - 1
	}
	want, err := m.Run(context.Background(), in, n)
	if err != nil {
		t.Fatal(err)
	}
	budget := 3 * m.SampleBytes() // three samples a batch: 3 + 3 + 1
	if b := m.BatchSize(budget); b != 3 {
		t.Fatalf("BatchSize = %d, want 3", b)
	}
	var calls []int
	got, err := m.RunBatched(context.Background(), in, n, budget, func(done, total int) {
		if total != n {
			t.Errorf("progress total %d, want %d", total, n)
		}
		calls = append(calls, done)
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := maxRelErr(got, want); e > 1e-6 {
		t.Errorf("batched outputs differ from one run by %g", e)
	}
	if len(calls) != 3 || calls[0] != 3 || calls[1] != 6 || calls[2] != 7 {
		t.Errorf("progress calls %v, want [3 6 7]", calls)
	}
	if b := m.BatchSize(0); b < 1 {
		t.Errorf("BatchSize(default) = %d", b)
	}

	// Cancelling in a progress callback stops before the next batch.
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	_, err = m.RunBatched(ctx, in, n, budget, func(int, int) { batches++; cancel() })
	if !errors.Is(err, context.Canceled) || batches != 1 {
		t.Errorf("after cancel: err = %v after %d batches, want context.Canceled after 1", err, batches)
	}
	if _, err := m.Run(ctx, in, n); !errors.Is(err, context.Canceled) {
		t.Errorf("Run on a cancelled context: %v", err)
	}
}

func TestRunBadInput(t *testing.T) {
	rt := testRuntime(t)
	m, err := rt.Open(tinySpec, Options{Device: CPU})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		len  int
		n    int
	}{{"zero samples", 0, 0}, {"short input", m.SampleLen() - 1, 1}, {"n disagrees with length", 2 * m.SampleLen(), 3}} {
		if _, err := m.Run(context.Background(), make([]float32, tc.len), tc.n); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: err = %v, want ErrBadInput", tc.name, err)
		}
		if _, err := m.RunBatched(context.Background(), make([]float32, tc.len), tc.n, 0, nil); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s (batched): err = %v, want ErrBadInput", tc.name, err)
		}
	}
}

// TestOpenChecksSymbolicOutputGrid: a model whose output sizes are symbolic passes the static
// checks, so Open runs one trial sample and rejects an output off the input grid.
func TestOpenChecksSymbolicOutputGrid(t *testing.T) {
	rt := testRuntime(t)
	spec := tinySpec
	spec.Path = filepath.Join("testdata", "bad_outgrid.onnx")
	sig, err := ValidateModel(spec)
	if err != nil || !sig.DynamicOutputExtent {
		t.Fatalf("ValidateModel = %+v, %v; want a symbolic output extent and no error", sig, err)
	}
	_, err = rt.Open(spec, Options{Device: CPU})
	if !errors.Is(err, ErrModelSignature) || !strings.Contains(err.Error(), "[1, 1, 35, 63]") {
		t.Fatalf("Open: err = %v, want ErrModelSignature naming the expected output", err)
	}
}

// CLIMXAI_ORT_PROFILE makes ONNX Runtime write its per-node timings when the session closes.
func TestProfileEnv(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "prof")
	t.Setenv("CLIMXAI_ORT_PROFILE", prefix)
	rt, err := NewRuntime("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.Open(tinySpec, Options{Device: CPU, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(context.Background(), make([]float32, m.SampleLen()), 1); err != nil {
		t.Fatal(err)
	}
	rt.Close()
	files, _ := filepath.Glob(prefix + "*.json")
	if len(files) != 1 {
		t.Fatalf("profile files %v, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil || !strings.Contains(string(b), `"cat" : "Node"`) && !strings.Contains(string(b), `"cat":"Node"`) {
		t.Errorf("profile %s holds no node timings (%v): %.200s", files[0], err, b)
	}
}
