package attribution

import (
	"context"
	"fmt"
	"math"
	"time"

	"climxai/dataset"
)

// ablationEarthKm is the mean Earth radius (km) of the ablation's distances, the same sphere as
// the spatial-extent analysis uses.
const ablationEarthKm = 6371.0

// Ablation is the reference study's ablation experiment: the skill of the target's prediction
// over a set of samples when the emulator sees only part of its input, the rest set to a zero
// anomaly (climatology), as a check on what attributions say about where and how far back the
// forecast's information lies (the study's "importance is local and recent" verified through
// skill, in the spirit of Hooker et al. 2019's remove-and-evaluate, without retraining).
//
// Two families of inputs are scored:
//   - radius r (km): every input cell whose great-circle distance to the target is above r is
//     set to a zero anomaly in every month. The distance of a cell to a box target is its
//     distance to the nearest cell of the box with a non-zero weight, so r = 0 keeps exactly the
//     target's own cells; r = +Inf keeps everything (the full input).
//   - lags k: the k most recent months are kept (lags 0..k-1, i.e. months t-k+1..t of init month
//     t) and every older month (lags k..Months-1, months t-Months+1..t-k) is set to a zero
//     anomaly; k = Months keeps everything, k = 1 keeps only the init month.
//   - with Variables, for an emulator that reads several input variables: each variable in
//     turn set to its zero anomaly in every month and cell, the others kept (how much skill the
//     forecast owes to that variable).
//
// Land stays 0 as model inputs want it. References: the full input, and persistence (the
// target's anomaly at the init month, lag 0, weighted like the output, as the forecast).
type Ablation struct {
	RadiiKm   []float64 // distances in km, ≥ 0; math.Inf(1) means no spatial masking
	Lags      []int     // months kept, 1..Months
	Variables bool      // also each input variable removed in turn (emulators of several)
}

// AblationRequest is one ablation experiment's data: n samples made on demand.
type AblationRequest struct {
	Emulator *Emulator
	Target   Target
	// Ocean is the data's ocean mask [NLat*NLon] (nil: all ocean); masking writes the zero
	// anomaly on ocean cells only.
	Ocean []bool
	// Grid gives the cells' coordinates for distances (the card's grid).
	Grid dataset.GridSpec
	// N is the number of samples; Fill writes sample k's input ([Months][NLat][NLon], the
	// emulator's channel order, 0 on land) into x; Truth[k] is what sample k should predict: the
	// target-weighted truth Σ w·y_true in model output units.
	N     int
	Fill  func(k int, x []float32) error
	Truth []float64
	// Progress, if not nil, is called between batches with forward runs done and the total.
	Progress func(done, total int)
}

// AblationResult holds the skill of every masked input and of the references. Skill is in
// model output units (RMSE in scaled anomalies; multiply by the card's scale_std for °C).
type AblationResult struct {
	RadiiKm []float64
	Lags    []int
	Radius  []Skill // per RadiiKm
	Lag     []Skill // per Lags
	// Variable holds, with Ablation.Variables, the skill without each input variable (per
	// Vars, the emulator's input variables).
	Variable    []Skill
	Vars        []string
	Full        Skill // the full input
	Persistence Skill // the target's anomaly at the init month as the forecast
	// CellsKept is the number of ocean cells within each radius (the grid's ocean cells for +Inf).
	CellsKept []int
	Samples   int
	// Predictions[v][k] is sample k's target output under variant v: 0 the full input, then
	// one per radius, then one per lag, then one per removed input variable. PersistenceValues[k]
	// is sample k's persistence forecast.
	Predictions       [][]float64
	PersistenceValues []float64
	Device            string
	Duration          time.Duration
}

// Validate checks the radii and lags against an emulator with months input months.
func (a Ablation) Validate(months int) error {
	if len(a.RadiiKm) == 0 && len(a.Lags) == 0 && !a.Variables {
		return errorf(ErrBadParameter, "give at least one radius or one lag, e.g. --radii 0,500,inf --lags 1,12,36", "nothing to ablate")
	}
	for _, r := range a.RadiiKm {
		if !(r >= 0) {
			return errorf(ErrBadParameter, "radii are distances in km, 0 or more, or inf", "radius %g", r)
		}
	}
	for _, k := range a.Lags {
		if k < 1 || k > months {
			return errorf(ErrBadParameter, fmt.Sprintf("lags are numbers of recent months kept, 1 to %d", months), "lag %d", k)
		}
	}
	return nil
}

// Distances returns each grid cell's great-circle distance in km to the target: to the nearest
// cell with a non-zero weight.
func Distances(t Target, grid dataset.GridSpec) []float64 {
	g := grid.Grid()
	nlon := grid.NLon
	d := make([]float64, grid.NLat*grid.NLon)
	for i := range d {
		d[i] = math.Inf(1)
	}
	for k, w := range t.Weights {
		if w == 0 {
			continue
		}
		la, lo := g.Lat[k/nlon], g.Lon[k%nlon]
		for i := range d {
			if km := ablationEarthKm * greatCircle(la, lo, g.Lat[i/nlon], g.Lon[i%nlon]); km < d[i] {
				d[i] = km
			}
		}
	}
	return d
}

