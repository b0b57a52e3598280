package backward

import (
	"errors"
	"fmt"
	"strconv"

	"climxai/onnx"
)

// Default names of the extra graph input and output of a backward model.
const (
	DefaultSeed = "seed"
	DefaultGrad = "grad"
)

// Options configure Build. The zero value differentiates the model's first input and output with
// the exact gradient.
type Options struct {
	Input  string    // differentiated input; "" = the first graph input that is not an initializer
	Output string    // output whose cotangent is the seed; "" = the first graph output
	Rules  Composite // rule per node; nil (or a nil Rule) = Gradient
	Seed   string    // name of the cotangent input; "" = DefaultSeed
	Grad   string    // name of the result output; "" = DefaultGrad
	// Reference, when set, adds an input of that name with x's shape and a copy of the forward
	// graph evaluated on it, which rules read through Step.Ref (DeepLIFT's reference input).
	Reference string
	// Forward, when set, is an equivalent form of the model (SplitInputConvs) whose nodes and
	// initializers make the forward part of the result, while the backward part is built from
	// the model itself. It must compute every value of the model under the same name.
	Forward *onnx.ModelProto
}

// Build returns a new model with inputs (x, seed) and outputs (y, grad): the forward nodes of m
// unchanged, then, for each node in reverse topological order that lies on a path from x to y,
// the ops its rule emits. seed has y's shape and grad x's shape; with the Gradient rule,
// grad = J^T seed, the vector-Jacobian product of y with respect to x (a cotangent of a value
// used by several nodes is the sum of their contributions). The model's opset (13 or newer) is
// kept and every emitted op is valid at it. m is not modified.
func Build(m *onnx.ModelProto, opt Options) (*onnx.ModelProto, error) {
	g, err := NewGraph(m, opt.Input, opt.Output)
	if err != nil {
		return nil, err
	}
	return BuildGraph(g, opt)
}

// BuildGraph is Build on an IR made by NewGraph (opt.Input and opt.Output are taken from g).
func BuildGraph(g *Graph, opt Options) (m *onnx.ModelProto, err error) {
	defer recoverMalformed(&err)
	if opt.Seed == "" {
		opt.Seed = DefaultSeed
	}
	if opt.Grad == "" {
		opt.Grad = DefaultGrad
	}
	for _, name := range []string{opt.Seed, opt.Grad, opt.Reference} {
		if name == "" {
			continue
		}
		if _, ok := g.Values[name]; ok {
			return nil, graphErr("the model already has a value named %q; pick another name in Options", name)
		}
	}
	b := &builder{g: g, prefix: "bwd/"}
	if opt.Reference != "" {
		b.emitReference(opt.Reference)
	}
	reaches := g.reachesOutput() // only their cotangents are needed
	pending := map[string][]string{g.Output: {opt.Seed}}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		s := &Step{Node: n, Graph: g, b: b, in: n.Inputs, inGrads: make([]string, len(n.Inputs))}
		any := false
		for _, o := range n.Outputs {
			gr := b.sum(pending[o])
			delete(pending, o)
			s.outGrads = append(s.outGrads, gr)
			any = any || gr != ""
		}
		if !any {
			continue
		}
		active := false
		for k, in := range n.Inputs {
			if s.Needs(k) && reaches[in] {
				active = true
			}
		}
		if !active {
			continue
		}
		var rule Rule = Gradient{}
		if opt.Rules != nil {
			if r := opt.Rules(n); r != nil {
				rule = r
			}
		}
		if err := rule.Backward(s); err != nil {
			return nil, g.blameShape(n, err)
		}
		for k, in := range n.Inputs {
			if s.inGrads[k] != "" && s.Needs(k) {
				pending[in] = append(pending[in], s.inGrads[k])
			}
		}
	}
	gx := b.sum(pending[g.Input])
	if gx == "" {
		// y does not depend on x: the gradient is zero.
		gx = b.op("ConstantOfShape", []string{b.op("Shape", []string{g.Input})})
	}
	b.nodes = append(b.nodes, &onnx.NodeProto{OpType: "Identity", Name: b.prefix + "grad", Input: []string{gx}, Output: []string{opt.Grad}})
	b.foldChannelScales([]string{g.Output, opt.Grad})
	return b.model(opt)
}

