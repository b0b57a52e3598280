package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"climxai/attribution"
	"climxai/dataset"
)

// The study's analyses on a workspace, for the GUI's Aggregate, Decay map and Ablation views:
// the same attribution functions the command line's aggregate, decaymap and ablate verbs call
// (AggregateSamples, FitDecay, SpatialExtent, Ablation.Run), on the workspace's prepared data
// and emulators. Each blocks, reports progress and stops when ctx is cancelled.

// begin registers a job (Close waits for it); it fails once the workspace is closed.
func (w *Workspace) begin() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("workspace closed")
	}
	w.jobs.Add(1)
	return nil
}

// AggregateResult is an aggregation of one target's attributions over a sample set with its
// temporal decay and spatial extent (what aggregate writes and decay prints).
type AggregateResult struct {
	Lead      int
	Method    string
	Params    string
	Target    attribution.Target
	SampleSet string // description of the sample set
	Inits     []dataset.Month
	Agg       *attribution.Aggregate
	Sums      *attribution.Sums // the running sums behind Agg, written by WriteAggregateResult
	// Importance is Σ over lags of the mean |attribution| per cell [NLat*NLon] (NaN on land).
	Importance    []float32
	LagImportance []float64
	Decay         attribution.DecayFit
	DecayErr      error // why there is no e-folding time, if there is none
	Extent        attribution.Extent
	Device        string
	Duration      time.Duration
}

// methodOf makes the selection's method with its parameters.
func methodOf(name string, params map[string]string) (attribution.Method, error) {
	spec, err := attribution.LookupMethod(name)
	if err != nil {
		return nil, &SelectionError{Msg: err.Error()}
	}
	set, err := MethodSettings(name, params)
	if err != nil {
		return nil, err
	}
	return spec.New(set)
}

// analysisInputs resolves what the aggregating analyses need: sel's method with its
// parameters, the init months of the sample set (with their description) and the lead's
// emulator.
func (w *Workspace) analysisInputs(sel Selection, set string) (m attribution.Method, inits []dataset.Month, desc string, e *attribution.Emulator, err error) {
	sp, err := ParseSampleSet(set)
	if err != nil {
		return nil, nil, "", nil, selErr("samples: %v", err)
	}
	if m, err = methodOf(sel.Method, sel.Params); err != nil {
		return nil, nil, "", nil, err
	}
	if inits, desc, err = sp.Inits(w.Prepared, w.Card.InputMonths, sel.Lead); err != nil {
		return nil, nil, "", nil, err
	}
	if e, err = w.emulator(sel.Lead); err != nil {
		return nil, nil, "", nil, err
	}
	return m, inits, desc, e, nil
}

// Aggregate aggregates sel's method (with its parameters) for sel's target and lead over the
// samples of set ("test:24", "train", ...: ParseSampleSet), each sample normalised to Σ|a| = 1
// (attribution.AggregateSamples, as climxai aggregate), then fits the e-folding time and the
// R50/R90 radii (as climxai decay).
func (w *Workspace) Aggregate(ctx context.Context, sel Selection, set string, progress func(done, total int)) (*AggregateResult, error) {
	if err := w.begin(); err != nil {
		return nil, err
	}
	defer w.jobs.Done()
	start := time.Now()
	m, inits, desc, e, err := w.analysisInputs(sel, set)
	if err != nil {
		return nil, err
	}
	sums, st, err := attribution.AggregateSamples(ctx, attribution.AggregateRequest{Emulator: e, Method: m, Target: sel.Target,
		Ocean: w.Prepared.Ocean, Samples: len(inits), Progress: progress,
		Fill: func(k int, dst []float32) error { return w.Card.Window(w.Prepared, inits[k], dst) }})
	if err != nil {
		return nil, err
	}
	agg, err := sums.Mean()
	if err != nil {
		return nil, err
	}
	g := w.Card.Grid
	r := &AggregateResult{Lead: sel.Lead, Method: m.Name(), Params: m.Params().String(), Target: sel.Target,
		SampleSet: desc, Inits: inits, Agg: agg, Sums: sums,
		LagImportance: attribution.LagImportance(agg.AllVariables(), agg.Lags, agg.NLat, agg.NLon), Device: st.Device}
	r.Importance = r.Field(-1, false)
	r.Decay, r.DecayErr = attribution.FitDecay(r.LagImportance, -1)
	grid := g.Grid()
	r.Extent = attribution.SpatialExtent(agg.AllVariables(), agg.Lags, grid.Lat, grid.Lon, sel.Target.Lat, sel.Target.Lon, 100)
	r.Duration = time.Since(start)
	return r, nil
}

// Field is the aggregate's map on the card's grid: the mean |attribution| (signed: the mean
// signed attribution) at lag, or summed over every lag when lag < 0, summed over the input
// variables of an emulator that reads several. Land is NaN.
func (r *AggregateResult) Field(lag int, signed bool) []float32 {
	a := r.Agg
	vals := a.MeanAbs
	if signed {
		vals = a.Signed
	}
	vals = attribution.SumBlocks(vals, max(1, len(a.Vars)))
	n := a.NLat * a.NLon
	if lag >= 0 && lag < a.Lags {
		return append([]float32(nil), vals[lag*n:(lag+1)*n]...)
	}
	out := make([]float32, n)
	for k := range a.Lags {
		for i, v := range vals[k*n : (k+1)*n] {
			out[i] += v
		}
	}
	return out
}

