package backward

import (
	"math"

	"climxai/onnx"
)

// gradientVJP emits the exact vector-Jacobian product of s.Node: for every input i that
// s.Needs, the cotangent  dL/dx_i = sum_j (dy_j/dx_i)^T dL/dy_j.
func gradientVJP(s *Step) error {
	n := s.Node
	switch n.Op {
	case "Identity", "Dropout":
		s.SetInGrad(0, s.OutGrad(0))
	case "Cast":
		if onnx.TensorProto_DataType(n.AttrInt("to", 0)) != onnx.TensorProto_FLOAT {
			return unsupported(n, "cast of the differentiated path to a non-float type")
		}
		s.SetInGrad(0, s.OutGrad(0))
	case "Neg":
		s.SetInGrad(0, s.Emit("Neg", []string{s.OutGrad(0)}))
	case "Relu":
		// d relu(x)/dx = 1 where x > 0 (PyTorch's threshold_backward makes the same choice at 0),
		// that is where y = relu(x) > 0. The mask multiplies as a float: ONNX Runtime's Where
		// (with a broadcast zero) took three times as long as Greater, Cast and Mul together, a
		// sixth of a saliency run on the reference DenseNet.
		s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), s.positiveMask(n.Outputs[0])}))
	case "LeakyRelu":
		a := n.AttrFloat("alpha", 0.01)
		g := s.OutGrad(0)
		s.SetInGrad(0, s.where(s.Emit("Greater", []string{s.In(0), s.zero()}), g, s.Emit("Mul", []string{g, s.ConstFloat(nil, a)})))
	case "Elu":
		// y = alpha (e^x - 1) for x <= 0, so dy/dx = alpha e^x = y + alpha there.
		a := n.AttrFloat("alpha", 1)
		g := s.OutGrad(0)
		neg := s.Emit("Mul", []string{g, s.Emit("Add", []string{n.Outputs[0], s.ConstFloat(nil, a)})})
		s.SetInGrad(0, s.where(s.Emit("Greater", []string{s.In(0), s.zero()}), g, neg))
	case "PRelu":
		// dy/dx = 1 where x > 0, the slope elsewhere (slope broadcast onto x, a learned constant).
		if s.Needs(1) {
			return unsupported(n, "a slope that depends on the input")
		}
		m := s.positiveMask(s.In(0))
		d := s.Emit("Add", []string{s.In(1), s.Emit("Mul", []string{s.Emit("Sub", []string{s.ConstFloat(nil, 1), s.In(1)}), m})})
		s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), d}))
	case "HardSigmoid":
		// y = max(0, min(1, αx + β)): dy/dx = α where 0 < y < 1.
		y := n.Outputs[0]
		inside := s.Emit("Cast", []string{s.Emit("And", []string{s.Emit("Greater", []string{y, s.zero()}),
			s.Emit("Less", []string{y, s.ConstFloat(nil, 1)})})}, IntAttr("to", int64(onnx.TensorProto_FLOAT)))
		d := s.Emit("Mul", []string{inside, s.ConstFloat(nil, n.AttrFloat("alpha", 0.2))})
		s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), d}))
	case "HardSwish":
		// y = x · max(0, min(1, x/6 + 1/2)): dy/dx = x/3 + 1/2 for -3 < x < 3, 1 above, 0 below.
		x := s.In(0)
		f := func(a string) string {
			return s.Emit("Cast", []string{a}, IntAttr("to", int64(onnx.TensorProto_FLOAT)))
		}
		above := f(s.Emit("Greater", []string{x, s.ConstFloat(nil, 3)}))
		inside := f(s.Emit("And", []string{s.Emit("Greater", []string{x, s.ConstFloat(nil, -3)}),
			s.Emit("Less", []string{x, s.ConstFloat(nil, 3)})}))
		slope := s.Emit("Add", []string{s.Emit("Mul", []string{x, s.ConstFloat(nil, 1.0/3)}), s.ConstFloat(nil, 0.5)})
		d := s.Emit("Add", []string{above, s.Emit("Mul", []string{inside, slope})})
		s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), d}))
	case "Sigmoid":
		// σ' = σ (1 - σ)
		y := n.Outputs[0]
		d := s.Emit("Mul", []string{y, s.Emit("Sub", []string{s.ConstFloat(nil, 1), y})})
		s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), d}))
	case "Tanh":
		// tanh' = 1 - tanh²
		y := n.Outputs[0]
		d := s.Emit("Sub", []string{s.ConstFloat(nil, 1), s.Emit("Mul", []string{y, y})})
		s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), d}))
	case "Softplus":
		// d log(1+e^x)/dx = σ(x)
		s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), s.Emit("Sigmoid", []string{s.In(0)})}))
	case "Clip":
		return clipVJP(s)
	case "Exp", "Log", "Sqrt", "Abs", "Erf", "Reciprocal":
		return elementwiseVJP(s)
	case "Pow":
		return powVJP(s)
	case "Max", "Min":
		return maxMinVJP(s)
	case "Where":
		if s.InShape(1) == nil || s.InShape(2) == nil || s.OutShape(0) == nil {
			return unsupported(n, "cannot infer the shapes needed to undo broadcasting")
		}
		// The condition selects which branch each element's cotangent flows to.
		if s.Needs(1) {
			s.SetInGrad(1, s.unbroadcast(s.where(s.In(0), s.OutGrad(0), s.zero()), 1))
		}
		if s.Needs(2) {
			s.SetInGrad(2, s.unbroadcast(s.where(s.In(0), s.zero(), s.OutGrad(0)), 2))
		}
	case "Softmax":
		return softmaxVJP(s)
	case "LayerNormalization", "InstanceNormalization":
		return layerNormVJP(s)
	case "BatchNormalization":
		return batchNormVJP(s)
	case "Add", "Sub", "Mul", "Div", "Sum":
		return arithmeticVJP(s)
	case "Conv":
		return convVJP(s)
	case "ConvTranspose":
		return convTransposeVJP(s)
	case "Concat":
		return concatVJP(s)
	case "Split":
		return splitVJP(s)
	case "Slice":
		return sliceVJP(s)
	case "Pad":
		return padVJP(s)
	case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
		// A reshape's Jacobian is a permutation-free identity: put the cotangent back in x's shape.
		s.SetInGrad(0, s.Emit("Reshape", []string{s.OutGrad(0), s.Emit("Shape", []string{s.In(0)})}))
	case "Expand":
		s.SetInGrad(0, s.unbroadcast(s.OutGrad(0), 0))
	case "Transpose":
		perm := transposePerm(n, len(s.InShape(0)))
		inv := make([]int64, len(perm))
		for i, p := range perm {
			inv[p] = int64(i)
		}
		s.SetInGrad(0, s.Emit("Transpose", []string{s.OutGrad(0)}, IntsAttr("perm", inv)))
	case "Gemm":
		return gemmVJP(s)
	case "MatMul":
		return matMulVJP(s)
	case "MaxPool":
		return maxPoolVJP(s)
	case "AveragePool":
		return averagePoolVJP(s)
	case "GlobalAveragePool":
		x := s.InShape(0)
		if x == nil || dimProd(x[2:]) == Unknown {
			return unsupported(n, "needs static spatial sizes")
		}
		g := s.Emit("Mul", []string{s.OutGrad(0), s.ConstFloat(nil, 1/float32(dimProd(x[2:])))})
		s.SetInGrad(0, s.Emit("Expand", []string{g, s.Emit("Shape", []string{s.In(0)})}))
	case "ReduceMean", "ReduceSum":
		return reduceVJP(s)
	case "ReduceMax", "ReduceMin", "GlobalMaxPool":
		return reduceMaxVJP(s)
	case "Resize":
		return resizeVJP(s)
	case "Gather":
		return gatherVJP(s)
	case "DepthToSpace", "SpaceToDepth":
		return depthToSpaceVJP(s)
	default:
		return unsupported(n, "no backward rule for this op")
	}
	return nil
}

