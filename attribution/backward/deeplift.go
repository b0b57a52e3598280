package backward

// rescaleEps is the |x - x_ref| below which the Rescale rule falls back to the gradient, where
// the finite-difference multiplier is numerically meaningless (Captum's DeepLift uses 1e-10 in
// float64; float32 round-off needs a larger threshold).
const rescaleEps = 1e-6

// Rescale is DeepLIFT's Rescale rule for an elementwise nonlinearity y = f(x) (Shrikumar et al.
// 2017, "Learning important features through propagating activation differences"; Captum's
// DeepLift nonlinear rule): the multiplier Δy/Δx = (f(x) - f(x_ref)) / (x - x_ref) replaces
// f'(x), except where |Δx| < rescaleEps, where the gradient is kept. Linear ops keep their exact
// VJP, so with a one-hot seed (x - x_ref) ⊙ grad sums to y - y_ref (summation-to-delta). The
// backward model needs Options.Reference.
func Rescale() Rule {
	return RuleFunc(func(s *Step) error {
		if !elementwiseNonlinear(s.Graph, s.Node) || len(s.Node.Outputs) == 0 {
			return unsupported(s.Node, "DeepLIFT Rescale applies to elementwise nonlinearities of one input")
		}
		x, y := s.In(0), s.Node.Outputs[0]
		xr, err := s.Ref(x)
		if err != nil {
			return err
		}
		yr, err := s.Ref(y)
		if err != nil {
			return err
		}
		exact, err := s.LinearVJP(s.OutGrad(0), nil)
		if err != nil {
			return err
		}
		dx := s.Emit("Sub", []string{x, xr})
		dy := s.Emit("Sub", []string{y, yr})
		m, far := s.safeRatio(dy, dx)
		s.SetInGrad(0, s.where(far, s.Emit("Mul", []string{s.OutGrad(0), m}), exact[0]))
		return nil
	})
}

// MaxPoolRescale is DeepLIFT's rule for MaxPool (Shrikumar et al. 2017, section 3.5; Captum's
// DeepLift maxpool rule): each window's difference Δy = y - y_ref is credited to the winners of
// the window, the part max(y, y_ref) - y_ref to the winner on the input and the part
// y - max(y, y_ref) (<= 0) to the winner on the reference, and each input's multiplier is its
// credit divided by its own Δx. So Σ Δx ⊙ m = Σ g Δy per window (summation-to-delta) even when
// the winner changes between the input and the reference, where the gradient would not add up.
// Where |Δx| < rescaleEps the gradient is kept. The backward model needs Options.Reference.
func MaxPoolRescale() Rule {
	return RuleFunc(func(s *Step) error {
		if s.Node.Op != "MaxPool" {
			return unsupported(s.Node, "DeepLIFT's MaxPool rule applies to MaxPool")
		}
		x, y, g := s.In(0), s.Node.Outputs[0], s.OutGrad(0)
		xr, err := s.Ref(x)
		if err != nil {
			return err
		}
		yr, err := s.Ref(y)
		if err != nil {
			return err
		}
		hi := s.Emit("Max", []string{y, yr})
		onX, err := maxPoolScatter(s, x, s.Emit("Mul", []string{g, s.Emit("Sub", []string{hi, yr})}))
		if err != nil {
			return err
		}
		onRef, err := maxPoolScatter(s, xr, s.Emit("Mul", []string{g, s.Emit("Sub", []string{y, hi})}))
		if err != nil {
			return err
		}
		exact, err := s.LinearVJP(g, nil)
		if err != nil {
			return err
		}
		credit := s.Emit("Add", []string{onX, onRef})
		dx := s.Emit("Sub", []string{x, xr})
		m, far := s.safeRatio(credit, dx)
		s.SetInGrad(0, s.where(far, m, exact[0]))
		return nil
	})
}

// elementwiseNonlinear reports whether n is a nonlinear function of one input that depends on
// x, element by element: the activations, and the functions gates and normalisers are built of
// (Erf in GELU, Sqrt, Reciprocal, Exp, Log, Abs, Pow with a constant exponent).
func elementwiseNonlinear(g *Graph, n *Node) bool {
	switch n.Op {
	case "Identity", "Dropout":
		return false
	case "Erf", "Exp", "Log", "Sqrt", "Reciprocal", "Abs":
		return true
	case "Pow":
		return !g.dependent(n.input(1))
	}
	return isActivation(n.Op)
}

