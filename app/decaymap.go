package app

import (
	"context"
	"fmt"
	"math"
	"slices"

	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
)

// The location-independence test of the reference study, shared by `climxai decaymap` and the
// GUI's Decay map view: every stride-th ocean cell is a target, its attribution is aggregated
// over the samples, and its e-folding time and spatial extent are mapped.

// DecayMaps are the per-cell results of a decay map on the card's grid ([NLat*NLon], NaN at
// cells that were not targets or have no value; +Inf marks an e-folding time without decay).
type DecayMaps struct {
	Targets                 []attribution.Target
	EFold, EFoldLo, EFoldHi []float32 // months: e-folding time and its 95% interval
	R50, R90                []float32 // km
	// Tau and Radius90 hold each target's e-folding time and R90 in target order (NaN: none),
	// for their statistics.
	Tau, Radius90 []float64
	Device        string
}

// DecayMapTargets returns the cell targets of a decay map: the ocean cells at rows and columns
// 0, stride, 2·stride, … of the card's grid.
func DecayMapTargets(gs dataset.GridSpec, ocean []bool, stride int) ([]attribution.Target, error) {
	if stride < 1 {
		return nil, selErr("stride %d: every stride-th cell is a target, so 1 or more", stride)
	}
	grid := gs.Grid()
	n := gs.NLat * gs.NLon
	var targets []attribution.Target
	for i := 0; i < gs.NLat; i += stride {
		for j := 0; j < gs.NLon; j += stride {
			k := i*gs.NLon + j
			if !ocean[k] {
				continue
			}
			wt := make([]float32, n)
			wt[k] = 1
			targets = append(targets, attribution.Target{Spec: fmt.Sprintf("%g,%g", grid.Lat[i], grid.Lon[j]),
				Kind: attribution.TargetCell, Row: i, Col: j, Lat: grid.Lat[i], Lon: grid.Lon[j], Cells: 1, Weights: wt})
		}
	}
	if len(targets) == 0 {
		return nil, &attribution.Error{Kind: attribution.ErrNoSamples, Msg: fmt.Sprintf("no ocean cell at stride %d", stride), Hint: "use a smaller stride"}
	}
	return targets, nil
}

// ComputeDecayMap aggregates m's attribution for every target (the cells of DecayMapTargets)
// over the windows of inits (targets share batched backward runs: attribution.AggregateTargets),
// fits each target's e-folding time over lags 0..maxLag (< 0: all; attribution.FitDecay) and
// measures its R50 and R90 (attribution.SpatialExtent). Progress counts samples over all
// targets.
func ComputeDecayMap(ctx context.Context, e *attribution.Emulator, m attribution.Method, card *inference.Card, p *dataset.Prepared,
	inits []dataset.Month, targets []attribution.Target, maxLag int, progress func(done, total int)) (*DecayMaps, error) {
	if e.Index() != "" {
		return nil, &attribution.Error{Kind: attribution.ErrNotForecast,
			Msg:  fmt.Sprintf("the decay-time map needs a forecast at every target cell; this emulator forecasts the %s index only", e.Index()),
			Hint: fmt.Sprintf("run aggregate with --target %s, then decay on its result", e.Index())}
	}
	gs := card.Grid
	grid := gs.Grid()
	n := gs.NLat * gs.NLon
	nan := float32(math.NaN())
	d := &DecayMaps{Targets: targets, Tau: make([]float64, len(targets)), Radius90: make([]float64, len(targets))}
	for _, f := range []*[]float32{&d.EFold, &d.EFoldLo, &d.EFoldHi, &d.R50, &d.R90} {
		*f = slices.Repeat([]float32{nan}, n)
	}
	total := len(targets) * len(inits)
	st, err := attribution.AggregateTargets(ctx, attribution.TargetsRequest{Emulator: e, Method: m, Targets: targets,
		Ocean: p.Ocean, Samples: len(inits),
		Fill: func(k int, dst []float32) error { return card.Window(p, inits[k], dst) },
		Progress: func(done, _ int) {
			if progress != nil {
				progress(done, total)
			}
		},
		// Each target's sums are reduced to its statistics as soon as they are complete.
		Done: func(ti int, sums *attribution.Sums) error {
			t := targets[ti]
			k := t.Row*gs.NLon + t.Col
			d.Tau[ti], d.Radius90[ti] = math.NaN(), math.NaN()
			agg, err := sums.Mean()
			if err != nil { // no sample with an attribution: the cell stays without a value
				return nil
			}
			all := agg.AllVariables()
			imp := attribution.LagImportance(all, agg.Lags, agg.NLat, agg.NLon)
			if fit, err := attribution.FitDecay(imp, maxLag); err == nil {
				d.Tau[ti] = fit.Tau
				d.EFold[k], d.EFoldLo[k], d.EFoldHi[k] = float32(fit.Tau), float32(fit.TauLo), float32(fit.TauHi)
			}
			ex := attribution.SpatialExtent(all, agg.Lags, grid.Lat, grid.Lon, t.Lat, t.Lon, 0)
			d.Radius90[ti] = ex.R90
			d.R50[k], d.R90[k] = float32(ex.R50), float32(ex.R90)
			return nil
		}})
	if err != nil {
		return nil, err
	}
	d.Device = st.Device
	return d, nil
}

// MapStat summarises one mapped quantity over the target cells with a finite value.
type MapStat struct {
	Cells    int     // cells with a finite value
	Infinite int     // cells without one (no decay, or no fit)
	Median   float64 // NaN when no cell has a value
	Q1, Q3   float64
	IQR      float64
	Mean     float64
	Std      float64
	CV       float64 // Std / |Mean|: small means the quantity hardly depends on location
}

// Summarise returns median, quartiles (linear interpolation between order statistics, Hyndman
// and Fan's type 7, as R and NumPy by default), mean, sample standard deviation and coefficient
// of variation of the finite values of v (NaN fields when there are none).
func Summarise(v []float64) MapStat {
	var xs []float64
	st := MapStat{}
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			st.Infinite++
			continue
		}
		xs = append(xs, x)
	}
	st.Cells = len(xs)
	nan := math.NaN()
	st.Median, st.Q1, st.Q3, st.IQR, st.Mean, st.Std, st.CV = nan, nan, nan, nan, nan, nan, nan
	if len(xs) == 0 {
		return st
	}
	slices.Sort(xs)
	q := func(p float64) float64 {
		h := p * float64(len(xs)-1)
		lo := int(math.Floor(h))
		hi := min(lo+1, len(xs)-1)
		return xs[lo] + (h-float64(lo))*(xs[hi]-xs[lo])
	}
	st.Median, st.Q1, st.Q3 = q(0.5), q(0.25), q(0.75)
	st.IQR = st.Q3 - st.Q1
	st.Mean = 0
	for _, x := range xs {
		st.Mean += x
	}
	st.Mean /= float64(len(xs))
	if len(xs) > 1 {
		var ss float64
		for _, x := range xs {
			ss += (x - st.Mean) * (x - st.Mean)
		}
		st.Std = math.Sqrt(ss / float64(len(xs)-1))
		if st.Mean != 0 { // CV of a mean of zero is undefined: NaN
			st.CV = st.Std / math.Abs(st.Mean)
		}
	}
	return st
}
