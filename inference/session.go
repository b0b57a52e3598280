package inference

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Options say where and how a Runtime runs a model.
type Options struct {
	Device  Device // zero value: auto (CUDA when available, else CPU)
	Threads int    // intra-op threads; 0 lets ONNX Runtime choose (one per physical core)
}

// ModelSpec says which model file to open and what it must look like. The card fills it in
// (Card.Spec); zero fields are taken from the model itself.
type ModelSpec struct {
	Path   string // the ONNX file
	Input  string // input name; "" = the model's only input
	Output string // output name; "" = the model's only output
	Months int    // input channels (input months times Vars); 0 = the model's static size
	Vars   int    // input variables whose month blocks make the channels; 0 or 1 = one
	NLat   int    // grid rows; 0 = the model's static size
	NLon   int    // grid columns; 0 = the model's static size
	// Index, when not "", says the model forecasts this region's index (output [N, 1]) rather
	// than a field; Region marks the region's cells [NLat*NLon], and Entry picks the element of
	// an output with several (index.go).
	Index  string
	Region []bool
	Entry  int
}

// Runtime opens emulator models in ONNX Runtime and keeps one session per (model file, device,
// threads), so that jobs asking for the same model share it. Create it with NewRuntime, share it
// freely between goroutines, and Close it when no job needs its models any more.
type Runtime struct {
	lib Library

	mu     sync.Mutex
	models map[modelKey]*Model
	graphs map[graphKey]*Graph // in-memory models (OpenGraph, graph.go)
	closed bool
}

type modelKey struct {
	path, input, output string
	months, nlat, nlon  int
	index               string
	entry               int
	device              Device
	threads             int
}

// NewRuntime loads ONNX Runtime from libPath ("" = FindLibrary) and returns a Runtime that uses it.
// The library is loaded once per process (see LoadLibrary); several Runtimes share it.
func NewRuntime(libPath string) (*Runtime, error) {
	lib, err := LoadLibrary(libPath)
	if err != nil {
		return nil, err
	}
	return &Runtime{lib: lib, models: map[modelKey]*Model{}}, nil
}

// Library returns the loaded ONNX Runtime.
func (r *Runtime) Library() Library { return r.lib }

// Open returns the model of spec on the device and thread count of opts, opening it on first use
// and returning the same *Model to later callers. The model's inputs and outputs are checked
// against spec (ValidateModel's checks) before a session is made. With Device auto, a CUDA
// provider that cannot be set up (a CPU-only ONNX Runtime, no GPU, missing CUDA libraries) gives a
// CPU session whose Placement says why; an explicit cuda device fails with ErrDeviceUnavailable.
func (r *Runtime) Open(spec ModelSpec, opts Options) (*Model, error) {
	if opts.Threads < 0 {
		return nil, errorf(ErrBadInput, "pass --threads 0 (automatic) or a positive number",
			"threads = %d", opts.Threads)
	}
	abs, err := filepath.Abs(spec.Path)
	if err != nil {
		return nil, &Error{Model: spec.Path, Kind: ErrModelMissing, Err: err}
	}
	spec.Path = abs
	key := modelKey{abs, spec.Input, spec.Output, spec.Months, spec.NLat, spec.NLon, spec.Index, spec.Entry, opts.Device, opts.Threads}

	// Opening under the lock keeps two jobs from loading the same model twice; opening takes
	// a fraction of a second, and only other opens wait.
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, &Error{Model: spec.Path, Kind: ErrClosed, Hint: "open the models through a new Runtime"}
	}
	if m, ok := r.models[key]; ok {
		return m, nil
	}
	sig, err := ValidateModel(spec)
	if err != nil {
		return nil, err
	}
	if sig.Index != "" {
		if sig.onnx, err = indexModel(sig); err != nil {
			return nil, err
		}
	}
	sess, place, err := newSession(sig, opts)
	if err != nil {
		return nil, err
	}
	m := &Model{sig: sig, placement: place, sess: sess}
	if n := laneCount(opts.Threads); n > 0 && place.Device.Kind == DeviceCPU {
		m.lanes = &lanes{n: n, make: func() (*ort.DynamicAdvancedSession, error) { return cpuSession(sig, 1) }}
	}
	if sig.DynamicOutputExtent {
		// The file leaves the output's spatial sizes symbolic: one trial sample shows whether the
		// model really predicts on the input's grid.
		if _, err := m.Run(context.Background(), make([]float32, m.SampleLen()), 1); err != nil {
			m.close()
			return nil, &Error{Model: sig.Path, Kind: ErrModelSignature, Err: err,
				Msg:  fmt.Sprintf("a trial run did not give an output of [1, 1, %d, %d]", sig.NLat, sig.NLon),
				Hint: "the emulator must predict on its input grid: output [N, 1, nlat, nlon]"}
		}
	}
	r.models[key] = m
	return m, nil
}

