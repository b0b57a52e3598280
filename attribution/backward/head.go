package backward

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"climxai/onnx"
)

// Head is a model cut after its first layer, when that layer is linear in the input: x feeds
// exactly one convolution with constant weights, h = Conv(x, W) (+ a constant bias). Then the
// input gradient is ∇x = Conv(·, W)ᵀ ∇h, and any weighted sum of input gradients, such as
// Integrated Gradients' Σ_k w_k ∇f(x_k), is the adjoint applied once to the same sum of the
// hidden gradients: the first layer's adjoint runs once per explanation instead of once per step.
type Head struct {
	Hidden string           // h, the convolution's output
	Shape  []int64          // h's shape per sample (without the batch axis)
	Conv   *onnx.ModelProto // x -> h: the convolution alone
	Tail   *onnx.ModelProto // h -> y: the model without the convolution, h its input
}

// Len is the number of values of one sample of h.
func (h *Head) Len() int64 { return dimProd(h.Shape) }

// SplitHead cuts m after its first layer when that layer is linear (see Head); ok is false
// otherwise: x used by more than one node or by an output, the first node not a Conv with
// constant weights and bias, or h's shape not static apart from the batch.
func SplitHead(m *onnx.ModelProto, input string) (h *Head, ok bool, err error) {
	g, err := NewGraph(m, input, "")
	if err != nil {
		return nil, false, err
	}
	gp := m.Graph
	var conv *onnx.NodeProto
	for _, n := range gp.Node {
		if slices.Contains(n.Input, g.Input) {
			if conv != nil {
				return nil, false, nil
			}
			conv = n
		}
	}
	for _, o := range gp.Output {
		if o.Name == g.Input {
			return nil, false, nil
		}
	}
	if conv == nil || conv.OpType != "Conv" || conv.Domain != "" || len(conv.Output) != 1 || conv.Input[0] != g.Input {
		return nil, false, nil
	}
	inits := map[string]*onnx.TensorProto{}
	for _, t := range gp.Initializer {
		inits[t.Name] = t
	}
	for _, p := range conv.Input[1:] {
		if p != "" && inits[p] == nil {
			return nil, false, nil
		}
	}
	hidden := conv.Output[0]
	shape := g.shape(hidden)
	if len(shape) < 2 || slices.Contains(shape[1:], Unknown) {
		return nil, false, nil
	}
	for _, o := range gp.Output {
		if o.Name == hidden {
			return nil, false, nil
		}
	}
	xInfo := infoNamed(gp.Input, g.Input)
	hInfo := valueInfo(hidden, append([]int64{Unknown}, shape[1:]...))

	head := &onnx.ModelProto{IrVersion: m.IrVersion, OpsetImport: m.OpsetImport, ProducerName: m.ProducerName,
		Graph: &onnx.GraphProto{Name: gp.Name + "_head", Node: []*onnx.NodeProto{proto.Clone(conv).(*onnx.NodeProto)},
			Input: []*onnx.ValueInfoProto{proto.Clone(xInfo).(*onnx.ValueInfoProto)}, Output: []*onnx.ValueInfoProto{hInfo}}}
	for _, p := range conv.Input[1:] {
		if p != "" {
			head.Graph.Initializer = append(head.Graph.Initializer, proto.Clone(inits[p]).(*onnx.TensorProto))
		}
	}

	tail := proto.Clone(m).(*onnx.ModelProto)
	tg := tail.Graph
	tg.Node = slices.DeleteFunc(tg.Node, func(n *onnx.NodeProto) bool { return n.Output[0] == hidden && n.OpType == "Conv" })
	for i, vi := range tg.Input {
		if vi.Name == g.Input {
			tg.Input[i] = proto.Clone(hInfo).(*onnx.ValueInfoProto)
		}
	}
	dropUnread(tg, hidden)
	tg.ValueInfo = slices.DeleteFunc(tg.ValueInfo, func(vi *onnx.ValueInfoProto) bool { return vi.Name == hidden })
	return &Head{Hidden: hidden, Shape: shape[1:], Conv: head, Tail: tail}, true, nil
}

// dropUnread removes from g the initializers no node reads and the inputs, other than keep, that
// no node reads: what a part cut from a model leaves behind.
func dropUnread(g *onnx.GraphProto, keep string) {
	read := map[string]bool{}
	for _, n := range g.Node {
		for _, in := range n.Input {
			read[in] = true
		}
	}
	g.Initializer = slices.DeleteFunc(g.Initializer, func(t *onnx.TensorProto) bool { return !read[t.Name] })
	g.Input = slices.DeleteFunc(g.Input, func(vi *onnx.ValueInfoProto) bool { return vi.Name != keep && !read[vi.Name] })
}

// PrependHead returns bm (a backward model of h.Tail, whose input is h) with h.Conv's nodes and
// initializers in front and x as its input in h's place, so that it takes (x, seed) and returns
// (y, ∇h). conv is h.Conv or an equivalent form of it (SplitInputConvs).
func (h *Head) PrependHead(bm, conv *onnx.ModelProto) *onnx.ModelProto {
	out := proto.Clone(bm).(*onnx.ModelProto)
	g := out.Graph
	for i, vi := range g.Input {
		if vi.Name == h.Hidden {
			g.Input[i] = proto.Clone(conv.Graph.Input[0]).(*onnx.ValueInfoProto)
		}
	}
	g.Node = append(append([]*onnx.NodeProto{}, conv.Graph.Node...), g.Node...)
	have := map[string]bool{}
	for _, t := range g.Initializer {
		have[t.Name] = true
	}
	for _, t := range conv.Graph.Initializer {
		if !have[t.Name] { // a weight the tail shares is there already
			g.Initializer = append(g.Initializer, t)
		}
	}
	return out
}
