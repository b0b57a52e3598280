package attribution

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"climxai/inference"
	"climxai/onnx"
)

// Fidelity checks attribution methods on an emulator whose ground truth is known: synthetic data
// from a linear stochastic model, whose optimal linear predictor of the target (coefficients w by
// lag, lat, lon) is what a perfect emulator computes (DESIGN.md, "Fidelity"; Mamalakis et al.
// 2022, "Investigating the fidelity of explainable artificial intelligence methods for
// applications of convolutional neural networks in geoscience", use such additive benchmarks).
//
// Per method and sample it computes:
//   - agreement with the truth, like with like: a sample's attribution is compared with the
//     truth's linear attribution w·(x − x0), each feature's contribution to the optimal
//     prediction relative to climatology (x0 the zero anomaly), which is exactly what Input x
//     Gradient, Integrated Gradients and DeepLIFT with a zero-anomaly baseline give on a linear
//     model; the aggregate (the mean over samples of |attribution|, each sample normalised to
//     sum 1, as the aggregation analysis does) is compared with |w|, what the aggregate of any
//     of those converges to up to the input's spread, and what |saliency| equals on a linear
//     model. Pearson and Spearman correlations are reported over the truth's neighbourhood (the
//     cells with a non-zero coefficient at some lag, every lag: where the structure is) and over
//     every ocean feature of the grid (which also punishes importance outside the
//     neighbourhood, where the truth is 0). The per-sample numbers are means over samples of
//     each sample's correlation.
//   - the model-parameter randomisation sanity check (Adebayo et al. 2018, "Sanity checks for
//     saliency maps"): the Spearman correlation of |attribution| on the trained emulator with
//     |attribution| on the emulator with its weights re-drawn (RandomizeWeights), and of the
//     signed maps, over the ocean features where either map is non-zero. A method whose maps
//     barely change does not explain the trained model. Features that are 0 in both maps are
//     left out: they lie outside the network's receptive field (or where both models are
//     flat), the same for any weights, and a small receptive field would otherwise turn most
//     of the grid into one tie that Spearman's ranks take for agreement (a 3-layer CNN with a
//     7 x 7-cell field scored 1.000 for saliency on 2° data).
//   - deletion and insertion curves (Petsiuk et al. 2018, "RISE"; Samek et al. 2017,
//     "Evaluating the visualization of what a deep neural network has learned", most relevant
//     first): ocean features are ordered by attribution times the sign of f(x) − f(x0) (the
//     features said to push the forecast towards its value first) and, in Steps equal steps of
//     the fraction of features, removed (set to the zero anomaly, starting from x) or inserted
//     (set to x, starting from the zero anomaly). The curves are (f − f(x0)) · sign(f(x) − f(x0))
//     summed over samples and divided by Σ |f(x) − f(x0)|: a mean of per-sample curves running
//     from 1 to 0 (deletion) and 0 to 1 (insertion) weighted by how far each forecast is from
//     climatology, so that samples with a forecast near climatology cannot blow the curves up.
//     Their areas (trapezoid over the fraction 0..1): low for deletion and high for insertion
//     means the method finds the features the forecast rests on. When contributions have both
//     signs the curves leave [0, 1] (removing first the features that push the forecast up
//     leaves those that pull it down): compare a method's areas with the truth row's, the best
//     any ranking can do on a linear model, rather than with 0 and 1.
//
// The first rows of the scores are references: the truth's own linear attribution ("truth"),
// whose deletion and insertion areas the methods should approach, and a random map ("random"),
// the chance level they should beat.
//
// An emulator that reads several input variables is compared over every variable's features at
// once (the truth then holds coefficients of each, GroundTruth.Vars), deletion and insertion set
// each variable's features to that variable's own zero anomaly, and each row adds per-variable
// numbers: the variable's share of Σ|attribution| (the truth row's is the share of its
// contributions, FidelityResult.WeightShares the share of |w|, which |saliency| has on a perfect
// emulator) and the correlations within the variable's neighbourhood features.
type Fidelity struct {
	Steps int // deletion and insertion steps (DefaultFidelitySteps when 0)
}