// Close releases every session the Runtime opened. Models returned by Open fail with ErrClosed
// afterwards; runs in progress finish first. The ONNX Runtime library itself stays loaded.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var errs []error
	for k, m := range r.models {
		errs = append(errs, m.close())
		delete(r.models, k)
	}
	errs = append(errs, r.closeGraphs())
	return errors.Join(errs...)
}

// newSession makes an ONNX Runtime session for sig on opts' device, with the CUDA -> CPU fallback.
func newSession(sig Signature, opts Options) (*ort.DynamicAdvancedSession, Placement, error) {
	dev := opts.Device
	if dev.Kind == DeviceAuto || dev.Kind == DeviceCUDA {
		s, err := tryCUDA(sig, opts.Threads, dev.ID)
		if err == nil {
			return s, Placement{Device: Device{Kind: DeviceCUDA, ID: dev.ID}}, nil
		}
		if dev.Kind == DeviceCUDA {
			return nil, Placement{}, &Error{Model: sig.Path, Kind: ErrDeviceUnavailable, Err: err,
				Msg: dev.String(),
				Hint: "use --device cpu or --device auto, or set " + LibraryEnv +
					" to libonnxruntime.so of the onnxruntime-gpu 1.30 build (CUDA 12, cuDNN 9 on LD_LIBRARY_PATH)"}
		}
		s, cpuErr := cpuSession(sig, opts.Threads)
		if cpuErr != nil {
			return nil, Placement{}, cpuErr
		}
		return s, Placement{Device: CPU, Reason: cudaReason(err)}, nil
	}
	s, err := cpuSession(sig, opts.Threads)
	return s, Placement{Device: CPU}, err
}

// cudaError records at which step the CUDA provider failed.
type cudaError struct {
	step string
	err  error
}

func (e *cudaError) Error() string { return e.step + ": " + e.err.Error() }
func (e *cudaError) Unwrap() error { return e.err }

// cudaReason turns a CUDA set-up failure into the Placement's reason.
func cudaReason(err error) string {
	msg := err.Error()
	// ONNX Runtime prefixes its messages with the source location; keep what follows "FAIL : ".
	if i := strings.LastIndex(msg, "FAIL : "); i >= 0 {
		msg = msg[i+len("FAIL : "):]
	}
	var ce *cudaError
	if errors.As(err, &ce) && ce.step != "session" {
		// The CPU build of ONNX Runtime lacks the provider libraries altogether: say so in a few
		// words rather than with the loader's message, which every summary line would repeat.
		if strings.Contains(msg, "libonnxruntime_providers_shared.so") || strings.Contains(msg, "libonnxruntime_providers_cuda.so") {
			return "CUDA provider missing: this ONNX Runtime build is CPU-only (README, Devices)"
		}
		return "CUDA provider not available in this ONNX Runtime build: " + msg
	}
	return "CUDA session could not be created: " + msg
}

