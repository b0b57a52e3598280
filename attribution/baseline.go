package attribution

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// BaselineKind says what a Baseline is.
type BaselineKind uint8

// Baselines of Integrated Gradients (and references of DeepLIFT and occlusion).
const (
	// BaselineZero is a zero anomaly everywhere: the climatology, the natural "no information"
	// input of an anomaly emulator.
	BaselineZero BaselineKind = iota
	// BaselineBlur is the input blurred in space by a Gaussian, month by month (Sturmfels et al.
	// 2020, "Visualizing the impact of feature attribution baselines"): it keeps large-scale
	// anomalies and removes the fine structure, so IG then attributes the fine structure.
	BaselineBlur
	// BaselineCustom is a given field (lag, lat, lon), e.g. read from a NetCDF file.
	BaselineCustom
	// BaselineMean is the input's own mean: over every ocean cell and month ("mean": one
	// value, so IG attributes both where and when the input departs from its average), over
	// the months at each cell ("mean:time": each cell keeps its level, so IG attributes the
	// input's evolution over the window, month by month) or over the ocean in each month
	// ("mean:space": each month keeps its basin-wide level, so IG attributes the spatial
	// pattern). Means over cells are weighted by cell area (cos latitude).
	BaselineMean
)

// MeanOver says what BaselineMean averages over.
type MeanOver uint8

// What a mean baseline averages over.
const (
	MeanAll   MeanOver = iota // every ocean cell and month
	MeanTime                  // the months, cell by cell
	MeanSpace                 // the ocean cells, month by month
)

// DefaultBlurSigma is the blurred baseline's Gaussian width in grid cells.
const DefaultBlurSigma = 3.0

// Baseline is the reference input of a path or difference method.
type Baseline struct {
	Kind      BaselineKind
	BlurSigma float64   // BaselineBlur: the Gaussian's standard deviation in grid cells
	Values    []float32 // BaselineCustom: [lag][lat][lon] in model input units, NaN or 0 on land; one such block per input variable (Emulator.Vars)
	Source    string    // BaselineCustom: where Values came from (a file name), for printing
	Over      MeanOver  // BaselineMean: what the mean is over
}

// String prints the baseline as in result parameters: "zero", "blur:3", "mean", "mean:time",
// "mean:space", "file:NAME".
func (b Baseline) String() string {
	switch b.Kind {
	case BaselineBlur:
		return "blur:" + strconv.FormatFloat(b.sigma(), 'g', 4, 64)
	case BaselineCustom:
		return "file:" + b.Source
	case BaselineMean:
		switch b.Over {
		case MeanTime:
			return "mean:time"
		case MeanSpace:
			return "mean:space"
		}
		return "mean"
	}
	return "zero"
}

func (b Baseline) sigma() float64 {
	if b.BlurSigma > 0 {
		return b.BlurSigma
	}
	return DefaultBlurSigma
}

// ParseBaseline parses "zero", "blur", "blur:SIGMA" (cells), "mean", "mean:time" or
// "mean:space". Anything else is an ErrBadBaseline error; a command line treats it as a file
// name and builds a BaselineCustom.
func ParseBaseline(s string) (Baseline, error) {
	switch {
	case s == "zero" || s == "climatology":
		return Baseline{Kind: BaselineZero}, nil
	case s == "mean" || s == "mean:all":
		return Baseline{Kind: BaselineMean, Over: MeanAll}, nil
	case s == "mean:time":
		return Baseline{Kind: BaselineMean, Over: MeanTime}, nil
	case s == "mean:space":
		return Baseline{Kind: BaselineMean, Over: MeanSpace}, nil
	case strings.HasPrefix(s, "mean:"):
		return Baseline{}, errorf(ErrBadBaseline, "use mean (over cells and months), mean:time (each cell over the months) or mean:space (each month over the ocean)", "%q", s)
	case s == "blur":
		return Baseline{Kind: BaselineBlur, BlurSigma: DefaultBlurSigma}, nil
	case strings.HasPrefix(s, "blur:"):
		v, err := strconv.ParseFloat(s[5:], 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return Baseline{}, errorf(ErrBadBaseline, "give blur:SIGMA with SIGMA in grid cells, e.g. blur:3", "%q", s)
		}
		return Baseline{Kind: BaselineBlur, BlurSigma: v}, nil
	}
	return Baseline{}, errorf(ErrBadBaseline, "use zero, blur, blur:SIGMA, mean, mean:time, mean:space or a NetCDF file of (lag, lat, lon)", "%q", s)
}

