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
		if !isActivation(s.Node.Op) || len(s.Node.Outputs) == 0 {
			return unsupported(s.Node, "DeepLIFT Rescale applies to elementwise activations")
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
		far := s.Emit("Greater", []string{s.Emit("Abs", []string{dx}), s.ConstFloat(nil, rescaleEps)})
		m := s.Emit("Div", []string{dy, s.where(far, dx, s.ConstFloat(nil, 1))})
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
		far := s.Emit("Greater", []string{s.Emit("Abs", []string{dx}), s.ConstFloat(nil, rescaleEps)})
		m := s.Emit("Div", []string{credit, s.where(far, dx, s.ConstFloat(nil, 1))})
		s.SetInGrad(0, s.where(far, m, exact[0]))
		return nil
	})
}

// DeepLift is the composite of DeepLIFT-Rescale: Rescale on elementwise activations,
// MaxPoolRescale on MaxPool, the exact gradient elsewhere (linear ops, Concat, Resize, reshapes).
func DeepLift() Composite {
	return func(n *Node) Rule {
		switch {
		case n.Op == "MaxPool":
			return MaxPoolRescale()
		case isActivation(n.Op) && n.Op != "Identity" && n.Op != "Dropout":
			return Rescale()
		}
		return Gradient{}
	}
}
