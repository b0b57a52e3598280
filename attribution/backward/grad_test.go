package backward

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"climxai/onnx"
)

// Finite-difference tolerances. Everything runs in float32 in ONNX Runtime; the central
// difference (L(x+h e_i) - L(x-h e_i)) / 2h of L = <seed, y> has truncation error O(h² L”') and
// round-off ~ 1e-7 |L| / h. With h = 1e-2 on inputs of O(1), tiny graphs (|L| < 30) and inputs
// kept away from kinks (ReLU at 0, ties in MaxPool, clip bounds) the difference is below
// fdAtol + fdRtol |fd| for every element.
const (
	fdStep = 1e-2
	fdAtol = 2e-3
	fdRtol = 2e-3
)

// testGraph assembles tiny ONNX models for the op tests.
type testGraph struct {
	nodes []*onnx.NodeProto
	inits []*onnx.TensorProto
	rng   *rand.Rand
	n     int
}

func newTestGraph() *testGraph { return &testGraph{rng: rand.New(rand.NewPCG(1, 2))} }

// op adds a node and returns its (first) output's name; the last node's output must be "y".
func (g *testGraph) op(op string, in []string, out string, attrs ...*onnx.AttributeProto) string {
	if out == "" {
		g.n++
		out = fmt.Sprintf("v%d", g.n)
	}
	g.nodes = append(g.nodes, &onnx.NodeProto{OpType: op, Name: "node_" + out, Input: in, Output: []string{out}, Attribute: attrs})
	return out
}

// w adds a random float initializer.
func (g *testGraph) w(dims []int64, lo, hi float64) string {
	v := g.uniform(dims, lo, hi)
	g.n++
	name := fmt.Sprintf("w%d", g.n)
	g.inits = append(g.inits, onnx.FloatTensor(name, dims, v))
	return name
}

// uniform draws a tensor of the given shape uniformly from [lo, hi).
func (g *testGraph) uniform(dims []int64, lo, hi float64) []float32 {
	v := make([]float32, dimProd(dims))
	for i := range v {
		v[i] = float32(lo + (hi-lo)*g.rng.Float64())
	}
	return v
}

// ints adds an INT64 initializer.
func (g *testGraph) ints(v ...int64) string {
	g.n++
	name := fmt.Sprintf("i%d", g.n)
	g.inits = append(g.inits, onnx.Int64Tensor(name, []int64{int64(len(v))}, v))
	return name
}

// model makes the ModelProto; xShape's Unknown dimensions become the symbol "N".
func (g *testGraph) model(opset int64, xShape []int64) *onnx.ModelProto {
	out := &onnx.ValueInfoProto{Name: "y", Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT)}}}}
	return &onnx.ModelProto{
		IrVersion:   8,
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: opset}},
		Graph: &onnx.GraphProto{Name: "t", Node: g.nodes, Initializer: g.inits,
			Input: []*onnx.ValueInfoProto{valueInfo("x", xShape)}, Output: []*onnx.ValueInfoProto{out}},
	}
}

// opCase is one row of the finite-difference table.
type opCase struct {
	name  string
	opset int64   // 0 = 13
	x     []int64 // run-time input shape; the model declares dimension 0 symbolic unless static
	// static keeps dimension 0 static in the model.
	static bool
	// away pushes input values at least this far from 0 (kinks of ReLU-like ops).
	away float64
	// distinct makes the input values a shuffled grid 0.1 apart (MaxPool ties).
	distinct bool
	graph    func(g *testGraph)
}

func ia(name string, v ...int64) *onnx.AttributeProto { return IntsAttr(name, v) }

// model builds the case's graph: opset 13 unless set, dimension 0 symbolic unless static.
func (c opCase) model() *onnx.ModelProto {
	g := newTestGraph()
	c.graph(g)
	xs := append([]int64{}, c.x...)
	if !c.static {
		xs[0] = Unknown
	}
	opset := c.opset
	if opset == 0 {
		opset = 13
	}
	return g.model(opset, xs)
}

