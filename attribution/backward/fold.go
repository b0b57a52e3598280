package backward

import (
	"slices"

	"climxai/onnx"
)

// foldChannelScales moves constant per-channel factors into the convolutions whose output they
// multiply: Mul(Conv(g, W), k) becomes Conv(g, k·W), and Mul(Mul(Conv(g, W), m), k) becomes
// Mul(Conv(g, k·W), m), when k is a constant of shape [C, 1, ...], the convolution has constant
// weights W with C output channels and no bias, and the intermediate values have no other use.
// This is the backward pass of BatchNorm -> ReLU -> Conv: the BatchNorm's scale, a per-channel
// constant, commutes with ReLU's 0/1 mask and joins the adjoint convolution's weights instead of
// taking a pass of its own over the cotangent (which ONNX Runtime would also have to run outside
// its blocked NCHWc layout). Exact up to float32 rounding of the products. outputs are the
// graph's output names.
func (b *builder) foldChannelScales(outputs []string) {
	inits := map[string]*onnx.TensorProto{}
	for _, t := range b.inits {
		inits[t.Name] = t
	}
	uses := map[string]int{}
	for _, o := range outputs {
		uses[o]++
	}
	for _, n := range b.g.Model.Graph.Node {
		for _, in := range n.Input {
			uses[in]++
		}
	}
	producer := map[string]*onnx.NodeProto{}
	for _, n := range b.nodes {
		for _, in := range n.Input {
			uses[in]++
		}
		for _, o := range n.Output {
			producer[o] = n
		}
	}
	// conv returns the bias-free convolution with constant weights that alone uses to produce v.
	conv := func(v string) *onnx.NodeProto {
		n := producer[v]
		if n == nil || n.OpType != "Conv" || uses[v] != 1 || len(n.Input) > 2 && n.Input[2] != "" {
			return nil
		}
		if w := inits[n.Input[1]]; w == nil || len(w.Dims) < 3 || w.DataType != int32(onnx.TensorProto_FLOAT) {
			return nil
		}
		return n
	}
	removed := map[*onnx.NodeProto]bool{}
	for _, mul := range b.nodes {
		if mul.OpType != "Mul" || len(mul.Input) != 2 || removed[mul] {
			continue
		}
		ki := slices.IndexFunc(mul.Input, func(in string) bool { k, _ := channelConst(inits[in]); return k != nil })
		if ki < 0 {
			continue
		}
		k, rank := channelConst(inits[mul.Input[ki]])
		a := mul.Input[1-ki]
		target, last := conv(a), producer[a] // last: the node whose output becomes mul's
		if target == nil && last != nil && last.OpType == "Mul" && len(last.Input) == 2 && uses[a] == 1 {
			for _, in := range last.Input {
				if c := conv(in); c != nil && !isChannelConst(inits[last.Input[0]]) && !isChannelConst(inits[last.Input[1]]) {
					target = c
				}
			}
		}
		if target == nil {
			continue
		}
		w := inits[target.Input[1]]
		// k must line up with the output's channel axis: [C, 1, ...] with one axis fewer than
		// the convolution's output, or [1, C, 1, ...] with as many.
		if w.Dims[0] != int64(len(k)) || rank != len(w.Dims)-1 {
			continue
		}
		wv, err := onnx.Float32s(w)
		if err != nil {
			continue
		}
		per := len(wv) / len(k)
		scaled := make([]float32, len(wv))
		for c, f := range k {
			for j := range per {
				scaled[c*per+j] = f * wv[c*per+j]
			}
		}
		name := b.constFloat(w.Dims, scaled)
		inits[name] = b.inits[len(b.inits)-1]
		uses[target.Input[1]]--
		uses[name]++
		target.Input[1] = name
		last.Output[0] = mul.Output[0]
		producer[mul.Output[0]] = last
		removed[mul] = true
	}
	if len(removed) == 0 {
		return
	}
	b.nodes = slices.DeleteFunc(b.nodes, func(n *onnx.NodeProto) bool { return removed[n] })
	b.inits = slices.DeleteFunc(b.inits, func(t *onnx.TensorProto) bool { return uses[t.Name] == 0 })
}

// channelConst returns the values of a float constant of shape [C, 1, ...] or [1, C, 1, ...]
// (at least three axes: a factor per channel of a batch of images) and the rank of its shape
// without the leading 1 of the second form; nil for anything else.
func channelConst(t *onnx.TensorProto) ([]float32, int) {
	if t == nil || t.DataType != int32(onnx.TensorProto_FLOAT) || len(t.Dims) < 3 {
		return nil, 0
	}
	d := t.Dims
	if d[0] == 1 && len(d) >= 4 {
		d = d[1:]
	}
	for _, x := range d[1:] {
		if x != 1 {
			return nil, 0
		}
	}
	v, err := onnx.Float32s(t)
	if err != nil || int64(len(v)) != d[0] {
		return nil, 0
	}
	return v, len(d)
}

func isChannelConst(t *onnx.TensorProto) bool { v, _ := channelConst(t); return v != nil }
