package inference

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	ort "github.com/yalue/onnxruntime_go"
)

// GraphIO is one named input or output of a Graph with the shape of one sample (without the
// leading batch axis), e.g. x [36, 35, 63] or seed [1, 35, 63].
type GraphIO struct {
	Name  string
	Shape []int64
}

// Size is the number of float32 values of one sample.
func (io GraphIO) Size() int {
	n := 1
	for _, d := range io.Shape {
		n *= int(d)
	}
	return n
}

// GraphSpec describes an in-memory ONNX model with several float32 inputs and outputs that all
// have a leading batch axis: the backward models of climxai/attribution/backward
// ((x, seed[, x_ref]) -> (y, grad)).
type GraphSpec struct {
	// Key identifies the model for the Runtime's cache, e.g. the emulator file's SHA-256 and the
	// rule that built the backward graph. Two Opens with the same Key, device and threads share
	// one session; different models must have different keys.
	Key     string
	Name    string // for messages, e.g. "lead01.onnx (saliency)"
	Inputs  []GraphIO
	Outputs []GraphIO
	// ActivationFactor bounds a sample's working memory as a multiple of its input and output
	// bytes (0 = 24: a backward graph keeps the forward activations alive for the backward pass
	// and adds cotangents of the same sizes, about three times a forward run's factor of 8).
	ActivationFactor int
}

// Graph is an in-memory ONNX model opened by Runtime.OpenGraph. Like *Model it is safe for
// concurrent use: every Run builds its own tensors, and a read-write mutex only keeps
// Runtime.Close from releasing the session during runs.
type Graph struct {
	spec      GraphSpec
	placement Placement
	model     *Model // the session holder (its sig names the graph for errors)
}

type graphKey struct {
	key     string
	device  Device
	threads int
}

// OpenGraph returns a session on the serialised ONNX model that build returns, described by
// spec, on opts' device and threads with the same CUDA -> CPU fallback as Open, cached under
// (spec.Key, device, threads): a later call with the same key returns the same *Graph without
// calling build (building a backward graph is the expensive part). The model's inputs and outputs
// must carry the names of spec.
func (r *Runtime) OpenGraph(spec GraphSpec, build func() ([]byte, error), opts Options) (*Graph, error) {
	if opts.Threads < 0 {
		return nil, errorf(ErrBadInput, "pass --threads 0 (automatic) or a positive number",
			"threads = %d", opts.Threads)
	}
	if spec.Key == "" || len(spec.Inputs) == 0 || len(spec.Outputs) == 0 {
		return nil, errorf(ErrBadInput, "", "graph %s: a GraphSpec needs a key, inputs and outputs", spec.Name)
	}
	key := graphKey{spec.Key, opts.Device, opts.Threads}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, &Error{Model: spec.Name, Kind: ErrClosed, Hint: "open the models through a new Runtime"}
	}
	if g, ok := r.graphs[key]; ok {
		return g, nil
	}
	onnx, err := build()
	if err != nil {
		return nil, err
	}
	ins, outs := ioNames(spec.Inputs), ioNames(spec.Outputs)
	sess, place, err := newGraphSession(onnx, spec.Name, ins, outs, opts)
	if err != nil {
		return nil, err
	}
	g := &Graph{spec: spec, placement: place, model: &Model{sig: Signature{Path: spec.Name}, sess: sess}}
	if n := laneCount(opts.Threads); n > 0 && place.Device.Kind == DeviceCPU {
		sig := Signature{Path: spec.Name}
		g.model.lanes = &lanes{n: n, make: func() (*ort.DynamicAdvancedSession, error) {
			return cpuGraphSession(onnx, sig, ins, outs, 1)
		}}
	}
	if r.graphs == nil {
		r.graphs = map[graphKey]*Graph{}
	}
	r.graphs[key] = g
	return g, nil
}

func ioNames(ios []GraphIO) []string {
	names := make([]string, len(ios))
	for i, io := range ios {
		names[i] = io.Name
	}
	return names
}

