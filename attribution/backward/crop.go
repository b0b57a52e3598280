package backward

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"climxai/onnx"
)

// Crop is a model cut before its local tail: the last nodes before the output that work
// position by position on the output's grid (stride-1 convolutions whose output keeps the
// input's size, BatchNorm, activations, arithmetic with per-channel constants). The output at a
// grid cell depends only on the frontier F (the tail's input) within Lo cells before and Hi cells
// after it on each spatial axis, so the gradient of a target that covers a few cells needs the
// tail only on a window around them.
//
// The window is clamped inside the grid and keeps its size: the tail runs on it with its own
// zero padding, which is the model's padding where the window touches the grid's edge and a
// wrong value where it does not. A wrong value at the window's inner border reaches one cell
// further in per layer, and a target's cotangent reaches one cell further out per layer, so with
// at least Lo and Hi cells of margin on the inner sides neither meets the other: the target's
// output, the activations its gradient reads and the cotangent at F are the full model's. The
// tail of the reference DenseNet (the last 3 x 3 convolution to a quarter of the channels, then
// BN-ReLU-conv 3 x 3) is 17% of a gradient run on the whole grid and 5 x 5 cells around a cell.
type Crop struct {
	Input, Output string           // the model's x and y
	Frontier      string           // F, the tail's input
	FShape        []int64          // F's shape per sample, [C, H, W]
	YShape        []int64          // y's shape per sample, [C, H, W]
	Lo, Hi        [2]int64         // cells of F before and after an output cell that it depends on
	Body          *onnx.ModelProto // x -> F: the model without the tail
	// When F is made by a nearest-neighbour Resize, its windows are gathered straight from the
	// Resize's input Z ([C, Hz, Wz] per sample), row i of F being row rows[i] of Z and column j
	// column cols[j]: the whole-grid Resize, whose output only the windows read, is not run.
	src        string
	srcShape   []int64
	rows, cols []int64
	tail       []*onnx.NodeProto
	inits      []*onnx.TensorProto // the tail's constants
	opsets     []*onnx.OperatorSetIdProto
	irVersion  int64
}

// SplitCrop finds the local tail of m's output (see Crop); ok is false when there is none with a
// spatial convolution, or the output is not [N, C, H, W] with static C, H, W.
func SplitCrop(m *onnx.ModelProto, input, output string) (c *Crop, ok bool, err error) {
	g, err := NewGraph(m, input, output)
	if err != nil {
		return nil, false, err
	}
	ys := g.shape(g.Output)
	if len(ys) != 4 || slices.Contains(ys[1:], Unknown) {
		return nil, false, nil
	}
	producer := map[string]*Node{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			producer[o] = n
		}
	}
	uses := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			uses[in]++
		}
	}
	for _, o := range m.Graph.Output {
		uses[o.Name]++
	}
	var chain []*Node // output first
	var lo, hi [2]int64
	convs := 0
	t := g.Output
	for {
		n := producer[t]
		if n == nil || len(n.Outputs) != 1 || uses[t] != 1 {
			break
		}
		in, dLo, dHi, local := g.localStep(n, ys[2:])
		if !local || in == g.Input {
			break
		}
		if s := g.shape(in); len(s) != 4 || slices.Contains(s[1:], Unknown) || s[2] != ys[2] || s[3] != ys[3] {
			break
		}
		if n.Op == "Conv" {
			convs++
		}
		for i := range 2 {
			lo[i] += dLo[i]
			hi[i] += dHi[i]
		}
		chain = append(chain, n)
		t = in
	}
	if convs == 0 || uses[t] != 1 {
		return nil, false, nil
	}
	slices.Reverse(chain)
	defer func() {
		if c != nil {
			c.src, c.srcShape, c.rows, c.cols = g.nearestSource(producer[c.Frontier], c.FShape)
		}
	}()
	c = &Crop{Input: g.Input, Output: g.Output, Frontier: t, FShape: g.shape(t)[1:], YShape: ys[1:], Lo: lo, Hi: hi,
		opsets: m.OpsetImport, irVersion: m.IrVersion}
	inTail := map[*onnx.NodeProto]bool{}
	for _, n := range chain {
		inTail[n.Proto] = true
		c.tail = append(c.tail, proto.Clone(n.Proto).(*onnx.NodeProto))
	}
	// The tail's constants: initializers, and Constant nodes' values (NewGraph folded them).
	for _, n := range chain {
		for _, name := range n.Inputs {
			if v := g.Values[name]; name != "" && v.Const != nil &&
				!slices.ContainsFunc(c.inits, func(t *onnx.TensorProto) bool { return t.Name == name }) {
				init := proto.Clone(v.Const).(*onnx.TensorProto)
				init.Name = name
				c.inits = append(c.inits, init)
			}
		}
	}

	body := proto.Clone(m).(*onnx.ModelProto)
	bg := body.Graph
	keep := bg.Node[:0]
	for i, n := range m.Graph.Node {
		if !inTail[n] {
			keep = append(keep, bg.Node[i])
		}
	}
	bg.Node = keep
	bg.Output = []*onnx.ValueInfoProto{valueInfo(t, append([]int64{Unknown}, c.FShape...))}
	dropUnread(bg, c.Input)
	c.Body = body
	return c, true, nil
}