func (s *Step) zero() string { return s.ConstFloat(nil, 0) }

// positiveMask returns 1 where v > 0 and 0 elsewhere, as floats.
func (s *Step) positiveMask(v string) string {
	return s.Emit("Cast", []string{s.Emit("Greater", []string{v, s.zero()})}, IntAttr("to", int64(onnx.TensorProto_FLOAT)))
}

func (s *Step) where(cond, a, b string) string { return s.Emit("Where", []string{cond, a, b}) }

// needShape returns input i's shape or an error if its rank or any of the named dimensions
// (all but the batch dimension 0 when dims is nil) is unknown.
func (s *Step) needShape(i int, dims ...int) ([]int64, error) {
	sh := s.InShape(i)
	if sh == nil {
		return nil, unsupported(s.Node, "cannot infer the shape of input %d (%s)", i, s.Node.input(i))
	}
	if dims == nil {
		for k := 1; k < len(sh); k++ {
			dims = append(dims, k)
		}
	}
	for _, k := range dims {
		if k < len(sh) && sh[k] == Unknown {
			return nil, unsupported(s.Node, "dimension %d of input %s is not static", k, s.Node.input(i))
		}
	}
	return sh, nil
}

// reduceSum emits ReduceSum over axes (opset 13+: axes as an input).
func (s *Step) reduceSum(g string, axes []int64, keep bool) string {
	k := int64(0)
	if keep {
		k = 1
	}
	return s.Emit("ReduceSum", []string{g, s.ConstInt([]int64{int64(len(axes))}, axes...)}, IntAttr("keepdims", k))
}

// unbroadcast sums a cotangent of the broadcast result over the axes along which input i was
// broadcast (numpy rules: missing leading axes, and axes of size 1), then gives it input i's
// shape: the adjoint of broadcasting.
func (s *Step) unbroadcast(g string, i int) string {
	return s.unbroadcastFrom(g, i, s.OutShape(0))
}

func (s *Step) unbroadcastFrom(g string, i int, out []int64) string {
	t := s.InShape(i)
	if t == nil || out == nil {
		// Callers check shapes first; without them no axis can be known to be broadcast, and a
		// Reshape to the input's shape fails at run time if one was.
		return s.Emit("Reshape", []string{g, s.Emit("Shape", []string{s.In(i)})})
	}
	var axes []int64
	lead := len(out) - len(t)
	for k := range out {
		if k < lead || t[k-lead] == 1 && out[k] != 1 {
			axes = append(axes, int64(k))
		}
	}
	if len(axes) == 0 && lead == 0 {
		return g
	}
	if len(axes) > 0 {
		g = s.reduceSum(g, axes, true)
	}
	return s.Emit("Reshape", []string{g, s.Emit("Shape", []string{s.In(i)})})
}

// elementwiseVJP multiplies by f'(x): exp' = exp = y, log' = 1/x, sqrt' = 1/(2y),
// |x|' = sign x, erf' = 2/√π e^{-x²}, (1/x)' = -y².
func elementwiseVJP(s *Step) error {
	x, y, g := s.In(0), s.Node.Outputs[0], s.OutGrad(0)
	mul := func(a, b string) string { return s.Emit("Mul", []string{a, b}) }
	var d string
	switch s.Node.Op {
	case "Exp":
		d = mul(g, y)
	case "Log":
		d = s.Emit("Div", []string{g, x})
	case "Sqrt":
		d = s.Emit("Div", []string{g, mul(y, s.ConstFloat(nil, 2))})
	case "Abs":
		d = mul(g, s.Emit("Sign", []string{x}))
	case "Erf":
		e := s.Emit("Exp", []string{s.Emit("Neg", []string{mul(x, x)})})
		d = mul(g, mul(e, s.ConstFloat(nil, float32(2/math.Sqrt(math.Pi)))))
	case "Reciprocal":
		d = s.Emit("Neg", []string{mul(g, mul(y, y))})
	}
	s.SetInGrad(0, d)
	return nil
}

