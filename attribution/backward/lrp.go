package backward

import "climxai/onnx"

// Modifier rewrites a tensor inside a rule's backward step by emitting ops on s (e.g. the
// positive part of the weights) and returns the new value's name. Zennit's input and parameter
// modifiers (chr5tphr/zennit, src/zennit/core.py, BasicHook).
type Modifier func(s *Step, v string) string

// Positive is max(v, 0).
func Positive(s *Step, v string) string { return s.Emit("Max", []string{v, s.zero()}) }

// Negative is min(v, 0).
func Negative(s *Step, v string) string { return s.Emit("Min", []string{v, s.zero()}) }

// Ones is a tensor of ones shaped like v.
func Ones(s *Step, v string) string {
	return s.Emit("ConstantOfShape", []string{s.Emit("Shape", []string{v})},
		&onnx.AttributeProto{Name: "value", Type: onnx.AttributeProto_TENSOR, T: onnx.FloatTensor("", []int64{1}, []float32{1})})
}

// Square is v².
func Square(s *Step, v string) string { return s.Emit("Mul", []string{v, v}) }

// Term is one modified forward pass of a linear node in a Hook.
type Term struct {
	Input  Modifier // applied to the data input; nil keeps it
	Weight Modifier // applied to the weight; nil keeps it
	// NoBias drops the bias (Conv/ConvTranspose B, Gemm C) from this pass.
	NoBias bool
	Group  int     // terms of one group share the denominator z_g = Σ z_term
	Coef   float32 // the term's weight in the sum of contributions
}

// Hook is the generic LRP rule for a linear node, Zennit's BasicHook: with x_t and W_t the
// modified input and weight of term t and z_t the node's output for them,
//
//	R_in = Σ_t Coef_t · x_t ⊙ J_t^T ( R_out / stab(Σ_{t' in group(t)} z_t') ),
//
// where J_t^T is the exact VJP of the linear op with weight W_t (Step.LinearVJP) and
// stab(z) = z + ε (sign z + [z = 0]) (zennit.core.stabilize). Epsilon, ZPlus, AlphaBeta, Flat
// and WSquare are Hooks; see Montavon et al. (2019), "Layer-wise relevance propagation: an
// overview", for the rules.
type Hook struct {
	Name    string
	Terms   []Term
	Epsilon float32
}

// Epsilon is LRP-ε: R_j = Σ_k x_j w_jk / stab(z_k) R_k with z_k the node's own output (bias
// included); ε → 0 gives LRP-0, which equals Input x Gradient on bias-free ReLU networks.
func Epsilon(eps float32) Hook {
	return Hook{Name: "epsilon", Terms: []Term{{Coef: 1}}, Epsilon: eps}
}

// AlphaBeta is LRP-αβ: R_j = Σ_k (α (x_j w_jk)⁺ / Σ_j (x_j w_jk)⁺ − β (x_j w_jk)⁻ / Σ_j (x_j w_jk)⁻) R_k,
// biases ignored; (x w)⁺ = x⁺w⁺ + x⁻w⁻ and (x w)⁻ = x⁺w⁻ + x⁻w⁺ as in Zennit's AlphaBeta.
func AlphaBeta(alpha, beta float32) Hook {
	return Hook{Name: "alpha-beta", Epsilon: 1e-6, Terms: []Term{
		{Input: Positive, Weight: Positive, NoBias: true, Group: 0, Coef: alpha},
		{Input: Negative, Weight: Negative, NoBias: true, Group: 0, Coef: alpha},
		{Input: Positive, Weight: Negative, NoBias: true, Group: 1, Coef: -beta},
		{Input: Negative, Weight: Positive, NoBias: true, Group: 1, Coef: -beta},
	}}
}

// ZPlus is the z⁺ rule, R_j = Σ_k (x_j w_jk)⁺ / Σ_j (x_j w_jk)⁺ R_k (Zennit's ZPlus; α=1, β=0).
func ZPlus() Hook {
	h := AlphaBeta(1, 0)
	h.Name, h.Terms = "z-plus", h.Terms[:2]
	return h
}