// nearestSource returns the input of n and, for every row and column of its output (of shape
// [C, H, W] per sample), the row and column of the input it copies, when n is a nearest-neighbour
// Resize of the last two axes with static sizes; "" otherwise.
func (g *Graph) nearestSource(n *Node, out []int64) (src string, shape, rows, cols []int64) {
	if n == nil || n.Op != "Resize" || n.AttrString("mode", "nearest") != "nearest" || len(n.Outputs) != 1 {
		return "", nil, nil, nil
	}
	zs := g.shape(n.input(0))
	if len(zs) != 4 || slices.Contains(zs[1:], Unknown) || zs[1] != out[0] {
		return "", nil, nil, nil
	}
	spec, err := g.resizeSizes(n, zs)
	if err != nil || spec == nil || spec.out[2] != out[1] || spec.out[3] != out[2] || spec.scales[1] != 1 {
		return "", nil, nil, nil
	}
	var tables [2][]int64
	for k, a := range []int{2, 3} {
		m, err := interpolationMatrix(n, spec.in[a], spec.out[a], spec.scales[a])
		if err != nil {
			return "", nil, nil, nil
		}
		for o := range spec.out[a] {
			tables[k] = append(tables[k], int64(slices.Index(m[o*spec.in[a]:(o+1)*spec.in[a]], 1)))
		}
	}
	return n.input(0), zs[1:], tables[0], tables[1]
}

// localStep reports whether n works position by position on a grid of size hw (see Crop), and
// if so its one input on the path to the output and how many cells before and after an output
// cell it reads.
func (g *Graph) localStep(n *Node, hw []int64) (in string, lo, hi [2]int64, ok bool) {
	// A constant is an initializer or a Constant node's value: the tail takes it along.
	variable := func(i int) bool { v := g.Values[n.input(i)]; return n.input(i) != "" && (v == nil || v.Const == nil) }
	// onlyFirst: the first input is the path, every other one a constant.
	onlyFirst := func() bool {
		for i := 1; i < len(n.Inputs); i++ {
			if variable(i) {
				return false
			}
		}
		return variable(0)
	}
	switch n.Op {
	case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Identity", "Elu", "Softplus":
		return n.input(0), lo, hi, len(n.Inputs) == 1 && variable(0)
	case "BatchNormalization":
		return n.input(0), lo, hi, len(n.Outputs) == 1 && onlyFirst()
	case "Add", "Sub", "Mul", "Div":
		if len(n.Inputs) != 2 {
			return "", lo, hi, false
		}
		path, other := 0, 1
		if !variable(0) {
			path, other = 1, 0
		}
		if variable(other) || !variable(path) {
			return "", lo, hi, false
		}
		// The constant must not vary along the grid: its last two axes (H and W, when it
		// broadcasts against [N, C, H, W]) have size 1 or are absent.
		s := g.shape(n.input(other))
		for i := max(0, len(s)-2); i < len(s); i++ {
			if s[i] != 1 {
				return "", lo, hi, false
			}
		}
		return n.input(path), lo, hi, true
	case "Conv":
		if !onlyFirst() {
			return "", lo, hi, false
		}
		x, w := g.shape(n.input(0)), g.shape(n.input(1))
		if len(x) != 4 || len(w) != 4 {
			return "", lo, hi, false
		}
		geo, err := convGeometry(n, x, w[2:])
		if err != nil {
			return "", lo, hi, false
		}
		for i := range 2 {
			if geo.strides[i] != 1 || geo.padBegin[i]+geo.padEnd[i] != (geo.kernel[i]-1)*geo.dilations[i] ||
				geo.padBegin[i] < 0 || geo.padEnd[i] < 0 {
				return "", lo, hi, false
			}
			lo[i], hi[i] = geo.padBegin[i], geo.padEnd[i]
		}
		return n.input(0), lo, hi, true
	}
	return "", lo, hi, false
}