// DefaultFidelitySteps is the number of deletion and insertion steps when none is given.
const DefaultFidelitySteps = 16

// TruthName and RandomName are the names of the reference rows of the scores: the truth's own
// linear attribution, and a map of independent uniform random numbers (a random ranking: the
// chance level every score of a method should beat).
const (
	TruthName  = "truth"
	RandomName = "random"
)

// GroundTruth is a known linear predictor of one target: the prediction of the target's output
// is Σ Coef · x over (variable, lag, lat, lon) plus a constant, in model units, so Coef is the
// gradient of a perfect emulator. Coefficients of anomalies become model units with
// TruthInModelUnits (a factor 1 when the model's inputs and output share one scaling).
type GroundTruth struct {
	Target Target
	// Coef holds the coefficients [lag][lat][lon], lag 0 (the init month) first, one such block
	// per input variable in the emulator's order (Emulator.Vars): NaN on land, 0 outside the
	// truth's neighbourhood.
	Coef []float32
	// Vars names the variables of Coef's blocks; it must equal Emulator.Vars when the emulator
	// reads several (nil: the one variable of an emulator that reads one).
	Vars []string
}

// TruthInModelUnits returns a truth's coefficients of anomalies in model units, one block per
// input variable laid end to end: the model's input v is (anomaly_v − scale_mean_v) /
// scale_std_v and its output (prediction − scale_mean_out) / scale_std_out, so the prediction's
// gradient with respect to input v is coef_v · scale_std_v / scale_std_out. blocks[v] holds
// variable v's coefficients ([lag][lat][lon], per unit of its anomaly), inStd[v] its scale_std;
// outStd is the forecast variable's. The scale means only shift the output by a constant.
func TruthInModelUnits(blocks [][]float32, inStd []float64, outStd float64) ([]float32, error) {
	if len(blocks) == 0 || len(inStd) != len(blocks) {
		return nil, errorf(ErrBadRequest, "", "%d coefficient blocks for %d scalings", len(blocks), len(inStd))
	}
	if !(outStd > 0) || math.IsInf(outStd, 0) {
		return nil, errorf(ErrBadRequest, "give the card's scale_std", "output scale_std %g", outStd)
	}
	var out []float32
	for v, b := range blocks {
		if !(inStd[v] > 0) || math.IsInf(inStd[v], 0) || len(b) != len(blocks[0]) {
			return nil, errorf(ErrBadRequest, "give each input variable's scale_std and one block of equal size", "block %d: scale_std %g, %d coefficients", v, inStd[v], len(b))
		}
		f := inStd[v] / outStd // exactly 1 for the forecast variable itself
		for _, c := range b {
			out = append(out, float32(float64(c)*f))
		}
	}
	return out, nil
}

// FidelityRequest is one fidelity experiment: methods on n samples made on demand.
type FidelityRequest struct {
	Emulator *Emulator
	// Randomized is the emulator with re-drawn weights for the sanity check (nil: skipped),
	// run on the first RandomSamples samples (0: all of them). The check doubles a method's
	// cost, and a few samples show whether a method's maps depend on the weights at all.
	Randomized    *Emulator
	RandomSamples int
	Methods       []Method
	Truth         GroundTruth
	Ocean         []bool // the data's ocean mask [NLat*NLon] (nil: all ocean)
	N             int
	// Fill writes sample k's input ([Months][NLat][NLon], the emulator's channel order, 0 on land).
	Fill func(k int, x []float32) error
	// Progress, if not nil, is called with (method runs done, total).
	Progress func(done, total int)
}