// Flat spreads relevance uniformly over each output's receptive field (weights 1, inputs 1, no
// bias): R_j = Σ_k 1 / Σ_j 1 R_k, for the first layer (Lapuschkin et al. 2019).
func Flat() Hook {
	return Hook{Name: "flat", Epsilon: 1e-6, Terms: []Term{{Input: Ones, Weight: Ones, NoBias: true, Coef: 1}}}
}

// WSquare is the w² rule, R_j = Σ_k w_jk² / Σ_j w_jk² R_k, for the first layer (Montavon et al.
// 2017, "Explaining nonlinear classification decisions with deep Taylor decomposition").
func WSquare() Hook {
	return Hook{Name: "w-square", Epsilon: 1e-6, Terms: []Term{{Input: Ones, Weight: Square, NoBias: true, Coef: 1}}}
}

// Pass hands the output's relevance to the input unchanged (Zennit's Pass, for activations).
func Pass() Rule {
	return RuleFunc(func(s *Step) error {
		s.SetInGrad(0, s.OutGrad(0))
		return nil
	})
}

// Scale hands the output's relevance to the one input that depends on x, summed over the axes
// along which that input was broadcast: the rule for multiplying or dividing by a constant and for
// Neg, linear maps that mix nothing, for which every LRP rule with ε → 0 gives R_in = R_out. (The
// gradient would scale the relevance by the constant, so an exporter's rescaling of the output or
// a baked-in input normalisation would multiply every relevance map by it.)
func Scale() Rule {
	return RuleFunc(func(s *Step) error {
		n := s.Node
		for i := range n.Inputs {
			if !s.Needs(i) {
				continue
			}
			if s.InShape(i) == nil || s.OutShape(0) == nil {
				return unsupported(n, "cannot infer the shapes needed to undo broadcasting")
			}
			s.SetInGrad(i, s.unbroadcast(s.OutGrad(0), i))
		}
		return nil
	})
}

// linearOp reports whether op is linear in its data input with a weight input 1 (hasWeight) and
// an optional bias input 2 (hasBias). Resize is linear in every mode; the rules treat only its
// interpolating modes as layers (isInterpolation), since nearest-neighbour copies route relevance
// exactly as the gradient does.
func linearOp(op string) (linear, hasWeight, hasBias bool) {
	switch op {
	case "Conv", "ConvTranspose", "Gemm":
		return true, true, true
	case "MatMul":
		return true, true, false
	case "BatchNormalization", "AveragePool", "GlobalAveragePool", "ReduceMean", "ReduceSum":
		return true, false, false
	}
	return false, false, false
}

// isInterpolation reports whether n is a Resize that mixes inputs (linear or cubic): a linear
// layer with fixed weights, for which the norm rule conserves relevance and the gradient does not.
func isInterpolation(n *Node) bool {
	return n.Op == "Resize" && n.AttrString("mode", "nearest") != "nearest"
}

// isSum reports whether op adds its inputs with fixed signs (Add, Sub, Sum).
func isSum(op string) bool { return op == "Add" || op == "Sub" || op == "Sum" }

// isScale reports whether n multiplies or divides its only input that depends on x by values that
// do not (Mul, Div by a constant, Neg).
func isScale(g *Graph, n *Node) bool {
	dep := func(i int) bool { return g.dependent(n.input(i)) }
	switch n.Op {
	case "Neg":
		return true
	case "Mul":
		return len(n.Inputs) == 2 && dep(0) != dep(1)
	case "Div":
		return len(n.Inputs) == 2 && dep(0) && !dep(1)
	}
	return false
}

