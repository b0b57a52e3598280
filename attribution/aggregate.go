package attribution

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"climxai/inference"
)

// ErrBadAggregate is the kind of error about sums that cannot be added or merged (different
// layouts, no samples); ErrNoSamples says a sample set or a shard holds nothing to aggregate.
var (
	ErrBadAggregate = errors.New("invalid aggregate")
	ErrNoSamples    = errors.New("no samples to aggregate")
)

// Sums are the running sums of an aggregation over samples: for every (lag, lat, lon) the sums
// of |a|, a and a² over samples, where a is one sample's attribution divided by its total
// Σ|a| (over ocean cells and lags), so every sample weighs the same whatever its forecast's
// size (the reference study's normalisation). Sums of disjoint sample sets add (Merge), which is
// what makes aggregation shardable: mean and spread follow from the sums at the end.
//
// Sums are float64 and land cells (NaN in the attributions) stay NaN. Memory is 24 bytes per
// value, independent of the number of samples.
type Sums struct {
	Lags, NLat, NLon int
	// Vars names the input variables of an emulator that reads several (Emulator.Vars): the
	// sums then hold one [lag][lat][lon] block per variable, and a sample is normalised over
	// all of them, so the blocks' totals are the variables' shares. nil for one variable.
	Vars            []string
	Abs, Signed, Sq []float64 // Σ|a|, Σa, Σa² per [lag][lat][lon]
	Samples         int       // samples added
	Skipped         int       // samples left out: their Σ|a| was 0 or not finite
}

// NewSums returns empty sums for attributions of lags x nlat x nlon values, for each of vars
// when an emulator reads several input variables (none: one).
func NewSums(lags, nlat, nlon int, vars ...string) *Sums {
	n := max(1, len(vars)) * lags * nlat * nlon
	if len(vars) < 2 {
		vars = nil
	}
	return &Sums{Lags: lags, NLat: nlat, NLon: nlon, Vars: vars,
		Abs: make([]float64, n), Signed: make([]float64, n), Sq: make([]float64, n)}
}

// Add normalises one sample's attribution values ([lag][lat][lon], NaN on land) to Σ|a| = 1 and
// adds them. A sample whose Σ|a| is 0 or infinite (a dead target, an overflow) cannot be
// normalised, and one with NaN at a cell where the samples before it had values is broken: both
// are counted in Skipped and Add reports false. Land is where the first sample is NaN.
func (s *Sums) Add(values []float32) (bool, error) {
	if len(values) != len(s.Abs) {
		return false, errorf(ErrBadAggregate, "", "sample has %d values, the sums %d x %d x %d", len(values), s.Lags, s.NLat, s.NLon)
	}
	var total float64
	for i, v := range values {
		if v == v {
			total += math.Abs(float64(v))
		} else if s.Samples > 0 && !math.IsNaN(s.Abs[i]) {
			// NaN where earlier samples had values: not land but a failed attribution,
			// which would otherwise turn an ocean cell into land for good.
			s.Skipped++
			return false, nil
		}
	}
	if !(total > 0) || math.IsInf(total, 0) {
		s.Skipped++
		return false, nil
	}
	inv := 1 / total
	for i, v := range values {
		a := float64(v) * inv // NaN on land makes the sums NaN there, as land should be
		s.Abs[i] += math.Abs(a)
		s.Signed[i] += a
		s.Sq[i] += a * a
	}
	s.Samples++
	return true, nil
}

// Merge adds the sums of a disjoint sample set (another shard) to s.
func (s *Sums) Merge(o *Sums) error {
	if o.Lags != s.Lags || o.NLat != s.NLat || o.NLon != s.NLon || !slices.Equal(o.Vars, s.Vars) {
		return errorf(ErrBadAggregate, "merge parts of one run (same card, lead, target and method)",
			"cannot add sums of %d x %d x %d values%s to sums of %d x %d x %d%s", o.Lags, o.NLat, o.NLon, varsOf(o.Vars), s.Lags, s.NLat, s.NLon, varsOf(s.Vars))
	}
	for i := range s.Abs {
		s.Abs[i] += o.Abs[i]
		s.Signed[i] += o.Signed[i]
		s.Sq[i] += o.Sq[i]
	}
	s.Samples += o.Samples
	s.Skipped += o.Skipped
	return nil
}

// varsOf prints input variables for messages ("" for one).
func varsOf(vars []string) string {
	if len(vars) == 0 {
		return ""
	}
	return " of " + strings.Join(vars, ", ")
}

