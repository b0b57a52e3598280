package backward

import (
	"math"

	"climxai/onnx"
)

// Unknown marks a dimension the engine does not know statically (the symbolic batch N, or any
// dynamic size) in Value.Shape, and an element it does not know in Value.Data.
const Unknown = -1

// maxDataLen bounds the tensors whose values the IR keeps in Value.Data: shape arithmetic,
// Resize scales, Reshape targets and small parameter vectors, never weights.
const maxDataLen = 4096

// Graph is the engine's view of a forward ONNX graph: nodes in topological order, every value
// with its inferred static shape, constants (initializers and Constant nodes) and partially known
// small integer tensors (the Shape/Gather/Slice/Concat/Cast chains exporters emit around Reshape
// and Resize), and which values depend on the input.
type Graph struct {
	Model  *onnx.ModelProto  // the source model, never modified
	Opset  int64             // the model's ai.onnx operator set version
	Input  string            // the differentiated input
	Output string            // the output whose cotangent is the seed
	Nodes  []*Node           // topological order; Constant nodes are folded away
	Values map[string]*Value // every named value
	// shapeLost maps a value whose shape is unknown because of an op without a shape rule, on
	// it or upstream, to that op's node: Build's errors name it, not the node that needed it.
	shapeLost map[string]*Node
}

// Node is one forward node.
type Node struct {
	Proto   *onnx.NodeProto
	Op      string   // op type
	Name    string   // node name (may be empty)
	Inputs  []string // "" for an omitted optional input
	Outputs []string
}

// Value is a named tensor of the forward graph.
type Value struct {
	Name string
	// Shape holds the static dimensions, Unknown for dynamic ones (the batch); nil if even the
	// rank is unknown.
	Shape []int64
	// Const is the tensor of an initializer or a folded Constant node.
	Const *onnx.TensorProto
	// Data holds the values of small constant or shape-derived tensors, row-major, NaN for
	// elements only known at run time (e.g. the batch size read by Shape); nil if none known.
	Data []float64
	// DependsOnInput says whether the value is a differentiable function of Graph.Input.
	DependsOnInput bool
	// elem is the element type where the IR knows it (initializers, Constants, graph inputs and
	// the shape arithmetic derived from them; 0 if unknown): integer Div and Cast truncate.
	elem onnx.TensorProto_DataType
}

// IsConst reports whether every element of the value is known before run time.
func (v *Value) IsConst() bool {
	if v.Const != nil {
		return true
	}
	if v.Data == nil {
		return false
	}
	for _, d := range v.Data {
		if math.IsNaN(d) {
			return false
		}
	}
	return true
}

// Ints returns the value's known elements as int64, ok=false if any is unknown.
func (v *Value) Ints() ([]int64, bool) {
	if v == nil || v.Data == nil {
		return nil, false
	}
	out := make([]int64, len(v.Data))
	for i, d := range v.Data {
		if math.IsNaN(d) {
			return nil, false
		}
		out[i] = int64(d)
	}
	return out, true
}

