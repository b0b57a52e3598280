package plots

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"climxai/dataset"
)

// The summaries here turn a result file into the curves a figure draws when it is regenerated
// from its sidecar alone. The statistics of record (and their tests) live in the attribution
// package; plots may not import it, so these are the plain textbook versions.

// EFoldFit is a log-linear least-squares fit ln I = ln A − lag/EFold with the fitted curve's
// 95% confidence band at each lag (Student's t on the residuals).
type EFoldFit struct {
	EFold, Amplitude float64
	Lo, Hi           []float64
}

// FitEFold fits importance against lag over the positive values; fewer than three positive
// values or a non-decaying fit give EFold NaN and no band.
func FitEFold(lags, imp []float64) EFoldFit { return FitEFoldTo(lags, imp, math.Inf(1)) }

// FitEFoldTo is FitEFold over the lags up to maxLag only (e.g. 11: the first year); the band
// still covers every lag.
func FitEFoldTo(lags, imp []float64, maxLag float64) EFoldFit {
	var xs, ys []float64
	for i, v := range imp {
		if v > 0 && lags[i] <= maxLag {
			xs = append(xs, lags[i])
			ys = append(ys, math.Log(v))
		}
	}
	n := float64(len(xs))
	if len(xs) < 3 {
		return EFoldFit{EFold: math.NaN()}
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	b := sxy / sxx
	a := my - b*mx
	if !(b < 0) {
		return EFoldFit{EFold: math.NaN()}
	}
	var rss float64
	for i := range xs {
		r := ys[i] - (a + b*xs[i])
		rss += r * r
	}
	s := math.Sqrt(rss / (n - 2))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 2}.Quantile(0.975)
	fit := EFoldFit{EFold: -1 / b, Amplitude: math.Exp(a), Lo: make([]float64, len(lags)), Hi: make([]float64, len(lags))}
	for i, x := range lags {
		se := s * math.Sqrt(1/n+(x-mx)*(x-mx)/sxx)
		y := a + b*x
		fit.Lo[i], fit.Hi[i] = math.Exp(y-t*se), math.Exp(y+t*se)
	}
	return fit
}

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0

// greatCircleKm returns the haversine distance between two points in degrees.
func greatCircleKm(lat1, lon1, lat2, lon2 float64) float64 {
	r := math.Pi / 180
	dlat, dlon := (lat2-lat1)*r, (lon2-lon1)*r
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*r)*math.Cos(lat2*r)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// BinByDistance sums weights (one per grid cell, NaN ignored) into bins of binKm by distance
// from (lat, lon); Distance holds each bin's upper edge, so the cumulative curve at Distance[i]
// is the importance within that radius.
func BinByDistance(g dataset.Grid, w []float64, lat, lon, binKm float64) DistanceSeries {
	var bins []float64
	for i, la := range g.Lat {
		for j, lo := range g.Lon {
			v := w[i*len(g.Lon)+j]
			if math.IsNaN(v) {
				continue
			}
			k := int(greatCircleKm(lat, lon, la, lo) / binKm)
			for len(bins) <= k {
				bins = append(bins, 0)
			}
			bins[k] += v
		}
	}
	s := DistanceSeries{Importance: bins}
	for k := range bins {
		s.Distance = append(s.Distance, float64(k+1)*binKm)
	}
	return s
}