func opCases() []opCase {
	conv := func(w []int64, attrs ...*onnx.AttributeProto) func(g *testGraph) {
		return func(g *testGraph) { g.op("Conv", []string{"x", g.w(w, -1, 1)}, "y", attrs...) }
	}
	unary := func(op string, attrs ...*onnx.AttributeProto) func(g *testGraph) {
		return func(g *testGraph) { g.op(op, []string{"x"}, "y", attrs...) }
	}
	resize := func(in []string, attrs ...*onnx.AttributeProto) func(g *testGraph) {
		return func(g *testGraph) { g.op("Resize", in, "y", attrs...) }
	}
	x4 := []int64{2, 3, 5, 7}
	return []opCase{
		{name: "Conv/3x3_pad1_bias", x: x4, graph: func(g *testGraph) {
			g.op("Conv", []string{"x", g.w([]int64{4, 3, 3, 3}, -1, 1), g.w([]int64{4}, -1, 1)}, "y", ia("pads", 1, 1, 1, 1))
		}},
		{name: "Conv/stride2_odd_sizes", x: []int64{2, 3, 7, 9}, graph: conv([]int64{2, 3, 3, 3}, ia("strides", 2, 2), ia("pads", 1, 1, 1, 1))},
		{name: "Conv/7x7_stride2_pad3_like_stem", x: []int64{1, 2, 9, 13}, graph: conv([]int64{3, 2, 7, 7}, ia("strides", 2, 2), ia("pads", 3, 3, 3, 3))},
		{name: "Conv/asymmetric_pads_strides_dilations", x: []int64{2, 2, 8, 9}, graph: conv([]int64{3, 2, 2, 3}, ia("strides", 2, 3), ia("pads", 0, 1, 2, 0), ia("dilations", 2, 1))},
		{name: "Conv/groups2", x: []int64{2, 4, 5, 5}, graph: conv([]int64{6, 2, 3, 3}, ia("pads", 1, 0, 1, 0), IntAttr("group", 2))},
		{name: "Conv/depthwise_same_upper_stride2", x: []int64{2, 3, 6, 5}, graph: conv([]int64{3, 1, 3, 3}, IntAttr("group", 3), ia("strides", 2, 2), StringAttr("auto_pad", "SAME_UPPER"))},
		{name: "Conv/1x1", x: x4, graph: conv([]int64{2, 3, 1, 1})},
		{name: "Conv/strided_groups_asymmetric_pads_polyphase", x: []int64{2, 4, 8, 9}, graph: conv([]int64{6, 2, 3, 4}, IntAttr("group", 2), ia("strides", 2, 3), ia("pads", 0, 2, 2, 1))},
		{name: "Conv/stride_exceeds_kernel_fallback", x: []int64{2, 2, 7, 7}, graph: conv([]int64{2, 2, 2, 2}, ia("strides", 3, 3), ia("pads", 1, 1, 0, 0))},
		{name: "Conv/unit_stride_dilated_groups3_asymmetric", x: []int64{2, 3, 7, 8}, graph: conv([]int64{6, 1, 3, 2}, IntAttr("group", 3), ia("dilations", 2, 3), ia("pads", 2, 0, 1, 3))},
		{name: "Conv/1x1_pads_wider_than_kernel", x: x4, graph: conv([]int64{2, 3, 1, 1}, ia("pads", 1, 0, 2, 1))},
		{name: "Conv/1d", x: []int64{2, 2, 11}, graph: conv([]int64{3, 2, 4}, ia("strides", 3), ia("pads", 2, 1))},
		{name: "ConvTranspose/stride2_pad1_outpad1_groups2", x: []int64{2, 4, 3, 4}, graph: func(g *testGraph) {
			g.op("ConvTranspose", []string{"x", g.w([]int64{4, 3, 3, 3}, -1, 1)}, "y", ia("strides", 2, 2), ia("pads", 1, 1, 1, 1), ia("output_padding", 1, 0), IntAttr("group", 2))
		}},
		{name: "ConvTranspose/dilated_asymmetric", x: []int64{1, 2, 4, 3}, graph: func(g *testGraph) {
			g.op("ConvTranspose", []string{"x", g.w([]int64{2, 2, 2, 3}, -1, 1), g.w([]int64{2}, -1, 1)}, "y", ia("strides", 3, 1), ia("pads", 0, 1, 1, 0), ia("dilations", 1, 2))
		}},
		{name: "BatchNormalization/inference", x: x4, graph: func(g *testGraph) {
			g.op("BatchNormalization", []string{"x", g.w([]int64{3}, 0.5, 1.5), g.w([]int64{3}, -1, 1), g.w([]int64{3}, -1, 1), g.w([]int64{3}, 0.2, 2)}, "y", FloatAttr("epsilon", 1e-3))
		}},
		{name: "Relu", x: x4, away: 0.05, graph: unary("Relu")},
		{name: "LeakyRelu", x: x4, away: 0.05, graph: unary("LeakyRelu", FloatAttr("alpha", 0.2))},
		{name: "Elu", x: x4, away: 0.05, graph: unary("Elu", FloatAttr("alpha", 0.7))},
		{name: "PRelu/slope_per_channel", x: x4, away: 0.05, graph: func(g *testGraph) { g.op("PRelu", []string{"x", g.w([]int64{3, 1, 1}, -0.5, 0.5)}, "y") }},
		{name: "HardSigmoid/both_saturations", x: x4, distinct: true, graph: func(g *testGraph) {
			// Kinks at x = -0.583 and 1.083, at least 0.016 from the 0.05 grid of distinct inputs.
			g.op("HardSigmoid", []string{g.op("Mul", []string{"x", g.w(nil, 0.5, 0.5)}, "")}, "y", FloatAttr("alpha", 1.2), FloatAttr("beta", 0.35))
		}},
		{name: "opset14/HardSwish_all_three_pieces", opset: 14, x: x4, distinct: true, graph: func(g *testGraph) {
			// x·3.45 reaches ±3 at x = ±0.870, at least 0.019 from the distinct inputs.
			g.op("HardSwish", []string{g.op("Mul", []string{"x", g.w(nil, 3.45, 3.45)}, "")}, "y")
		}},
		{name: "InstanceNormalization", x: x4, graph: func(g *testGraph) {
			g.op("InstanceNormalization", []string{"x", g.w([]int64{3}, 0.5, 1.5), g.w([]int64{3}, -1, 1)}, "y", FloatAttr("epsilon", 1e-3))
		}},
		{name: "GroupNorm_as_torch_exports_it", x: []int64{2, 4, 3, 5}, graph: func(g *testGraph) {
			// torch.onnx (opset < 18) writes GroupNorm(2 groups) as Reshape, InstanceNormalization
			// over the groups, Reshape back, per-channel Mul and Add.
			r := g.op("Reshape", []string{"x", g.ints(0, 2, -1)}, "")
			in := g.op("InstanceNormalization", []string{r, g.w([]int64{2}, 1, 1), g.w([]int64{2}, 0, 0)}, "", FloatAttr("epsilon", 1e-5))
			b := g.op("Reshape", []string{in, g.op("Shape", []string{"x"}, "")}, "")
			g.op("Add", []string{g.op("Mul", []string{b, g.w([]int64{4, 1, 1}, 0.5, 1.5)}, ""), g.w([]int64{4, 1, 1}, -1, 1)}, "y")
		}},
		{name: "GlobalMaxPool", x: x4, distinct: true, graph: unary("GlobalMaxPool")},
		{name: "ReduceMax/axes_keepdims0", x: x4, distinct: true, graph: unary("ReduceMax", ia("axes", 1, 3), IntAttr("keepdims", 0))},
		{name: "opset18/ReduceMin_axes_input", opset: 18, x: x4, distinct: true, graph: func(g *testGraph) { g.op("ReduceMin", []string{"x", g.ints(2)}, "y") }},
		{name: "Sigmoid", x: x4, graph: unary("Sigmoid")},
		{name: "Tanh", x: x4, graph: unary("Tanh")},
		{name: "Softplus", x: x4, graph: unary("Softplus")},
		{name: "Neg", x: x4, graph: unary("Neg")},
		{name: "Identity", x: x4, graph: unary("Identity")},
		{name: "Dropout/inference", x: x4, graph: unary("Dropout")},
		{name: "Clip/min_max", x: []int64{2, 2, 3, 3}, distinct: true, graph: func(g *testGraph) {
			// The distinct inputs are multiples of 0.05 and the bounds at least 0.02 from them.
			g.op("Clip", []string{"x", g.w(nil, -0.53, -0.53), g.w(nil, 0.47, 0.47)}, "y")
		}},
		{name: "Exp", x: x4, graph: unary("Exp")},
		{name: "Log", x: x4, graph: func(g *testGraph) { g.op("Log", []string{g.op("Add", []string{"x", g.w(nil, 1.5, 1.5)}, "")}, "y") }},
		{name: "Sqrt", x: x4, graph: func(g *testGraph) { g.op("Sqrt", []string{g.op("Add", []string{"x", g.w(nil, 1.5, 1.5)}, "")}, "y") }},
		{name: "Abs", x: x4, away: 0.05, graph: unary("Abs")},
		{name: "Erf_GELU_like", x: x4, graph: func(g *testGraph) {
			g.op("Mul", []string{"x", g.op("Erf", []string{g.op("Mul", []string{"x", g.w(nil, 0.7, 0.7)}, "")}, "")}, "y")
		}},
		{name: "Reciprocal", x: x4, away: 0.5, graph: unary("Reciprocal")},
		{name: "Pow/constant_exponent", x: x4, graph: func(g *testGraph) {
			g.op("Pow", []string{g.op("Add", []string{"x", g.w(nil, 1.5, 1.5)}, ""), g.w([]int64{7}, 0.5, 2.5)}, "y")
		}},
		{name: "Pow/x_in_exponent", x: x4, graph: func(g *testGraph) { g.op("Pow", []string{g.w([]int64{5, 1}, 0.5, 2), "x"}, "y") }},
		{name: "Max/broadcast", x: x4, distinct: true, graph: func(g *testGraph) { g.op("Max", []string{"x", g.w([]int64{3, 1, 1}, -0.33, 0.27)}, "y") }},
		{name: "Min/both_x", x: x4, distinct: true, graph: func(g *testGraph) {
			// x and 0.5x + 0.03 never tie on the 0.05 grid of distinct inputs.
			half := g.op("Add", []string{g.op("Mul", []string{"x", g.w(nil, 0.5, 0.5)}, ""), g.w(nil, 0.03, 0.03)}, "")
			g.op("Min", []string{"x", half}, "y")
		}},
		{name: "Where/leaky_relu_by_hand_broadcast", x: x4, away: 0.05, graph: func(g *testGraph) {
			pos := g.op("Greater", []string{"x", g.w(nil, 0, 0)}, "")
			g.op("Where", []string{pos, "x", g.op("Mul", []string{g.op("ReduceMean", []string{"x"}, "", ia("axes", 3)), g.w(nil, 0.1, 0.1)}, "")}, "y")
		}},
		{name: "Softmax/axis1", x: x4, graph: unary("Softmax", IntAttr("axis", 1))},
		{name: "opset17/LayerNormalization_last_two_axes", opset: 17, x: x4, graph: func(g *testGraph) {
			g.op("LayerNormalization", []string{"x", g.w([]int64{5, 7}, 0.5, 1.5), g.w([]int64{7}, -1, 1)}, "y", IntAttr("axis", 2))
		}},
		{name: "Add/broadcast_channel_constant", x: x4, graph: func(g *testGraph) { g.op("Add", []string{"x", g.w([]int64{3, 1, 1}, -1, 1)}, "y") }},
		{name: "Add/same_value_twice", x: x4, graph: func(g *testGraph) { g.op("Add", []string{"x", "x"}, "y") }},
		{name: "Sub/constant_minus_x", x: x4, graph: func(g *testGraph) { g.op("Sub", []string{g.w([]int64{7}, -1, 1), "x"}, "y") }},
		{name: "Mul/broadcast_1C1W", x: x4, graph: func(g *testGraph) { g.op("Mul", []string{g.w([]int64{1, 3, 1, 7}, -1, 1), "x"}, "y") }},
		{name: "Mul/both_depend_on_x_broadcast", x: x4, graph: func(g *testGraph) {
			m := g.op("ReduceMean", []string{"x"}, "", ia("axes", 1)) // [N,1,H,W]
			g.op("Mul", []string{"x", g.op("Sigmoid", []string{m}, "")}, "y")
		}},
		{name: "Div/x_over_constant", x: x4, graph: func(g *testGraph) { g.op("Div", []string{"x", g.w([]int64{5, 1}, 0.5, 2)}, "y") }},
		{name: "Div/constant_over_x", x: x4, away: 0.5, graph: func(g *testGraph) { g.op("Div", []string{g.w([]int64{3, 1, 7}, -1, 1), "x"}, "y") }},
		{name: "Div/both_depend_on_x", x: x4, graph: func(g *testGraph) {
			g.op("Div", []string{"x", g.op("Add", []string{g.op("Softplus", []string{"x"}, ""), g.w(nil, 1, 1)}, "")}, "y")
		}},
		{name: "Concat/channels_x_and_relu_x", x: x4, away: 0.05, graph: func(g *testGraph) {
			g.op("Concat", []string{"x", g.op("Relu", []string{"x"}, ""), g.w([]int64{2, 2, 5, 7}, -1, 1)}, "y", IntAttr("axis", 1))
		}},
		{name: "Concat/last_axis_negative", x: []int64{2, 3, 5, 7}, static: true, graph: func(g *testGraph) {
			g.op("Concat", []string{g.w([]int64{2, 3, 5, 2}, -1, 1), "x"}, "y", IntAttr("axis", -1))
		}},
		{name: "Split/channels_unequal_one_unused", x: []int64{2, 5, 3, 4}, graph: func(g *testGraph) {
			g.nodes = append(g.nodes, &onnx.NodeProto{OpType: "Split", Name: "split", Input: []string{"x", g.ints(2, 1, 2)}, Output: []string{"a", "b", "c"}, Attribute: []*onnx.AttributeProto{IntAttr("axis", 1)}})
			g.op("Add", []string{"a", g.op("Mul", []string{"c", "c"}, "")}, "y")
		}},
		{name: "Slice/two_axes", x: x4, graph: func(g *testGraph) {
			g.op("Slice", []string{"x", g.ints(1, -6), g.ints(3, 100), g.ints(1, 3)}, "y")
		}},
		{name: "Slice/strided_reversed_and_unit", x: []int64{2, 3, 7, 8}, graph: func(g *testGraph) {
			g.op("Slice", []string{"x", g.ints(1, 6, -2), g.ints(3, 0, 1), g.ints(1, 2, 3), g.ints(1, -2, -3)}, "y")
		}},
		{name: "Pad/constant_positive_and_negative", x: x4, graph: func(g *testGraph) {
			g.op("Pad", []string{"x", g.ints(0, 0, 1, -2, 0, 0, 2, 1), g.w(nil, 0.3, 0.3)}, "y")
		}},
		{name: "Pad/reflect_last_two_axes", x: x4, graph: func(g *testGraph) {
			g.op("Pad", []string{"x", g.ints(0, 0, 2, 1, 0, 0, 1, 3)}, "y", StringAttr("mode", "reflect"))
		}},
		{name: "Pad/edge_with_crop", x: x4, graph: func(g *testGraph) {
			g.op("Pad", []string{"x", g.ints(0, 0, 3, -1, 0, 0, 0, 2)}, "y", StringAttr("mode", "edge"))
		}},
		{name: "opset19/Pad_wrap_longitude", opset: 19, x: x4, graph: func(g *testGraph) {
			g.op("Pad", []string{"x", g.ints(0, 0, 0, 3, 0, 0, 0, 4)}, "y", StringAttr("mode", "wrap"))
		}},
		{name: "Reshape/batch_minus1_from_shape_chain", x: x4, graph: func(g *testGraph) {
			sh := g.op("Shape", []string{"x"}, "")
			n := g.op("Gather", []string{sh, g.ints(0)}, "")
			t := g.op("Concat", []string{n, g.ints(-1)}, "", IntAttr("axis", 0))
			r := g.op("Reshape", []string{"x", t}, "")
			g.op("Gemm", []string{r, g.w([]int64{4, 105}, -1, 1)}, "y", IntAttr("transB", 1))
		}},
		{name: "Flatten", x: x4, graph: func(g *testGraph) {
			g.op("Mul", []string{g.op("Flatten", []string{"x"}, "", IntAttr("axis", 2)), g.w([]int64{35}, -1, 1)}, "y")
		}},
		{name: "Transpose", x: x4, graph: func(g *testGraph) {
			g.op("Mul", []string{g.op("Transpose", []string{"x"}, "", ia("perm", 0, 2, 3, 1)), g.w([]int64{3}, -1, 1)}, "y")
		}},
		{name: "Squeeze_Unsqueeze", x: []int64{2, 1, 5, 7}, graph: func(g *testGraph) {
			s := g.op("Squeeze", []string{"x", g.ints(1)}, "")
			u := g.op("Unsqueeze", []string{g.op("Mul", []string{s, g.w([]int64{7}, -1, 1)}, ""), g.ints(0, 3)}, "")
			g.op("Tanh", []string{u}, "y")
		}},
		{name: "Gemm/transB_bias_alpha_beta", x: []int64{3, 4}, static: true, graph: func(g *testGraph) {
			g.op("Gemm", []string{"x", g.w([]int64{5, 4}, -1, 1), g.w([]int64{5}, -1, 1)}, "y", IntAttr("transB", 1), FloatAttr("alpha", 0.7), FloatAttr("beta", 1.3))
		}},
		{name: "Gemm/transA_x_as_B", x: []int64{3, 4}, static: true, graph: func(g *testGraph) {
			a := g.op("Gemm", []string{g.w([]int64{2, 3}, -1, 1), "x"}, "", FloatAttr("alpha", 1.5)) // [2,4]
			b := g.op("Gemm", []string{"x", a}, "", IntAttr("transB", 1))                            // [3,2]
			g.op("Gemm", []string{b, "x"}, "y", IntAttr("transA", 1))                                // [2,4]
		}},
		{name: "MatMul/batched_broadcast_both_sides", x: []int64{2, 3, 4}, static: true, graph: func(g *testGraph) {
			a := g.op("MatMul", []string{"x", g.w([]int64{4, 5}, -1, 1)}, "")
			g.op("MatMul", []string{g.w([]int64{1, 2, 3}, -1, 1), a}, "y")
		}},
		{name: "MaxPool/2x2_stride2_odd", x: []int64{2, 2, 5, 7}, distinct: true, graph: unary("MaxPool", ia("kernel_shape", 2, 2), ia("strides", 2, 2))},
		{name: "MaxPool/3x3_stride2_pad1_overlap_opset16", opset: 16, x: []int64{2, 2, 5, 7}, distinct: true, graph: unary("MaxPool", ia("kernel_shape", 3, 3), ia("strides", 2, 2), ia("pads", 1, 1, 1, 1))},
		{name: "MaxPool/ceil_mode_dilated_opset16", opset: 16, x: []int64{1, 2, 7, 8}, distinct: true, graph: unary("MaxPool", ia("kernel_shape", 2, 3), ia("strides", 2, 2), ia("dilations", 2, 1), IntAttr("ceil_mode", 1))},
		{name: "AveragePool/3x3_stride2_pad1_exclude_pad", x: []int64{2, 2, 5, 7}, graph: unary("AveragePool", ia("kernel_shape", 3, 3), ia("strides", 2, 2), ia("pads", 1, 1, 1, 1))},
		{name: "AveragePool/include_pad_asymmetric", x: []int64{2, 2, 5, 7}, graph: unary("AveragePool", ia("kernel_shape", 2, 3), ia("strides", 1, 2), ia("pads", 1, 0, 0, 2), IntAttr("count_include_pad", 1))},
		{name: "AveragePool/ceil_mode", x: []int64{2, 2, 6, 7}, graph: unary("AveragePool", ia("kernel_shape", 3, 3), ia("strides", 2, 2), IntAttr("ceil_mode", 1))},
		{name: "GlobalAveragePool", x: x4, graph: unary("GlobalAveragePool")},
		{name: "ReduceMean/axes_keepdims0", x: x4, graph: unary("ReduceMean", ia("axes", 1, 3), IntAttr("keepdims", 0))},
		{name: "ReduceSum/axes_input", x: x4, graph: func(g *testGraph) { g.op("ReduceSum", []string{"x", g.ints(-1)}, "y") }},
		{name: "Resize/nearest_asymmetric_floor_scale2", x: []int64{2, 2, 3, 4}, graph: func(g *testGraph) {
			resize([]string{"x", "", g.w([]int64{4}, 1, 1)[:0] + scales(g, 1, 1, 2, 2)}, StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor"))(g)
		}},
		{name: "Resize/nearest_sizes_from_shape_chain_like_pytorch", x: []int64{2, 2, 4, 6}, graph: func(g *testGraph) {
			sh := g.op("Shape", []string{"x"}, "")
			nc := g.op("Slice", []string{sh, g.ints(0), g.ints(2), g.ints(0)}, "")
			sizes := g.op("Concat", []string{nc, g.ints(9, 13)}, "", IntAttr("axis", 0))
			resize([]string{"x", "", "", sizes}, StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor"))(g)
		}},
		{name: "Resize/nearest_half_pixel_round_downscale", x: []int64{2, 2, 7, 9}, graph: func(g *testGraph) {
			resize([]string{"x", "", scales(g, 1, 1, 0.6, 0.5)}, StringAttr("mode", "nearest"))(g)
		}},
		{name: "Resize/linear_half_pixel", x: []int64{2, 2, 4, 5}, graph: func(g *testGraph) {
			resize([]string{"x", "", scales(g, 1, 1, 2, 1.5)}, StringAttr("mode", "linear"))(g)
		}},
		{name: "Resize/linear_align_corners_sizes", x: []int64{2, 2, 4, 5}, graph: func(g *testGraph) {
			resize([]string{"x", "", "", g.ints(2, 2, 7, 3)}, StringAttr("mode", "linear"), StringAttr("coordinate_transformation_mode", "align_corners"))(g)
		}},
		{name: "Resize/linear_pytorch_half_pixel_to_1", x: []int64{2, 2, 4, 5}, graph: func(g *testGraph) {
			resize([]string{"x", "", "", g.ints(2, 2, 1, 8)}, StringAttr("mode", "linear"), StringAttr("coordinate_transformation_mode", "pytorch_half_pixel"))(g)
		}},
		{name: "DepthToSpace/DCR", x: []int64{2, 8, 2, 3}, graph: func(g *testGraph) {
			g.op("Tanh", []string{g.op("DepthToSpace", []string{"x"}, "", IntAttr("blocksize", 2))}, "y")
		}},
		{name: "DepthToSpace/CRD_as_torch_exports_PixelShuffle", x: []int64{2, 12, 2, 3}, graph: func(g *testGraph) {
			g.op("Tanh", []string{g.op("DepthToSpace", []string{"x"}, "", IntAttr("blocksize", 2), StringAttr("mode", "CRD"))}, "y")
		}},
		{name: "SpaceToDepth", x: []int64{2, 3, 4, 6}, graph: func(g *testGraph) {
			g.op("Tanh", []string{g.op("SpaceToDepth", []string{"x"}, "", IntAttr("blocksize", 2))}, "y")
		}},
		{name: "Gather/scalar_indices_on_static_axis0_like_timm_qkv", x: []int64{2, 3, 4, 5}, graph: func(g *testGraph) {
			// q, k, v = qkv[0], qkv[1], qkv[2] on [3, N, ...]: scalar indices along a static axis 0
			// in front of the batch.
			t := g.op("Transpose", []string{"x"}, "", ia("perm", 1, 0, 2, 3))
			q := g.op("Gather", []string{t, scalarInt(g, 0)}, "", IntAttr("axis", 0))
			v := g.op("Gather", []string{t, scalarInt(g, -1)}, "", IntAttr("axis", 0))
			g.op("Mul", []string{q, v}, "y")
		}},
		{name: "Gather/consecutive_indices_last_axis", x: []int64{2, 3, 4, 6}, graph: func(g *testGraph) {
			g.op("Tanh", []string{g.op("Gather", []string{"x", g.ints(1, 2, 3)}, "", IntAttr("axis", -1))}, "y")
		}},
		{name: "Gather/2d_indices_repeated_and_negative", x: []int64{2, 3, 5, 4}, graph: func(g *testGraph) {
			g.inits = append(g.inits, onnx.Int64Tensor("idx2d", []int64{2, 2}, []int64{4, 0, -1, 2}))
			g.op("Tanh", []string{g.op("Gather", []string{"x", "idx2d"}, "", IntAttr("axis", 2))}, "y") // [N,3,2,2,4]
		}},
		{name: "Slice/last_axis_batch_on_axis1_like_MultiheadAttention", x: []int64{2, 3, 4, 6}, graph: func(g *testGraph) {
			// nn.MultiheadAttention works sequence first: q, k and v are slices of [T, N, 3E].
			t := g.op("Transpose", []string{"x"}, "", ia("perm", 1, 0, 2, 3))
			g.op("Tanh", []string{g.op("Slice", []string{t, g.ints(2), g.ints(5), g.ints(-1)}, "")}, "y")
		}},
		{name: "Pad/amounts_from_torch_shape_chain", x: []int64{2, 2, 5, 4}, graph: torchPadChain},
		{name: "opset18/ReduceMean_axes_input", opset: 18, x: x4, graph: func(g *testGraph) { g.op("ReduceMean", []string{"x", g.ints(2, -1)}, "y", IntAttr("keepdims", 0)) }},
		{name: "opset18/Split_num_outputs", opset: 18, x: []int64{2, 5, 3, 4}, graph: func(g *testGraph) {
			g.nodes = append(g.nodes, &onnx.NodeProto{OpType: "Split", Name: "split", Input: []string{"x"}, Output: []string{"a", "b"}, Attribute: []*onnx.AttributeProto{IntAttr("axis", 1), IntAttr("num_outputs", 2)}})
			g.op("Concat", []string{g.op("Mul", []string{"b", "b"}, ""), g.op("Sigmoid", []string{"a"}, "")}, "y", IntAttr("axis", 1)) // parts of 3 and 2
		}},
		{name: "opset18/Resize_axes_linear", opset: 18, x: []int64{2, 2, 4, 5}, graph: func(g *testGraph) {
			resize([]string{"x", "", scales(g, 1.5, 2)}, StringAttr("mode", "linear"), ia("axes", 2, 3))(g)
		}},
		{name: "opset18/Pad_axes", opset: 18, x: x4, graph: func(g *testGraph) {
			g.op("Pad", []string{"x", g.ints(1, 2, 0, 1), "", g.ints(1, 3)}, "y")
		}},
		{name: "opset17/Conv_relu_maxpool_overlap", opset: 17, x: []int64{2, 2, 6, 7}, distinct: true, graph: func(g *testGraph) {
			c := g.op("Conv", []string{"x", g.w([]int64{3, 2, 1, 1}, 0.5, 1)}, "")
			g.op("MaxPool", []string{c}, "y", ia("kernel_shape", 3, 3), ia("strides", 1, 2), ia("pads", 1, 1, 1, 1))
		}},
		{name: "Chain/bn_relu_conv_dense", x: []int64{2, 3, 5, 6}, away: 0.05, graph: bnReluConvDense},
		{name: "Chain/bn_relu_conv_grouped_shared", x: []int64{2, 4, 5, 6}, away: 0.05, graph: bnReluConvShared},
		{name: "Chain/conv_bn_relu_concat_resize", x: []int64{2, 2, 5, 6}, graph: func(g *testGraph) {
			c := g.op("Conv", []string{"x", g.w([]int64{3, 2, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
			b := g.op("BatchNormalization", []string{c, g.w([]int64{3}, 0.5, 1.5), g.w([]int64{3}, -1, 1), g.w([]int64{3}, -1, 1), g.w([]int64{3}, 0.2, 2)}, "")
			r := g.op("Sigmoid", []string{b}, "")
			cat := g.op("Concat", []string{"x", r}, "", IntAttr("axis", 1))
			u := g.op("Resize", []string{cat, "", scales(g, 1, 1, 2, 2)}, "", StringAttr("mode", "nearest"), StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor"))
			g.op("Conv", []string{u, g.w([]int64{1, 5, 3, 3}, -1, 1)}, "y", ia("pads", 1, 1, 1, 1), ia("strides", 2, 1))
		}},
	}
}

// bnReluConvDense is a dense block's layer: BN -> ReLU -> Conv, concatenated with its input, then
// BN -> ReLU -> Conv again. Its backward graph folds both BatchNorm scales into the adjoint
// convolutions (TestFoldChannelScales).
func bnReluConvDense(g *testGraph) {
	bn := func(in string, c int64) string {
		return g.op("BatchNormalization", []string{in, g.w([]int64{c}, -1.5, 1.5), g.w([]int64{c}, -1, 1), g.w([]int64{c}, -1, 1), g.w([]int64{c}, 0.2, 2)}, "")
	}
	r := g.op("Relu", []string{bn("x", 3)}, "")
	f := g.op("Conv", []string{r, g.w([]int64{2, 3, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
	cat := g.op("Concat", []string{"x", f}, "", IntAttr("axis", 1))
	r2 := g.op("Relu", []string{bn(cat, 5)}, "")
	g.op("Conv", []string{r2, g.w([]int64{1, 5, 3, 3}, -1, 1)}, "y", ia("pads", 1, 1, 1, 1))
}

// bnReluConvShared has a grouped convolution after BN -> ReLU, whose ReLU output is also added
// to the output: the adjoint convolution's result has another use there, so the BatchNorm
// scale must stay a multiplication of its own.
func bnReluConvShared(g *testGraph) {
	b := g.op("BatchNormalization", []string{"x", g.w([]int64{4}, -1.5, 1.5), g.w([]int64{4}, -1, 1), g.w([]int64{4}, -1, 1), g.w([]int64{4}, 0.2, 2)}, "")
	r := g.op("Relu", []string{b}, "")
	c := g.op("Conv", []string{r, g.w([]int64{4, 2, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1), IntAttr("group", 2))
	g.op("Add", []string{c, r}, "y")
}

// torchPadChain pads x to 8 x 7 as torch.onnx exports F.pad(x, [dw // 2, dw - dw // 2, dh // 2,
// dh - dh // 2]) with dh, dw from traced sizes (opset 11+, _prepare_onnx_paddings): integer Div,
// Sub, Unsqueeze, Concat, zeros from ConstantOfShape, Reshape to [-1, 2], Slice with step -1,
// Transpose, Reshape, Cast. The engine must evaluate the chain to know the pads, 3 = 1 + 2 on
// both axes: an INT64 Div truncates (3 / 2 = 1.5 would give 1 + 1), and so does a Cast of the
// FLOAT quotient to INT64, which other torch versions write.
func torchPadChain(g *testGraph) {
	sh := g.op("Shape", []string{"x"}, "")
	diff := func(axis, size int64, float bool) (string, string) {
		d := g.op("Sub", []string{scalarInt(g, size), g.op("Gather", []string{sh, scalarInt(g, axis)}, "", IntAttr("axis", 0))}, "")
		half := g.op("Div", []string{d, scalarInt(g, 2)}, "")
		if float {
			q := g.op("Div", []string{g.op("Cast", []string{d}, "", IntAttr("to", int64(onnx.TensorProto_FLOAT))), g.w(nil, 2, 2)}, "")
			half = g.op("Cast", []string{q}, "", IntAttr("to", int64(onnx.TensorProto_INT64)))
		}
		return half, g.op("Sub", []string{d, half}, "")
	}
	hb, he := diff(2, 8, false)
	wb, we := diff(3, 7, true)
	u := func(v string) string { return g.op("Unsqueeze", []string{v, g.ints(0)}, "") }
	four := g.op("Concat", []string{u(wb), u(we), u(hb), u(he)}, "", IntAttr("axis", 0))
	zeros := g.op("ConstantOfShape", []string{g.ints(4)}, "", &onnx.AttributeProto{Name: "value", Type: onnx.AttributeProto_TENSOR, T: onnx.Int64Tensor("", []int64{1}, []int64{0})})
	all := g.op("Reshape", []string{g.op("Concat", []string{four, zeros}, "", IntAttr("axis", 0)), g.ints(-1, 2)}, "")
	rev := g.op("Slice", []string{all, g.ints(-1), g.ints(math.MinInt64 + 1), g.ints(0), g.ints(-1)}, "")
	pads := g.op("Reshape", []string{g.op("Transpose", []string{rev}, "", ia("perm", 1, 0)), g.ints(-1)}, "")
	p := g.op("Pad", []string{"x", g.op("Cast", []string{pads}, "", IntAttr("to", int64(onnx.TensorProto_INT64)))}, "")
	g.op("Tanh", []string{p}, "y")
}

// scalarInt adds a scalar INT64 initializer.
func scalarInt(g *testGraph, v int64) string {
	g.n++
	name := fmt.Sprintf("k%d", g.n)
	g.inits = append(g.inits, onnx.Int64Tensor(name, nil, []int64{v}))
	return name
}

// scales adds a FLOAT scales initializer.
func scales(g *testGraph, v ...float32) string {
	g.n++
	name := fmt.Sprintf("s%d", g.n)
	g.inits = append(g.inits, onnx.FloatTensor(name, []int64{int64(len(v))}, v))
	return name
}

// inputFor makes the test input of a case.
func inputFor(c opCase, rng *rand.Rand) tensor {
	n := 1
	for _, d := range c.x {
		n *= int(d)
	}
	v := make([]float32, n)
	if c.distinct {
		for i, p := range rng.Perm(n) {
			v[i] = float32(p)*0.1 - float32(n)*0.05
		}
		return tensor{shape: c.x, data: v}
	}
	for i := range v {
		u := rng.Float64()*2 - 1
		if c.away > 0 {
			u = math.Copysign(c.away+math.Abs(u)*(1-c.away), u)
		}
		v[i] = float32(u)
	}
	return tensor{shape: c.x, data: v}
}

// TestGradientMatchesFiniteDifferences checks every op's VJP: grad from the backward graph in
// ONNX Runtime against central differences of <seed, y> through the forward model in ONNX Runtime.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			m := c.model()
			rng := rand.New(rand.NewPCG(3, 4))
			x := inputFor(c, rng)
			checkGradient(t, m, x, rng)
		})
	}
}

// checkGradient builds m's backward model and compares grad with finite differences.
func checkGradient(t *testing.T, m *onnx.ModelProto, x tensor, rng *rand.Rand) {
	t.Helper()
	fwd := newSession(t, m, []string{"x"}, []string{"y"})
	ys, err := fwd.run(x)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	y := ys[0]
	seed := tensor{shape: y.shape, data: make([]float32, len(y.data))}
	for i := range seed.data {
		seed.data[i] = float32(rng.Float64()*2 - 1)
	}
	bm, err := Build(m, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	bwd := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"})
	out, err := bwd.run(x, seed)
	if err != nil {
		t.Fatalf("backward model: %v", err)
	}
	if fmt.Sprint(out[1].shape) != fmt.Sprint(x.shape) {
		t.Fatalf("grad shape %v, want %v", out[1].shape, x.shape)
	}
	for i := range y.data {
		if out[0].data[i] != y.data[i] {
			t.Fatalf("backward model's y[%d] = %g, forward's %g", i, out[0].data[i], y.data[i])
		}
	}
	loss := seededLoss(t, fwd, x.shape, seed.data)
	xv := append([]float32{}, x.data...)
	bad := 0
	for i := range xv {
		fd := centralDifference(loss, xv, i, fdStep)
		got := float64(out[1].data[i])
		if math.Abs(got-fd) > fdAtol+fdRtol*math.Abs(fd) {
			if bad < 5 {
				t.Errorf("grad[%d] = %.6g, finite difference %.6g", i, got, fd)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d elements differ", bad, len(xv))
	}
}

// TestUnsupportedOpNamesOpAndNode checks the typed error for ops without a rule and for
// attribute combinations a rule does not cover.
func TestUnsupportedOpNamesOpAndNode(t *testing.T) {
	for _, c := range []struct {
		name, op string
		graph    func(g *testGraph)
		node     string // the node the error names; "" = node_y
	}{
		{"no_rule", "LpNormalization", func(g *testGraph) { g.op("LpNormalization", []string{"x"}, "y") }, ""},
		// An op without a shape rule leaves the nodes after it without shapes; the reverse walk
		// reaches those first, and the error must still name the op the engine does not know.
		{"no_rule_before_a_conv_that_needs_shapes", "LpNormalization", func(g *testGraph) {
			g.op("Conv", []string{g.op("LpNormalization", []string{"x"}, "lp"), g.w([]int64{2, 2, 3, 3}, -1, 1)}, "y")
		}, "node_lp"},
		{"no_rule_before_reshape_copying_dimensions", "LpNormalization", func(g *testGraph) {
			g.op("Reshape", []string{g.op("LpNormalization", []string{"x"}, "lp"), g.ints(0, 2, -1)}, "y")
		}, "node_lp"},
		{"gather_indices_known_at_run_time", "Gather", func(g *testGraph) {
			n := g.op("Gather", []string{g.op("Shape", []string{"x"}, ""), scalarInt(g, 0)}, "", IntAttr("axis", 0)) // the batch size
			g.op("Gather", []string{"x", g.op("Sub", []string{n, scalarInt(g, 1)}, "")}, "y", IntAttr("axis", 2))
		}, ""},
		{"depth_to_space_unknown_mode", "DepthToSpace", func(g *testGraph) {
			g.op("DepthToSpace", []string{"x"}, "y", IntAttr("blocksize", 1), StringAttr("mode", "XYZ"))
		}, ""},
		{"cubic_resize", "Resize", func(g *testGraph) {
			g.op("Resize", []string{"x", "", scales(g, 1, 1, 2, 2)}, "y", StringAttr("mode", "cubic"))
		}, ""},
		{"overlapping_maxpool_opset13", "MaxPool", func(g *testGraph) {
			g.op("MaxPool", []string{"x"}, "y", ia("kernel_shape", 3, 3), ia("strides", 1, 1))
		}, ""},
		{"reflect_pad_of_channels", "Pad", func(g *testGraph) {
			g.op("Pad", []string{"x", g.ints(0, 1, 0, 0, 0, 1, 0, 0)}, "y", StringAttr("mode", "reflect"))
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newTestGraph()
			c.graph(g)
			_, err := Build(g.model(13, []int64{Unknown, 2, 5, 5}), Options{})
			var ue *UnsupportedError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want *UnsupportedError", err)
			}
			node := c.node
			if node == "" {
				node = "node_y"
			}
			if ue.Op != c.op || ue.Node != node {
				t.Errorf("error names op %q node %q, want %q and %s: %v", ue.Op, ue.Node, c.op, node, err)
			}
		})
	}
}