// Aggregate is the result of an aggregation: per (lag, lat, lon), lag 0 first, NaN on land;
// with several input variables one such block per variable (Vars), as in Result.
type Aggregate struct {
	Lags, NLat, NLon int
	Vars             []string
	// MeanAbs is the mean over samples of |a|/Σ|a|: it sums to 1 over space and lags.
	MeanAbs []float32
	// Signed is the mean of a/Σ|a|: where the sign is consistent its size approaches MeanAbs.
	Signed []float32
	// Std is the sample standard deviation (n-1) of |a|/Σ|a|, the spread behind MeanAbs;
	// SignedStd is that of a/Σ|a|. Both are NaN with fewer than two samples.
	Std, SignedStd []float32
	Samples        int
	Skipped        int
}

// AllVariables returns the aggregate's mean |attribution| summed over its input variables,
// [lag][lat][lon] (MeanAbs itself for one variable): the importance of each month and place
// whatever the variable, which the lag and distance analyses of several variables use.
func (a *Aggregate) AllVariables() []float32 { return SumBlocks(a.MeanAbs, max(1, len(a.Vars))) }

// VarShares is each input variable's share of the mean |attribution|: its block's sum, since
// the blocks together sum to 1.
func (a *Aggregate) VarShares() []float64 { return blockAbsSums(a.MeanAbs, max(1, len(a.Vars))) }

// SumBlocks adds the k equal blocks of v elementwise (v itself for k = 1; NaN stays NaN).
func SumBlocks(v []float32, k int) []float32 {
	if k <= 1 {
		return v
	}
	m := len(v) / k
	out := append([]float32(nil), v[:m]...)
	for b := 1; b < k; b++ {
		for i, x := range v[b*m : (b+1)*m] {
			out[i] += x
		}
	}
	return out
}

// Mean turns the sums into means and spreads. With no samples it returns an ErrNoSamples error.
func (s *Sums) Mean() (*Aggregate, error) {
	if s.Samples == 0 {
		return nil, errorf(ErrNoSamples, "choose a larger sample set (--samples all) or check the target's forecast is not constant",
			"%d samples added, %d skipped (Σ|attribution| was 0 or not finite)", s.Samples, s.Skipped)
	}
	n := len(s.Abs)
	a := &Aggregate{Lags: s.Lags, NLat: s.NLat, NLon: s.NLon, Vars: s.Vars, Samples: s.Samples, Skipped: s.Skipped,
		MeanAbs: make([]float32, n), Signed: make([]float32, n), Std: make([]float32, n), SignedStd: make([]float32, n)}
	N := float64(s.Samples)
	std := func(sum, sq float64) float32 {
		if s.Samples < 2 || sum != sum {
			return float32(math.NaN())
		}
		// Σ(x - mean)² = Σx² - (Σx)²/N; rounding can make it slightly negative when the
		// spread is nil.
		return float32(math.Sqrt(max(0, sq-sum*sum/N) / (N - 1)))
	}
	for i := range n {
		a.MeanAbs[i] = float32(s.Abs[i] / N)
		a.Signed[i] = float32(s.Signed[i] / N)
		a.Std[i] = std(s.Abs[i], s.Sq[i])
		a.SignedStd[i] = std(s.Signed[i], s.Sq[i])
	}
	return a, nil
}

// AggregateRequest is an aggregation of one method's attributions of one target over samples.
type AggregateRequest struct {
	Emulator *Emulator
	Method   Method
	Target   Target
	Ocean    []bool // as Request.Ocean
	// Samples is the number of samples; Fill writes sample k's input window into dst
	// ([Months][NLat][NLon] in the emulator's channel order, as Request.X).
	Samples int
	Fill    func(k int, dst []float32) error
	// Progress, if not nil, is called with the samples done and Samples.
	Progress func(done, total int)
}

// AggregateStats says how an aggregation ran.
type AggregateStats struct {
	Device   string
	Duration time.Duration
	Batched  bool // samples ran as batches of one backward graph (saliency, ixg)
	// Batch is the number of (sample, target) rows per backward run when Batched, and
	// TargetsPerPass how many targets' sums were held at once (AggregateTargets); both are
	// chosen under the emulator's memory budget.
	Batch, TargetsPerPass int
}

// batchedGradient reports whether m runs through aggregateGradients, and whether it multiplies
// the gradient by the input (ixg).
func batchedGradient(m Method) (batched, timesInput bool) {
	switch m.(type) {
	case Saliency:
		return true, false
	case InputXGradient:
		return true, true
	}
	return false, false
}

