package backward

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"climxai/onnx"
)

// FuzzBuild feeds arbitrary model bytes to NewGraph and Build (the gradient, an LRP composite
// and DeepLIFT, whose rules walk the graph for gates), and to SplitCrop and the windowed graph's
// parts: a model from outside may be wrong in any way, and the engine must answer with an error,
// never a panic or a hang.
func FuzzBuild(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "densenet.onnx")); err == nil {
		f.Add(b)
	}
	for _, c := range opCases() {
		g := newTestGraph()
		c.graph(g)
		xs := append([]int64{}, c.x...)
		xs[0] = Unknown
		if b, err := proto.Marshal(g.model(13, xs)); err == nil {
			f.Add(b)
		}
	}
	g := newTestGraph()
	cropNet(g)
	if b, err := proto.Marshal(g.model(13, []int64{Unknown, 3, 8, 10})); err == nil {
		f.Add(b)
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "zoo_vit.onnx")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := onnx.Parse(b, "fuzz.onnx")
		if err != nil {
			return
		}
		_, _ = Build(m, Options{})
		if g, err := NewGraph(m, "", ""); err == nil {
			_, _ = BuildGraph(g, Options{Rules: EpsilonPlus(g, 1e-6, Flat())})
		}
		_, _ = Build(m, Options{Rules: DeepLift(), Reference: "fuzz_ref"})
		c, ok, err := SplitCrop(m, "", "")
		if err != nil || !ok {
			return
		}
		_, size := c.Window(0, 0, 0, 0)
		body, err := Build(c.Body, Options{Input: c.Input, Output: c.BodyOut, Seed: "fseed"})
		if err != nil {
			return
		}
		tail, err := Build(c.Tail(size), Options{})
		if err != nil {
			return
		}
		var low *onnx.ModelProto
		if lm := c.Low(size); lm != nil {
			if low, err = Build(lm, Options{}); err != nil {
				return
			}
		}
		_, _ = c.Compose(body, tail, low, size, CropNames{Seed: "seed", Grad: "grad", Window: "win", BodySeed: "fseed"})
	})
}