// tryCUDA sets up the CUDA provider for GPU id and makes a session. Any of the provider calls may
// fail (NewCUDAProviderOptions on a CPU-only build, Update or Append when the provider library or
// CUDA itself is missing), and so may the session on a machine without a usable GPU.
func tryCUDA(sig Signature, threads, id int) (*ort.DynamicAdvancedSession, error) {
	so, err := sessionOptions(sig, threads)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	c, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return nil, &cudaError{"NewCUDAProviderOptions", err}
	}
	defer c.Destroy()
	if err := c.Update(map[string]string{"device_id": strconv.Itoa(id)}); err != nil {
		return nil, &cudaError{"CUDAProviderOptions.Update", err}
	}
	if err := so.AppendExecutionProviderCUDA(c); err != nil {
		return nil, &cudaError{"AppendExecutionProviderCUDA", err}
	}
	s, err := sig.session(so)
	if err != nil {
		return nil, &cudaError{"session", err}
	}
	return s, nil
}

func cpuSession(sig Signature, threads int) (*ort.DynamicAdvancedSession, error) {
	so, err := sessionOptions(sig, threads)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	s, err := sig.session(so)
	if err != nil {
		return nil, loadError(sig.Path, err)
	}
	return s, nil
}

// session opens sig's model: the file, or the extended model of an index emulator.
func (sig Signature) session(so *ort.SessionOptions) (*ort.DynamicAdvancedSession, error) {
	if sig.onnx != nil {
		return ort.NewDynamicAdvancedSessionWithONNXData(sig.onnx, []string{sig.Input}, []string{sig.Output}, so)
	}
	return ort.NewDynamicAdvancedSession(sig.Path, []string{sig.Input}, []string{sig.Output}, so)
}

// ONNX returns the model as the sessions run it: the file's bytes, or for an index emulator the
// model extended to a field over its region (index.go).
func (m *Model) ONNX() ([]byte, error) {
	if m.sig.onnx != nil {
		return m.sig.onnx, nil
	}
	b, err := os.ReadFile(m.sig.Path)
	if err != nil {
		return nil, &Error{Model: m.sig.Path, Kind: ErrModelMissing, Err: err}
	}
	return b, nil
}

func sessionOptions(sig Signature, threads int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, &Error{Model: sig.Path, Kind: ErrRuntimeLoad, Err: err}
	}
	if threads > 0 {
		if err := so.SetIntraOpNumThreads(threads); err != nil {
			so.Destroy()
			return nil, &Error{Model: sig.Path, Kind: ErrBadInput, Msg: "threads", Err: err}
		}
	}
	if prefix := os.Getenv("CLIMXAI_ORT_PROFILE"); prefix != "" {
		// ONNX Runtime's per-node timings, one JSON file per session (chrome://tracing format).
		if err := so.EnableProfiling(prefix); err != nil {
			so.Destroy()
			return nil, &Error{Model: sig.Path, Kind: ErrBadInput, Msg: "CLIMXAI_ORT_PROFILE", Err: err}
		}
	}
	return so, nil
}

// Model is one opened ONNX emulator: input [N, Months, NLat, NLon] -> output [N, 1, NLat, NLon].
//
// A *Model is safe for concurrent use. ONNX Runtime's Session::Run is thread-safe, and
// onnxruntime_go's DynamicAdvancedSession takes its input and output tensors per call, so every
// Run builds its own tensors over its own slices and no lock serialises runs; a read-write mutex
// only keeps Runtime.Close from releasing the session while runs are in flight.
type Model struct {
	sig       Signature
	placement Placement

	mu    sync.RWMutex
	sess  *ort.DynamicAdvancedSession // nil once closed
	lanes *lanes                      // single-threaded concurrent runs on the CPU (lanes.go); nil: none
}

// Signature returns the model's checked inputs and outputs.
func (m *Model) Signature() Signature { return m.sig }

// Placement says on which device the model runs and why.
func (m *Model) Placement() Placement { return m.placement }

// SampleLen is the number of float32 values of one input sample (Months * NLat * NLon).
func (m *Model) SampleLen() int { return m.sig.Months * m.sig.NLat * m.sig.NLon }