// powVJP: y = a^b, ∂y/∂a = b a^(b-1), ∂y/∂b = y ln a (both unbroadcast).
func powVJP(s *Step) error {
	if s.InShape(0) == nil || s.InShape(1) == nil || s.OutShape(0) == nil {
		return unsupported(s.Node, "cannot infer the shapes needed to undo broadcasting")
	}
	a, b, y, g := s.In(0), s.In(1), s.Node.Outputs[0], s.OutGrad(0)
	if s.Needs(0) {
		bf := s.Emit("Cast", []string{b}, IntAttr("to", int64(onnx.TensorProto_FLOAT))) // integer exponents
		bm1 := s.Emit("Sub", []string{bf, s.ConstFloat(nil, 1)})
		d := s.Emit("Mul", []string{g, s.Emit("Mul", []string{bf, s.Emit("Pow", []string{a, bm1})})})
		s.SetInGrad(0, s.unbroadcast(d, 0))
	}
	if s.Needs(1) {
		d := s.Emit("Mul", []string{g, s.Emit("Mul", []string{y, s.Emit("Log", []string{a})})})
		s.SetInGrad(1, s.unbroadcast(d, 1))
	}
	return nil
}

// maxMinVJP routes the cotangent to the input that won (to the first one on ties, like an
// argmax), unbroadcast to each input's shape. Variadic Max/Min with more than two inputs is
// not supported.
func maxMinVJP(s *Step) error {
	n := s.Node
	if len(n.Inputs) != 2 {
		return unsupported(n, "%d inputs (two are supported)", len(n.Inputs))
	}
	if s.InShape(0) == nil || s.InShape(1) == nil || s.OutShape(0) == nil {
		return unsupported(n, "cannot infer the shapes needed to undo broadcasting")
	}
	first := s.Emit("Equal", []string{s.In(0), n.Outputs[0]})
	g := s.OutGrad(0)
	if s.Needs(0) {
		s.SetInGrad(0, s.unbroadcast(s.where(first, g, s.zero()), 0))
	}
	if s.Needs(1) {
		s.SetInGrad(1, s.unbroadcast(s.where(first, s.zero(), g), 1))
	}
	return nil
}

// softmaxVJP: for y = softmax(x) along an axis (opset 13: one axis), dx = y ⊙ (dy - Σ_axis dy ⊙ y).
func softmaxVJP(s *Step) error {
	x := s.InShape(0)
	if x == nil {
		return unsupported(s.Node, "cannot infer the input's rank")
	}
	if s.Opset() < 13 {
		return unsupported(s.Node, "opset %d Softmax (flattening semantics)", s.Opset())
	}
	a := normAxis(s.Node.AttrInt("axis", -1), len(x))
	y, g := s.Node.Outputs[0], s.OutGrad(0)
	dot := s.reduceSum(s.Emit("Mul", []string{g, y}), []int64{int64(a)}, true)
	s.SetInGrad(0, s.Emit("Mul", []string{y, s.Emit("Sub", []string{g, dot})}))
	return nil
}

// layerNormVJP: with x̂ = (x - μ)/σ over the normalised axes, y = γ x̂ + β, and ĝ = γ dy,
// dx = (ĝ - mean ĝ - x̂ mean(ĝ x̂)) / σ.
func layerNormVJP(s *Step) error {
	st, err := normStats(s)
	if err != nil {
		return err
	}
	xh := s.Emit("Div", []string{st.xc, st.sigma})
	gh := s.Emit("Mul", []string{s.OutGrad(0), st.scale})
	d := s.Emit("Sub", []string{s.Emit("Sub", []string{gh, st.mean(gh)}), s.Emit("Mul", []string{xh, st.mean(s.Emit("Mul", []string{gh, xh}))})})
	s.SetInGrad(0, s.Emit("Div", []string{d, st.sigma}))
	return nil
}

// normalization holds what the backward steps of a LayerNormalization or InstanceNormalization
// node recompute from its input: the scale γ shaped to broadcast against x, the mean over the
// normalised axes, x - μ, the variance plus epsilon and its square root σ.
type normalization struct {
	scale               string
	mean                func(v string) string
	xc, variance, sigma string
}

func normStats(s *Step) (normalization, error) {
	n := s.Node
	if s.Needs(1) || s.Needs(2) {
		return normalization{}, unsupported(n, "scale or bias that depend on the input")
	}
	x := s.InShape(0)
	if x == nil {
		return normalization{}, unsupported(n, "cannot infer the input's shape")
	}
	a := normAxis(n.AttrInt("axis", -1), len(x))
	scale := s.In(1)
	if n.Op == "InstanceNormalization" {
		// Normalised per sample and channel over the spatial axes; scale [C] broadcast as [C,1,...].
		if len(x) < 3 {
			return normalization{}, unsupported(n, "input of rank %d", len(x))
		}
		a = 2
		ones := make([]int64, len(x)-2)
		for i := range ones {
			ones[i] = 1
		}
		scale = s.Emit("Reshape", []string{scale, s.ConstInt([]int64{int64(len(x) - 1)}, append([]int64{-1}, ones...)...)})
	}
	var axes []int64
	count := int64(1)
	for k := a; k < len(x); k++ {
		if x[k] == Unknown {
			return normalization{}, unsupported(n, "normalising over a dynamic axis")
		}
		axes = append(axes, int64(k))
		count *= x[k]
	}
	inv := s.ConstFloat(nil, 1/float32(count))
	st := normalization{scale: scale}
	st.mean = func(v string) string { return s.Emit("Mul", []string{s.reduceSum(v, axes, true), inv}) }
	st.xc = s.Emit("Sub", []string{s.In(0), st.mean(s.In(0))})
	st.variance = s.Emit("Add", []string{st.mean(s.Emit("Mul", []string{st.xc, st.xc})), s.ConstFloat(nil, n.AttrFloat("epsilon", 1e-5))})
	st.sigma = s.Emit("Sqrt", []string{st.variance})
	return st, nil
}