// fusedBias returns the node that adds a constant bias to the output of n, a Conv, ConvTranspose,
// Gemm or MatMul, or nil: an Add (either operand order) or Sub (n's output first) that is the only
// reader of n's output, whose other operand does not depend on x and whose result has the shape of
// n's output. Exporters write a dense layer on N-D input as MatMul + Add (torch.onnx for
// nn.Linear on 3-D input, tf2onnx for Keras Dense) and some a convolution's bias as a separate Add;
// LRP rules then treat the pair as one layer with a bias, as they treat Gemm or Conv with B.
func fusedBias(g *Graph, n *Node) *Node {
	if lin, hasW, _ := linearOp(n.Op); !lin || !hasW || len(n.Outputs) != 1 || n.Outputs[0] == g.Output {
		return nil
	}
	z := n.Outputs[0]
	var reader *Node
	for _, m := range g.Nodes {
		for _, in := range m.Inputs {
			if in == z {
				if reader != nil && reader != m {
					return nil
				}
				reader = m
			}
		}
	}
	if reader == nil || len(reader.Inputs) != 2 || len(reader.Outputs) != 1 {
		return nil
	}
	other := reader.input(1)
	switch {
	case reader.Op == "Add" && reader.input(1) == z:
		other = reader.input(0)
	case (reader.Op == "Add" || reader.Op == "Sub") && reader.input(0) == z:
	default:
		return nil
	}
	if other == z || g.Values[other] == nil || g.Values[other].DependsOnInput {
		return nil
	}
	zs, ys := g.shape(z), g.shape(reader.Outputs[0])
	if zs == nil || len(zs) != len(ys) {
		return nil
	}
	for i := range zs {
		if zs[i] != ys[i] {
			return nil
		}
	}
	return reader
}

// biasOperand returns the bias operand of a fusedBias node b whose other operand is z.
func biasOperand(b *Node, z string) string {
	if b.input(0) == z {
		return b.input(1)
	}
	return b.input(0)
}

// Backward emits the rule's relevance step for s.Node: a linear node (with the bias of a
// fusedBias node counted as its own; for a MatMul with a gate, such as attention's
// softmax(q kᵀ) v, the gate is the weight and the other factor the input, gate.go), or, for the
// ε rule, a sum (Add, Sub, Sum) or a normalisation (LayerNormalization, InstanceNormalization).
func (h Hook) Backward(s *Step) error {
	n := s.Node
	if isSum(n.Op) {
		return h.sum(s)
	}
	if isNormalization(n.Op) {
		return h.norm(s)
	}
	linear, hasWeight, hasBias := linearOp(n.Op)
	if isInterpolation(n) {
		linear = true
	}
	if !linear {
		return unsupported(n, "LRP rule %s applies to linear ops (Conv, ConvTranspose, Gemm, MatMul, BatchNormalization, pooling, means, interpolating Resize); use Pass or Gradient here", h.Name)
	}
	d, w := 0, 1 // the data input and the weight
	if n.Op == "MatMul" {
		if gi := gateOperand(s.Graph, n); gi >= 0 {
			d, w = 1-gi, gi
			s.frozen = map[int]bool{gi: true}
		}
	}
	for i := range n.Inputs {
		if i != d && s.Needs(i) {
			return unsupported(n, "LRP rule %s needs the node to be linear in one input, and input %d (%s) also depends on the model's input: a product of two such values, neither of which is a gate (softmax, sigmoid, tanh, erf, a normaliser), as attention's q kᵀ is when its softmax is not recognised; no LRP rule here covers it; use a gradient method (saliency, ixg, ig) or DeepLIFT for this model", h.Name, i, n.input(i))
		}
	}
	bias := fusedBias(s.Graph, n)
	r := s.OutGrad(0)
	x := s.In(d)
	type pass struct{ x, w, z string }
	passes := make([]pass, len(h.Terms))
	groups := map[int][]string{}
	for k, t := range h.Terms {
		p := pass{x: x, w: s.In(w)}
		if t.Input != nil {
			p.x = t.Input(s, x)
		}
		if t.Weight != nil {
			if !hasWeight {
				return unsupported(n, "LRP rule %s modifies weights, which %s has none of", h.Name, n.Op)
			}
			p.w = t.Weight(s, p.w)
		}
		switch {
		case t.Input == nil && t.Weight == nil && !t.NoBias && bias != nil:
			p.z = bias.Outputs[0] // the forward pass itself, with the separate bias
		case t.Input == nil && t.Weight == nil && !t.NoBias:
			p.z = n.Outputs[0] // the forward pass itself
		default:
			in := append([]string{}, n.Inputs...)
			in[d] = p.x
			if hasWeight {
				in[w] = p.w
			}
			if t.NoBias && hasBias && len(in) > 2 {
				in = in[:2]
			}
			p.z = s.Emit(n.Op, in, n.Proto.Attribute...)
			if bias != nil && !t.NoBias {
				b := biasOperand(bias, n.Outputs[0])
				if bias.input(0) == n.Outputs[0] {
					p.z = s.Emit(bias.Op, []string{p.z, b})
				} else {
					p.z = s.Emit(bias.Op, []string{b, p.z})
				}
			}
		}
		passes[k] = p
		groups[t.Group] = append(groups[t.Group], p.z)
	}
	q := map[int]string{}
	for gi, zs := range groups {
		q[gi] = s.Emit("Div", []string{r, s.stabilize(s.b.sum(zs), h.Epsilon)})
	}
	var contrib []string
	for k, t := range h.Terms {
		sub := make([]string, max(d, w)+1)
		sub[d] = passes[k].x
		if hasWeight {
			sub[w] = passes[k].w
		}
		grads, err := s.LinearVJP(q[t.Group], sub)
		if err != nil {
			return err
		}
		c := s.Emit("Mul", []string{passes[k].x, grads[d]})
		if t.Coef != 1 {
			c = s.Emit("Mul", []string{c, s.ConstFloat(nil, t.Coef)})
		}
		contrib = append(contrib, c)
	}
	s.SetInGrad(d, s.b.sum(contrib))
	return nil
}