// AggregateSamples adds the attributions of req.Samples samples into new Sums, streaming: for
// saliency and input x gradient one batch of samples at a time under the emulator's memory
// budget through one backward graph (the same path as AggregateTargets), for other methods one
// sample at a time, so memory does not grow with the number of samples. ctx is checked between
// samples and batches, and a cancelled ctx stops a running batch.
func AggregateSamples(ctx context.Context, req AggregateRequest) (*Sums, AggregateStats, error) {
	start := time.Now()
	e := req.Emulator
	var st AggregateStats
	if e == nil || req.Method == nil || req.Fill == nil {
		return nil, st, errorf(ErrBadRequest, "", "aggregation needs an emulator, a method and a sample source")
	}
	if req.Samples < 1 {
		return nil, st, errorf(ErrNoSamples, "choose a larger sample set", "%d samples", req.Samples)
	}
	if err := (Request{Emulator: e, X: make([]float32, e.sampleLen()), Target: req.Target, Ocean: req.Ocean}).check(); err != nil {
		return nil, st, err
	}
	if batched, timesInput := batchedGradient(req.Method); batched {
		var sums *Sums
		st, err := e.aggregateGradients(ctx, timesInput, []Target{req.Target}, req.Ocean, req.Samples, req.Fill,
			func(_ int, s *Sums) error { sums = s; return nil }, req.Progress)
		if err != nil {
			return nil, st, err
		}
		st.Duration = time.Since(start)
		return sums, st, nil
	}
	sums := NewSums(e.Months(), e.NLat(), e.NLon(), e.Vars...)
	x := make([]float32, e.sampleLen())
	for k := range req.Samples {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		if err := req.Fill(k, x); err != nil {
			return nil, st, err
		}
		res, err := req.Method.Attribute(ctx, Request{Emulator: e, X: x, Target: req.Target, Ocean: req.Ocean})
		if err != nil {
			return nil, st, err
		}
		if _, err := sums.Add(res.Values); err != nil {
			return nil, st, err
		}
		st.Device = res.Device
		if req.Progress != nil {
			req.Progress(k+1, req.Samples)
		}
	}
	st.Duration = time.Since(start)
	return sums, st, nil
}

// TargetsRequest is an aggregation of one method's attributions of several targets over the
// same samples: the location-independence test (climxai decaymap) aggregates every K-th cell.
type TargetsRequest struct {
	Emulator *Emulator
	Method   Method
	Targets  []Target
	Ocean    []bool // as Request.Ocean
	// Samples and Fill are as in AggregateRequest: every target is explained on the same samples.
	Samples int
	Fill    func(k int, dst []float32) error
	// Done receives target i's sums once all its samples are in, in target order; an error
	// from it stops the aggregation and is returned. AggregateTargets keeps no reference to them.
	Done func(i int, s *Sums) error
	// Progress, if not nil, is called with the (target, sample) pairs done and
	// len(Targets)*Samples.
	Progress func(done, total int)
}

// AggregateTargets aggregates the attributions of every target of req over the same samples,
// as AggregateSamples does for each target alone (the sums are equal to float32 rounding). For
// saliency and input x gradient the targets share backward runs: a batch holds rows (sample k,
// target t), each with sample k's input and t's weights as the seed, so one window serves many
// targets and batches stay full however few the samples. The targets are taken in groups whose
// sums fit a quarter of the emulator's memory budget, the batches in the rest, so memory is
// bounded whatever the numbers of targets and samples. Other methods run target after target.
func AggregateTargets(ctx context.Context, req TargetsRequest) (AggregateStats, error) {
	start := time.Now()
	e := req.Emulator
	var st AggregateStats
	if e == nil || req.Method == nil || req.Fill == nil || req.Done == nil {
		return st, errorf(ErrBadRequest, "", "aggregation needs an emulator, a method, a sample source and a consumer of the sums")
	}
	if len(req.Targets) == 0 || req.Samples < 1 {
		return st, errorf(ErrNoSamples, "choose a larger sample set or more targets", "%d targets x %d samples", len(req.Targets), req.Samples)
	}
	x := make([]float32, e.sampleLen())
	for _, t := range req.Targets {
		if err := (Request{Emulator: e, X: x, Target: t, Ocean: req.Ocean}).check(); err != nil {
			return st, err
		}
	}
	if batched, timesInput := batchedGradient(req.Method); batched {
		st, err := e.aggregateGradients(ctx, timesInput, req.Targets, req.Ocean, req.Samples, req.Fill, req.Done, req.Progress)
		st.Duration = time.Since(start)
		return st, err
	}
	total := len(req.Targets) * req.Samples
	for i, t := range req.Targets {
		var progress func(done, total int)
		if req.Progress != nil {
			progress = func(done, _ int) { req.Progress(i*req.Samples+done, total) }
		}
		sums, s, err := AggregateSamples(ctx, AggregateRequest{Emulator: e, Method: req.Method, Target: t, Ocean: req.Ocean,
			Samples: req.Samples, Fill: req.Fill, Progress: progress})
		if err != nil {
			return st, err
		}
		st.Device = s.Device
		if err := req.Done(i, sums); err != nil {
			return st, err
		}
	}
	st.TargetsPerPass = 1
	st.Duration = time.Since(start)
	return st, nil
}