// DeepLift is the composite of DeepLIFT-Rescale: Rescale on elementwise nonlinearities,
// MaxPoolRescale on MaxPool, Product on products of two values that both depend on x (Mul,
// MatMul, Div: gates and attention), SoftmaxRescale on Softmax, NormRescale on
// LayerNormalization and InstanceNormalization, the exact gradient elsewhere (linear ops,
// Concat, Resize, reshapes). Every rule keeps summation-to-delta exactly, so it holds through
// attention, gated activations and normalisations too.
func DeepLift() Composite {
	return func(*Node) Rule { return RuleFunc(deepLiftStep) }
}

func deepLiftStep(s *Step) error {
	n, g := s.Node, s.Graph
	switch {
	case n.Op == "MaxPool":
		return MaxPoolRescale().Backward(s)
	case n.Op == "Softmax":
		return SoftmaxRescale().Backward(s)
	case isNormalization(n.Op):
		return NormRescale().Backward(s)
	case (n.Op == "Mul" || n.Op == "MatMul" || n.Op == "Div") && g.bothDependent(n):
		return Product().Backward(s)
	case elementwiseNonlinear(g, n):
		return Rescale().Backward(s)
	}
	return gradientVJP(s)
}

// safeRatio emits the multiplier num/den where |den| > rescaleEps, and the mask far of those
// elements; elsewhere the ratio is num (den replaced by 1) and callers take another value there.
func (s *Step) safeRatio(num, den string) (ratio, far string) {
	far = s.Emit("Greater", []string{s.Emit("Abs", []string{den}), s.ConstFloat(nil, rescaleEps)})
	return s.Emit("Div", []string{num, s.where(far, den, s.ConstFloat(nil, 1))}), far
}

// midpoint emits (a + b) / 2.
func (s *Step) midpoint(a, b string) string {
	return s.Emit("Mul", []string{s.Emit("Add", []string{a, b}), s.ConstFloat(nil, 0.5)})
}

// average emits (v + v_ref) / 2 for a forward value v.
func (s *Step) average(v string) (string, error) {
	r, err := s.Ref(v)
	if err != nil {
		return "", err
	}
	return s.midpoint(v, r), nil
}

// reciprocal emits 1/v.
func (s *Step) reciprocal(v string) string { return s.Emit("Reciprocal", []string{v}) }

// Product is DeepLIFT's rule for a product of two values that both depend on x, a b (Mul) or A B
// (MatMul): ab - a'b' = ((a + a')/2)(b - b') + (a - a')((b + b')/2) exactly (the Shapley split
// between the two factors), so each factor's multiplier is the VJP with the other factor
// replaced by its mean over the input and the reference. A quotient a/b = a · (1/b) splits the
// same way, with 1/b - 1/b' = -(b - b')/(b b'): a's multiplier is the mean of 1/b and 1/b',
// b's is -((a + a')/2)/(b b'). The backward model needs Options.Reference.
func Product() Rule {
	return RuleFunc(func(s *Step) error {
		n := s.Node
		a, err := s.average(s.In(0))
		if err != nil {
			return err
		}
		if n.Op != "Div" {
			b, err := s.average(s.In(1))
			if err != nil {
				return err
			}
			grads, err := s.LinearVJP(s.OutGrad(0), []string{a, b})
			if err != nil {
				return err
			}
			s.SetInGrad(0, grads[0])
			s.SetInGrad(1, grads[1])
			return nil
		}
		if s.InShape(0) == nil || s.InShape(1) == nil || s.OutShape(0) == nil {
			return unsupported(n, "cannot infer the shapes needed to undo broadcasting")
		}
		b := s.In(1)
		br, err := s.Ref(b)
		if err != nil {
			return err
		}
		g := s.OutGrad(0)
		rBar := s.midpoint(s.reciprocal(b), s.reciprocal(br))
		s.SetInGrad(0, s.unbroadcast(s.Emit("Mul", []string{g, rBar}), 0))
		mb := s.Emit("Neg", []string{s.Emit("Div", []string{a, s.Emit("Mul", []string{b, br})})})
		s.SetInGrad(1, s.unbroadcast(s.Emit("Mul", []string{g, mb}), 1))
		return nil
	})
}

