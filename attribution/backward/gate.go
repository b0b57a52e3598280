package backward

// Conservative propagation through the parts of a network that are neither layers with weights
// nor activations of one value: attention (softmax(q kᵀ) v), gated activations (SiLU x σ(x),
// GELU x Φ(x), Mish x tanh(softplus x)) and normalisations ((x - μ)/σ). Each is a product of two
// values that both depend on the input, which no LRP rule for a layer covers. Following Ali et
// al. (2022), "XAI for Transformers: Better Explanations through Conservative Propagation"
// (ICML), and Achtibat et al. (2024), "AttnLRP: Attention-Aware Layer-Wise Relevance Propagation
// for Transformers" (ICML), the rules hold one factor, the gate, constant: the attention weights,
// the activation's gate, the normaliser σ. The product is then linear in the other factor, the
// layer's rule applies to it, and the gate's branch receives no relevance. With ε → 0 the
// relevance equals Input x Gradient of the network with every gate detached (what the papers
// compute in PyTorch with .detach()), and it is conserved where the gradient is not: the gradient
// of x σ(x) is σ(x) + x σ'(x), which hands a layer below more or less than the layer above had.

// gateSources are the ops whose output, as one factor of a product, is a gate: squashing
// functions (softmax, sigmoid, tanh, erf, hard sigmoid), and the square root and reciprocal a
// normaliser σ or 1/σ is computed with.
var gateSources = map[string]bool{
	"Softmax": true, "Sigmoid": true, "Tanh": true, "Erf": true, "HardSigmoid": true,
	"Sqrt": true, "Reciprocal": true,
}

// producer returns the node that computes v, or nil for graph inputs and initializers.
func (g *Graph) producer(v string) *Node {
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == v {
				return n
			}
		}
	}
	return nil
}

// dependent reports whether value v depends on the input.
func (g *Graph) dependent(v string) bool {
	val := g.Values[v]
	return v != "" && val != nil && val.DependsOnInput
}

// bothDependent reports whether n has two inputs that both depend on the input: a product of
// two such values (a gate, attention) rather than a scaling by a constant.
func (g *Graph) bothDependent(n *Node) bool {
	return len(n.Inputs) == 2 && g.dependent(n.input(0)) && g.dependent(n.input(1))
}

// isGate reports whether v is a gate source's output, possibly rearranged (reshapes, transposes,
// slices, casts) or shifted and scaled by constants (1 + erf(x/√2) in GELU, 0.5 σ).
func (g *Graph) isGate(v string) bool {
	for {
		p := g.producer(v)
		if p == nil {
			return false
		}
		if gateSources[p.Op] {
			return true
		}
		switch p.Op {
		case "Identity", "Dropout", "Cast", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
			"Expand", "Slice", "Gather", "Neg":
			v = p.input(0)
		case "Add", "Sub", "Mul", "Div":
			a, b := g.dependent(p.input(0)), g.dependent(p.input(1))
			switch {
			case a && !b:
				v = p.input(0)
			case b && !a && p.Op != "Div": // c / g is not a gate's rescaling
				v = p.input(1)
			default:
				return false
			}
		default:
			return false
		}
	}
}

// gateOperand returns which input of n, a product of two values that both depend on the input,
// is the gate the LRP rules hold constant, or -1: the divisor of a Div (a normaliser), and the
// one factor of a Mul or MatMul that is a gate (isGate). A product of two gates, or of two values
// neither of which is one (q kᵀ), has none.
func gateOperand(g *Graph, n *Node) int {
	if !g.bothDependent(n) {
		return -1
	}
	switch n.Op {
	case "Div":
		return 1
	case "Mul", "MatMul":
		a, b := g.isGate(n.input(0)), g.isGate(n.input(1))
		switch {
		case a && !b:
			return 0
		case b && !a:
			return 1
		}
	}
	return -1
}

// isGated reports whether n is an elementwise product (Mul, Div) with a gate.
func isGated(g *Graph, n *Node) bool {
	return (n.Op == "Mul" || n.Op == "Div") && gateOperand(g, n) >= 0
}

// GatePass is the identity rule for an elementwise product with a gate (isGated): the gated
// operand receives the whole relevance, summed over the axes along which it was broadcast, and
// the gate none (AttnLRP's rule for elementwise nonlinearities; with ε → 0 every ε rule gives the
// same, since x ⊙ g ⊙ R / (x ⊙ g) = R).
func GatePass() Rule {
	return RuleFunc(func(s *Step) error {
		gi := gateOperand(s.Graph, s.Node)
		if gi < 0 {
			return unsupported(s.Node, "GatePass applies to a product of a value and a gate (softmax, sigmoid, tanh, erf, a normaliser)")
		}
		d := 1 - gi
		if s.InShape(d) == nil || s.OutShape(0) == nil {
			return unsupported(s.Node, "cannot infer the shapes needed to undo broadcasting")
		}
		s.SetInGrad(d, s.unbroadcast(s.OutGrad(0), d))
		return nil
	})
}

// isNormalization reports whether op normalises by a σ computed from its input.
func isNormalization(op string) bool {
	return op == "LayerNormalization" || op == "InstanceNormalization"
}

// norm is the ε rule for LayerNormalization and InstanceNormalization with σ held constant (Ali
// et al. 2022's LN-rule): y = γ ⊙ (x - μ)/σ + β is then a linear layer in x with weights
// γ/σ (I - 1/n) over the normalised axes and bias β, so
//
//	R_x = x ⊙ (ĝ - mean ĝ) / σ,  ĝ = γ ⊙ R_y / stab(y).
func (h Hook) norm(s *Step) error {
	if !h.plain() {
		return unsupported(s.Node, "LRP rule %s on a normalisation; use the epsilon rule (as composites do) or Gradient", h.Name)
	}
	st, err := normStats(s)
	if err != nil {
		return err
	}
	q := s.Emit("Div", []string{s.OutGrad(0), s.stabilize(s.Node.Outputs[0], h.Epsilon)})
	gh := s.Emit("Mul", []string{q, st.scale})
	d := s.Emit("Div", []string{s.Emit("Sub", []string{gh, st.mean(gh)}), st.sigma})
	r := s.Emit("Mul", []string{s.In(0), d})
	if c := h.Terms[0].Coef; c != 1 {
		r = s.Emit("Mul", []string{r, s.ConstFloat(nil, c)})
	}
	s.SetInGrad(0, r)
	return nil
}

// plain reports whether h is the plain ε rule (one term, no modifiers, the bias kept), the only
// rule defined on sums and normalisations.
func (h Hook) plain() bool {
	return len(h.Terms) == 1 && h.Terms[0].Input == nil && h.Terms[0].Weight == nil && !h.Terms[0].NoBias
}