// sum is the ε rule for a sum y = Σ_i s_i x_i (Add, Sub, Sum; s_i = ±1, with broadcasting), a
// linear layer whose weights are the signs (Zennit's Norm rule for its Sum layer, which residual
// connections are canonized into): R_i = s_i x_i ⊙ R / stab(y), summed over the axes along which
// x_i was broadcast. Operands that do not depend on x, such as a bias, absorb their share; two
// branches that meet in a residual connection split the relevance in proportion to their values,
// where the gradient would hand each the whole and double it. Only the plain ε rule is defined on
// sums.
func (h Hook) sum(s *Step) error {
	n := s.Node
	if !h.plain() {
		return unsupported(n, "LRP rule %s on a sum; use the epsilon rule (as composites do) or Gradient", h.Name)
	}
	if s.OutShape(0) == nil {
		return unsupported(n, "cannot infer the shapes needed to undo broadcasting")
	}
	q := s.Emit("Div", []string{s.OutGrad(0), s.stabilize(n.Outputs[0], h.Epsilon)})
	for i := range n.Inputs {
		if !s.Needs(i) {
			continue
		}
		if s.InShape(i) == nil {
			return unsupported(n, "cannot infer the shapes needed to undo broadcasting")
		}
		c := s.Emit("Mul", []string{s.In(i), q})
		if n.Op == "Sub" && i == 1 {
			c = s.Emit("Neg", []string{c})
		}
		if h.Terms[0].Coef != 1 {
			c = s.Emit("Mul", []string{c, s.ConstFloat(nil, h.Terms[0].Coef)})
		}
		s.SetInGrad(i, s.unbroadcast(c, i))
	}
	return nil
}

// stabilize is zennit.core.stabilize: z + ε (sign z + [z = 0]), so that the denominator keeps
// z's sign and is never zero.
func (s *Step) stabilize(z string, eps float32) string {
	sign := s.Emit("Sign", []string{z})
	zero := s.Emit("Cast", []string{s.Emit("Equal", []string{z, s.zero()})}, IntAttr("to", int64(onnx.TensorProto_FLOAT)))
	return s.Emit("Add", []string{z, s.Emit("Mul", []string{s.Emit("Add", []string{sign, zero}), s.ConstFloat(nil, eps)})})
}

// isActivation lists the elementwise activations that LRP composites pass relevance through.
func isActivation(op string) bool {
	switch op {
	case "Relu", "LeakyRelu", "PRelu", "Elu", "Sigmoid", "Tanh", "Softplus", "HardSigmoid", "HardSwish",
		"Clip", "Identity", "Dropout":
		return true
	}
	return false
}

// FirstLinear returns the linear nodes (see Hook) nearest the input: those with no linear node
// between them and the input, where first-layer rules (Flat, WSquare) apply.
func FirstLinear(g *Graph) map[*Node]bool {
	after := map[string]bool{} // value lies downstream of a linear node
	first := map[*Node]bool{}
	for _, n := range g.Nodes {
		lin, _, _ := linearOp(n.Op)
		down := false
		for _, in := range n.Inputs {
			down = down || after[in]
		}
		if lin && !down && g.Values[n.input(0)] != nil && g.Values[n.input(0)].DependsOnInput {
			first[n] = true
		}
		for _, o := range n.Outputs {
			after[o] = down || lin
		}
	}
	return first
}