func clipVJP(s *Step) error {
	n := s.Node
	x := s.In(0)
	var lo, hi string
	if s.Opset() >= 11 {
		lo, hi = s.In(1), s.In(2)
		if s.Needs(1) || s.Needs(2) {
			return unsupported(n, "bounds that depend on the input")
		}
	} else {
		if a := n.Attr("min"); a != nil {
			lo = s.ConstFloat(nil, a.F)
		}
		if a := n.Attr("max"); a != nil {
			hi = s.ConstFloat(nil, a.F)
		}
	}
	// torch.clamp's convention: the gradient passes where min <= x <= max.
	var mask string
	if lo != "" {
		mask = s.Emit("GreaterOrEqual", []string{x, lo})
	}
	if hi != "" {
		m := s.Emit("LessOrEqual", []string{x, hi})
		if mask == "" {
			mask = m
		} else {
			mask = s.Emit("And", []string{mask, m})
		}
	}
	if mask == "" {
		s.SetInGrad(0, s.OutGrad(0))
		return nil
	}
	s.SetInGrad(0, s.where(mask, s.OutGrad(0), s.zero()))
	return nil
}

// batchNormVJP: in inference mode y = (x - mean) / sqrt(var + eps) * scale + B is an affine map
// per channel, so dx = dy * scale / sqrt(var + eps) (broadcast over channel axis 1).
func batchNormVJP(s *Step) error {
	n := s.Node
	if n.AttrInt("training_mode", 0) != 0 || len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return unsupported(n, "training mode (export the model in eval mode)")
	}
	for i := 1; i < 5; i++ {
		if s.Needs(i) {
			return unsupported(n, "parameters that depend on the input")
		}
	}
	x, err := s.needShape(0, 1)
	if err != nil {
		return err
	}
	eps := n.AttrFloat("epsilon", 1e-5)
	shape := []int64{x[1]}
	for range x[2:] {
		shape = append(shape, 1)
	}
	var k string
	if scale, ok := batchNormScale(s, eps); ok && int64(len(scale)) == x[1] {
		// A constant per-channel factor, which foldChannelScales can move into the convolution
		// that computes the cotangent.
		k = s.ConstFloat(shape, scale...)
	} else {
		k = s.Emit("Div", []string{s.In(1), s.Emit("Sqrt", []string{s.Emit("Add", []string{s.In(4), s.ConstFloat(nil, eps)})})})
		k = s.Emit("Reshape", []string{k, s.ConstInt([]int64{int64(len(shape))}, shape...)})
	}
	s.SetInGrad(0, s.Emit("Mul", []string{s.OutGrad(0), k}))
	return nil
}

// batchNormScale is γ / sqrt(var + ε) per channel when the scale and variance are constants,
// computed in float32 as ONNX Runtime computes it.
func batchNormScale(s *Step, eps float32) ([]float32, bool) {
	gv, vv := s.InValue(1), s.InValue(4)
	if gv == nil || vv == nil || gv.Const == nil || vv.Const == nil {
		return nil, false
	}
	gamma, err1 := onnx.Float32s(gv.Const)
	variance, err2 := onnx.Float32s(vv.Const)
	if err1 != nil || err2 != nil || len(gamma) != len(variance) || len(gamma) == 0 {
		return nil, false
	}
	k := make([]float32, len(gamma))
	for c := range k {
		k[c] = gamma[c] / float32(math.Sqrt(float64(variance[c]+eps)))
	}
	return k, true
}

// arithmeticVJP: for y = a ∘ b with broadcasting, da = unbroadcast(dy ∂y/∂a), db likewise;
// ∂(a+b) = (1, 1), ∂(a-b) = (1, -1), ∂(ab) = (b, a), ∂(a/b) = (1/b, -a/b²) = (1/b, -y/b).
func arithmeticVJP(s *Step) error {
	n := s.Node
	g := s.OutGrad(0)
	for i := range n.Inputs {
		if !s.Needs(i) {
			continue
		}
		var d string
		switch {
		case n.Op == "Add" || n.Op == "Sum":
			d = g
		case n.Op == "Sub" && i == 0:
			d = g
		case n.Op == "Sub":
			d = s.Emit("Neg", []string{g})
		case n.Op == "Mul":
			d = s.Emit("Mul", []string{g, s.In(1 - i)})
		case n.Op == "Div" && i == 0:
			d = s.Emit("Div", []string{g, s.In(1)})
		default:
			d = s.Emit("Neg", []string{s.Emit("Div", []string{s.Emit("Mul", []string{g, n.Outputs[0]}), s.In(1)})})
		}
		if s.InShape(i) == nil || s.OutShape(0) == nil {
			return unsupported(n, "cannot infer the shapes needed to undo broadcasting")
		}
		s.SetInGrad(i, s.unbroadcast(d, i))
	}
	return nil
}

// convTransposeAttrs returns the ConvTranspose attributes that make it the adjoint of a
// convolution with geometry geo from input size in to output size out: the same kernel, strides,
// dilations, group and pads, and output_padding = in + pads - ((k-1)d+1) - s(out-1), the input
// rows the strided convolution never reached (when a ceil_mode pooling window overhangs the end
// padding that number is negative; the end pad grows instead).
func convTransposeAttrs(geo windowGeometry, in, out []int64) []*onnx.AttributeProto {
	r := len(in)
	pads := append(append([]int64{}, geo.padBegin...), geo.padEnd...)
	op := make([]int64, r)
	for i := range in {
		op[i] = in[i] + geo.padBegin[i] + geo.padEnd[i] - ((geo.kernel[i]-1)*geo.dilations[i] + 1) - geo.strides[i]*(out[i]-1)
		if op[i] < 0 {
			pads[r+i] -= op[i]
			op[i] = 0
		}
	}
	return []*onnx.AttributeProto{
		IntsAttr("kernel_shape", geo.kernel), IntsAttr("strides", geo.strides),
		IntsAttr("dilations", geo.dilations), IntsAttr("pads", pads),
		IntsAttr("output_padding", op), IntAttr("group", geo.group),
	}
}

