package attribution

import (
	"errors"
	"math"
)

// ErrNoDecay is the kind of error of a temporal-decay fit that cannot be made: fewer than three
// lags with importance above zero.
var ErrNoDecay = errors.New("cannot fit a temporal decay")

// LagImportance returns the temporal-decay curve of an aggregated attribution values
// ([lag][lat][lon], lag 0 first, NaN on land): importance per lag = Σ over space of the values'
// magnitudes, normalised to sum 1 over lags (all zeros when the values are).
func LagImportance(values []float32, lags, nlat, nlon int) []float64 {
	return normalise(blockAbsSums(values[:lags*nlat*nlon], lags))
}

// blockAbsSums returns Σ|v| (NaN skipped) over each of the k equal blocks of v.
func blockAbsSums(v []float32, k int) []float64 {
	m := len(v) / k
	s := make([]float64, k)
	for b := range s {
		for _, x := range v[b*m : (b+1)*m] {
			if x == x {
				s[b] += math.Abs(float64(x))
			}
		}
	}
	return s
}

// normalise divides v by its sum in place, leaving it as it is when the sum is not positive
// (all zeros), and returns it.
func normalise(v []float64) []float64 {
	var total float64
	for _, x := range v {
		total += x
	}
	if total > 0 {
		for i := range v {
			v[i] /= total
		}
	}
	return v
}

// DecayFit is the e-folding time of a temporal-decay curve: the least-squares line
// log I(k) = Intercept + Slope·k through the lags k with I(k) > 0, and Tau = -1/Slope, the lag
// over which importance falls by a factor e. The 95% interval of Tau maps the slope's interval
// Slope ± t(0.975, N-2)·SlopeSE (Student's t with N-2 degrees of freedom) through -1/Slope; a
// bound is +Inf where that interval reaches Slope >= 0 (no decay cannot be excluded). Tau is
// +Inf when the fitted slope is not negative.
type DecayFit struct {
	Tau, TauLo, TauHi float64 // months
	Slope, SlopeSE    float64 // per month
	Intercept         float64
	R2                float64 // coefficient of determination of the log-linear fit
	N                 int     // lags used
	MaxLag            int     // the last lag considered
}

// At is the fitted importance at lag: exp(Intercept + Slope·lag).
func (f DecayFit) At(lag float64) float64 { return math.Exp(f.Intercept + f.Slope*lag) }

// FitDecay fits the e-folding time to importance (per lag, lag 0 first) over lags 0..maxLag
// (maxLag < 0 or beyond the curve: all lags), skipping lags whose importance is not > 0 (log
// undefined). Fewer than three usable lags give an ErrNoDecay error: two points fit exactly and
// leave no residual to judge the slope by.
func FitDecay(importance []float64, maxLag int) (DecayFit, error) {
	if maxLag < 0 || maxLag >= len(importance) {
		maxLag = len(importance) - 1
	}
	var xs, ys []float64
	for k := 0; k <= maxLag; k++ {
		if v := importance[k]; v > 0 && !math.IsInf(v, 0) {
			xs = append(xs, float64(k))
			ys = append(ys, math.Log(v))
		}
	}
	f := DecayFit{N: len(xs), MaxLag: maxLag}
	if len(xs) < 3 {
		return f, errorf(ErrNoDecay, "aggregate more samples, or fit over more lags", "%d of lags 0..%d have importance > 0; the fit needs 3", len(xs), maxLag)
	}
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= n
	my /= n
	var sxx, sxy, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	f.Slope = sxy / sxx
	f.Intercept = my - f.Slope*mx
	var sse float64
	for i := range xs {
		r := ys[i] - (f.Intercept + f.Slope*xs[i])
		sse += r * r
	}
	f.SlopeSE = math.Sqrt(sse / (n - 2) / sxx)
	f.R2 = 1
	if syy > 0 {
		f.R2 = 1 - sse/syy
	}
	t := StudentTQuantile(0.975, n-2)
	f.Tau = efold(f.Slope)
	lo, hi := f.Slope-t*f.SlopeSE, f.Slope+t*f.SlopeSE // steeper slope = shorter time
	f.TauLo, f.TauHi = efold(lo), efold(hi)
	if f.TauLo > f.TauHi {
		f.TauLo, f.TauHi = f.TauHi, f.TauLo
	}
	return f, nil
}

// efold is -1/slope, +Inf for a slope that is not negative.
func efold(slope float64) float64 {
	if !(slope < 0) {
		return math.Inf(1)
	}
	return -1 / slope
}

// StudentTQuantile returns the p-quantile of Student's t distribution with nu degrees of freedom
// (0 < p < 1, nu > 0), by bisection on its CDF, F(t) = 1 - I_{ν/(ν+t²)}(ν/2, 1/2)/2 for t > 0
// with I the regularised incomplete beta function (Abramowitz and Stegun 26.7.1).
func StudentTQuantile(p, nu float64) float64 {
	if !(p > 0 && p < 1) || !(nu > 0) {
		return math.NaN()
	}
	if p < 0.5 {
		return -StudentTQuantile(1-p, nu)
	}
	if p == 0.5 {
		return 0
	}
	cdf := func(t float64) float64 { return 1 - 0.5*regIncBeta(nu/2, 0.5, nu/(nu+t*t)) }
	lo, hi := 0.0, 1.0
	for cdf(hi) < p {
		hi *= 2
		if hi > 1e300 {
			return math.Inf(1)
		}
	}
	for range 200 {
		mid := (lo + hi) / 2
		if cdf(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-15*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// regIncBeta is the regularised incomplete beta function I_x(a, b), by its continued fraction
// (Press et al., Numerical Recipes, 3rd ed., 6.4), using the symmetry I_x(a,b) = 1 - I_{1-x}(b,a)
// where the fraction converges slowly.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

// betaCF evaluates the incomplete beta function's continued fraction by the modified Lentz method.
func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return h
}