// input returns the baseline for input x in the emulator's channel order, 0 on land.
func (b Baseline) input(req Request) ([]float32, error) {
	e := req.Emulator
	n, months := e.cells(), e.Months()
	out := make([]float32, len(req.X))
	switch b.Kind {
	case BaselineZero:
		for v := range e.NVars() {
			z := e.zero(v)
			for k := range months {
				c := e.channel(v, k)
				for i := range n {
					if req.ocean(i) {
						out[c*n+i] = z
					}
				}
			}
		}
	case BaselineBlur:
		for c := range e.Slabs() {
			blur(out[c*n:(c+1)*n], req.X[c*n:(c+1)*n], e.NLat(), e.NLon(), b.sigma(), req.ocean)
		}
	case BaselineCustom:
		if len(b.Values) != len(req.X) {
			return nil, errorf(ErrBadBaseline, fmt.Sprintf("the baseline must be (lag, lat, lon) = (%d, %d, %d) on the card's grid, for each of %d input variables", months, e.NLat(), e.NLon(), e.NVars()),
				"%s has %d values", b.Source, len(b.Values))
		}
		out = e.fromLags(b.Values)
		for c := range e.Slabs() {
			for i := range n {
				if !req.ocean(i) {
					out[c*n+i] = 0
				}
			}
		}
	case BaselineMean:
		if e.NVars() == 1 {
			meanBaseline(out, req.X, months, e.rowWeights(), e.NLon(), b.Over, req.ocean)
			break
		}
		// Each variable's own mean, over its own months: in lag order, one block a variable.
		x, m := e.toLags(req.X, nil), make([]float32, len(req.X))
		for v := range e.NVars() {
			blk := v * months * n
			meanBaseline(m[blk:blk+months*n], x[blk:blk+months*n], months, e.rowWeights(), e.NLon(), b.Over, req.ocean)
		}
		out = e.fromLags(m)
	default:
		return nil, errorf(ErrBadBaseline, "", "unknown baseline kind %d", b.Kind)
	}
	return out, nil
}

// meanBaseline writes to dst the mean of x ([months][len(rows)][nlon]) that over asks for, on
// ocean cells (land stays 0). rows weighs each grid row (its cells' area); means over cells
// use it, means over months are plain.
func meanBaseline(dst, x []float32, months int, rows []float64, nlon int, over MeanOver, ocean func(int) bool) {
	n := len(rows) * nlon
	w := func(i int) float64 { return rows[i/nlon] }
	// fill sets month c's ocean cells to v.
	fill := func(c int, v float64) {
		for i := range n {
			if ocean(i) {
				dst[c*n+i] = float32(v)
			}
		}
	}
	// spatial is month c's area-weighted sum over the ocean and the sum of the weights.
	spatial := func(c int) (s, ws float64) {
		for i := range n {
			if ocean(i) {
				s, ws = s+w(i)*float64(x[c*n+i]), ws+w(i)
			}
		}
		return s, ws
	}
	switch over {
	case MeanTime:
		for i := range n {
			if !ocean(i) {
				continue
			}
			var s float64
			for c := range months {
				s += float64(x[c*n+i])
			}
			for c := range months {
				dst[c*n+i] = float32(s / float64(months))
			}
		}
	case MeanSpace:
		for c := range months {
			if s, ws := spatial(c); ws > 0 {
				fill(c, s/ws)
			}
		}
	default:
		var s, ws float64
		for c := range months {
			a, b := spatial(c)
			s, ws = s+a, ws+b
		}
		if ws > 0 {
			for c := range months {
				fill(c, s/ws)
			}
		}
	}
}