// LayerMap is the composite of Zennit's layer-map composites: conv for Conv and ConvTranspose,
// dense for Gemm and MatMul, norm for BatchNormalization, average pooling, means and interpolating
// Resize and for sums (Add, Sub, Sum: residual connections and constant shifts, as Zennit's Norm
// rule on its Sum layer), Pass for activations, Scale for multiplications and divisions by
// constants and Neg, and the exact gradient for structural ops (Concat, Split, Slice, Pad,
// reshapes, nearest Resize, MaxPool), whose VJPs already route relevance. An Add or Sub that only
// adds a constant bias to a linear node (fusedBias) passes relevance through when that node's rule
// is a Hook, which then counts the bias as the node's own, so MatMul + Add gets the rules of Gemm
// with a bias, whatever the exporter wrote. Products with a gate (gate.go) hold the gate constant:
// attention's MatMul with the softmax gets dense with the attention weights as its weights, a
// gated activation (Mul, Div) GatePass, and LayerNormalization and InstanceNormalization norm,
// which holds σ constant. A product of two values that both depend on x, neither a gate, keeps
// the gradient. first, unless nil, replaces the rule of the linear nodes nearest the input
// (FirstLinear).
//
// On a network of linear nodes, sums, scalings, structural ops and ReLU-like activations
// (piecewise linear through the origin: Relu, LeakyRelu, MaxPool), LRP-ε with ε → 0 equals
// Input x Gradient with or without biases (Ancona et al. 2018, "Towards better understanding of
// gradient-based attribution methods for deep neural networks"): every rule above keeps
// R_v = v ⊙ ∂f/∂v from a node's output to its inputs. With gates it equals Input x Gradient of
// the network with its gates held constant (conservative propagation, gate.go).
func LayerMap(g *Graph, conv, dense, norm, first Rule) Composite {
	firsts := FirstLinear(g)
	var rule func(n *Node) Rule
	rule = func(n *Node) Rule {
		if first != nil && firsts[n] {
			return first
		}
		switch {
		case n.Op == "Conv" || n.Op == "ConvTranspose":
			return conv
		case n.Op == "Gemm" || n.Op == "MatMul":
			return dense
		case n.Op == "BatchNormalization" || n.Op == "AveragePool" || n.Op == "GlobalAveragePool" ||
			n.Op == "ReduceMean" || n.Op == "ReduceSum" || isInterpolation(n) || isNormalization(n.Op):
			return norm
		case isSum(n.Op):
			if l := biasedBy(g, n); l != nil {
				if _, ok := rule(l).(Hook); ok {
					return Scale()
				}
			}
			return norm
		case isScale(g, n):
			return Scale()
		case isGated(g, n):
			return GatePass()
		case isActivation(n.Op):
			return Pass()
		}
		return Gradient{}
	}
	return rule
}

// biasedBy returns the linear node whose fusedBias is n, or nil.
func biasedBy(g *Graph, n *Node) *Node {
	for _, in := range n.Inputs {
		if m := g.producer(in); in != "" && m != nil && fusedBias(g, m) == n {
			return m
		}
	}
	return nil
}

// EpsilonComposite applies LRP-ε to every linear node.
func EpsilonComposite(g *Graph, eps float32) Composite {
	return LayerMap(g, Epsilon(eps), Epsilon(eps), Epsilon(eps), nil)
}

// EpsilonPlus applies z⁺ to convolutions and ε to dense layers and normalisations (Zennit's
// EpsilonPlus); first, unless nil, is the first layer's rule (Flat for EpsilonPlusFlat, or
// WSquare).
func EpsilonPlus(g *Graph, eps float32, first Rule) Composite {
	return LayerMap(g, ZPlus(), Epsilon(eps), Epsilon(eps), first)
}

// AlphaBetaComposite applies αβ to convolutions and dense layers, ε to normalisations.
func AlphaBetaComposite(g *Graph, alpha, beta, eps float32) Composite {
	return LayerMap(g, AlphaBeta(alpha, beta), AlphaBeta(alpha, beta), Epsilon(eps), nil)
}