// blameShape turns an *UnsupportedError of node n whose inputs or outputs have unknown shapes
// because of an op upstream that shape inference does not know into one naming that op: the
// user's model needs a rule for it (an unknown op gives its readers no shapes, and a reverse
// walk reaches the readers first).
func (g *Graph) blameShape(n *Node, err error) error {
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		return err
	}
	for _, v := range append(append([]string{}, n.Inputs...), n.Outputs...) {
		if l := g.shapeLost[v]; l != nil && l != n && g.shape(v) == nil {
			return unsupported(l, "the engine infers no shapes through this op, and node %q (%s) after it needs them (%s)", n.Name, n.Op, ue.Reason)
		}
	}
	return err
}

// builder accumulates the emitted backward nodes and constants.
type builder struct {
	g      *Graph
	prefix string
	n      int
	nodes  []*onnx.NodeProto
	inits  []*onnx.TensorProto
	refIn  string            // the reference input's name, "" if none
	ref    map[string]string // forward value -> its value on the reference input
}

// emitReference copies every forward node that reads the input, directly or not, renaming its
// outputs with the prefix "ref/", so that the copy computes the forward values on the reference
// input; constants and values that do not depend on x are shared.
func (b *builder) emitReference(name string) {
	b.refIn = name
	b.ref = map[string]string{b.g.Input: name}
	for _, n := range b.g.Nodes {
		reads := false
		for _, in := range n.Inputs {
			if _, ok := b.ref[in]; ok {
				reads = true
			}
		}
		if !reads {
			continue
		}
		// ONNX allows unnamed nodes, but ONNX Runtime rejects two nodes of one name, so a copy
		// of an unnamed node gets a fresh name rather than a bare "ref/".
		name := "ref/" + n.Name
		if n.Name == "" {
			name = b.fresh("ref_" + n.Op)
		}
		np := &onnx.NodeProto{OpType: n.Op, Name: name, Attribute: n.Proto.Attribute}
		for _, in := range n.Inputs {
			if r, ok := b.ref[in]; ok {
				in = r
			}
			np.Input = append(np.Input, in)
		}
		for _, o := range n.Outputs {
			r := ""
			if o != "" {
				r = "ref/" + o
				b.ref[o] = r
			}
			np.Output = append(np.Output, r)
		}
		b.nodes = append(b.nodes, np)
	}
}

func (b *builder) fresh(hint string) string {
	b.n++
	return b.prefix + hint + "_" + strconv.Itoa(b.n)
}

// opN emits a node with nout outputs and returns their names.
func (b *builder) opN(op string, inputs []string, nout int, attrs ...*onnx.AttributeProto) []string {
	outs := make([]string, nout)
	for i := range outs {
		outs[i] = b.fresh(op)
	}
	b.nodes = append(b.nodes, &onnx.NodeProto{OpType: op, Name: outs[0], Input: inputs, Output: outs, Attribute: attrs})
	return outs
}

func (b *builder) op(op string, inputs []string, attrs ...*onnx.AttributeProto) string {
	return b.opN(op, inputs, 1, attrs...)[0]
}

func (b *builder) constFloat(dims []int64, v []float32) string {
	name := b.fresh("const")
	b.inits = append(b.inits, onnx.FloatTensor(name, dims, v))
	return name
}

func (b *builder) constInt(dims []int64, v []int64) string {
	name := b.fresh("const")
	b.inits = append(b.inits, onnx.Int64Tensor(name, dims, v))
	return name
}

// sum adds cotangents (ONNX Sum); "" for none.
func (b *builder) sum(gs []string) string {
	switch len(gs) {
	case 0:
		return ""
	case 1:
		return gs[0]
	}
	return b.op("Sum", gs)
}