// cpuBatchBytes caps the estimated memory of one batch of backwardRows on the CPU. Larger
// batches only add to the working set: ONNX Runtime's lanes (inference/lanes.go) already run
// samples one or a few at a time on every core, and with them aggregation of the reference
// DenseNet at 1° ran at 23.5 ms/sample in batches of 2 (128 MiB), 23.5-24.1 in batches of 4 and
// 23.8-24.0 in batches of 8. On a GPU the memory budget alone sets the batch.
const cpuBatchBytes = 128 << 20

// aggregateGradients is the batched path of AggregateSamples and AggregateTargets: the gradient
// graph runs on rows (sample k, target t) in sample-major order, row r holding sample
// r / G's window and target r mod G's weights as the seed (G targets per group), and each row's
// gradient (times its input for ixg) is normalised into its target's sums. Rows are independent
// in inference mode (BatchNorm uses running statistics), so a batch gives what single runs give.
// A group's sums take at most a quarter of e.Budget (at least one target), the batch the rest;
// done gets each target's sums when its group is complete. ctx is checked between batches and
// stops a running one.
func (e *Emulator) aggregateGradients(ctx context.Context, timesInput bool, targets []Target, ocean []bool, n int,
	fill func(k int, dst []float32) error, done func(i int, s *Sums) error, progress func(done, total int)) (AggregateStats, error) {
	st := AggregateStats{Batched: true}
	s := e.sampleLen()
	budget := e.Budget
	if budget <= 0 {
		budget = inference.DefaultBudget
	}
	sumsBytes := int64(24 * s) // three float64 per value
	G := int(min(int64(len(targets)), max(1, budget/4/sumsBytes)))
	st.TargetsPerPass = G
	// BatchSize reads a budget <= 0 as the default: what the sums leave is at least 1 byte.
	batchBudget := max(1, budget-int64(G)*sumsBytes)
	lags := make([]float32, s)
	var window []float32 // sample k's input, copied into each of its rows (groups of > 1 target)
	if G > 1 {
		window = make([]float32, s)
	}
	total := n * len(targets)
	for g0 := 0; g0 < len(targets); g0 += G {
		grp := targets[g0:min(g0+G, len(targets))]
		sums := make([]*Sums, len(grp))
		seeds := make([][]float32, len(grp))
		for i, t := range grp {
			sums[i], seeds[i] = NewSums(e.Months(), e.NLat(), e.NLon(), e.Vars...), t.Weights
		}
		filled := -1
		place, b, err := e.backwardRows(ctx, gradientRules, n*len(grp), seeds, func(r int) int { return r % len(grp) }, batchBudget,
			func(r int, dst []float32) error {
				k := r / len(grp)
				if window == nil {
					return fill(k, dst)
				}
				if k != filled {
					if err := fill(k, window); err != nil {
						return err
					}
					filled = k
				}
				copy(dst, window)
				return nil
			},
			func(r int, x, _, grad []float32) error {
				if timesInput {
					for i, v := range x {
						grad[i] *= v
					}
				}
				e.toLagsInto(lags, grad, ocean)
				_, err := sums[r%len(grp)].Add(lags)
				return err
			},
			func(d, _ int) {
				if progress != nil {
					if len(targets) == 1 {
						progress(d, n)
					} else {
						progress(g0*n+d, total)
					}
				}
			})
		if err != nil {
			return st, err
		}
		st.Batch, st.Device = b, place.String()
		for i, sm := range sums {
			if err := done(g0+i, sm); err != nil {
				return st, err
			}
			sums[i] = nil
		}
	}
	return st, nil
}