// Window returns the start and size, per spatial axis, of the window of F (and y) that a target
// covering rows r0..r1 and columns c0..c1 of y needs, clamped inside the grid.
func (c *Crop) Window(r0, r1, c0, c1 int64) (start, size [2]int64) {
	size = c.Size(r1-r0+1, c1-c0+1)
	return c.Start(r0, c0, size), size
}

// Size is the size of the window a target of rows x cols cells needs: its extent and the
// tail's reach on both sides, at most the grid.
func (c *Crop) Size(rows, cols int64) (size [2]int64) {
	extent := [2]int64{rows, cols}
	for i := range 2 {
		size[i] = min(c.YShape[1+i], extent[i]+c.Lo[i]+c.Hi[i])
	}
	return size
}

// Start is where a window of the given size starts for a target whose first row and column are
// r0 and c0: Lo cells before it, moved inwards at the grid's edges. A window at least as large
// as the target's Size keeps the margins the target needs, so targets of different sizes can
// share the largest one's window size.
func (c *Crop) Start(r0, c0 int64, size [2]int64) (start [2]int64) {
	first := [2]int64{r0, c0}
	for i := range 2 {
		start[i] = min(max(0, first[i]-c.Lo[i]), c.YShape[1+i]-size[i])
	}
	return start
}

// Tail returns the tail as a model F -> y on a window of the given size.
func (c *Crop) Tail(size [2]int64) *onnx.ModelProto {
	fs := []int64{Unknown, c.FShape[0], size[0], size[1]}
	ys := []int64{Unknown, c.YShape[0], size[0], size[1]}
	g := &onnx.GraphProto{Name: "tail", Input: []*onnx.ValueInfoProto{valueInfo(c.Frontier, fs)},
		Output: []*onnx.ValueInfoProto{valueInfo(c.Output, ys)}}
	for _, n := range c.tail {
		g.Node = append(g.Node, proto.Clone(n).(*onnx.NodeProto))
	}
	for _, t := range c.inits {
		g.Initializer = append(g.Initializer, proto.Clone(t).(*onnx.TensorProto))
	}
	return &onnx.ModelProto{IrVersion: c.irVersion, OpsetImport: c.opsets, Graph: g}
}

// CropNames names the inputs and outputs of a model Compose joins.
type CropNames struct {
	Seed     string // the seed input over the whole y, and the tail model's seed input
	Grad     string // both parts' gradient output, and the result's
	Window   string // the window input: [N, 2] float32, row n the start (row, column) of sample n's window
	BodySeed string // the body model's seed input (the cotangent at F)
}

