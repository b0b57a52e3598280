package backward

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"climxai/onnx"
)

// CropNames names the inputs and outputs of a model Compose joins.
type CropNames struct {
	Seed     string // the seed input over the whole y, and the tail's (and lower level's) seed input
	Grad     string // every part's gradient output, and the result's
	Window   string // the window input: [N, WindowWidth()] float32, row n sample n's Starts
	BodySeed string // the body model's seed input (the cotangent at its output BodyOut)
}

// Compose joins the backward model body of c.Body ((x, BodySeed) -> (BodyOut, Grad)), the
// backward model tail of c.Tail(size) ((F, Seed) -> (y, Grad)) and, with a lower level, the
// backward model low of c.Low(size) ((F1, Seed) -> (Z, Grad); nil otherwise) into one model
// (x, Seed, Window) -> (y, Grad) with Seed and y over the whole grid. Each sample's windows are
// gathered with GatherElements over the flattened grids (so every sample has its own starts):
// F1 (or F) from the body's output or from the Resize that makes it, F from the lower level's
// window of Z through the Resize's nearest-neighbour tables, the seed from Seed. The parts run on
// the windows; the Resize's adjoint between the levels sums the copies with one-hot matrices
// (MatMul), and the cotangent at the body's output and y are scattered back into zeros. y is
// therefore the model's output where the target's window guarantees it (Crop) and 0 outside
// the window.
func (c *Crop) Compose(body, tail, low *onnx.ModelProto, size [2]int64, names CropNames) (*onnx.ModelProto, error) {
	if (low == nil) != (c.low == nil) {
		return nil, graphErr("Compose needs the lower level's model exactly when the crop has one")
	}
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
	// The tail's names and the window's nodes get prefix, the lower level's prefix1; no body name
	// may start with either.
	prefix := "crop/"
	for slices.ContainsFunc(slices.Collect(maps.Keys(taken)), func(s string) bool { return strings.HasPrefix(s, prefix) }) {
		prefix = "_" + prefix
	}
	prefix1 := prefix[:len(prefix)-1] + "1/"
	if taken[names.Window] || taken[names.Seed] {
		return nil, graphErr("the model already has a value named %q or %q; pick other names", names.Window, names.Seed)
	}
	renamed := func(m *onnx.ModelProto, p string) *onnx.GraphProto {
		rg := proto.Clone(m).(*onnx.ModelProto).Graph
		re := func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		}
		for _, n := range rg.Node {
			n.Name = re(n.Name)
			for i := range n.Input {
				n.Input[i] = re(n.Input[i])
			}
			for i := range n.Output {
				n.Output[i] = re(n.Output[i])
			}
		}
		for _, t := range rg.Initializer {
			t.Name = re(t.Name)
		}
		return rg
	}
	tg := renamed(tail, prefix)
	var inits []*onnx.TensorProto
	k := 0
	fresh := func() string { k++; return fmt.Sprintf("%swindow_%d", prefix, k) }
	var list *[]*onnx.NodeProto // where node and emit append
	emit := func(op string, in []string, out string, attrs ...*onnx.AttributeProto) string {
		if out == "" {
			out = fresh()
		}
		*list = append(*list, &onnx.NodeProto{OpType: op, Name: out + "/" + op, Input: in, Output: []string{out}, Attribute: attrs})
		return out
	}
	node := func(op string, in ...string) string { return emit(op, in, "") }
	konst := func(dims []int64, v ...int64) string {
		name := fresh()
		inits = append(inits, onnx.Int64Tensor(name, dims, v))
		return name
	}
	axis := func(a int64) *onnx.AttributeProto {
		return &onnx.AttributeProto{Name: "axis", Type: onnx.AttributeProto_INT, I: a}
	}
	steps := func(n int64) []int64 { // 0, 1, ..., n-1
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(i)
		}
		return v
	}

	var pre, mid, post []*onnx.NodeProto // before the lower level, between its parts, after the tail
	list = &pre
	width := int64(c.WindowWidth())
	start := emit("Cast", []string{names.Window}, "", &onnx.AttributeProto{Name: "to", Type: onnx.AttributeProto_INT, I: int64(onnx.TensorProto_INT64)})
	cols := map[int64]string{}
	col := func(i int64) string { // column i of start, [N, 1]
		if cols[i] == "" {
			cols[i] = node("Slice", start, konst([]int64{1}, i), konst([]int64{1}, i+1), konst([]int64{1}, 1))
		}
		return cols[i]
	}
	batch := node("Slice", node("Shape", names.Window), konst([]int64{1}, 0), konst([]int64{1}, 1))
	// flat is the index into a flattened [N, ch, h*w] grid of every cell of a window of size sz
	// that starts at columns (r, c) of start, expanded over the channels: [N, ch, sz0*sz1].
	flat := func(r, cl int64, w int64, sz [2]int64, ch int64) string {
		// row·w + column, [N, 1] (Mul and Add: ONNX Runtime's CUDA MatMul has no int64 kernel)
		first := node("Add", node("Mul", col(r), konst(nil, w)), col(cl))
		var offsets []int64
		for i := range sz[0] {
			for j := range sz[1] {
				offsets = append(offsets, i*w+j)
			}
		}
		idx := node("Unsqueeze", node("Add", first, konst([]int64{1, sz[0] * sz[1]}, offsets...)), konst([]int64{1}, 1))
		return node("Expand", idx, konst([]int64{3}, 1, ch, sz[0]*sz[1]))
	}
	// mapped is the index, into a flattened [N, ch, hs*ws] source, of every cell of a window of
	// size sz whose rows and columns map to the source through the tables rows and cols, the
	// window starting at columns (r, cl) of start and the source's own window, if any, at
	// (off0, off1) (else ""): [N, ch, sz0*sz1], and the source rows and columns relative to it.
	mapped := func(rows, cols []int64, r, cl int64, off0, off1 string, ws int64, sz [2]int64, ch int64) (idx, rel0, rel1 string) {
		look := func(table []int64, c, n int64, off string) string {
			v := node("Gather", konst([]int64{int64(len(table))}, table...), node("Add", col(c), konst([]int64{1, n}, steps(n)...))) // [N, n]
			if off != "" {
				v = node("Sub", v, off)
			}
			return v
		}
		rel0, rel1 = look(rows, r, sz[0], off0), look(cols, cl, sz[1], off1)
		rc := node("Add", node("Unsqueeze", node("Mul", rel0, konst(nil, ws)), konst([]int64{1}, 2)), node("Unsqueeze", rel1, konst([]int64{1}, 1)))
		idx = node("Expand", node("Reshape", rc, konst([]int64{3}, 0, 1, sz[0]*sz[1])), konst([]int64{3}, 1, ch, sz[0]*sz[1]))
		return idx, rel0, rel1
	}
	gather := func(v string, ch, h, w int64, idx string, sz [2]int64, out string) {
		win := emit("GatherElements", []string{node("Reshape", v, konst([]int64{3}, 0, ch, h*w)), idx}, "", axis(2))
		emit("Reshape", []string{win, konst([]int64{4}, 0, ch, sz[0], sz[1])}, out)
	}
	scatter := func(v string, ch, h, w int64, idx string, sz [2]int64, out string) {
		zeros := emit("ConstantOfShape", []string{emit("Concat", []string{batch, konst([]int64{2}, ch, h*w)}, "", axis(0))}, "")
		vals := node("Reshape", v, konst([]int64{3}, 0, ch, sz[0]*sz[1]))
		emit("Reshape", []string{emit("ScatterElements", []string{zeros, idx, vals}, "", axis(2)), konst([]int64{4}, 0, ch, h, w)}, out)
	}
	// windowOf gathers the window of a frontier (F or F1) into out, from the frontier itself
	// (fidx: its flat index) or from the Resize that makes it.
	windowOf := func(f string, fs []int64, src string, ss, rows, cols []int64, r, cl int64, sz [2]int64, fidx, out string) {
		if src == "" {
			gather(f, fs[0], fs[1], fs[2], fidx, sz, out)
			return
		}
		idx, _, _ := mapped(rows, cols, r, cl, "", "", ss[2], sz, ss[0])
		gather(src, ss[0], ss[1], ss[2], idx, sz, out)
	}

	yIdx := flat(0, 1, c.YShape[2], size, c.YShape[0])
	gather(names.Seed, c.YShape[0], c.YShape[1], c.YShape[2], yIdx, size, prefix+names.Seed)
	var lowFwd, lowBwd, after []*onnx.NodeProto // the lower level's parts; what follows its backward part
	if low == nil {
		fIdx := flat(0, 1, c.FShape[2], size, c.FShape[0])
		windowOf(c.Frontier, c.FShape, c.src, c.srcShape, c.rows, c.cols, 0, 1, size, fIdx, prefix+c.Frontier)
		list = &after
		scatter(prefix+names.Grad, c.FShape[0], c.FShape[1], c.FShape[2], fIdx, size, names.BodySeed)
	} else {
		l, ls := c.low, c.LowSize(size)
		lg := renamed(low, prefix1)
		tg.Initializer = append(tg.Initializer, lg.Initializer...)
		f1Idx := flat(2, 3, l.fshape[2], ls, l.fshape[0])
		windowOf(l.frontier, l.fshape, l.src, l.srcShape, l.rows, l.cols, 2, 3, ls, f1Idx, prefix1+l.frontier)
		// The lower level's forward part, then F's window from Z's through the Resize.
		split := seedReaders(lg.Node, prefix1+names.Seed)
		lowFwd, lowBwd = lg.Node[:split], lg.Node[split:]
		list = &mid
		idx, rel0, rel1 := mapped(c.rows, c.cols, 0, 1, col(2), col(3), ls[1], size, l.zshape[0])
		gather(prefix1+l.z, l.zshape[0], ls[0], ls[1], idx, size, prefix+c.Frontier)
		list = &post
		// The Resize's adjoint on the windows: Z's cotangent = R · F's cotangent · C, R[i, a] = 1
		// where window row a copies Z's window row i, C[b, j] likewise for columns.
		oneHot := func(rel string, n int64, rowsFirst bool) string {
			var eq string
			if rowsFirst { // [N, n, len]: Z row i against every window row
				eq = node("Equal", node("Unsqueeze", rel, konst([]int64{1}, 1)), konst([]int64{1, n, 1}, steps(n)...))
			} else { // [N, len, n]
				eq = node("Equal", node("Unsqueeze", rel, konst([]int64{1}, 2)), konst([]int64{1, 1, n}, steps(n)...))
			}
			m := emit("Cast", []string{eq}, "", &onnx.AttributeProto{Name: "to", Type: onnx.AttributeProto_INT, I: int64(onnx.TensorProto_FLOAT)})
			return node("Unsqueeze", m, konst([]int64{1}, 1))
		}
		R, C := oneHot(rel0, ls[0], true), oneHot(rel1, ls[1], false)
		emit("MatMul", []string{node("MatMul", R, prefix+names.Grad), C}, prefix1+names.Seed)
		list = &after
		scatter(prefix1+names.Grad, l.fshape[0], l.fshape[1], l.fshape[2], f1Idx, ls, names.BodySeed)
	}
	list = &post
	scatter(prefix+c.Output, c.YShape[0], c.YShape[1], c.YShape[2], yIdx, size, c.Output)
	parts := slices.Concat(pre, lowFwd, mid, tg.Node, post, lowBwd, after)
	inits = append(inits, tg.Initializer...)

	// The parts come after the body's forward nodes, which make its output, and before its
	// backward nodes, which read BodySeed.
	split := seedReaders(g.Node, names.BodySeed)
	g.Node = slices.Concat(g.Node[:split], parts, g.Node[split:])
	g.Initializer = append(g.Initializer, inits...)
	xInfo, gradInfo := infoNamed(g.Input, c.Input), infoNamed(g.Output, names.Grad)
	if xInfo == nil {
		return nil, graphErr("the body's backward model has no input %q", c.Input)
	}
	if gradInfo == nil {
		return nil, graphErr("the body's backward model has no output %q", names.Grad)
	}
	ys := append([]int64{Unknown}, c.YShape...)
	g.Input = []*onnx.ValueInfoProto{xInfo, valueInfo(names.Seed, ys), valueInfo(names.Window, []int64{Unknown, width})}
	g.Output = []*onnx.ValueInfoProto{valueInfo(c.Output, ys), gradInfo}
	dropDead(g)
	return out, nil
}

// seedReaders is where a backward model's nodes (Build: the forward part, then the backward
// part) start reading its seed: the index of the first node that reads seed, len(nodes) if none.
func seedReaders(nodes []*onnx.NodeProto, seed string) int {
	if i := slices.IndexFunc(nodes, func(n *onnx.NodeProto) bool { return slices.Contains(n.Input, seed) }); i >= 0 {
		return i
	}
	return len(nodes)
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