// SoftmaxRescale is DeepLIFT for softmax, written as y = e / Z with e = exp(s - c), Z = Σ e over
// the axis and c the larger of the row's maxima on the input and the reference (softmax does not
// depend on c, and so e <= 1): Rescale on exp, the exact sum, and the quotient's split (Product).
// So Σ Δs ⊙ m = Σ g Δy exactly, where the gradient of softmax would not add up.
func SoftmaxRescale() Rule {
	return RuleFunc(func(s *Step) error {
		n := s.Node
		x := s.InShape(0)
		if x == nil {
			return unsupported(n, "cannot infer the input's shape")
		}
		if s.Opset() < 13 {
			return unsupported(n, "opset %d Softmax (flattening semantics)", s.Opset())
		}
		axis := int64(normAxis(n.AttrInt("axis", -1), len(x)))
		in := s.In(0)
		ref, err := s.Ref(in)
		if err != nil {
			return err
		}
		c := s.Emit("Max", []string{s.reduceMax(in, axis), s.reduceMax(ref, axis)})
		ds := s.Emit("Sub", []string{in, ref})
		e := s.Emit("Exp", []string{s.Emit("Sub", []string{in, c})})
		er := s.Emit("Exp", []string{s.Emit("Sub", []string{ref, c})})
		z, zr := s.reduceSum(e, []int64{axis}, true), s.reduceSum(er, []int64{axis}, true)
		g := s.OutGrad(0)
		// y = e · (1/Z): e's share through the mean of 1/Z and 1/Z', Z's through the mean of e.
		rBar := s.midpoint(s.reciprocal(z), s.reciprocal(zr))
		eBar := s.midpoint(e, er)
		gz := s.Emit("Neg", []string{s.Emit("Div", []string{s.reduceSum(s.Emit("Mul", []string{g, eBar}), []int64{axis}, true), s.Emit("Mul", []string{z, zr})})})
		ge := s.Emit("Add", []string{s.Emit("Mul", []string{g, rBar}), gz})
		// exp's Rescale multiplier (e - e')/(s - s'), its derivative e where the two are close.
		ratio, far := s.safeRatio(s.Emit("Sub", []string{e, er}), ds)
		s.SetInGrad(0, s.Emit("Mul", []string{ge, s.where(far, ratio, e)}))
		return nil
	})
}

// reduceMax emits ReduceMax over one axis, keeping it (axes an attribute before opset 18, an
// input since).
func (s *Step) reduceMax(v string, axis int64) string {
	if s.Opset() >= 18 {
		return s.Emit("ReduceMax", []string{v, s.ConstInt([]int64{1}, axis)}, IntAttr("keepdims", 1))
	}
	return s.Emit("ReduceMax", []string{v}, IntsAttr("axes", []int64{axis}), IntAttr("keepdims", 1))
}

// NormRescale is DeepLIFT for LayerNormalization and InstanceNormalization, y = γ (x - μ)/σ + β
// with σ = sqrt(mean((x - μ)²) + ε), taken apart into exact steps: the centring and the means
// are linear, the square (x - μ)(x - μ) a product (Product's split gives the multiplier 2 x̄c,
// x̄c the mean of x - μ over the input and the reference), sqrt a Rescale, and the quotient
// (x - μ)/σ Product's.
// So Σ Δx ⊙ m = Σ g Δy exactly. The backward model needs Options.Reference.
func NormRescale() Rule {
	return RuleFunc(func(s *Step) error {
		st, err := normStats(s)
		if err != nil {
			return err
		}
		ref, err := s.Ref(s.In(0))
		if err != nil {
			return err
		}
		sr := *s
		sr.in = append([]string{ref}, s.in[1:]...)
		rt, err := normStats(&sr)
		if err != nil {
			return err
		}
		gh := s.Emit("Mul", []string{s.OutGrad(0), st.scale})
		xcBar := s.midpoint(st.xc, rt.xc)
		// x̂ = xc · (1/σ): xc's share through the mean of 1/σ, σ's through -x̄c/(σ σ').
		gxc := s.Emit("Mul", []string{gh, s.midpoint(s.reciprocal(st.sigma), s.reciprocal(rt.sigma))})
		// The cotangent of σ is -Σ gh ⊙ x̄c / (σ σ'); taken as a mean, it is already divided by the
		// count, as the variance's mean over the axes asks of each square's share.
		gsigma := s.Emit("Neg", []string{s.Emit("Div", []string{st.mean(s.Emit("Mul", []string{gh, xcBar})), s.Emit("Mul", []string{st.sigma, rt.sigma})})})
		// sqrt's Rescale multiplier (σ - σ')/(σ² - σ'²), its derivative 1/(2σ) where the two are close.
		ratio, far := s.safeRatio(s.Emit("Sub", []string{st.sigma, rt.sigma}), s.Emit("Sub", []string{st.variance, rt.variance}))
		msqrt := s.where(far, ratio, s.Emit("Div", []string{s.ConstFloat(nil, 0.5), st.sigma}))
		gsq := s.Emit("Mul", []string{gsigma, msqrt})
		// (xc)² = xc · xc: multiplier 2 x̄c.
		gxc = s.Emit("Add", []string{gxc, s.Emit("Mul", []string{gsq, s.Emit("Add", []string{xcBar, xcBar})})})
		// xc = x - mean(x): the adjoint of centring.
		s.SetInGrad(0, s.Emit("Sub", []string{gxc, st.mean(gxc)}))
		return nil
	})
}
