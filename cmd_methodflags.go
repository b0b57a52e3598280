package main

import (
	"flag"
	"slices"
	"strings"

	"climxai/app"
	"climxai/attribution"
	"climxai/inference"
)

// methodFlags are the attribution methods' flags (--method and its parameters), shared by the
// verbs that run a method: explain, aggregate, decaymap.
type methodFlags struct {
	method                   *string
	steps, noise, iters      *int
	baseline, quad, occlude  *string
	sigma, eps, lambda, step *float64
	noiseSeed                *uint64
	def                      attribution.Settings
	names                    []string
	spec                     attribution.Spec
	set                      attribution.Settings
	baselineFile, verb       string
}

func addMethodFlags(fs *flag.FlagSet) *methodFlags {
	def := attribution.DefaultSettings()
	return &methodFlags{def: def,
		method:    fs.String("method", "saliency", strings.Join(attribution.MethodNames(), " | ")),
		steps:     fs.Int("steps", def.Steps, "ig: quadrature points"),
		baseline:  fs.String("baseline", def.Baseline.String(), "ig, deeplift, occlusion: zero | blur | blur:SIGMA_CELLS | mean | mean:time | mean:space | FILE.nc (lag, lat, lon)"),
		quad:      fs.String("quadrature", def.Quadrature.String(), "ig: riemann | gausslegendre | adaptive"),
		noise:     fs.Int("noise-samples", def.NoiseSamples, "smoothgrad, smoothgrad2, vargrad: noisy samples"),
		sigma:     fs.Float64("sigma", def.Sigma, "smoothgrad, smoothgrad2, vargrad: noise as a fraction of the input's spread"),
		noiseSeed: fs.Uint64("noise-seed", def.NoiseSeed, "smoothgrad, smoothgrad2, vargrad: random seed"),
		occlude:   fs.String("occlude", def.Occlude.String(), "occlusion: month | patch:K | block:KxM"),
		eps:       fs.Float64("epsilon", def.Epsilon, "lrp-*: the epsilon rule's stabiliser"),
		lambda:    fs.Float64("lambda", def.Lambda, "backopt: L2 penalty"),
		step:      fs.Float64("step", def.Step, "backopt: step size"),
		iters:     fs.Int("iters", def.Iters, "backopt: iterations"),
		names:     []string{"steps", "baseline", "quadrature", "noise-samples", "sigma", "noise-seed", "occlude", "epsilon", "lambda", "step", "iters"},
	}
}

// parse checks the method and its flags after fs is parsed (usage errors, before any file is
// opened); a flag the chosen method does not read is a mistake worth stopping for.
func (mf *methodFlags) parse(verb string, fs *flag.FlagSet) (*methodFlags, error) {
	spec, err := attribution.LookupMethod(*mf.method)
	if err != nil {
		return nil, app.Usagef("%s: --method: %v", verb, err)
	}
	var stray []string
	fs.Visit(func(f *flag.Flag) {
		name := f.Name
		if name == "noise-seed" {
			name = "sigma"
		}
		if slices.Contains(mf.names, f.Name) && !slices.Contains(spec.Settings, name) {
			stray = append(stray, "--"+f.Name)
		}
	})
	if len(stray) > 0 {
		return nil, app.Usagef("%s: %s not used by --method %s (its flags: %s)", verb, strings.Join(stray, ", "), spec.Name, flagList(spec.Settings))
	}
	set := mf.def
	set.Steps, set.NoiseSamples, set.Sigma, set.NoiseSeed = *mf.steps, *mf.noise, *mf.sigma, *mf.noiseSeed
	set.Epsilon, set.Lambda, set.Step, set.Iters = *mf.eps, *mf.lambda, *mf.step, *mf.iters
	if set.Quadrature, err = attribution.ParseQuadrature(*mf.quad); err != nil {
		return nil, app.Usagef("%s: --quadrature: %v", verb, err)
	}
	if set.Occlude, err = attribution.ParseOcclusionWindow(*mf.occlude); err != nil {
		return nil, app.Usagef("%s: --occlude: %v", verb, err)
	}
	if set.Baseline, err = attribution.ParseBaseline(*mf.baseline); err != nil {
		if !strings.HasSuffix(strings.ToLower(*mf.baseline), ".nc") && !fileExists(*mf.baseline) {
			return nil, app.Usagef("%s: --baseline: %v", verb, err)
		}
		mf.baselineFile = *mf.baseline
		set.Baseline = mf.def.Baseline
	}
	if _, err := spec.New(set); err != nil {
		return nil, app.Usagef("%s: %v", verb, err)
	}
	mf.spec, mf.set, mf.verb = spec, set, verb
	return mf, nil
}

// build makes the method, reading a custom baseline file on the card's grid.
func (mf *methodFlags) build(card *inference.Card) (attribution.Method, error) {
	set := mf.set
	if mf.baselineFile != "" {
		vals, err := readBaseline(mf.baselineFile, card)
		if err != nil {
			return nil, err
		}
		set.Baseline = attribution.Baseline{Kind: attribution.BaselineCustom, Values: vals, Source: mf.baselineFile}
	}
	m, err := mf.spec.New(set)
	if err != nil {
		return nil, app.Usagef("%s: %v", mf.verb, err)
	}
	return m, nil
}
