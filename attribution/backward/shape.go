package backward

import (
	"math"

	"climxai/onnx"
)

// infer sets the shapes (and, for shape arithmetic, the partially known values and element
// types) of n's outputs from its inputs. Ops it does not know leave their outputs' shapes nil, and
// so do the ops after them (g.shapeLost remembers where that began); Build fails later only if a
// backward step needs them.
func (g *Graph) infer(n *Node) error {
	if err := g.inferShape(n); err != nil {
		return err
	}
	for _, o := range n.Outputs {
		if v := g.Values[o]; o != "" && v.Shape == nil && g.shapeLost[o] == nil {
			for _, in := range n.Inputs {
				if l := g.shapeLost[in]; l != nil {
					g.shapeLost[o] = l
					break
				}
			}
		}
	}
	out := g.Values[n.Outputs[0]]
	out.elem = g.outElem(n)
	// A fully known small value is a constant: record it as one, so that rules can use it.
	if out.Data != nil && out.Shape != nil && out.Const == nil && out.IsConst() && !out.DependsOnInput {
		t := out.elem
		if t == 0 {
			t = onnx.TensorProto_INT64
		}
		out.Const = constTensor(out.Name, out.Shape, out.Data, t)
	}
	return nil
}

// inferShape is infer's table of ops.
func (g *Graph) inferShape(n *Node) error {
	x := g.Values[n.input(0)]
	if x == nil {
		x = &Value{}
	}
	out := g.Values[n.Outputs[0]]
	set := func(s []int64) { out.Shape = s }
	switch n.Op {
	case "Identity", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Softplus", "Clip", "Neg",
		"BatchNormalization", "Dropout", "Cast", "Sqrt", "Exp", "Log", "Abs", "Floor", "Ceil",
		"Reciprocal", "Softmax", "Erf", "LayerNormalization", "PRelu", "HardSigmoid", "HardSwish",
		"InstanceNormalization":
		set(x.Shape)
		if n.Op == "Dropout" && len(n.Outputs) > 1 && n.Outputs[1] != "" {
			g.Values[n.Outputs[1]].Shape = x.Shape
		}
		if n.Op == "Identity" || n.Op == "Cast" || n.Op == "Floor" || n.Op == "Ceil" || n.Op == "Neg" {
			out.Data = unaryData(n.Op, x.Data, isInteger(g.outElem(n)))
		}
	case "Add", "Sub", "Mul", "Div", "Where", "Pow", "Equal", "Greater", "Less", "Max", "Min", "Sum":
		s := x.Shape
		for _, in := range n.Inputs[1:] {
			s = broadcast(s, g.shape(in))
		}
		set(s)
		if len(n.Inputs) == 2 {
			out.Data = binaryData(n.Op, x.Data, g.Values[n.Inputs[1]].Data, isInteger(x.elem))
		}
	case "Conv":
		w := g.shape(n.input(1))
		if x.Shape == nil || w == nil {
			return nil
		}
		geo, err := convGeometry(n, x.Shape, w[2:])
		if err != nil {
			return err
		}
		s := []int64{x.Shape[0], w[0]}
		set(append(s, geo.outSpatial(x.Shape[2:])...))
	case "ConvTranspose":
		w := g.shape(n.input(1))
		if x.Shape == nil || w == nil {
			return nil
		}
		geo, err := convTransposeGeometry(n, x.Shape, w[2:])
		if err != nil {
			return err
		}
		s := []int64{x.Shape[0], w[1] * geo.group}
		for i, h := range x.Shape[2:] {
			s = append(s, dimOp(h, func(h int64) int64 {
				return geo.strides[i]*(h-1) + geo.outPad[i] + (geo.kernel[i]-1)*geo.dilations[i] + 1 - geo.padBegin[i] - geo.padEnd[i]
			}))
		}
		set(s)
	case "MaxPool", "AveragePool":
		if x.Shape == nil {
			return nil
		}
		geo, err := poolGeometry(n, x.Shape)
		if err != nil {
			return err
		}
		s := append([]int64{x.Shape[0], x.Shape[1]}, geo.outSpatial(x.Shape[2:])...)
		set(s)
		if len(n.Outputs) > 1 && n.Outputs[1] != "" {
			g.Values[n.Outputs[1]].Shape = s
		}
	case "GlobalAveragePool", "GlobalMaxPool":
		if x.Shape == nil {
			return nil
		}
		s := append([]int64{}, x.Shape[:2]...)
		for range x.Shape[2:] {
			s = append(s, 1)
		}
		set(s)
	case "Concat":
		axis := n.AttrInt("axis", 0)
		var s []int64
		var data []float64
		dataOK := true
		for i, in := range n.Inputs {
			v := g.Values[in]
			if v.Shape == nil {
				return nil
			}
			a := normAxis(axis, len(v.Shape))
			if i == 0 {
				s = append([]int64{}, v.Shape...)
			} else {
				s[a] = dimAdd(s[a], v.Shape[a])
			}
			if v.Data == nil || len(v.Shape) != 1 {
				dataOK = false
			}
			data = append(data, v.Data...)
		}
		set(s)
		if dataOK {
			out.Data = data
		}
	case "Shape":
		if x.Shape == nil {
			return nil
		}
		start, end := n.AttrInt("start", 0), n.AttrInt("end", int64(len(x.Shape)))
		r := int64(len(x.Shape))
		start, end = clampIndex(start, r), clampIndex(end, r)
		d := []float64{}
		for _, v := range x.Shape[start:max(start, end)] {
			if v == Unknown {
				d = append(d, math.NaN())
			} else {
				d = append(d, float64(v))
			}
		}
		set([]int64{int64(len(d))})
		out.Data = d
	case "Gather":
		idx := g.Values[n.input(1)]
		if x.Shape == nil || idx.Shape == nil {
			return nil
		}
		a := normAxis(n.AttrInt("axis", 0), len(x.Shape))
		s := append(append(append([]int64{}, x.Shape[:a]...), idx.Shape...), x.Shape[a+1:]...)
		set(s)
		if ii, ok := idx.Ints(); ok && x.Data != nil && len(x.Shape) == 1 {
			d := make([]float64, len(ii))
			for k, i := range ii {
				if i < 0 {
					i += int64(len(x.Data))
				}
				if i < 0 || i >= int64(len(x.Data)) {
					return graphErr("Gather %q: index %d out of range", n.Name, i)
				}
				d[k] = x.Data[i]
			}
			out.Data = d
		}
	case "Unsqueeze", "Squeeze":
		if x.Shape == nil {
			return nil
		}
		axes := n.AttrInts("axes")
		if n.input(1) != "" {
			a, ok := g.Values[n.input(1)].Ints()
			if !ok {
				return nil
			}
			axes = a
		}
		if n.Op == "Unsqueeze" {
			set(unsqueezeShape(x.Shape, axes))
		} else {
			set(squeezeShape(x.Shape, axes))
		}
		out.Data = x.Data
	case "Reshape":
		t := g.Values[n.input(1)]
		if t.Data == nil {
			return nil
		}
		set(reshapeShape(x.Shape, t.Data, n.AttrInt("allowzero", 0) != 0))
		out.Data = x.Data
	case "Flatten":
		if x.Shape == nil {
			return nil
		}
		a := normAxis(n.AttrInt("axis", 1), len(x.Shape)+1)
		set([]int64{dimProd(x.Shape[:a]), dimProd(x.Shape[a:])})
	case "Transpose":
		if x.Shape == nil {
			return nil
		}
		perm := transposePerm(n, len(x.Shape))
		s := make([]int64, len(perm))
		for i, p := range perm {
			s[i] = x.Shape[p]
		}
		set(s)
		out.Data = transposeData(x.Shape, x.Data, perm)
	case "Gemm":
		a, b := g.shape(n.input(0)), g.shape(n.input(1))
		if len(a) != 2 || len(b) != 2 {
			return nil
		}
		m, k := a[0], a[1]
		if n.AttrInt("transA", 0) != 0 {
			m = a[1]
		}
		k = b[1]
		if n.AttrInt("transB", 0) != 0 {
			k = b[0]
		}
		set([]int64{m, k})
	case "MatMul":
		a, b := g.shape(n.input(0)), g.shape(n.input(1))
		if len(a) < 2 || len(b) < 2 {
			return nil
		}
		batch := broadcast(a[:len(a)-2], b[:len(b)-2])
		set(append(batch, a[len(a)-2], b[len(b)-1]))
	case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin":
		if x.Shape == nil {
			return nil
		}
		axes, ok := g.reduceAxes(n)
		if !ok {
			return nil
		}
		keep := n.AttrInt("keepdims", 1) != 0
		var s []int64
		for i, d := range x.Shape {
			if axes[i] {
				if keep {
					s = append(s, 1)
				}
			} else {
				s = append(s, d)
			}
		}
		set(s)
	case "Pad":
		if x.Shape == nil {
			return nil
		}
		pads, ok := g.padAmounts(n, len(x.Shape))
		if !ok {
			return nil
		}
		s := make([]int64, len(x.Shape))
		r := len(x.Shape)
		for i, d := range x.Shape {
			s[i] = dimOp(d, func(d int64) int64 { return d + pads[i] + pads[r+i] })
		}
		set(s)
	case "Slice":
		if x.Shape == nil {
			return nil
		}
		sl, ok := g.sliceSpec(n, x.Shape)
		if !ok {
			return nil
		}
		s := append([]int64{}, x.Shape...)
		for _, a := range sl {
			s[a.axis] = a.len()
		}
		set(s)
		out.Data = sliceData(x.Shape, x.Data, sl)
	case "Split":
		if x.Shape == nil {
			return nil
		}
		a := normAxis(n.AttrInt("axis", 0), len(x.Shape))
		sizes, ok := g.splitSizes(n, x.Shape[a])
		if !ok {
			return nil
		}
		for i, o := range n.Outputs {
			s := append([]int64{}, x.Shape...)
			s[a] = sizes[i]
			g.Values[o].Shape = s
		}
	case "Resize":
		if x.Shape == nil {
			return nil
		}
		rs, err := g.resizeSizes(n, x.Shape)
		if err != nil || rs == nil {
			return err
		}
		set(rs.out)
	case "ConstantOfShape":
		if s, ok := g.Values[n.input(0)].Ints(); ok {
			set(s)
			// torch.onnx pads a pads vector with zeros this way (F.pad with traced sizes).
			if k := dimProd(s); validShape(s) && k <= maxDataLen {
				v := 0.0
				if a := n.Attr("value"); a != nil && a.T != nil {
					if d := tensorData(a.T); len(d) == 1 {
						v = d[0]
					}
				}
				out.Data = make([]float64, k)
				for i := range out.Data {
					out.Data[i] = v
				}
			}
		}
	case "Expand":
		t := g.Values[n.input(1)]
		if t.Data != nil {
			s := make([]int64, len(t.Data))
			for i, d := range t.Data {
				s[i] = Unknown
				if !math.IsNaN(d) {
					s[i] = int64(d)
				}
			}
			set(broadcast(x.Shape, s))
		}
	case "DepthToSpace", "SpaceToDepth":
		b := n.AttrInt("blocksize", 0)
		if len(x.Shape) != 4 || b <= 0 {
			return nil
		}
		c, h, w := x.Shape[1], x.Shape[2], x.Shape[3]
		if n.Op == "DepthToSpace" {
			if c != Unknown && c%(b*b) != 0 {
				return graphErr("DepthToSpace %q: %d channels are not a multiple of blocksize² = %d", n.Name, c, b*b)
			}
			set([]int64{x.Shape[0], dimOp(c, func(c int64) int64 { return c / (b * b) }),
				dimOp(h, func(h int64) int64 { return h * b }), dimOp(w, func(w int64) int64 { return w * b })})
		} else {
			if h != Unknown && h%b != 0 || w != Unknown && w%b != 0 {
				return graphErr("SpaceToDepth %q: %d x %d is not a multiple of blocksize %d", n.Name, h, w, b)
			}
			set([]int64{x.Shape[0], dimOp(c, func(c int64) int64 { return c * b * b }),
				dimOp(h, func(h int64) int64 { return h / b }), dimOp(w, func(w int64) int64 { return w / b })})
		}
	default:
		for _, o := range n.Outputs {
			if o != "" {
				g.shapeLost[o] = n
			}
		}
	}
	return nil
}