// convVJP: the adjoint of a convolution with respect to its input is the transposed
// convolution with the same weights (Dumoulin & Visin 2016, "A guide to convolution arithmetic",
// sec. 4): dx = ConvTranspose(dy, W) with matching strides, pads, dilations and groups, and
// output_padding restoring the input size.
func convVJP(s *Step) error {
	if s.Needs(1) || s.Needs(2) {
		return unsupported(s.Node, "weights or bias that depend on the input")
	}
	x, err := s.needShape(0, 2, 3, 4, 5)
	if err != nil {
		return err
	}
	w, err := s.needShape(1)
	if err != nil {
		return err
	}
	geo, err := convGeometry(s.Node, x, w[2:])
	if err != nil {
		return err
	}
	y := geo.outSpatial(x[2:])
	if g, ok := s.unitStrideConvAdjoint(geo, w, x[2:], y); ok {
		s.SetInGrad(0, g)
		return nil
	}
	if g, ok := s.stridedConvAdjoint(geo, w, x[2:], y); ok {
		s.SetInGrad(0, g)
		return nil
	}
	s.SetInGrad(0, s.Emit("ConvTranspose", []string{s.OutGrad(0), s.In(1)}, convTransposeAttrs(geo, x[2:], y)...))
	return nil
}

// unitStrideConvAdjoint writes the adjoint of a unit-stride convolution with constant weights as
// a convolution, which ONNX Runtime runs several times faster than ConvTranspose: substituting
// k' = K-1-k in dx[c,i] = Σ_{m,k} W[m,c,k] dy[m, i + p_b - k d] gives
// dx = Conv(dy, W') with W'[c,m,k'] = W[m,c,K-1-k'] (per group), pads (K-1)d - p_b before and
// (K-1)d - p_e after, the same dilations. ok is false when it does not apply (strides > 1, weights
// computed at run time, or pads wider than the kernel's span).
func (s *Step) unitStrideConvAdjoint(geo windowGeometry, w, in, out []int64) (string, bool) {
	wv := s.Graph.Values[s.In(1)]
	if wv == nil || wv.Const == nil {
		return "", false
	}
	r := len(in)
	pads := make([]int64, 2*r)
	for i := range in {
		span := (geo.kernel[i] - 1) * geo.dilations[i]
		pads[i], pads[r+i] = span-geo.padBegin[i], span-geo.padEnd[i]
		if geo.strides[i] != 1 || pads[i] < 0 || pads[r+i] < 0 || out[i] != in[i]+geo.padBegin[i]+geo.padEnd[i]-span {
			return "", false
		}
	}
	src, err := onnx.Float32s(wv.Const)
	if err != nil {
		return "", false
	}
	m, cg, grp := w[0], w[1], geo.group
	mg := m / grp
	k := dimProd(w[2:])
	dst := make([]float32, len(src))
	for gi := int64(0); gi < grp; gi++ {
		for mm := int64(0); mm < mg; mm++ {
			for c := int64(0); c < cg; c++ {
				from := ((gi*mg+mm)*cg + c) * k
				to := ((gi*cg+c)*mg + mm) * k
				for j := int64(0); j < k; j++ {
					// Reversing the flat index over the spatial axes flips every axis.
					dst[to+k-1-j] = src[from+j]
				}
			}
		}
	}
	wt := s.ConstFloat(append([]int64{cg * grp, mg}, w[2:]...), dst...)
	return s.Emit("Conv", []string{s.OutGrad(0), wt},
		IntsAttr("kernel_shape", geo.kernel), IntsAttr("dilations", geo.dilations),
		IntsAttr("pads", pads), IntAttr("group", grp)), true
}

// convTransposeVJP: the adjoint of a transposed convolution is the convolution with the same
// weights, strides, pads, dilations and groups.
func convTransposeVJP(s *Step) error {
	if s.Needs(1) || s.Needs(2) {
		return unsupported(s.Node, "weights or bias that depend on the input")
	}
	x, err := s.needShape(0)
	if err != nil {
		return err
	}
	w, err := s.needShape(1)
	if err != nil {
		return err
	}
	geo, err := convTransposeGeometry(s.Node, x, w[2:])
	if err != nil {
		return err
	}
	pads := append(append([]int64{}, geo.padBegin...), geo.padEnd...)
	s.SetInGrad(0, s.Emit("Conv", []string{s.OutGrad(0), s.In(1)},
		IntsAttr("kernel_shape", geo.kernel), IntsAttr("strides", geo.strides),
		IntsAttr("dilations", geo.dilations), IntsAttr("pads", pads), IntAttr("group", geo.group)))
	return nil
}

// concatVJP: each input's cotangent is its slab of the output's cotangent.
func concatVJP(s *Step) error {
	n := s.Node
	var off int64
	for i := range n.Inputs {
		sh := s.InShape(i)
		if sh == nil {
			return unsupported(n, "cannot infer the shape of input %s", n.Inputs[i])
		}
		a := normAxis(n.AttrInt("axis", 0), len(sh))
		d := sh[a]
		if d == Unknown {
			return unsupported(n, "concatenation along a dynamic axis")
		}
		if s.Needs(i) {
			s.SetInGrad(i, s.Emit("Slice", []string{s.OutGrad(0), s.ConstInt([]int64{1}, off),
				s.ConstInt([]int64{1}, off+d), s.ConstInt([]int64{1}, int64(a))}))
		}
		off += d
	}
	return nil
}

// splitVJP: the input's cotangent is the concatenation of the parts' cotangents (zeros for parts
// that do not reach the output).
func splitVJP(s *Step) error {
	x := s.InShape(0)
	if x == nil {
		return unsupported(s.Node, "cannot infer the input's shape")
	}
	var parts []string
	for i := range s.Node.Outputs {
		parts = append(parts, s.OutGradOrZero(i))
	}
	a := normAxis(s.Node.AttrInt("axis", 0), len(x))
	s.SetInGrad(0, s.Emit("Concat", parts, IntAttr("axis", int64(a))))
	return nil
}