// Run runs the model on n samples in (C order [n, Months, NLat, NLon]) and returns the outputs
// [n, 1, NLat, NLon]. The input is read in place, not copied. Cancelling ctx stops a run in
// progress (through ONNX Runtime's terminate flag) and returns ctx's error. Models with a batch
// axis fixed at 1 are run one sample at a time.
func (m *Model) Run(ctx context.Context, in []float32, n int) ([]float32, error) {
	if n < 1 || len(in) != n*m.SampleLen() {
		return nil, &Error{Model: m.sig.Path, Kind: ErrBadInput,
			Msg: fmt.Sprintf("%d values for %d samples of %d x %d x %d", len(in), n, m.sig.Months, m.sig.NLat, m.sig.NLon)}
	}
	out := make([]float32, n*m.sig.NLat*m.sig.NLon)
	if err := m.run(ctx, in, out, n); err != nil {
		return nil, err
	}
	return out, nil
}

// run runs n samples from in into out (both exactly sized): on the lanes when the model has them,
// one sample per run when its batch axis is fixed at 1.
func (m *Model) run(ctx context.Context, in, out []float32, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.sess == nil {
		return &Error{Model: m.sig.Path, Kind: ErrClosed, Hint: "open the model through a new Runtime"}
	}
	maxChunk := 0
	if m.sig.FixedBatch {
		maxChunk = 1
	}
	s, o := m.SampleLen(), m.sig.NLat*m.sig.NLon
	return m.lanes.spread(ctx, m.sess, n, m.SampleBytes(), maxChunk, func(ctx context.Context, sess *ort.DynamicAdvancedSession, i, k int) error {
		return m.runOn(ctx, sess, in[i*s:(i+k)*s], out[i*o:(i+k)*o], k)
	})
}

// runOn runs n samples from in into out on sess (m.mu held).
func (m *Model) runOn(ctx context.Context, sess *ort.DynamicAdvancedSession, in, out []float32, n int) error {
	x, err := ort.NewTensor(ort.NewShape(int64(n), int64(m.sig.Months), int64(m.sig.NLat), int64(m.sig.NLon)), in)
	if err != nil {
		return &Error{Model: m.sig.Path, Kind: ErrBadInput, Err: err}
	}
	defer x.Destroy()
	y, err := ort.NewTensor(ort.NewShape(int64(n), 1, int64(m.sig.NLat), int64(m.sig.NLon)), out)
	if err != nil {
		return &Error{Model: m.sig.Path, Kind: ErrBadInput, Err: err}
	}
	defer y.Destroy()

	ro, release, err := terminateOnCancel(ctx)
	if err != nil {
		return &Error{Model: m.sig.Path, Kind: ErrRuntimeLoad, Err: err}
	}
	defer release()
	err = sess.RunWithOptions([]ort.Value{x}, []ort.Value{y}, ro)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		return &Error{Model: m.sig.Path, Kind: ErrModelLoad, Msg: "run failed", Err: err,
			Hint: "check that the model runs in ONNX Runtime " + RuntimeVersion + " (python: onnxruntime.InferenceSession)"}
	}
	return nil
}

// terminateOnCancel returns run options whose terminate flag is set when ctx is cancelled, so a
// cancel stops a batch that is already running, not only the next one; nil options when ctx can
// never be cancelled. release must be called once the run has returned.
func terminateOnCancel(ctx context.Context) (ro *ort.RunOptions, release func(), err error) {
	if ctx.Done() == nil {
		return nil, func() {}, nil
	}
	if ro, err = ort.NewRunOptions(); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			ro.Terminate()
		case <-done:
		}
	}()
	return ro, func() {
		close(done)
		ro.Destroy()
	}, nil
}

func (m *Model) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == nil {
		return nil
	}
	err := m.sess.Destroy()
	m.sess = nil
	if m.lanes != nil {
		err = errors.Join(err, m.lanes.close())
	}
	return err
}

// fileExists reports whether path names an existing regular file.
func fileExists(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}