// outElem returns the element type of n's first output where its inputs' types tell it (0 if
// unknown): Cast says it, Shape and Size make INT64, ConstantOfShape its value's type (FLOAT by
// default), comparisons BOOL, Where its branches' type, other ops input 0's.
func (g *Graph) outElem(n *Node) onnx.TensorProto_DataType {
	elem := func(i int) onnx.TensorProto_DataType {
		if v := g.Values[n.input(i)]; v != nil {
			return v.elem
		}
		return 0
	}
	switch n.Op {
	case "Cast":
		return onnx.TensorProto_DataType(n.AttrInt("to", int64(onnx.TensorProto_FLOAT)))
	case "Shape", "Size":
		return onnx.TensorProto_INT64
	case "ConstantOfShape":
		if a := n.Attr("value"); a != nil && a.T != nil {
			return onnx.TensorProto_DataType(a.T.DataType)
		}
		return onnx.TensorProto_FLOAT
	case "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not", "Xor":
		return onnx.TensorProto_BOOL
	case "Where":
		return elem(1)
	}
	return elem(0)
}

// isInteger reports whether t is an integer element type, whose Div and Cast truncate.
func isInteger(t onnx.TensorProto_DataType) bool {
	switch t {
	case onnx.TensorProto_INT64, onnx.TensorProto_INT32, onnx.TensorProto_INT16, onnx.TensorProto_INT8,
		onnx.TensorProto_UINT64, onnx.TensorProto_UINT32, onnx.TensorProto_UINT16, onnx.TensorProto_UINT8:
		return true
	}
	return false
}

