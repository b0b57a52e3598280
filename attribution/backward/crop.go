package backward

import (
	"slices"

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
//
// When a nearest-neighbour Resize makes F, the region below it on the coarser grid is cut the
// same way (lowLevel): the DenseNet's decoder from its half-resolution Resize on, another fifth
// of a run, then runs on 11 x 11 of the half grid's cells.
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
	// BodyOut is the body's output: F, or the lower level's frontier F1 when there is one.
	BodyOut string
	// low, when not nil, is the local region below the Resize that makes F (see lowLevel).
	low       *lowLevel
	tail      []*onnx.NodeProto
	inits     []*onnx.TensorProto // the tail's constants
	opsets    []*onnx.OperatorSetIdProto
	irVersion int64
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
	w := g.wiring()
	producer, uses := w.producer, w.uses
	var chain []*Node // output first
	var lo, hi [2]int64
	convs := 0
	t := g.Output
	for {
		n := producer[t]
		if n == nil || len(n.Outputs) != 1 || uses[t] != 1 {
			break
		}
		in, dLo, dHi, local := g.localStep(n)
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
	c = &Crop{Input: g.Input, Output: g.Output, Frontier: t, FShape: g.shape(t)[1:], YShape: ys[1:], Lo: lo, Hi: hi,
		opsets: m.OpsetImport, irVersion: m.IrVersion}
	inTail := map[*onnx.NodeProto]bool{}
	for _, n := range chain {
		inTail[n.Proto] = true
		c.tail = append(c.tail, proto.Clone(n.Proto).(*onnx.NodeProto))
	}
	c.inits = constantsOf(g, chain)

	c.src, c.srcShape, c.rows, c.cols = g.nearestSource(producer[t], c.FShape)
	c.BodyOut = t
	bodyShape := c.FShape
	// Z may also be read by Shape (an exporter's size chain for the Resize itself), which the
	// body then drops with the Resize.
	zReaders := 0
	var last *Node
	for _, n := range w.readers[c.src] {
		if n != last && n.Op != "Shape" {
			zReaders++
		}
		last = n
	}
	if c.src != "" && zReaders == 1 && !w.output[c.src] {
		if low := g.lowRegion(c.src, w); low != nil {
			c.low, c.BodyOut, bodyShape = low, low.frontier, low.fshape
			inTail[producer[t].Proto] = true // the Resize between the levels
			for _, n := range low.region {
				inTail[n.Proto] = true
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
	bg.Output = []*onnx.ValueInfoProto{valueInfo(c.BodyOut, append([]int64{Unknown}, bodyShape...))}
	dropDead(bg)
	dropUnread(bg, c.Input)
	c.Body = body
	return c, true, nil
}

// wiring is who makes and who reads each tensor of an IR: producer by tensor, readers by tensor
// (a node once per input it reads the tensor as), the graph outputs, and uses, the number of
// reads plus one for a graph output.
type wiring struct {
	producer map[string]*Node
	readers  map[string][]*Node
	output   map[string]bool
	uses     map[string]int
}

func (g *Graph) wiring() wiring {
	w := wiring{producer: map[string]*Node{}, readers: map[string][]*Node{}, output: map[string]bool{}, uses: map[string]int{}}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			w.producer[o] = n
		}
		for _, in := range n.Inputs {
			w.readers[in] = append(w.readers[in], n)
			w.uses[in]++
		}
	}
	for _, o := range g.Model.Graph.Output {
		w.output[o.Name] = true
		w.uses[o.Name]++
	}
	return w
}

// lowLevel is the local region below the Resize that makes a Crop's frontier F: the nodes that
// make the Resize's input Z from one frontier F1 on Z's coarser grid, all local (as the tail's
// nodes, and Concat along the channels: a dense block). Z at a cell depends on F1 within lo
// cells before and hi after it (the longest path's reach), so a target's window on F's grid
// needs F1 only on a window around the rows and columns of Z that the Resize copies into it.
type lowLevel struct {
	frontier       string  // F1
	fshape, zshape []int64 // F1's and Z's shapes per sample, [C, H1, W1]
	z              string
	lo, hi         [2]int64
	region         []*Node // in the graph's order
	graph          *Graph  // the IR the region's nodes belong to (for their constants)
	// F1's own nearest-neighbour source, when a Resize makes it (Crop.src for F).
	src        string
	srcShape   []int64
	rows, cols []int64
}

// lowRegion grows the local region that makes z (see lowLevel) backwards from z, node by node,
// taking a node when every reader of its output is already in the region; it returns nil unless
// the region has one frontier (not the model's input), a spatial convolution, and every tensor
// on z's grid.
func (g *Graph) lowRegion(z string, w wiring) *lowLevel {
	zs := g.shape(z)
	if len(zs) != 4 || slices.Contains(zs[1:], Unknown) {
		return nil
	}
	producer, readers := w.producer, w.readers
	in := map[*Node]bool{}
	onGrid := func(t string) bool {
		s := g.shape(t)
		return len(s) == 4 && !slices.Contains(s[1:], Unknown) && s[2] == zs[2] && s[3] == zs[3]
	}
	take := func(t string) bool { // whether t's producer joins the region
		n := producer[t]
		if n == nil || in[n] || len(n.Outputs) != 1 || !onGrid(t) {
			return false
		}
		if t != z {
			for _, r := range readers[t] {
				if !in[r] {
					return false
				}
			}
			if w.output[t] {
				return false
			}
		}
		ins, _, _, ok := g.localOp(n)
		if !ok {
			return false
		}
		for _, i := range ins {
			if i == g.Input || !onGrid(i) {
				return false
			}
		}
		return true
	}
	for grew := true; grew; {
		grew = false
		for _, n := range slices.Backward(g.Nodes) {
			if !in[n] && take(n.Outputs[0]) && (n.Outputs[0] == z || len(readers[n.Outputs[0]]) > 0) {
				in[n] = true
				grew = true
			}
		}
	}
	if !in[producer[z]] {
		return nil
	}
	low := &lowLevel{z: z, zshape: zs[1:], graph: g}
	var frontier []string
	convs := 0
	reach := map[string][2][2]int64{} // per tensor: lo, hi
	for _, n := range g.Nodes {
		if !in[n] {
			continue
		}
		low.region = append(low.region, n)
		ins, lo, hi, _ := g.localOp(n)
		if n.Op == "Conv" {
			convs++
		}
		var r [2][2]int64
		for _, t := range ins {
			if p := producer[t]; p == nil || !in[p] {
				if !slices.Contains(frontier, t) {
					frontier = append(frontier, t)
				}
			}
			for i := range 2 {
				r[0][i] = max(r[0][i], reach[t][0][i])
				r[1][i] = max(r[1][i], reach[t][1][i])
			}
		}
		for i := range 2 {
			r[0][i] += lo[i]
			r[1][i] += hi[i]
		}
		reach[n.Outputs[0]] = r
	}
	if len(frontier) != 1 || convs == 0 {
		return nil
	}
	f := frontier[0]
	if w.output[f] {
		return nil
	}
	for _, r := range readers[f] {
		if !in[r] {
			return nil
		}
	}
	low.frontier, low.fshape = f, g.shape(f)[1:]
	low.lo, low.hi = reach[z][0], reach[z][1]
	low.src, low.srcShape, low.rows, low.cols = g.nearestSource(producer[f], low.fshape)
	return low
}

// localOp is localStep for the lower level's region, which also takes Concat along the channels
// of tensors on one grid: the node's inputs on the path, and its reach.
func (g *Graph) localOp(n *Node) (ins []string, lo, hi [2]int64, ok bool) {
	if n.Op == "Concat" {
		if a := n.AttrInt("axis", 0); a != 1 && a != -3 {
			return nil, lo, hi, false
		}
		for _, t := range n.Inputs {
			if v := g.Values[t]; t == "" || v != nil && v.Const != nil {
				return nil, lo, hi, false
			}
		}
		return n.Inputs, lo, hi, true
	}
	in, lo, hi, ok := g.localStep(n)
	return []string{in}, lo, hi, ok
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

// localStep reports whether n works position by position on its input's grid (see Crop), and if
// so its one input on the path to the output and how many cells before and after an output cell
// it reads.
func (g *Graph) localStep(n *Node) (in string, lo, hi [2]int64, ok bool) {
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

// WindowWidth is the number of values a sample's row of the window input holds: its window's
// start on y's grid, and with a lower level (lowLevel) on F1's too.
func (c *Crop) WindowWidth() int {
	if c.low != nil {
		return 4
	}
	return 2
}

// LowSize is the size of the windows on F1's grid (lowLevel) that go with windows of the given
// size on y's: the most rows and columns of Z that the Resize copies into such a window, and the
// lower region's reach on both sides, at most the grid. Zero without a lower level.
func (c *Crop) LowSize(size [2]int64) (low [2]int64) {
	if c.low == nil {
		return low
	}
	for i, table := range [2][]int64{c.rows, c.cols} {
		span := int64(0)
		for a := 0; a+int(size[i]) <= len(table); a++ {
			span = max(span, table[a+int(size[i])-1]-table[a]+1)
		}
		low[i] = min(c.low.fshape[1+i], span+c.low.lo[i]+c.low.hi[i])
	}
	return low
}

// Starts is the window input's row for a target whose first row and column are r0 and c0, with
// windows of the given size on y's grid: Start, and with a lower level the start of its window
// on F1's grid, around the rows and columns of Z the Resize copies into the first.
func (c *Crop) Starts(r0, c0 int64, size [2]int64) []int64 {
	st := c.Start(r0, c0, size)
	if c.low == nil {
		return st[:]
	}
	low := c.LowSize(size)
	out := []int64{st[0], st[1], 0, 0}
	for i, table := range [2][]int64{c.rows, c.cols} {
		out[2+i] = min(max(0, table[st[i]]-c.low.lo[i]), c.low.fshape[1+i]-low[i])
	}
	return out
}

// Low returns the lower level's region as a model F1 -> Z on windows of LowSize(size), nil
// without a lower level.
func (c *Crop) Low(size [2]int64) *onnx.ModelProto {
	if c.low == nil {
		return nil
	}
	l, ls := c.low, c.LowSize(size)
	g := &onnx.GraphProto{Name: "low",
		Input:  []*onnx.ValueInfoProto{valueInfo(l.frontier, []int64{Unknown, l.fshape[0], ls[0], ls[1]})},
		Output: []*onnx.ValueInfoProto{valueInfo(l.z, []int64{Unknown, l.zshape[0], ls[0], ls[1]})}}
	for _, n := range l.region {
		g.Node = append(g.Node, proto.Clone(n.Proto).(*onnx.NodeProto))
	}
	g.Initializer = constantsOf(l.graph, l.region)
	return &onnx.ModelProto{IrVersion: c.irVersion, OpsetImport: c.opsets, Graph: g}
}

// constantsOf returns copies of the constants the nodes read: initializers, and Constant nodes'
// values (NewGraph folded them), under the names the nodes read them by.
func constantsOf(g *Graph, nodes []*Node) []*onnx.TensorProto {
	var out []*onnx.TensorProto
	seen := map[string]bool{}
	for _, n := range nodes {
		for _, name := range n.Inputs {
			if v := g.Values[name]; name != "" && v != nil && v.Const != nil && !seen[name] {
				seen[name] = true
				t := proto.Clone(v.Const).(*onnx.TensorProto)
				t.Name = name
				out = append(out, t)
			}
		}
	}
	return out
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
