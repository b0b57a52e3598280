package attribution

import (
	"slices"
	"strings"
)

// Settings are every method's parameters as typed values, filled by a command line or a dialog
// from DefaultSettings; each method's constructor reads the fields it uses (Spec.Settings) and
// validates them.
type Settings struct {
	Steps        int        // ig: quadrature points
	Quadrature   Quadrature // ig
	Baseline     Baseline   // ig, deeplift, occlusion
	NoiseSamples int        // smoothgrad, smoothgrad2, vargrad
	Sigma        float64    // smoothgrad...: noise as a fraction of the input's spread
	NoiseSeed    uint64     // smoothgrad...: random seed
	Occlude      OcclusionWindow
	Epsilon      float64 // lrp-*
	Lambda       float64 // backopt: L2 penalty
	Step         float64 // backopt: step size
	Iters        int     // backopt: iterations
}

// DefaultSettings are the parameters used when none are given.
func DefaultSettings() Settings {
	return Settings{Steps: 64, Quadrature: Adaptive, Baseline: Baseline{Kind: BaselineZero},
		NoiseSamples: 32, Sigma: 0.15, NoiseSeed: 1, Occlude: OcclusionWindow{Mode: OccludeMonth},
		Epsilon: DefaultEpsilon, Lambda: 0.01, Step: 1, Iters: 100}
}

// Spec is one entry of the method registry.
type Spec struct {
	Name    string
	Summary string
	// Settings names the parameters the method reads, as command-line flags ("steps",
	// "baseline", "quadrature", "noise-samples", "sigma", "occlude", "epsilon", "lambda",
	// "step", "iters").
	Settings []string
	// New makes the method from settings, validating the parameters it reads.
	New func(Settings) (Method, error)
}

// Methods returns the registry of attribution methods in a stable order (a fresh slice each
// call: there is no package state to mutate).
func Methods() []Spec {
	lrp := func(c LRPComposite, summary string) Spec {
		return Spec{Name: c.String(), Summary: summary, Settings: []string{"epsilon"},
			New: func(s Settings) (Method, error) {
				m := LRP{Composite: c, Epsilon: s.Epsilon}
				if !(m.Epsilon > 0) {
					return nil, errorf(ErrBadParameter, "use --epsilon > 0 (e.g. 1e-6 or 0.25)", "epsilon = %g", m.Epsilon)
				}
				return m, nil
			}}
	}
	smooth := func(k SmoothingKind, summary string) Spec {
		return Spec{Name: SmoothGrad{Kind: k}.Name(), Summary: summary, Settings: []string{"noise-samples", "sigma"},
			New: func(s Settings) (Method, error) {
				m := SmoothGrad{Kind: k, NoiseSamples: s.NoiseSamples, Sigma: s.Sigma, Seed: s.NoiseSeed}
				return m, m.validate()
			}}
	}
	return []Spec{
		{Name: "saliency", Summary: "gradient of the target's forecast (Simonyan et al. 2014)",
			New: func(Settings) (Method, error) { return Saliency{}, nil }},
		{Name: "ixg", Summary: "input x gradient (Shrikumar et al. 2016)",
			New: func(Settings) (Method, error) { return InputXGradient{}, nil }},
		{Name: "ig", Summary: "integrated gradients with completeness check (Sundararajan et al. 2017)",
			Settings: []string{"steps", "baseline", "quadrature"},
			New: func(s Settings) (Method, error) {
				m := IntegratedGradients{Steps: s.Steps, Quadrature: s.Quadrature, Baseline: s.Baseline}
				return m, m.validate()
			}},
		smooth(SmoothGradMean, "mean gradient over noisy inputs (Smilkov et al. 2017)"),
		smooth(SmoothGradSquared, "mean squared gradient over noisy inputs (Hooker et al. 2019)"),
		smooth(VarGrad, "variance of gradients over noisy inputs (Adebayo et al. 2018)"),
		{Name: "deeplift", Summary: "DeepLIFT-Rescale against a zero anomaly (Shrikumar et al. 2017)",
			Settings: []string{"baseline"},
			New:      func(s Settings) (Method, error) { return DeepLIFT{Baseline: s.Baseline}, nil }},
		lrp(LRPEpsilon, "LRP-ε on every layer (Bach et al. 2015)"),
		lrp(LRPZPlus, "LRP-z⁺ on every layer (Montavon et al. 2019)"),
		lrp(LRPAlpha1Beta0, "LRP-αβ, α=1 β=0"),
		lrp(LRPAlpha2Beta1, "LRP-αβ, α=2 β=1"),
		lrp(LRPEpsilonPlus, "LRP: z⁺ on convolutions, ε on dense layers"),
		lrp(LRPEpsilonPlusFlat, "LRP: ε-plus with the flat rule on the first layer"),
		{Name: "occlusion", Summary: "output change when windows are set to climatology (Zeiler & Fergus 2014)",
			Settings: []string{"occlude", "baseline"},
			New: func(s Settings) (Method, error) {
				return Occlusion{Window: s.Occlude, Baseline: s.Baseline}, nil
			}},
		{Name: "backopt", Summary: "input maximising the forecast under an L2 penalty (Toms et al. 2020)",
			Settings: []string{"lambda", "step", "iters"},
			New: func(s Settings) (Method, error) {
				m := BackwardOptimization{Lambda: s.Lambda, Step: s.Step, Iters: s.Iters}
				if !(m.Lambda >= 0) || !(m.Step > 0) || m.Iters < 1 {
					return nil, errorf(ErrBadParameter, "use --lambda >= 0, --step > 0 and --iters >= 1", "lambda = %g, step = %g, iters = %d", m.Lambda, m.Step, m.Iters)
				}
				return m, nil
			}},
	}
}

// MethodNames lists the registry's names in order.
func MethodNames() []string {
	var names []string
	for _, s := range Methods() {
		names = append(names, s.Name)
	}
	return names
}

// LookupMethod returns the registry entry called name, or an ErrBadMethod error listing them.
func LookupMethod(name string) (Spec, error) {
	ms := Methods()
	if i := slices.IndexFunc(ms, func(s Spec) bool { return s.Name == name }); i >= 0 {
		return ms[i], nil
	}
	return Spec{}, errorf(ErrBadMethod, "use one of "+strings.Join(MethodNames(), ", "), "%q", name)
}