// FidelityScores are one method's fidelity numbers (NaN where undefined, e.g. the correlation
// of a constant map).
type FidelityScores struct {
	Method string
	Params string
	// Per sample against w·(x − x0), mean over samples.
	SamplePearson, SampleSpearman         float64 // the truth's neighbourhood
	SamplePearsonGrid, SampleSpearmanGrid float64 // every ocean feature
	// Aggregate mean |attribution| (each sample normalised to sum 1) against |w|.
	AggPearson, AggSpearman         float64 // neighbourhood
	AggPearsonGrid, AggSpearmanGrid float64 // every ocean feature
	// Randomisation: Spearman of the trained and the randomised model's maps, |·| and signed,
	// mean over the samples checked (NaN when skipped).
	RandomAbs, RandomSigned float64
	// Deletion and Insertion hold Steps+1 points at Fractions; their areas.
	Fractions, Deletion, Insertion []float64
	DeletionAUC, InsertionAUC      float64
	Seconds                        float64 // time spent in the method's attributions

	// Per input variable, in Emulator.Vars' order, for an emulator that reads several (nil for
	// one): VarShares is the mean over samples of the variable's share of Σ|attribution| over
	// ocean features (the truth row's: of its contributions w·(x − x0)); VarSamplePearson the
	// per-sample Pearson correlation with w·(x − x0) over the variable's neighbourhood features,
	// mean over samples; VarAggPearson the aggregate's Pearson correlation with |w| there.
	VarShares, VarSamplePearson, VarAggPearson []float64
}

// FidelityResult is a fidelity experiment's outcome: the truth's row, the random row, then one
// row per method.
type FidelityResult struct {
	Scores        []FidelityScores
	Samples       int
	Neighbourhood int // ocean cells of the truth's neighbourhood
	Duration      time.Duration
	// Vars names the input variables of the per-variable scores (nil for one variable), and
	// WeightShares is each one's share of Σ|w| over ocean features: the share |saliency| has on
	// a perfect emulator, in model units.
	Vars         []string
	WeightShares []float64
}

// features are the indices (lag order) compared: neighbourhood and every ocean feature, and
// for several variables each variable's neighbourhood features.
type features struct {
	near, grid []int
	nearVar    [][]int
}