func constTensor(name string, dims []int64, d []float64, t onnx.TensorProto_DataType) *onnx.TensorProto {
	if t == onnx.TensorProto_FLOAT {
		f := make([]float32, len(d))
		for i, x := range d {
			f[i] = float32(x)
		}
		return onnx.FloatTensor(name, dims, f)
	}
	v := make([]int64, len(d))
	for i, x := range d {
		v[i] = int64(x)
	}
	return onnx.Int64Tensor(name, dims, v)
}

// unaryData evaluates Identity, Cast, Floor, Ceil and Neg on known elements; integer says the
// result is an integer type (a Cast to it truncates toward zero, as ONNX Runtime's does).
func unaryData(op string, d []float64, integer bool) []float64 {
	if d == nil {
		return nil
	}
	out := make([]float64, len(d))
	for i, x := range d {
		switch op {
		case "Floor":
			x = math.Floor(x)
		case "Ceil":
			x = math.Ceil(x)
		case "Neg":
			x = -x
		case "Cast":
			if integer {
				x = math.Trunc(x)
			}
		}
		out[i] = x
	}
	return out
}

// binaryData evaluates elementwise shape arithmetic on vectors (or a vector and a scalar);
// integer operands divide with truncation toward zero (torch.onnx writes Python's // on sizes as
// an INT64 Div, e.g. in F.pad's amounts).
func binaryData(op string, a, b []float64, integer bool) []float64 {
	if a == nil || b == nil || len(a) != len(b) && len(a) != 1 && len(b) != 1 {
		return nil
	}
	n := max(len(a), len(b))
	out := make([]float64, n)
	for i := range out {
		x, y := a[min(i, len(a)-1)], b[min(i, len(b)-1)]
		switch op {
		case "Add":
			out[i] = x + y
		case "Sub":
			out[i] = x - y
		case "Mul":
			out[i] = x * y
		case "Div":
			out[i] = x / y
			if integer {
				out[i] = math.Trunc(out[i])
				if y == 0 {
					out[i] = math.NaN()
				}
			}
		default:
			return nil
		}
	}
	return out
}

