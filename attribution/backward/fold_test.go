package backward

import (
	"testing"

	"climxai/onnx"
)

// channelMuls counts the backward graph's multiplications by a constant per-channel factor.
func channelMuls(t *testing.T, graph func(*testGraph), x []int64) int {
	t.Helper()
	g := newTestGraph()
	graph(g)
	bm, err := Build(g.model(13, x), Options{})
	if err != nil {
		t.Fatal(err)
	}
	inits := map[string]*onnx.TensorProto{}
	for _, in := range bm.Graph.Initializer {
		inits[in.Name] = in
	}
	n := 0
	for _, node := range bm.Graph.Node {
		if node.OpType != "Mul" {
			continue
		}
		for _, in := range node.Input {
			if isChannelConst(inits[in]) {
				n++
			}
		}
	}
	return n
}

// TestFoldChannelScales: BatchNorm scales in front of ReLU -> Conv join the adjoint convolutions'
// weights, and stay multiplications where the convolution's result has another use. The
// gradients of both graphs are checked against finite differences in
// TestGradientMatchesFiniteDifferences (Chain/bn_relu_conv_dense, Chain/bn_relu_conv_grouped_shared).
func TestFoldChannelScales(t *testing.T) {
	if n := channelMuls(t, bnReluConvDense, []int64{Unknown, 3, 5, 6}); n != 0 {
		t.Errorf("dense chain: %d per-channel multiplications left, want both folded", n)
	}
	if n := channelMuls(t, bnReluConvShared, []int64{Unknown, 4, 5, 6}); n != 1 {
		t.Errorf("shared ReLU output: %d per-channel multiplications, want 1 (not foldable)", n)
	}
}