// newGraphSession is newSession for an in-memory model.
func newGraphSession(b []byte, name string, ins, outs []string, opts Options) (*ort.DynamicAdvancedSession, Placement, error) {
	sig := Signature{Path: name}
	dev := opts.Device
	if dev.Kind == DeviceAuto || dev.Kind == DeviceCUDA {
		s, err := func() (*ort.DynamicAdvancedSession, error) {
			so, err := sessionOptions(sig, opts.Threads)
			if err != nil {
				return nil, err
			}
			defer so.Destroy()
			c, err := ort.NewCUDAProviderOptions()
			if err != nil {
				return nil, &cudaError{"NewCUDAProviderOptions", err}
			}
			defer c.Destroy()
			if err := c.Update(map[string]string{"device_id": strconv.Itoa(dev.ID)}); err != nil {
				return nil, &cudaError{"CUDAProviderOptions.Update", err}
			}
			if err := so.AppendExecutionProviderCUDA(c); err != nil {
				return nil, &cudaError{"AppendExecutionProviderCUDA", err}
			}
			s, err := ort.NewDynamicAdvancedSessionWithONNXData(b, ins, outs, so)
			if err != nil {
				return nil, &cudaError{"session", err}
			}
			return s, nil
		}()
		if err == nil {
			return s, Placement{Device: Device{Kind: DeviceCUDA, ID: dev.ID}}, nil
		}
		if dev.Kind == DeviceCUDA {
			return nil, Placement{}, &Error{Model: name, Kind: ErrDeviceUnavailable, Err: err, Msg: dev.String(),
				Hint: "use --device cpu or --device auto"}
		}
		s, cpuErr := cpuGraphSession(b, sig, ins, outs, opts.Threads)
		if cpuErr != nil {
			return nil, Placement{}, cpuErr
		}
		return s, Placement{Device: CPU, Reason: cudaReason(err)}, nil
	}
	s, err := cpuGraphSession(b, sig, ins, outs, opts.Threads)
	return s, Placement{Device: CPU}, err
}

func cpuGraphSession(b []byte, sig Signature, ins, outs []string, threads int) (*ort.DynamicAdvancedSession, error) {
	so, err := sessionOptions(sig, threads)
	if err != nil {
		return nil, err
	}
	defer so.Destroy()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(b, ins, outs, so)
	if err != nil {
		return nil, &Error{Model: sig.Path, Kind: ErrModelLoad, Err: err,
			Hint: "the generated graph was rejected by ONNX Runtime; report this with the emulator file"}
	}
	return s, nil
}

// Spec returns the graph's description.
func (g *Graph) Spec() GraphSpec { return g.spec }

// Placement says on which device the graph runs and why.
func (g *Graph) Placement() Placement { return g.placement }

// SampleBytes estimates the memory one sample takes during a run.
func (g *Graph) SampleBytes() int64 {
	f := g.spec.ActivationFactor
	if f <= 0 {
		f = 24
	}
	var n int64
	for _, io := range g.spec.Inputs {
		n += int64(io.Size())
	}
	for _, io := range g.spec.Outputs {
		n += int64(io.Size())
	}
	return 4 * n * int64(f)
}

// BatchSize is how many samples RunBatched runs at once under budgetBytes (DefaultBudget when
// <= 0), at least 1.
func (g *Graph) BatchSize(budgetBytes int64) int {
	if budgetBytes <= 0 {
		budgetBytes = DefaultBudget
	}
	return int(max(1, budgetBytes/g.SampleBytes()))
}

// Run runs n samples: ins[i] holds n samples of Inputs[i] (C order), and the outputs come back
// in the order of Outputs. Cancelling ctx stops the run (ONNX Runtime's terminate flag).
func (g *Graph) Run(ctx context.Context, ins [][]float32, n int) ([][]float32, error) {
	if err := g.check(ins, n); err != nil {
		return nil, err
	}
	outs := make([][]float32, len(g.spec.Outputs))
	for i, o := range g.spec.Outputs {
		outs[i] = make([]float32, n*o.Size())
	}
	return outs, g.run(ctx, ins, outs, n)
}