// Attr returns the node's attribute of that name, nil if absent.
func (n *Node) Attr(name string) *onnx.AttributeProto {
	for _, a := range n.Proto.Attribute {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrInt returns an INT attribute or def.
func (n *Node) AttrInt(name string, def int64) int64 {
	if a := n.Attr(name); a != nil {
		return a.I
	}
	return def
}

// AttrFloat returns a FLOAT attribute or def.
func (n *Node) AttrFloat(name string, def float32) float32 {
	if a := n.Attr(name); a != nil {
		return a.F
	}
	return def
}

// AttrInts returns an INTS attribute (a copy) or nil.
func (n *Node) AttrInts(name string) []int64 {
	if a := n.Attr(name); a != nil {
		return append([]int64(nil), a.Ints...)
	}
	return nil
}

// AttrString returns a STRING attribute or def.
func (n *Node) AttrString(name string, def string) string {
	if a := n.Attr(name); a != nil {
		return string(a.S)
	}
	return def
}

// input returns the node's i-th input name, "" if omitted.
func (n *Node) input(i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// NewGraph builds the IR of m for differentiating output with respect to input ("" picks the
// graph's first input that is not an initializer, and its first output). It orders the nodes
// topologically, folds Constant nodes and constant shape chains, infers static shapes (the batch
// dimension stays Unknown) and marks the values that depend on the input. It does not check that
// every op has a backward step: Build does, for the nodes on the path from input to output.
func NewGraph(m *onnx.ModelProto, input, output string) (g *Graph, err error) {
	defer recoverMalformed(&err)
	if m == nil || m.Graph == nil {
		return nil, graphErr("model has no graph")
	}
	g = &Graph{Model: m, Opset: onnx.Opset(m), Values: map[string]*Value{}, shapeLost: map[string]*Node{}}
	if g.Opset < 13 {
		return nil, graphErr("model uses ai.onnx opset %d; the engine needs 13 or newer (export with opset_version=13 or later)", g.Opset)
	}
	gp := m.Graph
	isInit := map[string]bool{}
	for _, t := range gp.Initializer {
		isInit[t.Name] = true
		v := &Value{Name: t.Name, Shape: append([]int64{}, t.Dims...), Const: t, elem: onnx.TensorProto_DataType(t.DataType)}
		v.Data = tensorData(t)
		g.Values[t.Name] = v
	}
	for _, vi := range gp.Input {
		if isInit[vi.Name] {
			continue
		}
		if input == "" {
			input = vi.Name
		}
		g.Values[vi.Name] = &Value{Name: vi.Name, Shape: shapeOf(vi), elem: onnx.TensorProto_DataType(vi.GetType().GetTensorType().GetElemType())}
	}
	if output == "" && len(gp.Output) > 0 {
		output = gp.Output[0].Name
	}
	g.Input, g.Output = input, output
	in, ok := g.Values[input]
	if !ok || in.Const != nil {
		return nil, graphErr("input %q is not a graph input", input)
	}
	in.DependsOnInput = true

	order, err := topoSort(gp.Node, g.Values)
	if err != nil {
		return nil, err
	}
	for _, np := range order {
		n := &Node{Proto: np, Op: np.OpType, Name: np.Name, Inputs: np.Input, Outputs: np.Output}
		if np.Domain != "" && np.Domain != "ai.onnx" {
			return nil, unsupported(n, "operator domain %q is not ai.onnx", np.Domain)
		}
		if err := checkArity(n); err != nil {
			return nil, err
		}
		for _, o := range n.Outputs {
			if o != "" {
				g.Values[o] = &Value{Name: o}
			}
		}
		if n.Op == "Constant" {
			if err := g.foldConstant(n); err != nil {
				return nil, err
			}
			continue
		}
		g.Nodes = append(g.Nodes, n)
		if err := g.infer(n); err != nil {
			return nil, err
		}
		for _, o := range n.Outputs {
			if v := g.Values[o]; o != "" && !validShape(v.Shape) {
				return nil, graphErr("node %q (%s): output %s would have shape %v; check the model's sizes", n.Name, n.Op, o, v.Shape)
			}
		}
		dep := false
		for i, name := range n.Inputs {
			if v := g.Values[name]; name != "" && v.DependsOnInput && differentiableInput(n.Op, i) {
				dep = true
			}
		}
		for i, o := range n.Outputs {
			if o != "" && dep && differentiableOutput(n.Op, i) {
				g.Values[o].DependsOnInput = true
			}
		}
	}
	if _, ok := g.Values[output]; !ok {
		return nil, graphErr("output %q is not produced by the graph", output)
	}
	// Prefer the model's declared output shape where inference left dimensions open.
	for _, vi := range gp.Output {
		if v := g.Values[vi.Name]; v != nil {
			v.Shape = mergeShape(v.Shape, shapeOf(vi))
		}
	}
	return g, nil
}

// minInputs is the number of required inputs of the ops whose shapes the IR infers.
func minInputs(op string) int {
	switch op {
	case "BatchNormalization":
		return 5
	case "InstanceNormalization":
		return 3
	case "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Equal",
		"Greater", "Less", "Gather", "Reshape", "Expand", "Pad", "Where", "PRelu":
		if op == "Where" {
			return 3
		}
		return 2
	case "Slice":
		return 3
	case "Constant":
		return 0
	}
	return 1
}

// checkArity rejects nodes without outputs or with fewer inputs than their op requires, so that
// later stages may index them.
func checkArity(n *Node) error {
	if len(n.Outputs) == 0 || n.Outputs[0] == "" {
		return graphErr("node %q (%s) has no output", n.Name, n.Op)
	}
	if k := minInputs(n.Op); len(n.Inputs) < k {
		return graphErr("node %q (%s) has %d inputs, needs %d", n.Name, n.Op, len(n.Inputs), k)
	}
	for i := 0; i < minInputs(n.Op); i++ {
		if n.Inputs[i] == "" && !(n.Op == "Pad" && i == 1) {
			return graphErr("node %q (%s) omits its required input %d", n.Name, n.Op, i)
		}
	}
	return nil
}

// differentiableInput says whether input i of op carries a derivative (data inputs do; shapes,
// indices, sizes and scales do not).
func differentiableInput(op string, i int) bool {
	switch op {
	case "Shape", "Size", "ConstantOfShape":
		return false
	case "Where": // condition, then the two branches
		return i > 0
	case "Pad": // data, pads, constant value, axes
		return i == 0 || i == 2
	case "Reshape", "Expand", "Tile", "Gather", "Squeeze", "Unsqueeze", "Split", "ReduceSum",
		"ReduceMean", "ReduceMax", "ReduceMin", "Resize", "Upsample", "Slice":
		return i == 0
	}
	return true
}

// differentiableOutput says whether output i of op carries a derivative (MaxPool's indices,
// Dropout's mask, comparisons and roundings do not).
func differentiableOutput(op string, i int) bool {
	switch op {
	case "Shape", "Size", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or",
		"Not", "Xor", "ArgMax", "ArgMin", "NonZero", "IsNaN", "IsInf":
		return false // integer or boolean results
	case "Floor", "Ceil", "Round", "Sign":
		return false // piecewise constant: the derivative is zero almost everywhere
	case "MaxPool", "Dropout", "LayerNormalization":
		return i == 0
	}
	return true
}

func (g *Graph) foldConstant(n *Node) error {
	a := n.Attr("value")
	if a == nil || a.T == nil {
		for _, k := range []string{"value_float", "value_floats", "value_int", "value_ints"} {
			if b := n.Attr(k); b != nil {
				var t *onnx.TensorProto
				switch k {
				case "value_float":
					t = onnx.FloatTensor(n.Outputs[0], nil, []float32{b.F})
				case "value_floats":
					t = onnx.FloatTensor(n.Outputs[0], []int64{int64(len(b.Floats))}, b.Floats)
				case "value_int":
					t = onnx.Int64Tensor(n.Outputs[0], nil, []int64{b.I})
				default:
					t = onnx.Int64Tensor(n.Outputs[0], []int64{int64(len(b.Ints))}, b.Ints)
				}
				a = &onnx.AttributeProto{T: t}
				break
			}
		}
	}
	if a == nil || a.T == nil {
		return unsupported(n, "Constant without a tensor, float or int value")
	}
	v := g.Values[n.Outputs[0]]
	v.Const = a.T
	v.elem = onnx.TensorProto_DataType(a.T.DataType)
	v.Shape = append([]int64{}, a.T.Dims...)
	v.Data = tensorData(a.T)
	return nil
}

// tensorData returns a small FLOAT/INT64/INT32 tensor's values as float64, nil otherwise.
func tensorData(t *onnx.TensorProto) []float64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	if n > maxDataLen {
		return nil
	}
	switch onnx.TensorProto_DataType(t.DataType) {
	case onnx.TensorProto_FLOAT:
		f, err := onnx.Float32s(t)
		if err != nil {
			return nil
		}
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out
	case onnx.TensorProto_INT64, onnx.TensorProto_INT32:
		f, err := onnx.Int64s(t)
		if err != nil {
			return nil
		}
		out := make([]float64, len(f))
		for i, x := range f {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

// Size limits: maxElements bounds any tensor the engine reasons about (2^31 values),
// maxConstElements a constant it builds itself (an interpolation matrix, pooling divisors:
// 64 MiB of float32, far above what any emulator grid needs).
const (
	maxElements      = 1 << 31
	maxConstElements = 1 << 24
)

// validShape rejects empty, negative and absurdly large static shapes (damaged or hostile files).
func validShape(s []int64) bool {
	n := int64(1)
	for _, d := range s {
		if d == Unknown {
			continue
		}
		if d <= 0 || d > maxElements {
			return false
		}
		n *= d
		if n > maxElements {
			return false
		}
	}
	return true
}

// recoverMalformed turns a panic on a malformed model into a *GraphError: the IR and builder
// check what valid models need, and this last guard keeps a hostile file from crashing the
// application. FuzzBuild exercises it.
func recoverMalformed(err *error) {
	if r := recover(); r != nil {
		*err = graphErr("malformed model: %v", r)
	}
}

// shapeOf reads a ValueInfo's static shape; symbolic and missing dimensions are Unknown.
func shapeOf(vi *onnx.ValueInfoProto) []int64 {
	tt := vi.GetType().GetTensorType()
	if tt == nil || tt.Shape == nil {
		return nil
	}
	s := make([]int64, len(tt.Shape.Dim))
	for i, d := range tt.Shape.Dim {
		if dv, ok := d.Value.(*onnx.TensorShapeProto_Dimension_DimValue); ok && dv.DimValue > 0 {
			s[i] = dv.DimValue
		} else {
			s[i] = Unknown
		}
	}
	return s
}

// mergeShape fills a's Unknown dimensions from b when the ranks agree.
func mergeShape(a, b []int64) []int64 {
	if a == nil {
		return b
	}
	if len(a) != len(b) {
		return a
	}
	out := append([]int64{}, a...)
	for i := range out {
		if out[i] == Unknown {
			out[i] = b[i]
		}
	}
	return out
}

// topoSort orders nodes so that every value is made before it is used (Kahn's algorithm, stable
// in the file's order).
func topoSort(nodes []*onnx.NodeProto, known map[string]*Value) ([]*onnx.NodeProto, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.Output {
			if o != "" {
				producer[o] = i
			}
		}
	}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.Input {
			if in == "" {
				continue
			}
			if p, ok := producer[in]; ok {
				indeg[i]++
				users[p] = append(users[p], i)
			} else if _, ok := known[in]; !ok {
				return nil, graphErr("node %q (%s) uses %q, which no node, input or initializer makes", n.Name, n.OpType, in)
			}
		}
	}
	var order []*onnx.NodeProto
	var ready []int
	for i := range nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, nodes[i])
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		return nil, graphErr("graph has a cycle")
	}
	return order, nil
}