// sliceVJP: a unit-step slice's adjoint pads the cotangent back with zeros; a strided or
// reversed one on the last two axes scatters it back through the transposed selection matrix.
func sliceVJP(s *Step) error {
	// The rank; only the sliced axes need static sizes (nn.MultiheadAttention slices q, k and v
	// out of a sequence-first [T, N, 3E] tensor, whose batch is axis 1), which sliceSpec checks.
	x := s.InShape(0)
	if x == nil {
		return unsupported(s.Node, "cannot infer the shape of input 0 (%s)", s.In(0))
	}
	sl, ok := s.Graph.sliceSpec(s.Node, x)
	if !ok {
		return unsupported(s.Node, "starts, ends, axes or steps known only at run time, or a slice of a dynamic axis")
	}
	r := len(x)
	pads := make([]int64, 2*r)
	padded := false
	var mats [2][]float32
	y := s.OutShape(0)
	for _, a := range sl {
		n := a.len()
		if a.step == 1 {
			pads[a.axis] = a.start
			pads[r+a.axis] = a.dim - a.start - n
			padded = padded || pads[a.axis] != 0 || pads[r+a.axis] != 0
			continue
		}
		// A strided (or reversed) slice picks element start + o·step: a 0/1 selection matrix.
		if a.axis < r-2 {
			return unsupported(s.Node, "step %d on axis %d (non-unit steps only on the last two axes)", a.step, a.axis)
		}
		if n*a.dim > maxConstElements {
			return unsupported(s.Node, "a strided slice of a %d-long axis is too large", a.dim)
		}
		m := make([]float32, n*a.dim)
		for o := int64(0); o < n; o++ {
			m[o*a.dim+a.start+o*a.step] = 1
		}
		mats[a.axis-(r-2)] = m
	}
	g := s.OutGrad(0)
	if padded {
		g = s.Emit("Pad", []string{g, s.ConstInt([]int64{int64(2 * r)}, pads...)})
	}
	s.SetInGrad(0, s.separableAdjoint(g, x, y, mats))
	return nil
}

// padVJP: a constant pad's adjoint crops the cotangent (and pads it where the forward pad was
// negative, i.e. cropped).
func padVJP(s *Step) error {
	n := s.Node
	if m := n.AttrString("mode", "constant"); m != "constant" {
		return indexPadVJP(s, m)
	}
	if s.Needs(2) {
		return unsupported(n, "a pad value that depends on the input")
	}
	x, err := s.needShape(0)
	if err != nil {
		return err
	}
	r := len(x)
	pads, ok := s.Graph.padAmounts(n, r)
	if !ok {
		return unsupported(n, "pads known only at run time")
	}
	y := s.OutShape(0)
	g := s.OutGrad(0)
	starts, ends, axes := make([]int64, r), make([]int64, r), make([]int64, r)
	back := make([]int64, 2*r)
	crop, grow := false, false
	for i := 0; i < r; i++ {
		axes[i] = int64(i)
		starts[i] = max(pads[i], 0)
		ends[i] = y[i] - max(pads[r+i], 0)
		if y[i] == Unknown {
			ends[i] = 1 << 62
			if pads[r+i] > 0 {
				return unsupported(n, "padding a dynamic axis")
			}
		}
		crop = crop || pads[i] > 0 || pads[r+i] > 0
		back[i], back[r+i] = max(-pads[i], 0), max(-pads[r+i], 0)
		grow = grow || back[i] > 0 || back[r+i] > 0
	}
	if crop {
		dims := []int64{int64(r)}
		g = s.Emit("Slice", []string{g, s.ConstInt(dims, starts...), s.ConstInt(dims, ends...), s.ConstInt(dims, axes...)})
	}
	if grow {
		g = s.Emit("Pad", []string{g, s.ConstInt([]int64{int64(2 * r)}, back...)})
	}
	s.SetInGrad(0, g)
	return nil
}

// indexPadVJP handles Pad's edge, reflect and wrap modes: on each axis the output copies input
// element map(o - p_b) (clamped, mirrored without repeating the border, or cyclic, as ONNX's Pad
// defines them), a 0/1 matrix, so the adjoint is the transposed separable map on the last two
// axes, which are the only ones such pads may touch.
func indexPadVJP(s *Step, mode string) error {
	n := s.Node
	if mode != "edge" && mode != "reflect" && mode != "wrap" {
		return unsupported(n, "mode %q", mode)
	}
	x, err := s.needShape(0)
	if err != nil {
		return err
	}
	r := len(x)
	pads, ok := s.Graph.padAmounts(n, r)
	if !ok {
		return unsupported(n, "pads known only at run time")
	}
	y := s.OutShape(0)
	var mats [2][]float32
	for a := 0; a < r; a++ {
		if pads[a] == 0 && pads[r+a] == 0 {
			continue
		}
		if a < r-2 {
			return unsupported(n, "%s padding of axis %d (only the last two axes)", mode, a)
		}
		h, out := x[a], y[a]
		if out*h > maxConstElements {
			return unsupported(n, "%s padding of a %d-long axis is too large", mode, h)
		}
		m := make([]float32, out*h)
		for o := int64(0); o < out; o++ {
			j := o - pads[a]
			switch mode {
			case "edge":
				j = max(0, min(j, h-1))
			case "wrap":
				j = ((j % h) + h) % h
			case "reflect":
				// Mirroring without the border repeats with period 2(h-1); in closed form, so
				// that a pad far longer than the axis costs no more than a short one.
				if h == 1 {
					j = 0
					break
				}
				period := 2 * (h - 1)
				if j = ((j % period) + period) % period; j >= h {
					j = period - j
				}
			}
			m[o*h+j] = 1
		}
		mats[a-(r-2)] = m
	}
	s.SetInGrad(0, s.separableAdjoint(s.OutGrad(0), x, y, mats))
	return nil
}