// Compose joins the backward model body of c.Body ((x, BodySeed) -> (F, Grad)) and the backward
// model tail of c.Tail(size) ((F, Seed) -> (y, Grad)) into one model (x, Seed, Window) -> (y,
// Grad) with Seed and y over the whole grid: each sample's F and seed are cut to its window
// (GatherElements over the flattened grid, so every sample has its own start), the tail runs on
// the windows, and its output and its cotangent at F are scattered back into zeros. y is
// therefore the model's output where the target's window guarantees it (Crop) and 0 outside
// the window.
func (c *Crop) Compose(body, tail *onnx.ModelProto, size [2]int64, names CropNames) (*onnx.ModelProto, error) {
	out := proto.Clone(body).(*onnx.ModelProto)
	g := out.Graph
	taken := map[string]bool{}
	for _, n := range g.Node {
		taken[n.Name] = true
		for _, v := range append(slices.Clone(n.Input), n.Output...) {
			taken[v] = true
		}
	}
	for _, t := range g.Initializer {
		taken[t.Name] = true
	}
	prefix := "crop/" // the tail's names and the window's nodes get it; no body name may start with it
	for slices.ContainsFunc(slices.Collect(maps.Keys(taken)), func(s string) bool { return strings.HasPrefix(s, prefix) }) {
		prefix = "_" + prefix
	}
	if taken[names.Window] || taken[names.Seed] {
		return nil, graphErr("the model already has a value named %q or %q; pick other names", names.Window, names.Seed)
	}
	rename := func(s string) string {
		if s == "" {
			return s
		}
		return prefix + s
	}
	tg := proto.Clone(tail).(*onnx.ModelProto).Graph
	for _, n := range tg.Node {
		n.Name = rename(n.Name)
		for i := range n.Input {
			n.Input[i] = rename(n.Input[i])
		}
		for i := range n.Output {
			n.Output[i] = rename(n.Output[i])
		}
	}
	for _, t := range tg.Initializer {
		t.Name = rename(t.Name)
	}
	k := 0
	var nodes, after []*onnx.NodeProto
	fresh := func() string { k++; return fmt.Sprintf("%swindow_%d", prefix, k) }
	emit := func(list *[]*onnx.NodeProto, op string, in []string, out string, attrs ...*onnx.AttributeProto) string {
		if out == "" {
			out = fresh()
		}
		*list = append(*list, &onnx.NodeProto{OpType: op, Name: out + "/" + op, Input: in, Output: []string{out}, Attribute: attrs})
		return out
	}
	node := func(op string, in ...string) string { return emit(&nodes, op, in, "") }
	konst := func(dims []int64, v ...int64) string {
		name := fresh()
		tg.Initializer = append(tg.Initializer, onnx.Int64Tensor(name, dims, v))
		return name
	}
	axis := func(a int64) *onnx.AttributeProto {
		return &onnx.AttributeProto{Name: "axis", Type: onnx.AttributeProto_INT, I: a}
	}
	h, w := c.YShape[1], c.YShape[2]
	cells := size[0] * size[1]
	// Flat grid index of every window cell of every sample: [N, 1, K].
	offsets := make([]int64, 0, cells)
	for i := range size[0] {
		for j := range size[1] {
			offsets = append(offsets, i*w+j)
		}
	}
	start := emit(&nodes, "Cast", []string{names.Window}, "", &onnx.AttributeProto{Name: "to", Type: onnx.AttributeProto_INT, I: int64(onnx.TensorProto_INT64)})
	first := node("MatMul", start, konst([]int64{2, 1}, w, 1)) // row·W + column, [N, 1]
	idx := node("Unsqueeze", node("Add", first, konst([]int64{1, cells}, offsets...)), konst([]int64{1}, 1))
	index := map[int64]string{} // idx expanded over ch channels: [N, ch, K]
	expanded := func(ch int64) string {
		if index[ch] == "" {
			index[ch] = node("Expand", idx, konst([]int64{3}, 1, ch, cells))
		}
		return index[ch]
	}
	gather := func(v string, ch int64, out string) {
		flat := node("Reshape", v, konst([]int64{3}, 0, ch, h*w))
		win := emit(&nodes, "GatherElements", []string{flat, expanded(ch)}, "", axis(2))
		emit(&nodes, "Reshape", []string{win, konst([]int64{4}, 0, ch, size[0], size[1])}, out)
	}
	if c.src == "" {
		gather(c.Frontier, c.FShape[0], rename(c.Frontier))
	} else {
		// F's windows from the Resize's input: the window's rows and columns looked up in the
		// nearest-neighbour tables, row·Wz + column into the flattened input.
		ch, wz := c.srcShape[0], c.srcShape[2]
		axisIdx := func(table []int64, col, n int64) string {
			first := node("Slice", start, konst([]int64{1}, col), konst([]int64{1}, col+1), konst([]int64{1}, 1)) // [N, 1]
			steps := make([]int64, n)
			for i := range steps {
				steps[i] = int64(i)
			}
			return node("Gather", konst([]int64{int64(len(table))}, table...), node("Add", first, konst([]int64{1, n}, steps...)))
		}
		r := node("Unsqueeze", node("Mul", axisIdx(c.rows, 0, size[0]), konst(nil, wz)), konst([]int64{1}, 2))
		cl := node("Unsqueeze", axisIdx(c.cols, 1, size[1]), konst([]int64{1}, 1))
		ix := node("Expand", node("Reshape", node("Add", r, cl), konst([]int64{3}, 0, 1, cells)), konst([]int64{3}, 1, ch, cells))
		flat := node("Reshape", c.src, konst([]int64{3}, 0, ch, c.srcShape[1]*wz))
		win := emit(&nodes, "GatherElements", []string{flat, ix}, "", axis(2))
		emit(&nodes, "Reshape", []string{win, konst([]int64{4}, 0, ch, size[0], size[1])}, rename(c.Frontier))
	}
	gather(names.Seed, c.YShape[0], rename(names.Seed))
	batch := node("Slice", node("Shape", names.Window), konst([]int64{1}, 0), konst([]int64{1}, 1))
	scatter := func(v string, ch int64, out string) {
		zeros := emit(&after, "ConstantOfShape", []string{emit(&after, "Concat", []string{batch, konst([]int64{2}, ch, h*w)}, "", axis(0))}, "")
		vals := emit(&after, "Reshape", []string{v, konst([]int64{3}, 0, ch, cells)}, "")
		full := emit(&after, "ScatterElements", []string{zeros, expanded(ch), vals}, "", axis(2))
		emit(&after, "Reshape", []string{full, konst([]int64{4}, 0, ch, h, w)}, out)
	}
	scatter(rename(names.Grad), c.FShape[0], names.BodySeed)
	scatter(rename(c.Output), c.YShape[0], c.Output)
	tg.Node = slices.Concat(nodes, tg.Node, after)

	// The tail's part comes first in node order only after F exists: put it after the body's
	// forward nodes, which make F, and before the body's backward nodes, which read BodySeed.
	split := len(g.Node)
	for i, n := range g.Node {
		if slices.Contains(n.Input, names.BodySeed) {
			split = i
			break
		}
	}
	g.Node = slices.Concat(g.Node[:split], tg.Node, g.Node[split:])
	g.Initializer = append(g.Initializer, tg.Initializer...)
	xInfo, gradInfo := infoNamed(g.Input, c.Input), infoNamed(g.Output, names.Grad)
	if xInfo == nil {
		return nil, graphErr("the body's backward model has no input %q", c.Input)
	}
	if gradInfo == nil {
		return nil, graphErr("the body's backward model has no output %q", names.Grad)
	}
	ys := append([]int64{Unknown}, c.YShape...)
	g.Input = []*onnx.ValueInfoProto{xInfo, valueInfo(names.Seed, ys), valueInfo(names.Window, []int64{Unknown, 2})}
	g.Output = []*onnx.ValueInfoProto{valueInfo(c.Output, ys), gradInfo}
	dropDead(g)
	return out, nil
}

// dropDead removes the nodes whose outputs nothing reads (the whole-grid Resize whose windows
// are gathered from its input), then the initializers no node reads.
func dropDead(g *onnx.GraphProto) {
	for {
		read := map[string]bool{}
		for _, o := range g.Output {
			read[o.Name] = true
		}
		for _, n := range g.Node {
			for _, in := range n.Input {
				read[in] = true
			}
		}
		before := len(g.Node)
		g.Node = slices.DeleteFunc(g.Node, func(n *onnx.NodeProto) bool {
			return !slices.ContainsFunc(n.Output, func(o string) bool { return read[o] })
		})
		if len(g.Node) == before {
			g.Initializer = slices.DeleteFunc(g.Initializer, func(t *onnx.TensorProto) bool { return !read[t.Name] })
			return
		}
	}
}