// strides returns the row-major strides of a static shape.
func strides(shape []int64) []int64 {
	st := make([]int64, len(shape))
	k := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = k
		k *= shape[i]
	}
	return st
}

// knownData reports whether d holds every element of a static shape.
func knownData(shape []int64, d []float64) bool {
	n := dimProd(shape)
	return d != nil && n != Unknown && int64(len(d)) == n
}

// transposeData permutes the known elements of a small tensor (torch.onnx transposes its pads
// matrix for F.pad); nil if they are not all known.
func transposeData(shape []int64, d []float64, perm []int64) []float64 {
	if !knownData(shape, d) || len(perm) != len(shape) {
		return nil
	}
	out := make([]int64, len(shape))
	for i, p := range perm {
		out[i] = shape[p]
	}
	in := strides(shape)
	res := make([]float64, len(d))
	idx := make([]int64, len(out))
	for k := range res {
		src := int64(0)
		for i := range out {
			src += idx[i] * in[perm[i]]
		}
		res[k] = d[src]
		for i := len(out) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return res
}

// sliceData selects the known elements of a small tensor as the Slice sl does (any steps, as
// torch.onnx reverses its pads matrix with step -1); nil if they are not all known.
func sliceData(shape []int64, d []float64, sl []sliceAxis) []float64 {
	if !knownData(shape, d) {
		return nil
	}
	r := len(shape)
	start, step, out := make([]int64, r), make([]int64, r), append([]int64{}, shape...)
	for i := range step {
		step[i] = 1
	}
	for _, a := range sl {
		start[a.axis], step[a.axis], out[a.axis] = a.start, a.step, a.len()
	}
	n := dimProd(out)
	if n == 0 {
		return nil
	}
	in := strides(shape)
	res := make([]float64, n)
	idx := make([]int64, r)
	for k := range res {
		src := int64(0)
		for i := range idx {
			src += (start[i] + idx[i]*step[i]) * in[i]
		}
		res[k] = d[src]
		for i := r - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < out[i] {
				break
			}
			idx[i] = 0
		}
	}
	return res
}