// gemmVJP: Y = α A' B' + β C with A' = op(A), B' = op(B): dA' = α dY B'^T, dB' = α A'^T dY,
// dC = unbroadcast(β dY); transposed operands take the transposed products.
func gemmVJP(s *Step) error {
	n := s.Node
	alpha, beta := n.AttrFloat("alpha", 1), n.AttrFloat("beta", 1)
	ta, tb := n.AttrInt("transA", 0), n.AttrInt("transB", 0)
	g := s.OutGrad(0)
	a, b := s.In(0), s.In(1)
	gemm := func(x, y string, tx, ty int64) string {
		return s.Emit("Gemm", []string{x, y}, FloatAttr("alpha", alpha), IntAttr("transA", tx), IntAttr("transB", ty))
	}
	if s.Needs(0) {
		if ta == 0 {
			s.SetInGrad(0, gemm(g, b, 0, 1-tb))
		} else {
			s.SetInGrad(0, gemm(b, g, tb, 1))
		}
	}
	if s.Needs(1) {
		if tb == 0 {
			s.SetInGrad(1, gemm(a, g, 1-ta, 0))
		} else {
			s.SetInGrad(1, gemm(g, a, 1, ta))
		}
	}
	if s.Needs(2) {
		s.SetInGrad(2, s.unbroadcast(s.Emit("Mul", []string{g, s.ConstFloat(nil, beta)}), 2))
	}
	return nil
}

// matMulVJP: Y = A B (batched, broadcasting): dA = dY B^T, dB = A^T dY, each summed over the
// batch axes its operand was broadcast along.
func matMulVJP(s *Step) error {
	n := s.Node
	a, b := s.InShape(0), s.InShape(1)
	if len(a) < 2 || len(b) < 2 {
		return unsupported(n, "operands of rank < 2 (or unknown shapes)")
	}
	g := s.OutGrad(0)
	tr := func(name string, rank int) string {
		perm := make([]int64, rank)
		for i := range perm {
			perm[i] = int64(i)
		}
		perm[rank-1], perm[rank-2] = perm[rank-2], perm[rank-1]
		return s.Emit("Transpose", []string{name}, IntsAttr("perm", perm))
	}
	y := s.OutShape(0)
	if s.Needs(0) {
		d := s.Emit("MatMul", []string{g, tr(s.In(1), len(b))})
		full := append(append([]int64{}, y[:len(y)-2]...), a[len(a)-2:]...)
		s.SetInGrad(0, s.unbroadcastFrom(d, 0, full))
	}
	if s.Needs(1) {
		d := s.Emit("MatMul", []string{tr(s.In(0), len(a)), g})
		full := append(append([]int64{}, y[:len(y)-2]...), b[len(b)-2:]...)
		s.SetInGrad(1, s.unbroadcastFrom(d, 1, full))
	}
	return nil
}

// maxPoolVJP routes each output's cotangent to the input element that won its window (the
// argmax, as PyTorch's max_pool backward does): a MaxPool with an Indices output (flat row-major
// indices over the whole tensor) and a scatter-add into zeros. Overlapping windows need the add
// (ScatterElements reduction="add", opset 16); without overlap a plain scatter is exact.
func maxPoolVJP(s *Step) error {
	g, err := maxPoolScatter(s, s.In(0), s.OutGrad(0))
	if err != nil {
		return err
	}
	s.SetInGrad(0, g)
	return nil
}

// maxPoolScatter emits the node's MaxPool (with indices) over input, a value shaped like the
// node's input, and returns a tensor shaped like the input in which every window's winner
// receives the window's element of v (shaped like the output); windows that overlap add. With
// v = the output's cotangent this is MaxPool's VJP; DeepLIFT's rule also scatters onto the
// reference's winners.
func maxPoolScatter(s *Step, input, v string) (string, error) {
	n := s.Node
	x, err := s.needShape(0)
	if err != nil {
		return "", err
	}
	geo, err := poolGeometry(n, x)
	if err != nil {
		return "", err
	}
	overlap := false
	for i := range geo.kernel {
		overlap = overlap || (geo.kernel[i]-1)*geo.dilations[i]+1 > geo.strides[i]
	}
	if overlap && s.Opset() < 16 {
		return "", unsupported(n, "overlapping windows need ScatterElements with reduction (opset 16); the model has opset %d", s.Opset())
	}
	var attrs []*onnx.AttributeProto
	for _, a := range n.Proto.Attribute {
		if a.Name != "storage_order" {
			attrs = append(attrs, a)
		}
	}
	idx := s.EmitN("MaxPool", []string{input}, 2, attrs...)[1]
	flat := s.ConstInt([]int64{1}, -1)
	gi := s.Emit("Reshape", []string{v, flat})
	ii := s.Emit("Reshape", []string{idx, flat})
	size := s.Emit("Reshape", []string{s.Emit("Size", []string{input}), flat})
	zeros := s.Emit("ConstantOfShape", []string{size},
		&onnx.AttributeProto{Name: "value", Type: onnx.AttributeProto_TENSOR, T: onnx.FloatTensor("", []int64{1}, []float32{0})})
	sattrs := []*onnx.AttributeProto{IntAttr("axis", 0)}
	if overlap {
		sattrs = append(sattrs, StringAttr("reduction", "add"))
	}
	d := s.Emit("ScatterElements", []string{zeros, ii, gi}, sattrs...)
	return s.Emit("Reshape", []string{d, s.Emit("Shape", []string{input})}), nil
}

// averagePoolVJP: each output is the window's sum over its divisor, so the adjoint divides the
// cotangent by the divisor (computed here per output position, literally from the window and
// count_include_pad) and spreads it over the window: a depthwise ConvTranspose with a kernel of
// ones.
func averagePoolVJP(s *Step) error {
	n := s.Node
	x, err := s.needShape(0, 1, 2, 3, 4, 5)
	if err != nil {
		return err
	}
	geo, err := poolGeometry(n, x)
	if err != nil {
		return err
	}
	in := x[2:]
	out := geo.outSpatial(in)
	incl := n.AttrInt("count_include_pad", 0) != 0
	// Per-axis window counts; the divisor is their product.
	counts := make([][]int64, len(in))
	for a := range in {
		for o := int64(0); o < out[a]; o++ {
			c := int64(0)
			for k := int64(0); k < geo.kernel[a]; k++ {
				p := o*geo.strides[a] - geo.padBegin[a] + k*geo.dilations[a]
				if p >= 0 && p < in[a] || incl && p >= -geo.padBegin[a] && p < in[a]+geo.padEnd[a] {
					c++
				}
			}
			counts[a] = append(counts[a], c)
		}
	}
	total := dimProd(out)
	if total > maxConstElements || x[1]*dimProd(geo.kernel) > maxConstElements {
		return unsupported(n, "pooling of %v by %v is too large", x, geo.kernel)
	}
	div := make([]float32, total)
	for flat := int64(0); flat < total; flat++ {
		rem, d := flat, int64(1)
		for a := len(in) - 1; a >= 0; a-- {
			d *= counts[a][rem%out[a]]
			rem /= out[a]
		}
		div[flat] = 1 / float32(d)
	}
	g := s.Emit("Mul", []string{s.OutGrad(0), s.ConstFloat(out, div...)})
	c := x[1]
	kdims := append([]int64{c, 1}, geo.kernel...)
	kn := c * dimProd(geo.kernel)
	w := make([]float32, kn)
	for i := range w {
		w[i] = 1
	}
	geo.group = c
	s.SetInGrad(0, s.Emit("ConvTranspose", []string{g, s.ConstFloat(kdims, w...)}, convTransposeAttrs(geo, in, out)...))
	return nil
}

