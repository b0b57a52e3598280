package backward

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"climxai/onnx"
)

// channelBlock is the channel block of ONNX Runtime's blocked (NCHWc) convolutions on AVX-512
// CPUs: a convolution whose input channels are not a multiple of it runs with its input
// zero-padded to the next multiple.
const channelBlock = 16

// SplitInputConvs rewrites every 2-D convolution that reads the model's input directly and
// spends much of its time on channel padding (group 1, constant weights, more than 16 input
// channels but not a multiple of 16, at least 32 output channels, a kernel of at least 3 x 3)
// into two convolutions over the input's channels split at the largest multiple of 16, whose
// outputs are added: Conv(x, W) = Conv(x[:, :a], W[:, :a]) + Conv(x[:, a:], W[:, a:]). ONNX
// Runtime runs the first blocked without padding and the second, with fewer than 16 channels,
// directly on its plain layout: the reference DenseNet's stem (36 input months, padded to 48
// before) took 5.5 instead of 7.2 ms a sample on one core. The sum is the same in another order
// (float32 rounding). It returns a new model, or m itself when nothing applies or its opset
// predates Slice's inputs (10).
//
// Options.Forward takes the result: the backward graph's forward part runs the split form while
// the adjoint comes from the original convolution (its adjoint of the split form would add a
// Pad and a Sum over the input, which cost what the forward part saves).
func SplitInputConvs(m *onnx.ModelProto) (*onnx.ModelProto, int, error) {
	if opsetOf(m) < 10 || m.Graph == nil || len(m.Graph.Input) == 0 {
		return m, 0, nil
	}
	out := proto.Clone(m).(*onnx.ModelProto)
	g := out.Graph
	inits := map[string]*onnx.TensorProto{}
	for _, t := range g.Initializer {
		inits[t.Name] = t
	}
	inputs := map[string]bool{}
	for _, in := range g.Input {
		if inits[in.Name] == nil {
			inputs[in.Name] = true
		}
	}
	names := map[string]bool{}
	for _, n := range g.Node {
		names[n.Name] = true
		for _, v := range append(append([]string{}, n.Input...), n.Output...) {
			names[v] = true
		}
	}
	for name := range inits {
		names[name] = true
	}
	k := 0
	fresh := func(base string) string {
		for {
			k++
			if name := fmt.Sprintf("%s/split_%d", base, k); !names[name] {
				names[name] = true
				return name
			}
		}
	}
	var nodes []*onnx.NodeProto
	split := 0
	for _, n := range g.Node {
		a, w := splitPoint(n, inits)
		if a == 0 || !inputs[n.Input[0]] {
			nodes = append(nodes, n)
			continue
		}
		wv, err := onnx.Float32s(w)
		if err != nil {
			return nil, 0, graphErr("conv %s: weights: %v", n.Name, err)
		}
		cout, cin := w.Dims[0], w.Dims[1]
		area := int(dimProd(w.Dims[2:]))
		wa := make([]float32, 0, int(cout*a)*area)
		wb := make([]float32, 0, int(cout*(cin-a))*area)
		for o := range int(cout) {
			row := wv[o*int(cin)*area : (o+1)*int(cin)*area]
			wa = append(wa, row[:int(a)*area]...)
			wb = append(wb, row[int(a)*area:]...)
		}
		base := n.Name
		if base == "" {
			base = n.Output[0]
		}
		ints := func(v int64) string {
			name := fresh(base)
			g.Initializer = append(g.Initializer, onnx.Int64Tensor(name, []int64{1}, []int64{v}))
			return name
		}
		floats := func(dims []int64, v []float32) string {
			name := fresh(base)
			g.Initializer = append(g.Initializer, onnx.FloatTensor(name, dims, v))
			return name
		}
		axis := ints(1)
		xa, xb, ya, yb := fresh(base), fresh(base), fresh(base), fresh(base)
		nodes = append(nodes,
			&onnx.NodeProto{OpType: "Slice", Name: fresh(base), Input: []string{n.Input[0], ints(0), ints(a), axis}, Output: []string{xa}},
			&onnx.NodeProto{OpType: "Slice", Name: fresh(base), Input: []string{n.Input[0], ints(a), ints(cin), axis}, Output: []string{xb}})
		convA := proto.Clone(n).(*onnx.NodeProto)
		convA.Name, convA.Output = fresh(base), []string{ya}
		convA.Input = append([]string{xa, floats(append([]int64{cout, a}, w.Dims[2:]...), wa)}, n.Input[2:]...)
		convB := proto.Clone(n).(*onnx.NodeProto)
		convB.Name, convB.Output = fresh(base), []string{yb}
		convB.Input = []string{xb, floats(append([]int64{cout, cin - a}, w.Dims[2:]...), wb)} // the bias once, in convA
		nodes = append(nodes, convA, convB,
			&onnx.NodeProto{OpType: "Add", Name: n.Name, Input: []string{ya, yb}, Output: []string{n.Output[0]}})
		split++
	}
	if split == 0 {
		return m, 0, nil
	}
	g.Node = nodes
	return out, split, nil
}

// splitPoint returns where SplitInputConvs splits n's input channels and n's weights; 0 when it
// does not apply.
func splitPoint(n *onnx.NodeProto, inits map[string]*onnx.TensorProto) (int64, *onnx.TensorProto) {
	if n.OpType != "Conv" || n.Domain != "" || len(n.Input) < 2 || len(n.Output) != 1 {
		return 0, nil
	}
	w := inits[n.Input[1]]
	if w == nil || len(w.Dims) != 4 || w.DataType != int32(onnx.TensorProto_FLOAT) {
		return 0, nil
	}
	if (&Node{Proto: n, Op: n.OpType}).AttrInt("group", 1) != 1 {
		return 0, nil
	}
	cin, cout := w.Dims[1], w.Dims[0]
	if cin <= channelBlock || cin%channelBlock == 0 || cout < 32 || w.Dims[2]*w.Dims[3] < 9 {
		return 0, nil
	}
	return cin - cin%channelBlock, w
}

// opsetOf is the model's default-domain opset (0 if none is imported).
func opsetOf(m *onnx.ModelProto) int64 {
	for _, o := range m.OpsetImport {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			return o.Version
		}
	}
	return 0
}