// blur writes to dst the Gaussian blur (standard deviation sigma cells, truncated at 3 sigma) of
// src over ocean cells only: a normalised convolution Σ g·x·m / Σ g·m, so land neither leaks
// zeros into the coast nor receives values (it stays 0).
func blur(dst, src []float32, nlat, nlon int, sigma float64, ocean func(int) bool) {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
	}
	num, den := make([]float64, nlat*nlon), make([]float64, nlat*nlon)
	tn, td := make([]float64, nlat*nlon), make([]float64, nlat*nlon)
	for i := range nlat {
		for j := range nlon {
			var a, m float64
			for d := -r; d <= r; d++ {
				jj := j + d
				if jj < 0 || jj >= nlon || !ocean(i*nlon+jj) {
					continue
				}
				a += k[d+r] * float64(src[i*nlon+jj])
				m += k[d+r]
			}
			tn[i*nlon+j], td[i*nlon+j] = a, m
		}
	}
	for i := range nlat {
		for j := range nlon {
			var a, m float64
			for d := -r; d <= r; d++ {
				ii := i + d
				if ii < 0 || ii >= nlat {
					continue
				}
				a += k[d+r] * tn[ii*nlon+j]
				m += k[d+r] * td[ii*nlon+j]
			}
			num[i*nlon+j], den[i*nlon+j] = a, m
		}
	}
	for c := range dst {
		if ocean(c) && den[c] > 0 {
			dst[c] = float32(num[c] / den[c])
		} else {
			dst[c] = 0
		}
	}
}

// Quadrature is the rule that approximates Integrated Gradients' path integral.
type Quadrature uint8

// Quadratures.
const (
	// Riemann is the trapezoid rule on steps equally spaced points including both ends
	// (Captum's riemann_trapezoid).
	Riemann Quadrature = iota
	// GaussLegendre is Gauss-Legendre quadrature on steps nodes inside (0, 1): exact for
	// polynomial paths of degree 2*steps-1, so it converges much faster on smooth models.
	GaussLegendre
	// Adaptive is the trapezoid rule on nodes placed where they are needed: a uniform grid of a
	// quarter of the steps first, then rounds that bisect the intervals whose trapezoid is
	// furthest from the change of f across them (IntegratedGradients.adaptive). The gradient of
	// a ReLU network jumps along the path wherever an activation switches, and the jumps crowd
	// where many pre-activations are small; the uniform grid spends its steps evenly.
	Adaptive
)

func (q Quadrature) String() string {
	switch q {
	case GaussLegendre:
		return "gausslegendre"
	case Adaptive:
		return "adaptive"
	}
	return "riemann"
}

// ParseQuadrature parses "riemann", "gausslegendre" or "adaptive".
func ParseQuadrature(s string) (Quadrature, error) {
	switch strings.ToLower(s) {
	case "riemann", "trapezoid", "riemann-trapezoid":
		return Riemann, nil
	case "gausslegendre", "gauss-legendre", "gl":
		return GaussLegendre, nil
	case "adaptive":
		return Adaptive, nil
	}
	return 0, errorf(ErrBadParameter, "use riemann, gausslegendre or adaptive", "quadrature %q", s)
}

// nodes returns the points α in [0, 1] and weights (summing to 1) of n steps.
func (q Quadrature) nodes(n int) (alpha, weight []float64) {
	alpha, weight = make([]float64, n), make([]float64, n)
	if q == GaussLegendre {
		x, w := gaussLegendre(n)
		for i := range n {
			alpha[i], weight[i] = (x[i]+1)/2, w[i]/2
		}
		return alpha, weight
	}
	if n == 1 {
		return []float64{1}, []float64{1}
	}
	h := 1 / float64(n-1)
	for i := range n {
		alpha[i], weight[i] = float64(i)*h, h
	}
	weight[0], weight[n-1] = h/2, h/2
	alpha[n-1] = 1 // (n-1)·h need not round to 1: the last node is the input itself
	return alpha, weight
}

// gaussLegendre returns the nodes and weights of n-point Gauss-Legendre quadrature on [-1, 1]
// (Newton's iteration on the Legendre polynomial P_n from Chebyshev initial guesses).
func gaussLegendre(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	for i := range (n + 1) / 2 {
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for range 100 {
			p0, p1 := 1.0, z // P_0, P_1; after the loop P_{n-1}, P_n
			for k := 2; k <= n; k++ {
				p0, p1 = p1, ((2*float64(k)-1)*z*p1-(float64(k)-1)*p0)/float64(k)
			}
			dp = float64(n) * (z*p1 - p0) / (z*z - 1)
			dz := p1 / dp
			z -= dz
			if math.Abs(dz) < 1e-15 {
				break
			}
		}
		x[i], x[n-1-i] = -z, z
		w[i] = 2 / ((1 - z*z) * dp * dp)
		w[n-1-i] = w[i]
	}
	return x, w
}