// reduceVJP: ReduceSum's adjoint broadcasts the cotangent back over the reduced axes;
// ReduceMean's also divides by the number of reduced elements.
func reduceVJP(s *Step) error {
	n := s.Node
	x := s.InShape(0)
	axes, ok := s.Graph.reduceAxes(n)
	if x == nil || !ok {
		return unsupported(n, "axes or input rank known only at run time")
	}
	g := s.OutGrad(0)
	var list []int64
	count := int64(1)
	for a := range x {
		if axes[a] {
			list = append(list, int64(a))
			count = count * x[a]
			if x[a] == Unknown {
				count = Unknown
			}
		}
	}
	if len(list) == 0 {
		s.SetInGrad(0, g)
		return nil
	}
	if n.AttrInt("keepdims", 1) == 0 {
		g = s.Emit("Unsqueeze", []string{g, s.ConstInt([]int64{int64(len(list))}, list...)})
	}
	if n.Op == "ReduceMean" {
		if count == Unknown || count <= 0 {
			return unsupported(n, "mean over a dynamic axis")
		}
		g = s.Emit("Mul", []string{g, s.ConstFloat(nil, 1/float32(count))})
	}
	s.SetInGrad(0, s.Emit("Expand", []string{g, s.Emit("Shape", []string{s.In(0)})}))
	return nil
}

// reduceMaxVJP routes the cotangent of a maximum (ReduceMax, GlobalMaxPool) or minimum
// (ReduceMin) to the elements that attain it, split evenly among ties (as torch.amax does).
func reduceMaxVJP(s *Step) error {
	n := s.Node
	x := s.InShape(0)
	if x == nil {
		return unsupported(n, "cannot infer the input's shape")
	}
	axes := map[int]bool{}
	keep := true
	if n.Op == "GlobalMaxPool" {
		for a := 2; a < len(x); a++ {
			axes[a] = true
		}
	} else {
		var ok bool
		if axes, ok = s.Graph.reduceAxes(n); !ok {
			return unsupported(n, "axes known only at run time")
		}
		keep = n.AttrInt("keepdims", 1) != 0
	}
	var list []int64
	for a := range x {
		if axes[a] {
			list = append(list, int64(a))
		}
	}
	y, g := n.Outputs[0], s.OutGrad(0)
	if !keep && len(list) > 0 {
		u := s.ConstInt([]int64{int64(len(list))}, list...)
		y, g = s.Emit("Unsqueeze", []string{y, u}), s.Emit("Unsqueeze", []string{g, u})
	}
	hit := s.Emit("Cast", []string{s.Emit("Equal", []string{s.In(0), y})}, IntAttr("to", int64(onnx.TensorProto_FLOAT)))
	ties := hit
	if len(list) > 0 {
		ties = s.reduceSum(hit, list, true)
	}
	s.SetInGrad(0, s.Emit("Mul", []string{hit, s.Emit("Div", []string{g, ties})}))
	return nil
}

// separableAdjoint applies to a cotangent g of y = M_H x M_W^T (matrices over the last two axes,
// mats[0] = M_H [outH, inH], mats[1] = M_W [outW, inW], nil for the identity) the transposed map
// dx = M_H^T g M_W, as two MatMuls with constant matrices (broadcast over the leading axes).
func (s *Step) separableAdjoint(g string, in, out []int64, mats [2][]float32) string {
	r := len(in)
	if m := mats[1]; m != nil {
		g = s.Emit("MatMul", []string{g, s.ConstFloat([]int64{out[r-1], in[r-1]}, m...)})
	}
	if m := mats[0]; m != nil {
		g = s.Emit("MatMul", []string{s.ConstFloat([]int64{in[r-2], out[r-2]}, transposeMatrix(m, out[r-2], in[r-2])...), g})
	}
	return g
}

// resizeVJP: Resize (nearest or linear) is separable and linear, y = M_H x M_W^T on the last two
// axes, so dx = M_H^T dy M_W, two MatMuls with constant interpolation matrices built by
// evaluating ONNX's definition (interpolationMatrix).
func resizeVJP(s *Step) error {
	n := s.Node
	x, err := s.needShape(0)
	if err != nil {
		return err
	}
	spec, err := s.Graph.resizeSizes(n, x)
	if err != nil {
		return err
	}
	if spec == nil {
		return unsupported(n, "output size known only at run time")
	}
	r := len(x)
	g := s.OutGrad(0)
	for a := 0; a < r; a++ {
		if a < r-2 && (spec.out[a] != spec.in[a] || spec.scales[a] != 1) {
			return unsupported(n, "resizing axis %d (only the last two axes may be resized)", a)
		}
	}
	var mats [2][]float32
	for k, a := range []int{r - 2, r - 1} {
		if a < 0 || spec.out[a] == spec.in[a] && spec.scales[a] == 1 {
			continue
		}
		if mats[k], err = interpolationMatrix(n, spec.in[a], spec.out[a], spec.scales[a]); err != nil {
			return err
		}
	}
	g = s.separableAdjoint(g, x, spec.out, mats)
	s.SetInGrad(0, g)
	return nil
}