func (b *builder) model(opt Options) (*onnx.ModelProto, error) {
	src := b.g.Model
	gp := src.Graph
	in := infoNamed(gp.Input, b.g.Input)
	yShape := b.g.Values[b.g.Output].Shape
	if yShape == nil {
		return nil, graphErr("cannot infer the shape of output %q, which the seed input needs", b.g.Output)
	}
	out := infoNamed(gp.Output, b.g.Output)
	if out == nil {
		out = valueInfo(b.g.Output, yShape)
	}
	fwd := gp
	if opt.Forward != nil && opt.Forward.Graph != nil {
		fwd = opt.Forward.Graph
	}
	ng := &onnx.GraphProto{
		Name:        gp.Name + "_backward",
		Node:        append(append([]*onnx.NodeProto{}, fwd.Node...), b.nodes...),
		Initializer: append(append([]*onnx.TensorProto{}, fwd.Initializer...), b.inits...),
		Input:       append(append([]*onnx.ValueInfoProto{}, gp.Input...), valueInfo(opt.Seed, yShape)),
		Output:      []*onnx.ValueInfoProto{out, valueInfo(opt.Grad, shapeOf(in))},
		ValueInfo:   gp.ValueInfo,
	}
	if b.refIn != "" {
		ng.Input = append(ng.Input, valueInfo(b.refIn, shapeOf(in)))
	}
	return &onnx.ModelProto{
		IrVersion:       src.IrVersion,
		OpsetImport:     src.OpsetImport,
		ProducerName:    "climxai/attribution/backward",
		ProducerVersion: "1",
		Graph:           ng,
	}, nil
}

// infoNamed returns the last ValueInfo of list with that name, nil if none has it.
func infoNamed(list []*onnx.ValueInfoProto, name string) *onnx.ValueInfoProto {
	var found *onnx.ValueInfoProto
	for _, vi := range list {
		if vi.Name == name {
			found = vi
		}
	}
	return found
}

// valueInfo makes a FLOAT tensor ValueInfo; Unknown dimensions become the symbol "N".
func valueInfo(name string, shape []int64) *onnx.ValueInfoProto {
	ts := &onnx.TensorShapeProto{}
	for i, d := range shape {
		dim := &onnx.TensorShapeProto_Dimension{}
		if d == Unknown {
			p := "N"
			if i > 0 {
				p = fmt.Sprintf("d%d", i)
			}
			dim.Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: p}
		} else {
			dim.Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		ts.Dim = append(ts.Dim, dim)
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: ts}}}}
}

// Step is one node's backward step as a Rule sees it: the node, the cotangents of its outputs,
// and an emitter for the ops that compute its inputs' cotangents.
type Step struct {
	Node     *Node
	Graph    *Graph
	b        *builder
	in       []string // the node's input names (substituted in LinearVJP)
	outGrads []string
	inGrads  []string
	// frozen marks inputs a rule holds constant (an LRP rule's gate, gate.go): Needs reports
	// false for them, so VJPs emitted on the step give them no cotangent.
	frozen map[int]bool
}

// OutGrad returns the cotangent of output i, "" if no path to the seed passes through it (zero).
func (s *Step) OutGrad(i int) string {
	if i < len(s.outGrads) {
		return s.outGrads[i]
	}
	return ""
}

// OutGradOrZero returns OutGrad(i), or zeros of output i's run-time shape.
func (s *Step) OutGradOrZero(i int) string {
	if g := s.OutGrad(i); g != "" {
		return g
	}
	return s.Emit("ConstantOfShape", []string{s.Emit("Shape", []string{s.Node.Outputs[i]})},
		&onnx.AttributeProto{Name: "value", Type: onnx.AttributeProto_TENSOR, T: onnx.FloatTensor("", []int64{1}, []float32{0})})
}