func (g *Graph) shape(name string) []int64 {
	if v := g.Values[name]; v != nil {
		return v.Shape
	}
	return nil
}

// broadcast applies numpy broadcasting to two static shapes; Unknown against 1 stays Unknown.
func broadcast(a, b []int64) []int64 {
	if a == nil || b == nil {
		return nil
	}
	r := max(len(a), len(b))
	out := make([]int64, r)
	for i := 0; i < r; i++ {
		da, db := int64(1), int64(1)
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da == Unknown:
			out[i] = db
		default:
			out[i] = da
		}
	}
	return out
}

func dimOp(d int64, f func(int64) int64) int64 {
	if d == Unknown {
		return Unknown
	}
	return f(d)
}

func dimAdd(a, b int64) int64 {
	if a == Unknown || b == Unknown {
		return Unknown
	}
	return a + b
}

func dimProd(s []int64) int64 {
	p := int64(1)
	for _, d := range s {
		if d == Unknown {
			return Unknown
		}
		p *= d
	}
	return p
}

func normAxis(a int64, rank int) int {
	if a < 0 {
		a += int64(rank)
	}
	return int(a)
}

func clampIndex(i, n int64) int64 {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}

func unsqueezeShape(s []int64, axes []int64) []int64 {
	r := len(s) + len(axes)
	ins := map[int]bool{}
	for _, a := range axes {
		ins[normAxis(a, r)] = true
	}
	out := make([]int64, 0, r)
	j := 0
	for i := 0; i < r; i++ {
		if ins[i] {
			out = append(out, 1)
		} else {
			out = append(out, s[j])
			j++
		}
	}
	return out
}

func squeezeShape(s []int64, axes []int64) []int64 {
	drop := map[int]bool{}
	for _, a := range axes {
		drop[normAxis(a, len(s))] = true
	}
	var out []int64
	for i, d := range s {
		if drop[i] || len(axes) == 0 && d == 1 {
			continue
		}
		out = append(out, d)
	}
	return out
}

// reshapeShape resolves a Reshape target (0 copies the input's dimension unless allowzero, -1 is
// inferred from the element count; NaN elements are run-time values such as the batch size).
func reshapeShape(in []int64, t []float64, allowZero bool) []int64 {
	out := make([]int64, len(t))
	infer := -1
	for i, d := range t {
		switch {
		case math.IsNaN(d):
			out[i] = Unknown
		case d == 0 && !allowZero:
			// Copies the input's dimension, which may not be known.
			out[i] = Unknown
			if in != nil && i < len(in) {
				out[i] = in[i]
			}
		case d == -1:
			infer = i
			out[i] = Unknown
		default:
			out[i] = int64(d)
		}
	}
	if infer >= 0 && in != nil {
		// Known elements of the input over known elements of the target; with one Unknown
		// dimension on each side (the batch), those are taken to cancel.
		ki, ui := knownProd(in)
		ko, uo := knownProd(out)
		if uo == ui+1 && ko > 0 && ki%ko == 0 { // the target's -1 is its one extra unknown
			out[infer] = ki / ko
		}
	}
	return out
}

func knownProd(s []int64) (prod int64, unknown int) {
	prod = 1
	for _, d := range s {
		if d == Unknown {
			unknown++
		} else {
			prod *= d
		}
	}
	return prod, unknown
}