// DecayMapResult is the location-independence test: e-folding time and R90 with every stride-th
// ocean cell as the target.
type DecayMapResult struct {
	Lead             int
	Method           string
	Params           string
	Stride           int
	Targets, Samples int
	SampleSet        string
	// Median and coefficient of variation over the mapped cells with a finite value.
	EFoldMedian, EFoldCV, R90Median, R90CV float64
	Device                                 string
	Duration                               time.Duration
	// Maps holds every map on the card's grid (EFold in months, R90 in km, …; NaN at cells that
	// were not targets or have no value, +Inf for an e-folding time without decay), as climxai
	// decaymap writes them.
	Maps *DecayMaps
}

// DecayMap aggregates sel's method for every stride-th ocean cell (rows and columns 0, stride,
// 2·stride, …) as the target over the samples of set, and maps each target's e-folding time
// (over lags 0..maxLag; < 0: all) and R90, as climxai decaymap does. Progress counts samples
// over all targets.
func (w *Workspace) DecayMap(ctx context.Context, sel Selection, set string, stride, maxLag int, progress func(done, total int)) (*DecayMapResult, error) {
	if err := w.begin(); err != nil {
		return nil, err
	}
	defer w.jobs.Done()
	start := time.Now()
	m, inits, desc, e, err := w.analysisInputs(sel, set)
	if err != nil {
		return nil, err
	}
	targets, err := DecayMapTargets(w.Card.Grid, w.Prepared.Ocean, stride)
	if err != nil {
		return nil, err
	}
	d, err := ComputeDecayMap(ctx, e, m, w.Card, w.Prepared, inits, targets, maxLag, progress)
	if err != nil {
		return nil, err
	}
	se, sr := Summarise(d.Tau), Summarise(d.Radius90)
	r := &DecayMapResult{Lead: sel.Lead, Method: m.Name(), Params: m.Params().String(), Stride: stride, Targets: len(d.Targets),
		Samples: len(inits), SampleSet: desc, EFoldMedian: se.Median, EFoldCV: se.CV,
		R90Median: sr.Median, R90CV: sr.CV, Device: d.Device, Maps: d}
	r.Duration = time.Since(start)
	return r, nil
}

// AblationOutcome is an ablation experiment's result with its references in °C.
type AblationOutcome struct {
	Lead        int
	Target      attribution.Target
	RadiiKm     []float64
	Lags        []int
	Result      *attribution.AblationResult
	Full, Pers  attribution.Skill // RMSE in °C
	SampleSet   string
	Description string          // e.g. "test samples 0800-01..0999-12"
	Inits       []dataset.Month // the scored init months
}

// Ablate runs the ablation experiment (attribution.Ablation, as climxai ablate) for sel's
// target and lead over the samples of set: the skill when inputs farther than each radius, or
// older than the k most recent months, are set to climatology, with the full input and
// persistence as references.
func (w *Workspace) Ablate(ctx context.Context, sel Selection, set string, radii []float64, lags []int, progress func(done, total int)) (*AblationOutcome, error) {
	if err := w.begin(); err != nil {
		return nil, err
	}
	defer w.jobs.Done()
	abl := attribution.Ablation{RadiiKm: radii, Lags: lags, Variables: len(w.Card.Inputs) > 0}
	if err := abl.Validate(w.Card.InputMonths); err != nil {
		return nil, &SelectionError{Msg: err.Error()}
	}
	sp, err := ParseSampleSet(set)
	if err != nil {
		return nil, selErr("samples: %v", err)
	}
	inits, desc, err := sp.Inits(w.Prepared, w.Card.InputMonths, sel.Lead)
	if err != nil {
		return nil, err
	}
	truth := make([]float64, len(inits))
	for k, init := range inits {
		f, err := w.Prepared.Target(init, sel.Lead)
		if err != nil {
			return nil, err
		}
		for i, wi := range sel.Target.Weights {
			if wi != 0 {
				truth[k] += float64(wi) * float64(f.Values[i])
			}
		}
	}
	e, err := w.emulator(sel.Lead)
	if err != nil {
		return nil, err
	}
	res, err := abl.Run(ctx, attribution.AblationRequest{Emulator: e, Target: sel.Target, Ocean: w.Prepared.Ocean,
		Grid: w.Card.Grid, N: len(inits), Truth: truth, Progress: progress,
		Fill: func(k int, x []float32) error { return w.Card.Window(w.Prepared, inits[k], x) }})
	if err != nil {
		return nil, err
	}
	std := w.Card.Preprocess.ScaleStd
	full, pers := res.Full, res.Persistence
	full.RMSE *= std
	pers.RMSE *= std
	return &AblationOutcome{Lead: sel.Lead, Target: sel.Target, RadiiKm: radii, Lags: lags, Result: res, Full: full, Pers: pers,
		SampleSet: desc, Inits: inits, Description: fmt.Sprintf("%d samples, init %s..%s (%s)", len(inits), inits[0], inits[len(inits)-1], desc)}, nil
}