// RunBatched is Run in batches of BatchSize(budgetBytes) samples; between batches it checks ctx
// and calls progress (if not nil) with the samples done and n.
func (g *Graph) RunBatched(ctx context.Context, ins [][]float32, n int, budgetBytes int64, progress func(done, total int)) ([][]float32, error) {
	if err := g.check(ins, n); err != nil {
		return nil, err
	}
	outs := make([][]float32, len(g.spec.Outputs))
	for i, o := range g.spec.Outputs {
		outs[i] = make([]float32, n*o.Size())
	}
	b := g.BatchSize(budgetBytes)
	for s := 0; s < n; s += b {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k := min(b, n-s)
		if err := g.run(ctx, samples(g.spec.Inputs, ins, s, k), samples(g.spec.Outputs, outs, s, k), k); err != nil {
			return nil, err
		}
		if progress != nil {
			progress(s+k, n)
		}
	}
	return outs, nil
}

func (g *Graph) check(ins [][]float32, n int) error {
	if n < 1 || len(ins) != len(g.spec.Inputs) {
		return &Error{Model: g.spec.Name, Kind: ErrBadInput,
			Msg: fmt.Sprintf("%d inputs for %d samples, the graph has %d inputs", len(ins), n, len(g.spec.Inputs))}
	}
	for i, io := range g.spec.Inputs {
		if len(ins[i]) != n*io.Size() {
			return &Error{Model: g.spec.Name, Kind: ErrBadInput,
				Msg: fmt.Sprintf("input %s: %d values for %d samples of %v", io.Name, len(ins[i]), n, io.Shape)}
		}
	}
	return nil
}

// run runs n samples from ins into outs (all exactly sized).
func (g *Graph) run(ctx context.Context, ins, outs [][]float32, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := g.model
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.sess == nil {
		return &Error{Model: g.spec.Name, Kind: ErrClosed, Hint: "open the graph through a new Runtime"}
	}
	return m.lanes.spread(ctx, m.sess, n, g.SampleBytes(), 0, func(ctx context.Context, sess *ort.DynamicAdvancedSession, s, k int) error {
		return g.runOn(ctx, sess, samples(g.spec.Inputs, ins, s, k), samples(g.spec.Outputs, outs, s, k), k)
	})
}

// samples returns samples [s, s+k) of each of data's arrays, laid out as ios says.
func samples(ios []GraphIO, data [][]float32, s, k int) [][]float32 {
	out := make([][]float32, len(data))
	for i, io := range ios {
		z := io.Size()
		out[i] = data[i][s*z : (s+k)*z]
	}
	return out
}

// runOn runs n samples from ins into outs on sess (the model's read lock held).
func (g *Graph) runOn(ctx context.Context, sess *ort.DynamicAdvancedSession, ins, outs [][]float32, n int) error {
	tensor := func(io GraphIO, data []float32) (*ort.Tensor[float32], error) {
		shape := append(ort.Shape{int64(n)}, io.Shape...)
		return ort.NewTensor(shape, data)
	}
	vin := make([]ort.Value, len(ins))
	for i, io := range g.spec.Inputs {
		t, err := tensor(io, ins[i])
		if err != nil {
			return &Error{Model: g.spec.Name, Kind: ErrBadInput, Err: err}
		}
		defer t.Destroy()
		vin[i] = t
	}
	vout := make([]ort.Value, len(outs))
	for i, io := range g.spec.Outputs {
		t, err := tensor(io, outs[i])
		if err != nil {
			return &Error{Model: g.spec.Name, Kind: ErrBadInput, Err: err}
		}
		defer t.Destroy()
		vout[i] = t
	}
	ro, release, err := terminateOnCancel(ctx)
	if err != nil {
		return &Error{Model: g.spec.Name, Kind: ErrRuntimeLoad, Err: err}
	}
	defer release()
	err = sess.RunWithOptions(vin, vout, ro)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		return &Error{Model: g.spec.Name, Kind: ErrModelLoad, Msg: "run failed", Err: err}
	}
	return nil
}

// closeGraphs releases the sessions of every graph; called by Runtime.Close.
func (r *Runtime) closeGraphs() error {
	var errs []error
	for k, g := range r.graphs {
		errs = append(errs, g.model.close())
		delete(r.graphs, k)
	}
	return errors.Join(errs...)
}