func transposePerm(n *Node, rank int) []int64 {
	perm := n.AttrInts("perm")
	if perm == nil {
		for i := rank - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	return perm
}

// reduceAxes returns the reduced axes of a Reduce* node (attribute before opset 18 for
// ReduceMean, input from 13 on for ReduceSum), ok=false if they are only known at run time.
func (g *Graph) reduceAxes(n *Node) (map[int]bool, bool) {
	r := len(g.shape(n.input(0)))
	axes := n.AttrInts("axes")
	if n.input(1) != "" {
		a, ok := g.Values[n.input(1)].Ints()
		if !ok {
			return nil, false
		}
		axes = a
	}
	out := map[int]bool{}
	if len(axes) == 0 {
		if n.AttrInt("noop_with_empty_axes", 0) != 0 {
			return out, true
		}
		for i := 0; i < r; i++ {
			out[i] = true
		}
		return out, true
	}
	for _, a := range axes {
		out[normAxis(a, r)] = true
	}
	return out, true
}

// padAmounts returns Pad's pads [b_0..b_r-1, e_0..e_r-1] (input from opset 11; axes input of
// opset 18 respected).
func (g *Graph) padAmounts(n *Node, rank int) ([]int64, bool) {
	p, ok := g.Values[n.input(1)].Ints()
	if !ok {
		return nil, false
	}
	if n.input(3) == "" {
		return p, len(p) == 2*rank
	}
	axes, ok := g.Values[n.input(3)].Ints()
	if !ok || len(p) != 2*len(axes) {
		return nil, false
	}
	out := make([]int64, 2*rank)
	for i, a := range axes {
		k := normAxis(a, rank)
		out[k], out[rank+k] = p[i], p[len(axes)+i]
	}
	return out, true
}

// sliceAxis is one axis of a Slice, normalised as ONNX's reference does: start and end clamped
// to the axis (for negative steps to [-1, dim-1]).
type sliceAxis struct {
	axis             int
	start, end, step int64
	dim              int64
}

func (a sliceAxis) len() int64 {
	if a.step > 0 {
		if a.end <= a.start {
			return 0
		}
		return (a.end - a.start + a.step - 1) / a.step
	}
	if a.start <= a.end {
		return 0
	}
	return (a.start - a.end - a.step - 1) / -a.step
}

func (g *Graph) sliceSpec(n *Node, shape []int64) ([]sliceAxis, bool) {
	starts, ok1 := g.Values[n.input(1)].Ints()
	ends, ok2 := g.Values[n.input(2)].Ints()
	if !ok1 || !ok2 || len(starts) != len(ends) {
		return nil, false
	}
	axes := make([]int64, len(starts))
	for i := range axes {
		axes[i] = int64(i)
	}
	if n.input(3) != "" {
		a, ok := g.Values[n.input(3)].Ints()
		if !ok {
			return nil, false
		}
		axes = a
	}
	steps := make([]int64, len(starts))
	for i := range steps {
		steps[i] = 1
	}
	if n.input(4) != "" {
		s, ok := g.Values[n.input(4)].Ints()
		if !ok {
			return nil, false
		}
		steps = s
	}
	var out []sliceAxis
	for i := range starts {
		a := normAxis(axes[i], len(shape))
		d := shape[a]
		if d == Unknown || steps[i] == 0 {
			return nil, false
		}
		s, e := starts[i], ends[i]
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		if steps[i] > 0 {
			s, e = max(0, min(s, d)), max(0, min(e, d))
		} else {
			s, e = max(-1, min(s, d-1)), max(-1, min(e, d-1))
		}
		out = append(out, sliceAxis{axis: a, start: s, end: e, step: steps[i], dim: d})
	}
	return out, true
}

// splitSizes returns Split's part sizes (input from opset 13, attribute before, equal parts
// otherwise; opset 18's num_outputs gives ceil-sized parts with a smaller last one).
func (g *Graph) splitSizes(n *Node, d int64) ([]int64, bool) {
	if s := n.AttrInts("split"); s != nil {
		return s, true
	}
	if n.input(1) != "" {
		return g.Values[n.input(1)].Ints()
	}
	if d == Unknown {
		return nil, false
	}
	k := int64(len(n.Outputs))
	part := (d + k - 1) / k
	var out []int64
	for i := int64(0); i < k; i++ {
		out = append(out, max(0, min(part, d-i*part)))
	}
	return out, true
}