// Needs reports whether input i depends on the differentiated input, so needs a cotangent.
func (s *Step) Needs(i int) bool {
	name := s.Node.input(i)
	return name != "" && !s.frozen[i] && s.Graph.Values[name].DependsOnInput && differentiableInput(s.Node.Op, i)
}

// SetInGrad records name as the cotangent of input i.
func (s *Step) SetInGrad(i int, name string) { s.inGrads[i] = name }

// In returns the name of input i ("" if omitted).
func (s *Step) In(i int) string {
	if i < len(s.in) {
		return s.in[i]
	}
	return ""
}

// InShape returns input i's static shape (Unknown for dynamic dimensions, nil if unknown).
func (s *Step) InShape(i int) []int64 { return s.Graph.shape(s.Node.input(i)) }

// OutShape returns output i's static shape.
func (s *Step) OutShape(i int) []int64 { return s.Graph.shape(s.Node.Outputs[i]) }

// InValue returns input i's IR value (constants, known data), nil if omitted.
func (s *Step) InValue(i int) *Value { return s.Graph.Values[s.Node.input(i)] }

// Emit adds a single-output op and returns its output's name.
func (s *Step) Emit(op string, inputs []string, attrs ...*onnx.AttributeProto) string {
	return s.b.op(op, inputs, attrs...)
}

// EmitN adds an op with nout outputs.
func (s *Step) EmitN(op string, inputs []string, nout int, attrs ...*onnx.AttributeProto) []string {
	return s.b.opN(op, inputs, nout, attrs...)
}

// ConstFloat adds a FLOAT constant and returns its name.
func (s *Step) ConstFloat(dims []int64, v ...float32) string { return s.b.constFloat(dims, v) }

// ConstInt adds an INT64 constant and returns its name.
func (s *Step) ConstInt(dims []int64, v ...int64) string { return s.b.constInt(dims, v) }

// Ref returns the name of a forward value's counterpart on the reference input
// (Options.Reference); values that do not depend on the input are their own counterparts.
func (s *Step) Ref(name string) (string, error) {
	if s.b.ref == nil {
		return "", graphErr("node %q (%s): the rule needs a reference input; set Options.Reference", s.Node.Name, s.Node.Op)
	}
	if r, ok := s.b.ref[name]; ok {
		return r, nil
	}
	return name, nil
}

// Opset is the ai.onnx opset of the emitted model.
func (s *Step) Opset() int64 { return s.Graph.Opset }

// Forward re-emits the node's forward computation with inputs replaced (nil entries keep the
// original) and returns its outputs: LRP rules use it for the modified pre-activation z.
func (s *Step) Forward(inputs []string) []string {
	in := append([]string{}, s.Node.Inputs...)
	for i, name := range inputs {
		if name != "" {
			in[i] = name
		}
	}
	return s.EmitN(s.Node.Op, in, len(s.Node.Outputs), s.Node.Proto.Attribute...)
}

// LinearVJP emits the exact VJP of the node for output cotangent g with inputs replaced (nil
// or "" entries keep the original; replacements must have the original's shape) and returns the
// cotangents of its inputs ("" where not needed). LRP rules use it with modified weights.
func (s *Step) LinearVJP(g string, inputs []string) ([]string, error) {
	in := append([]string{}, s.Node.Inputs...)
	for i, name := range inputs {
		if name != "" {
			in[i] = name
		}
	}
	sub := &Step{Node: s.Node, Graph: s.Graph, b: s.b, in: in, outGrads: []string{g}, inGrads: make([]string, len(in)), frozen: s.frozen}
	if err := gradientVJP(sub); err != nil {
		return nil, err
	}
	return sub.inGrads, nil
}

// reachesOutput returns the values from which the graph's output is reachable (the output
// among them).
func (g *Graph) reachesOutput() map[string]bool {
	reaches := map[string]bool{g.Output: true}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		for _, o := range n.Outputs {
			if reaches[o] {
				for _, in := range n.Inputs {
					reaches[in] = true
				}
				break
			}
		}
	}
	return reaches
}
