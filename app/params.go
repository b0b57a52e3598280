package app

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"climxai/attribution"
)

// MethodParams names the parameters a method reads, as the command line's flags name them
// ("steps", "baseline", "quadrature", "noise-samples", "sigma", "noise-seed", "occlude",
// "epsilon", "lambda", "step", "iters"), in the registry's order; nil for an unknown method.
// The noise methods read their seed beside sigma, as their flags do.
func MethodParams(method string) []string {
	spec, err := attribution.LookupMethod(method)
	if err != nil {
		return nil
	}
	out := slices.Clone(spec.Settings)
	if slices.Contains(out, "sigma") {
		out = append(out, "noise-seed")
	}
	return out
}

// DefaultParams are method's parameters at their defaults, as text (empty for methods without
// parameters).
func DefaultParams(method string) map[string]string {
	return paramsOf(method, attribution.DefaultSettings())
}

// paramsOf writes the parameters method reads from s as text.
func paramsOf(method string, s attribution.Settings) map[string]string {
	out := map[string]string{}
	for _, name := range MethodParams(method) {
		var v string
		switch name {
		case "steps":
			v = strconv.Itoa(s.Steps)
		case "baseline":
			v = s.Baseline.String()
		case "quadrature":
			v = s.Quadrature.String()
		case "noise-samples":
			v = strconv.Itoa(s.NoiseSamples)
		case "sigma":
			v = strconv.FormatFloat(s.Sigma, 'g', -1, 64)
		case "noise-seed":
			v = strconv.FormatUint(s.NoiseSeed, 10)
		case "occlude":
			v = s.Occlude.String()
		case "epsilon":
			v = strconv.FormatFloat(s.Epsilon, 'g', -1, 64)
		case "lambda":
			v = strconv.FormatFloat(s.Lambda, 'g', -1, 64)
		case "step":
			v = strconv.FormatFloat(s.Step, 'g', -1, 64)
		case "iters":
			v = strconv.Itoa(s.Iters)
		}
		out[name] = v
	}
	return out
}

// ParamChoices are the usual values of a method parameter, offered as a list in the window's
// parameters dialog (other values can still be typed); nil for free parameters.
func ParamChoices(name string) []string {
	switch name {
	case "baseline":
		return []string{"zero", "blur:3", "mean", "mean:time", "mean:space"}
	case "quadrature":
		return []string{"adaptive", "riemann", "gausslegendre"}
	case "occlude":
		return []string{"month", "patch:3", "patch:5", "block:3x3", "block:5x6"}
	}
	return nil
}

// MethodSettings turns method's parameters given as text (a dialog's entries, a session file)
// into settings over the defaults and makes sure the method accepts them. A parameter the
// method does not read, or a value of the wrong form, is a *SelectionError that names it and
// says what is allowed. Custom baseline files are the command line's (--baseline FILE.nc).
func MethodSettings(method string, params map[string]string) (attribution.Settings, error) {
	spec, err := attribution.LookupMethod(method)
	if err != nil {
		return attribution.Settings{}, &SelectionError{Msg: err.Error()}
	}
	s := attribution.DefaultSettings()
	allowed := MethodParams(method)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		v := params[name]
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return s, selErr("%s takes no parameters, got %q", method, name)
			}
			return s, selErr("%s does not read %q; its parameters: %v", method, name, allowed)
		}
		bad := func(err error, want string) error {
			return selErr("%s %s = %q: %v (want %s)", method, name, v, err, want)
		}
		switch name {
		case "steps", "noise-samples", "iters":
			n, err := strconv.Atoi(v)
			if err != nil {
				return s, bad(err, "a whole number")
			}
			switch name {
			case "steps":
				s.Steps = n
			case "noise-samples":
				s.NoiseSamples = n
			default:
				s.Iters = n
			}
		case "sigma", "epsilon", "lambda", "step":
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return s, bad(err, "a number")
			}
			switch name {
			case "sigma":
				s.Sigma = x
			case "epsilon":
				s.Epsilon = x
			case "lambda":
				s.Lambda = x
			default:
				s.Step = x
			}
		case "noise-seed":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return s, bad(err, "a whole number >= 0")
			}
			s.NoiseSeed = n
		case "baseline":
			b, err := attribution.ParseBaseline(v)
			if err != nil {
				return s, bad(err, "zero, blur, blur:SIGMA, mean, mean:time or mean:space; a baseline file needs the command line's --baseline")
			}
			s.Baseline = b
		case "quadrature":
			q, err := attribution.ParseQuadrature(v)
			if err != nil {
				return s, bad(err, "riemann, gausslegendre or adaptive")
			}
			s.Quadrature = q
		case "occlude":
			o, err := attribution.ParseOcclusionWindow(v)
			if err != nil {
				return s, bad(err, "month, patch:K or block:KxM")
			}
			s.Occlude = o
		}
	}
	if _, err := spec.New(s); err != nil {
		return s, &SelectionError{Msg: fmt.Sprintf("%s: %v", method, err)}
	}
	return s, nil
}