// Run scores the full input, every radius, every lag and persistence over req's samples. The
// masked inputs are made batch by batch (memory bounded by the emulator's budget, whatever
// the number of samples), ctx is checked between batches.
func (a Ablation) Run(ctx context.Context, req AblationRequest) (*AblationResult, error) {
	e := req.Emulator
	switch {
	case e == nil:
		return nil, errorf(ErrBadRequest, "", "no emulator")
	case req.N < 2 || req.Fill == nil || len(req.Truth) != req.N:
		return nil, errorf(ErrBadRequest, "skill needs at least two samples: use more test years or --samples N with N ≥ 2",
			"%d samples, %d truths", req.N, len(req.Truth))
	case len(req.Target.Weights) != e.cells():
		return nil, errorf(ErrBadRequest, "parse the target on the model's grid", "target has %d weights, the model's output %d cells", len(req.Target.Weights), e.cells())
	case req.Ocean != nil && len(req.Ocean) != e.cells():
		return nil, errorf(ErrBadRequest, "", "ocean mask has %d cells, the model's grid %d", len(req.Ocean), e.cells())
	case req.Grid.NLat != e.NLat() || req.Grid.NLon != e.NLon():
		return nil, errorf(ErrBadRequest, "", "grid %d x %d, the model's %d x %d", req.Grid.NLat, req.Grid.NLon, e.NLat(), e.NLon())
	}
	if err := e.checkTarget(req.Target); err != nil {
		return nil, err
	}
	if err := a.Validate(e.Months()); err != nil {
		return nil, err
	}
	nv := 0
	if a.Variables {
		if e.NVars() < 2 {
			return nil, errorf(ErrBadParameter, "removing input variables needs an emulator that reads several (a card with [[input]] tables)", "one input variable")
		}
		nv = e.NVars()
	}
	start := time.Now()
	months, n, s := e.Months(), e.cells(), e.sampleLen()
	ocean := func(i int) bool { return req.Ocean == nil || req.Ocean[i] }
	dist := Distances(req.Target, req.Grid)
	res := &AblationResult{RadiiKm: append([]float64(nil), a.RadiiKm...), Lags: append([]int(nil), a.Lags...), Samples: req.N}
	// keepCell[r][i]: cell i is within radius r.
	keepCell := make([][]bool, len(a.RadiiKm))
	for r, km := range a.RadiiKm {
		keepCell[r] = make([]bool, n)
		kept := 0
		for i := range n {
			keepCell[r][i] = dist[i] <= km
			if keepCell[r][i] && ocean(i) {
				kept++
			}
		}
		res.CellsKept = append(res.CellsKept, kept)
	}
	// apply masks x in place for variant v (0 full, 1.. radii, then lags), in every input
	// variable.
	apply := func(x []float32, v int) {
		switch {
		case v == 0:
		case v <= len(a.RadiiKm):
			keep := keepCell[v-1]
			for i := range n {
				if !keep[i] && ocean(i) {
					for u := range e.NVars() {
						for lag := range months {
							x[e.channel(u, lag)*n+i] = e.zero(u)
						}
					}
				}
			}
		case v > len(a.RadiiKm)+len(a.Lags): // input variable u removed
			u := v - 1 - len(a.RadiiKm) - len(a.Lags)
			for lag := range months {
				c := e.channel(u, lag)
				for i := range n {
					if ocean(i) {
						x[c*n+i] = e.zero(u)
					}
				}
			}
		default:
			k := a.Lags[v-1-len(a.RadiiKm)]
			for u := range e.NVars() {
				for lag := k; lag < months; lag++ {
					c := e.channel(u, lag)
					for i := range n {
						if ocean(i) {
							x[c*n+i] = e.zero(u)
						}
					}
				}
			}
		}
	}
	V := 1 + len(a.RadiiKm) + len(a.Lags) + nv
	res.Predictions = make([][]float64, V)
	for v := range res.Predictions {
		res.Predictions[v] = make([]float64, req.N)
	}
	res.PersistenceValues = make([]float64, req.N)
	w := req.Target.Weights
	b := max(1, e.fwd.BatchSize(e.Budget))
	total := req.N * V
	buf := make([]float32, min(b, total)*s)
	cur := make([]float32, s)
	curK := -1
	for j0 := 0; j0 < total; j0 += b {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m := min(b, total-j0)
		for j := range m {
			k, v := (j0+j)/V, (j0+j)%V
			if k != curK {
				if err := req.Fill(k, cur); err != nil {
					return nil, err
				}
				curK = k
				// Persistence: the init month's anomaly as the forecast. Inputs and targets are
				// both (anomaly - scale_mean) / scale_std, so it is Σ w·x at lag 0.
				c0 := e.channel(0, 0) // the forecast variable at lag 0
				res.PersistenceValues[k] = weighted(w, cur[c0*n:(c0+1)*n], 0)
			}
			x := buf[j*s : (j+1)*s]
			copy(x, cur)
			apply(x, v)
		}
		ys, err := e.fwd.Run(ctx, buf[:m*s], m)
		if err != nil {
			return nil, err
		}
		for j := range m {
			k, v := (j0+j)/V, (j0+j)%V
			res.Predictions[v][k] = weighted(w, ys, j)
		}
		if req.Progress != nil {
			req.Progress(j0+m, total)
		}
	}
	res.Full = ScoreSkill(res.Predictions[0], req.Truth)
	for r := range a.RadiiKm {
		res.Radius = append(res.Radius, ScoreSkill(res.Predictions[1+r], req.Truth))
	}
	for l := range a.Lags {
		res.Lag = append(res.Lag, ScoreSkill(res.Predictions[1+len(a.RadiiKm)+l], req.Truth))
	}
	for u := range nv {
		res.Variable = append(res.Variable, ScoreSkill(res.Predictions[1+len(a.RadiiKm)+len(a.Lags)+u], req.Truth))
	}
	if nv > 0 {
		res.Vars = e.Vars
	}
	res.Persistence = ScoreSkill(res.PersistenceValues, req.Truth)
	res.Device, res.Duration = e.fwd.Placement().String(), time.Since(start)
	return res, nil
}