// Run computes the scores of every method and of the truth itself.
func (f Fidelity) Run(ctx context.Context, req FidelityRequest) (*FidelityResult, error) {
	e := req.Emulator
	switch {
	case e == nil:
		return nil, errorf(ErrBadRequest, "", "no emulator")
	case req.N < 1 || req.Fill == nil:
		return nil, errorf(ErrBadRequest, "use --samples N with N ≥ 1", "%d samples", req.N)
	case len(req.Truth.Coef) != e.sampleLen():
		return nil, errorf(ErrBadRequest, "the truth must be on the card's grid with one coefficient per input feature",
			"truth has %d coefficients, the model takes %d", len(req.Truth.Coef), e.sampleLen())
	case len(req.Truth.Target.Weights) != e.cells():
		return nil, errorf(ErrBadRequest, "parse the target on the model's grid", "target has %d weights, the model's output %d cells", len(req.Truth.Target.Weights), e.cells())
	case req.Ocean != nil && len(req.Ocean) != e.cells():
		return nil, errorf(ErrBadRequest, "", "ocean mask has %d cells, the model's grid %d", len(req.Ocean), e.cells())
	}
	if e.NVars() > 1 && !slices.Equal(req.Truth.Vars, e.Vars) {
		have := "the forecast variable alone"
		if len(req.Truth.Vars) > 0 {
			have = strings.Join(req.Truth.Vars, ", ")
		}
		return nil, errorf(ErrTruthVariables, "give the truth's coefficients of every variable the emulator reads, in its order (climxai synth --subsurface --truth writes those of sst and tsub)",
			"the emulator reads %s; the truth's coefficients are of %s", strings.Join(e.Vars, ", "), have)
	}
	if err := e.checkTarget(req.Truth.Target); err != nil {
		return nil, err
	}
	steps := f.Steps
	if steps == 0 {
		steps = DefaultFidelitySteps
	}
	if steps < 1 || steps > 10000 {
		return nil, errorf(ErrBadParameter, "use 1 to 10000 deletion steps", "%d steps", steps)
	}
	start := time.Now()
	months, n, s, nv := e.Months(), e.cells(), e.sampleLen(), e.NVars()
	ocean := func(i int) bool { return req.Ocean == nil || req.Ocean[i] }
	// varOf is the input variable of lag-order feature k; zeroOf its zero anomaly.
	varOf := func(k int) int { return k / (months * n) }
	zeroOf := func(k int) float32 { return e.zero(varOf(k)) }
	// mapOf is method m's map from its result values: backwards optimisation returns the optimal
	// input, whose departure from climatology is the map.
	mapOf := func(m Method, v []float32) []float32 {
		if m.Name() != "backopt" {
			return v
		}
		out := make([]float32, len(v))
		for i := range v {
			out[i] = v[i] - zeroOf(i)
		}
		return out
	}
	w := req.Truth.Coef
	near := make([]bool, n)
	for l := range e.Slabs() {
		for i := range n {
			if c := w[l*n+i]; c == c && c != 0 {
				near[i] = true
			}
		}
	}
	var ft features
	cellsNear := 0
	for i := range n {
		if near[i] && ocean(i) {
			cellsNear++
		}
	}
	if cellsNear == 0 {
		return nil, errorf(ErrBadRequest, "check that the truth file belongs to these data and this lead", "the truth's coefficients are all 0 or NaN on the data's ocean")
	}
	if nv > 1 {
		ft.nearVar = make([][]int, nv)
	}
	for l := range e.Slabs() {
		for i := range n {
			k := l*n + i
			if !ocean(i) || w[k] != w[k] {
				continue
			}
			ft.grid = append(ft.grid, k)
			if near[i] {
				ft.near = append(ft.near, k)
				if nv > 1 {
					ft.nearVar[varOf(k)] = append(ft.nearVar[varOf(k)], k)
				}
			}
		}
	}
	// Model-order index of lag-order feature k: slab k/n is (variable, lag).
	modelIndex := func(k int) int { sl := k / n; return e.channel(sl/months, sl%months)*n + k%n }
	absW := make([]float32, len(w))
	for i, v := range w {
		absW[i] = float32(math.Abs(float64(v)))
	}

	type acc struct {
		sp, ss, spg, ssg, ra, rs float64
		nsp, nss, nspg, nssg     int
		nra, nrs                 int
		vsp                      []float64 // per variable: Σ per-sample Pearson over its neighbourhood
		nvsp                     []int
		agg                      []float64
		del, ins                 []float64
		norm                     float64
		seconds                  float64
		params                   string
	}
	const refs = 2 // truth, random
	rows := len(req.Methods) + refs
	accs := make([]*acc, rows)
	for r := range accs {
		accs[r] = &acc{agg: make([]float64, s), del: make([]float64, steps+1), ins: make([]float64, steps+1),
			vsp: make([]float64, nv), nvsp: make([]int, nv)}
	}
	accs[0].params = "w·(x − x0), the optimal linear predictor's contributions"
	accs[1].params = "independent uniform random numbers in [-1, 1] (a random ranking)"
	for r, m := range req.Methods {
		accs[r+refs].params = m.Params().String()
	}
	fractions := make([]float64, steps+1)
	counts := make([]int, steps+1)
	for k := range counts {
		counts[k] = int(math.Round(float64(k) * float64(len(ft.grid)) / float64(steps)))
		fractions[k] = float64(counts[k]) / float64(len(ft.grid))
	}
	x := make([]float32, s)
	base, err := Baseline{Kind: BaselineZero}.input(Request{Emulator: e, X: x, Ocean: req.Ocean})
	if err != nil {
		return nil, err
	}
	add := func(sum *float64, cnt *int, v float64) {
		if !math.IsNaN(v) {
			*sum += v
			*cnt++
		}
	}
	total, done := req.N*rows, 0
	for k := range req.N {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := req.Fill(k, x); err != nil {
			return nil, err
		}
		xl := e.toLags(x, req.Ocean)
		lin := make([]float32, s)
		for i := range lin {
			lin[i] = w[i] * (xl[i] - zeroOf(i))
		}
		for r := range rows {
			a := lin
			a0 := accs[r]
			if r == 1 {
				rng := newRand(uint64(k) + 1)
				a = make([]float32, s)
				for _, i := range ft.grid {
					a[i] = float32(2*rng.Float64() - 1)
				}
			}
			if r >= refs {
				m := req.Methods[r-refs]
				t0 := time.Now()
				res, err := m.Attribute(ctx, Request{Emulator: e, X: x, Target: req.Truth.Target, Ocean: req.Ocean})
				if err != nil {
					return nil, fmt.Errorf("%s: %w", m.Name(), err)
				}
				a0.seconds += time.Since(t0).Seconds()
				a = mapOf(m, res.Values)
				if req.Randomized != nil && (req.RandomSamples <= 0 || k < req.RandomSamples) {
					rr, err := m.Attribute(ctx, Request{Emulator: req.Randomized, X: x, Target: req.Truth.Target, Ocean: req.Ocean})
					if err != nil {
						return nil, fmt.Errorf("%s on the randomised model: %w", m.Name(), err)
					}
					b := mapOf(m, rr.Values)
					sup := support(ft.grid, a, b)
					add(&a0.ra, &a0.nra, Spearman(gather(a, sup, true), gather(b, sup, true)))
					add(&a0.rs, &a0.nrs, Spearman(gather(a, sup, false), gather(b, sup, false)))
				}
			}
			if r >= 1 {
				add(&a0.sp, &a0.nsp, Pearson(gather(a, ft.near, false), gather(lin, ft.near, false)))
				add(&a0.ss, &a0.nss, Spearman(gather(a, ft.near, false), gather(lin, ft.near, false)))
				add(&a0.spg, &a0.nspg, Pearson(gather(a, ft.grid, false), gather(lin, ft.grid, false)))
				add(&a0.ssg, &a0.nssg, Spearman(gather(a, ft.grid, false), gather(lin, ft.grid, false)))
				for v, idx := range ft.nearVar {
					add(&a0.vsp[v], &a0.nvsp[v], Pearson(gather(a, idx, false), gather(lin, idx, false)))
				}
			}
			var tot float64
			for _, i := range ft.grid {
				if v := a[i]; v == v {
					tot += math.Abs(float64(v))
				}
			}
			if tot > 0 {
				for _, i := range ft.grid {
					if v := a[i]; v == v {
						a0.agg[i] += math.Abs(float64(v)) / tot
					}
				}
			}
			if err := f.curves(ctx, e, req.Truth.Target.Weights, x, base, a, ft.grid, counts, modelIndex, a0.del, a0.ins, &a0.norm); err != nil {
				return nil, err
			}
			done++
			if req.Progress != nil {
				req.Progress(done, total)
			}
		}
	}
	res := &FidelityResult{Samples: req.N, Neighbourhood: cellsNear}
	// varShares returns each variable's share of Σ v over ocean features (nil for one variable).
	varShares := func(v []float64) []float64 {
		if nv == 1 {
			return nil
		}
		sums := make([]float64, nv)
		for _, k := range ft.grid {
			if x := v[k]; x == x {
				sums[varOf(k)] += math.Abs(x)
			}
		}
		return normalise(sums)
	}
	if nv > 1 {
		res.Vars = slices.Clone(e.Vars)
		aw := make([]float64, s)
		for i, v := range absW {
			aw[i] = float64(v)
		}
		res.WeightShares = varShares(aw)
	}
	mean := func(sum float64, cnt int) float64 {
		if cnt == 0 {
			return math.NaN()
		}
		return sum / float64(cnt)
	}
	for r, a := range accs {
		name := TruthName
		switch {
		case r == 1:
			name = RandomName
		case r >= refs:
			name = req.Methods[r-refs].Name()
		}
		sc := FidelityScores{Method: name, Params: a.params, Seconds: a.seconds, Fractions: fractions,
			SamplePearson: mean(a.sp, a.nsp), SampleSpearman: mean(a.ss, a.nss),
			SamplePearsonGrid: mean(a.spg, a.nspg), SampleSpearmanGrid: mean(a.ssg, a.nssg),
			RandomAbs: mean(a.ra, a.nra), RandomSigned: mean(a.rs, a.nrs)}
		if r == 0 {
			sc.SamplePearson, sc.SampleSpearman, sc.SamplePearsonGrid, sc.SampleSpearmanGrid = 1, 1, 1, 1
		}
		agg := make([]float32, s)
		for i, v := range a.agg {
			agg[i] = float32(v)
		}
		sc.AggPearson = Pearson(gather(agg, ft.near, false), gather(absW, ft.near, false))
		sc.AggSpearman = Spearman(gather(agg, ft.near, false), gather(absW, ft.near, false))
		sc.AggPearsonGrid = Pearson(gather(agg, ft.grid, false), gather(absW, ft.grid, false))
		sc.AggSpearmanGrid = Spearman(gather(agg, ft.grid, false), gather(absW, ft.grid, false))
		sc.Deletion, sc.Insertion = make([]float64, steps+1), make([]float64, steps+1)
		for i := range sc.Deletion {
			sc.Deletion[i], sc.Insertion[i] = a.del[i]/a.norm, a.ins[i]/a.norm
		}
		sc.DeletionAUC, sc.InsertionAUC = trapezoid(fractions, sc.Deletion), trapezoid(fractions, sc.Insertion)
		if nv > 1 {
			// The aggregate sums per-sample shares, so its block shares are their mean.
			sc.VarShares = varShares(a.agg)
			for v, idx := range ft.nearVar {
				sc.VarSamplePearson = append(sc.VarSamplePearson, mean(a.vsp[v], a.nvsp[v]))
				sc.VarAggPearson = append(sc.VarAggPearson, Pearson(gather(agg, idx, false), gather(absW, idx, false)))
			}
			if r == 0 {
				for v := range sc.VarSamplePearson {
					sc.VarSamplePearson[v] = 1
				}
			}
		}
		res.Scores = append(res.Scores, sc)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// curves adds one sample's deletion and insertion curves for map a (lag order) to del and ins
// (unnormalised, signed towards the forecast) and |f(x) − f(x0)| to norm.
func (f Fidelity) curves(ctx context.Context, e *Emulator, tw, x, base, a []float32, grid, counts []int,
	modelIndex func(int) int, del, ins []float64, norm *float64) error {
	s := e.sampleLen()
	steps := len(counts) - 1
	buf := make([]float32, 2*(steps+1)*s)
	// The forecast's side of climatology decides which end of the ranking goes first; it is
	// known only after a forward run of x and x0, so run them first.
	y, err := e.forward(ctx, append(append([]float32(nil), x...), base...), 2, nil)
	if err != nil {
		return err
	}
	fx, fb := weighted(tw, y, 0), weighted(tw, y, 1)
	sign := 1.0
	if fx < fb {
		sign = -1
	}
	order := make([]int, 0, len(grid))
	for _, k := range grid {
		if a[k] == a[k] {
			order = append(order, k)
		}
	}
	// NaN features (none on ocean in practice) go last in grid order.
	sort.SliceStable(order, func(i, j int) bool { return sign*float64(a[order[i]]) > sign*float64(a[order[j]]) })
	for _, k := range grid {
		if a[k] != a[k] {
			order = append(order, k)
		}
	}
	cur := append([]float32(nil), x...)
	ins0 := append([]float32(nil), base...)
	for k := range counts {
		if k > 0 {
			for _, fi := range order[counts[k-1]:counts[k]] {
				mi := modelIndex(fi)
				cur[mi] = base[mi]
				ins0[mi] = x[mi]
			}
		}
		copy(buf[k*s:(k+1)*s], cur)
		copy(buf[(steps+1+k)*s:(steps+2+k)*s], ins0)
	}
	ys, err := e.forward(ctx, buf, 2*(steps+1), nil)
	if err != nil {
		return err
	}
	for k := range counts {
		del[k] += sign * (weighted(tw, ys, k) - fb)
		ins[k] += sign * (weighted(tw, ys, steps+1+k) - fb)
	}
	*norm += math.Abs(fx - fb)
	return nil
}

// support returns the indices of idx where a or b is non-zero.
func support(idx []int, a, b []float32) []int {
	out := make([]int, 0, len(idx))
	for _, i := range idx {
		if a[i] != 0 || b[i] != 0 {
			out = append(out, i)
		}
	}
	return out
}

// gather returns v at idx as float64 (absolute values when abs).
func gather(v []float32, idx []int, abs bool) []float64 {
	out := make([]float64, len(idx))
	for j, i := range idx {
		out[j] = float64(v[i])
		if abs {
			out[j] = math.Abs(out[j])
		}
	}
	return out
}

// trapezoid is the trapezoid-rule area under y(x).
func trapezoid(x, y []float64) float64 {
	var a float64
	for i := 1; i < len(x); i++ {
		a += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return a
}

// RandomizeWeights returns a copy of m whose weight tensors (the initializers that are the
// weight input of Conv, ConvTranspose, Gemm or MatMul) have their values permuted at random:
// Adebayo et al. 2018's model-parameter randomisation, each layer's weights re-drawn from the
// layer's own empirical distribution (scale and sign balance kept, the learned arrangement
// destroyed). It also returns how many tensors changed.
func RandomizeWeights(m *onnx.ModelProto, seed uint64) (*onnx.ModelProto, int, error) {
	c := proto.Clone(m).(*onnx.ModelProto)
	weight := map[string]bool{}
	for _, nd := range c.Graph.Node {
		switch nd.OpType {
		case "Conv", "ConvTranspose", "Gemm", "MatMul":
			if len(nd.Input) > 1 {
				weight[nd.Input[1]] = true
			}
		}
	}
	rng := newRand(seed)
	changed := 0
	for i, init := range c.Graph.Initializer {
		if !weight[init.Name] {
			continue
		}
		v, err := onnx.Float32s(init)
		if err != nil {
			return nil, 0, err
		}
		rng.Shuffle(len(v), func(a, b int) { v[a], v[b] = v[b], v[a] })
		c.Graph.Initializer[i] = onnx.FloatTensor(init.Name, init.Dims, v)
		changed++
	}
	return c, changed, nil
}

// Randomized writes e's model with RandomizeWeights(seed) into dir and opens it like e (same
// device, zero anomaly and channel order). The caller removes dir when done.
func (e *Emulator) Randomized(dir string, seed uint64) (*Emulator, error) {
	m, changed, err := RandomizeWeights(e.model, seed)
	if err != nil {
		return nil, err
	}
	if changed == 0 {
		return nil, errorf(ErrBadRequest, "the randomisation check needs a model with Conv, ConvTranspose, Gemm or MatMul weights stored as initializers",
			"%s has no weight tensor to randomise", e.File)
	}
	path := filepath.Join(dir, fmt.Sprintf("randomized-%d-%s.onnx", seed, e.SHA256[:12]))
	if err := onnx.Save(path, m); err != nil {
		return nil, err
	}
	r, err := NewEmulator(e.rt, inference.ModelSpec{Path: path, Input: e.sig.Input, Output: e.sig.Output,
		Months: e.sig.Months, NLat: e.sig.NLat, NLon: e.sig.NLon}, e.opts)
	if err != nil {
		return nil, err
	}
	r.ZeroAnomaly, r.NewestFirst, r.Budget = e.ZeroAnomaly, e.NewestFirst, e.Budget
	r.Vars, r.InputZero, r.Layout = e.Vars, e.InputZero, e.Layout
	return r, nil
}

// LinearEmulatorModel returns the ONNX model of a perfect emulator for a ground truth: y at the
// truth's target cells (weights ≠ 0 of target) is Σ coef · x, 0 elsewhere; coef is [lag][lat]
// [lon] (NaN as 0) and the model takes [N, months, nlat, nlon] in the given channel order. It is
// a Reshape, one MatMul and a Mul, so every method's answer on it is known in closed form:
// fidelity's check of the tool itself.
func LinearEmulatorModel(coef []float32, target Target, months, nlat, nlon int, newestFirst bool) (*onnx.ModelProto, error) {
	return LinearEmulatorModelVars(coef, target, 1, months, nlat, nlon, newestFirst, inference.VariableMajor)
}

// LinearEmulatorModelVars is LinearEmulatorModel for an emulator of vars input variables: coef
// holds one [lag][lat][lon] block per variable (model units), and the model takes [N, vars ·
// months, nlat, nlon], variable v's month at position p of the channel order in channel
// layout.Channel(vars, months, v, p), as a card with [[input]] tables lays them out.
func LinearEmulatorModelVars(coef []float32, target Target, vars, months, nlat, nlon int, newestFirst bool, layout inference.InputLayout) (*onnx.ModelProto, error) {
	n := nlat * nlon
	if vars < 1 || len(coef) != vars*months*n || len(target.Weights) != n {
		return nil, errorf(ErrBadRequest, "", "coefficients %d and target %d for %d variables x %d x %d x %d", len(coef), len(target.Weights), vars, months, nlat, nlon)
	}
	wm := make([]float32, vars*months*n)
	for v := range vars {
		for l := range months {
			p := months - 1 - l
			if newestFirst {
				p = l
			}
			c := layout.Channel(vars, months, v, p)
			for i := range n {
				if x := coef[(v*months+l)*n+i]; x == x {
					wm[c*n+i] = x
				}
			}
		}
	}
	mask := make([]float32, n)
	for i, v := range target.Weights {
		if v != 0 {
			mask[i] = 1
		}
	}
	f := int32(onnx.TensorProto_FLOAT)
	vi := func(name string, dims ...any) *onnx.ValueInfoProto {
		shape := &onnx.TensorShapeProto{}
		for _, d := range dims {
			switch d := d.(type) {
			case string:
				shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: d}})
			case int:
				shape.Dim = append(shape.Dim, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
			}
		}
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: f, Shape: shape}}}}
	}
	F := int64(vars * months * n)
	return &onnx.ModelProto{
		IrVersion: 8, ProducerName: "climxai LinearEmulatorModel",
		OpsetImport: []*onnx.OperatorSetIdProto{{Domain: "", Version: 17}},
		Graph: &onnx.GraphProto{
			Name: "linear_truth",
			Node: []*onnx.NodeProto{
				{OpType: "Reshape", Input: []string{"x", "flat_shape"}, Output: []string{"xf"}, Name: "flatten"},
				{OpType: "MatMul", Input: []string{"xf", "w"}, Output: []string{"p"}, Name: "predict"},
				{OpType: "Mul", Input: []string{"p", "mask"}, Output: []string{"yf"}, Name: "place"},
				{OpType: "Reshape", Input: []string{"yf", "out_shape"}, Output: []string{"y"}, Name: "unflatten"},
			},
			Initializer: []*onnx.TensorProto{
				onnx.Int64Tensor("flat_shape", []int64{2}, []int64{-1, F}),
				onnx.FloatTensor("w", []int64{F, 1}, wm),
				onnx.FloatTensor("mask", []int64{1, int64(n)}, mask),
				onnx.Int64Tensor("out_shape", []int64{4}, []int64{-1, 1, int64(nlat), int64(nlon)}),
			},
			Input:  []*onnx.ValueInfoProto{vi("x", "N", vars*months, nlat, nlon)},
			Output: []*onnx.ValueInfoProto{vi("y", "N", 1, nlat, nlon)},
		},
	}, nil
}
