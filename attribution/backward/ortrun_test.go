package backward

import (
	"fmt"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"climxai/inference"
	"climxai/onnx"
)

// tensor is a float32 array with its shape, for running test graphs.
type tensor struct {
	shape []int64
	data  []float32
}

// ortSession runs an in-memory model in ONNX Runtime on float32 inputs (test helper; to be
// replaced by climxai/inference's equivalent once it runs in-memory models).
type ortSession struct {
	s       *ort.DynamicAdvancedSession
	inputs  []string
	outputs []string
}

// newSession loads ONNX Runtime (failing the test with the set-up hint if it is missing) and
// opens a session on m.
func newSession(t testing.TB, m *onnx.ModelProto, inputs, outputs []string) *ortSession {
	t.Helper()
	if _, err := inference.LoadLibrary(""); err != nil {
		t.Fatalf("ONNX Runtime is needed for this test; run `make setup` (make test runs it first): %v", err)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	_ = opts.SetIntraOpNumThreads(1)
	_ = opts.SetInterOpNumThreads(1)
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(b, inputs, outputs, opts)
	if err != nil {
		t.Fatalf("ONNX Runtime rejects the model: %v", err)
	}
	t.Cleanup(func() { s.Destroy() })
	return &ortSession{s: s, inputs: inputs, outputs: outputs}
}

// run feeds the inputs (in the session's input order) and returns the outputs.
func (o *ortSession) run(in ...tensor) ([]tensor, error) {
	vals := make([]ort.Value, len(in))
	for i, x := range in {
		v, err := ort.NewTensor(ort.NewShape(x.shape...), x.data)
		if err != nil {
			return nil, err
		}
		defer v.Destroy()
		vals[i] = v
	}
	outs := make([]ort.Value, len(o.outputs))
	if err := o.s.Run(vals, outs); err != nil {
		return nil, err
	}
	res := make([]tensor, len(outs))
	for i, v := range outs {
		defer v.Destroy()
		ft, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("output %s is not float32", o.outputs[i])
		}
		res[i] = tensor{shape: ft.GetShape(), data: append([]float32{}, ft.GetData()...)}
	}
	return res, nil
}

// centralDifference is (L(x + h e_i) - L(x - h e_i)) / 2h, the central difference of loss in
// element i; xv is left as it was.
func centralDifference(loss func([]float32) float64, xv []float32, i int, h float64) float64 {
	orig := xv[i]
	xv[i] = orig + float32(h)
	lp := loss(xv)
	xv[i] = orig - float32(h)
	lm := loss(xv)
	xv[i] = orig
	return (lp - lm) / (2 * h)
}

// seededLoss returns <seed, y(x)> of the forward model fwd for inputs of shape, in float64:
// the scalar whose central differences the gradient tests compare with.
func seededLoss(t testing.TB, fwd *ortSession, shape []int64, seed []float32) func([]float32) float64 {
	return func(xv []float32) float64 {
		r, err := fwd.run(tensor{shape: shape, data: xv})
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for i, v := range r[0].data {
			s += float64(v) * float64(seed[i])
		}
		return s
	}
}
