package synth

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"climxai/dataset"
)

// Lags is the number of input months of the truth's predictor, as of the emulators: lag k
// (0..35) is month t-k of init month t.
const Lags = 36

// RidgeFraction is the ridge penalty relative to the mean diagonal of XᵀX: λ = RidgeFraction ·
// trace(XᵀX) / p for p features, a thousandth of the mean feature variance times the number of
// samples. Neighbouring cells and consecutive months are strongly correlated, so XᵀX is
// ill-conditioned; this penalty makes the solve stable while leaving the coefficients
// essentially those of least squares (an AR(1) of φ = 0.8 has its smallest lag-covariance
// eigenvalue near (1-φ)/(1+φ) = 0.11 of the variance, a hundred times the penalty). A larger,
// validated penalty would predict slightly better but would shrink and smear the coefficients,
// which are what attributions are compared with. The price is sampling noise in the
// coefficients when features are many for the samples: keep Lags · cells well below the
// number of fitting months (see DefaultRadiusKm). A joint predictor from several variables
// (FitTruthJoint) applies the fraction to each variable's own features.
const RidgeFraction = 1e-3

// DefaultRadiusKm is the default neighbourhood radius of the truth's predictor. On a 1000-year
// run at 2° it holds 20-30 cells (700-1000 features for 9600 fitting months); at 800 km
// (45-70 cells) the fit's held-out R² at leads 6 and 9 falls below the 300 km fit's, a sign
// that sampling noise then dominates the extra cells' information.
const DefaultRadiusKm = 500

// testFraction is the share of whole years, at the end of the run, held out for R².
const testFraction = 0.2

// TruthMinYears returns the fewest simulated years from which FitTruth can fit leads up to
// maxLead: the fitting years (all but the last fifth, at least one held out) must hold 36 input
// months and the lead.
func TruthMinYears(maxLead int) int {
	for y := 2; ; y++ {
		test := max(1, int(math.Round(testFraction*float64(y))))
		if 12*(y-test) >= Lags+maxLead {
			return y
		}
	}
}

// LatLon is a point in degrees.
type LatLon struct{ Lat, Lon float64 }

// Predictor is one input variable of a truth's predictor: its name in the data file (e.g.
// "sst", "tsub") and its anomalies.
type Predictor struct {
	Name    string
	Anomaly *dataset.Series
}

// Truth is the optimal linear predictor of each target cell's anomaly at each lead: for target
// i and lead L, the prediction for month t+L is Σ over lag k and cell c of
// Coefficients(i, L)[k][c] · anomaly(t-k, c), and with several predictor variables (Vars) the
// sum over each variable v of VarCoefficients(v, i, L)[k][c] · anomaly_v(t-k, c).
type Truth struct {
	Grid        dataset.Grid
	Requested   []LatLon // targets as asked for
	Targets     []LatLon // the nearest ocean cells' centres
	TargetCells []int    // grid index (row-major) of each target cell
	Leads       []int    // months
	RadiusKm    float64  // neighbourhood radius (great-circle distance of cell centres)
	TrainMonths [2]int   // inclusive range of init months (time indices) used to fit
	TestYears   int      // whole years at the end held out
	Features    []int    // number of neighbourhood cells per target (features = Lags times that, times NVars)

	// Vars names the predictor variables, the predicted variable first (FitTruthJoint); nil
	// when the predictor reads the predicted variable alone (FitTruth).
	Vars []string
	// Coef holds [var][target][lead][lag][lat][lon] coefficients (one variable block unless
	// Vars names several): 0 outside the target's neighbourhood, NaN on land.
	Coef []float32
	// R2Test holds [target][lead] the coefficient of determination of the prediction on the
	// held-out years (init month in them); NaN if they hold no complete sample.
	R2Test []float64
	// R2Train holds [target][lead] the same on the fitting samples.
	R2Train []float64
	// RidgeFraction is the penalty used (see the constant).
	RidgeFraction float64

	// Joint is a predictor of the same targets and leads from several variables (FitTruthJoint
	// on the same run), written beside this one by WriteNetCDF; nil for none.
	Joint *Truth
}

// NVars is the number of predictor variables (1 unless Vars names several).
func (tr *Truth) NVars() int { return max(1, len(tr.Vars)) }

// Coefficients returns the [lag][lat][lon] coefficients of target i and lead index l (a view
// into Coef) of the first predictor variable, the predicted one.
func (tr *Truth) Coefficients(i, l int) []float32 { return tr.VarCoefficients(0, i, l) }

// VarCoefficients returns the [lag][lat][lon] coefficients of predictor variable v (Vars[v]),
// target i and lead index l (a view into Coef).
func (tr *Truth) VarCoefficients(v, i, l int) []float32 {
	n := Lags * tr.Grid.Size()
	off := ((v*len(tr.Targets)+i)*len(tr.Leads) + l) * n
	return tr.Coef[off : off+n : off+n]
}

// greatCircleKm returns the distance between two points in km (haversine).
func greatCircleKm(a, b LatLon) float64 {
	const r = earthRadius / 1000
	la1, la2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	dla := la2 - la1
	dlo := (b.Lon - a.Lon) * math.Pi / 180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// FitTruth fits, for every target and lead, the ridge regression of the target cell's anomaly
// at month t+L on the anomalies at months t-35..t of the ocean cells within radiusKm of it:
//
//	β = (XᵀX + λI)⁻¹ Xᵀy,   λ = RidgeFraction · trace(XᵀX) / p
//
// on the first 80% of whole years (init months t from 35 on whose target month t+L, for the
// longest lead, lies in them), and scores R² on the init months of the last 20%. No
// standardisation: the coefficients act on anomalies in °C. Ocean cells are those finite in
// every month of anomaly; each target snaps to the nearest one.
//
// XᵀX is built from 36 lagged cross-products of the neighbourhood (one matrix product each)
// and a recursion along the diagonals of its Toeplitz-like block structure, so the cost is
// that of one 36-lag cross-covariance plus a Cholesky factorisation of p x p per target.
// progress, if not nil, is called with (targets done, targets); ctx is checked between steps.
func FitTruth(ctx context.Context, anomaly *dataset.Series, targets []LatLon, leads []int, radiusKm float64, progress func(done, total int)) (*Truth, error) {
	return fitTruth(ctx, []*dataset.Series{anomaly}, nil, targets, leads, radiusKm, progress)
}

// FitTruthJoint fits, like FitTruth, the optimal linear predictor of predictors[0]'s anomaly at
// each target cell, but from the anomalies of every predictor variable (e.g. SST and the
// temperature below the mixed layer) at the same 36 lags and neighbourhood cells: Lags · cells ·
// len(predictors) features. The variables differ in spread, so each gets its own ridge penalty,
// the same fraction of its own mean feature variance (λ_v = RidgeFraction · trace_v / p_v over
// its features). A cell is ocean when every variable is finite there in every month. The
// series must share grid, start and length. The result's Vars name the predictors in order.
func FitTruthJoint(ctx context.Context, predictors []Predictor, targets []LatLon, leads []int, radiusKm float64, progress func(done, total int)) (*Truth, error) {
	if len(predictors) == 0 {
		return nil, &ConfigError{Field: "predictors", Msg: "no predictor variable given"}
	}
	series := make([]*dataset.Series, len(predictors))
	names := make([]string, len(predictors))
	first := predictors[0].Anomaly
	for v, p := range predictors {
		switch {
		case p.Name == "" || slices.Contains(names[:v], p.Name):
			return nil, &ConfigError{Field: "predictors", Msg: fmt.Sprintf("variable %d is named %q; give every predictor a name of its own", v, p.Name)}
		case p.Anomaly == nil:
			return nil, &ConfigError{Field: "predictors", Msg: fmt.Sprintf("%s has no anomalies", p.Name)}
		case first != nil && (p.Anomaly.N != first.N || p.Anomaly.Start != first.Start ||
			!slices.Equal(p.Anomaly.Grid.Lat, first.Grid.Lat) || !slices.Equal(p.Anomaly.Grid.Lon, first.Grid.Lon)):
			return nil, &ConfigError{Field: "predictors", Msg: fmt.Sprintf("%s does not share %s's grid and months", p.Name, predictors[0].Name)}
		}
		series[v], names[v] = p.Anomaly, p.Name
	}
	return fitTruth(ctx, series, names, targets, leads, radiusKm, progress)
}

// fitTruth is FitTruth of series[0]'s anomaly from every series (names nil: series[0] alone).
func fitTruth(ctx context.Context, series []*dataset.Series, names []string, targets []LatLon, leads []int, radiusKm float64, progress func(done, total int)) (*Truth, error) {
	for v, anomaly := range series {
		if anomaly == nil || anomaly.N == 0 || len(anomaly.Values) != anomaly.N*anomaly.Grid.Size() {
			field := "anomaly"
			if v > 0 {
				field = "anomaly of " + names[v]
			}
			return nil, &ConfigError{Field: field, Msg: "no data, or values do not match the grid and months"}
		}
	}
	anomaly := series[0]
	if len(targets) == 0 {
		return nil, &ConfigError{Field: "targets", Msg: "no target cell given"}
	}
	if len(leads) == 0 {
		return nil, &ConfigError{Field: "leads", Msg: "no lead given"}
	}
	maxLead := 0
	for _, l := range leads {
		if l < 1 || l > 120 {
			return nil, &ConfigError{Field: "leads", Msg: fmt.Sprintf("lead %d months; use 1 to 120", l)}
		}
		maxLead = max(maxLead, l)
	}
	if !(radiusKm > 0 && radiusKm <= 5000) {
		return nil, &ConfigError{Field: "radius", Msg: fmt.Sprintf("%g km; use more than 0 and at most 5000", radiusKm)}
	}
	g := anomaly.Grid
	size, N := g.Size(), anomaly.N
	years := N / 12
	testYears := int(math.Round(testFraction * float64(years)))
	if years >= 2 {
		testYears = max(1, testYears)
	}
	nTrain := N - 12*testYears
	t0, t1 := Lags-1, nTrain-1-maxLead
	if t1 < t0 {
		return nil, &ConfigError{Field: "anomaly", Msg: fmt.Sprintf("%d months leave no fitting sample for %d lags and lead %d; generate more years", N, Lags, maxLead)}
	}

	// Ocean: finite in every month of every variable.
	ocean := make([]bool, size)
	for k := range ocean {
		ocean[k] = true
	}
	for _, s := range series {
		for t := 0; t < N; t++ {
			v := s.Values[t*size : (t+1)*size]
			for k, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					ocean[k] = false
				}
			}
		}
	}
	nlon := g.NLon()
	at := func(k int) LatLon { return LatLon{g.Lat[k/nlon], g.Lon[k%nlon]} }

	tr := &Truth{
		Grid: g, Requested: append([]LatLon(nil), targets...), Leads: append([]int(nil), leads...),
		RadiusKm: radiusKm, TrainMonths: [2]int{t0, t1}, TestYears: testYears,
		Vars:          slices.Clone(names),
		Coef:          make([]float32, len(series)*len(targets)*len(leads)*Lags*size),
		R2Test:        make([]float64, len(targets)*len(leads)),
		R2Train:       make([]float64, len(targets)*len(leads)),
		RidgeFraction: RidgeFraction,
	}
	for _, p := range targets {
		best, bestD := -1, math.Inf(1)
		for k := range ocean {
			if ocean[k] {
				if d := greatCircleKm(p, at(k)); d < bestD {
					best, bestD = k, d
				}
			}
		}
		if best < 0 || bestD > 500 {
			return nil, &ConfigError{Field: "targets", Msg: fmt.Sprintf("%g,%g is more than 500 km from every ocean cell of the grid", p.Lat, p.Lon)}
		}
		tr.Targets = append(tr.Targets, at(best))
		tr.TargetCells = append(tr.TargetCells, best)
	}
	if progress != nil {
		progress(0, len(targets))
	}
	for i := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := tr.fitTarget(ctx, i, series, ocean); err != nil {
			return nil, err
		}
		if progress != nil {
			progress(i+1, len(targets))
		}
	}
	return tr, nil
}

// fitTarget fits every lead of target i from the variables' series (series[0] the predicted).
func (tr *Truth) fitTarget(ctx context.Context, i int, series []*dataset.Series, ocean []bool) error {
	g := tr.Grid
	size, N := g.Size(), series[0].N
	nlon := g.NLon()
	centre := tr.Targets[i]
	var cells []int
	self := -1
	for k := range ocean {
		if ocean[k] && greatCircleKm(centre, LatLon{g.Lat[k/nlon], g.Lon[k%nlon]}) <= tr.RadiusKm {
			if k == tr.TargetCells[i] {
				self = len(cells)
			}
			cells = append(cells, k)
		}
	}
	n, nv := len(cells), len(series)
	p := Lags * nv * n
	tr.Features = append(tr.Features, n)

	// A: all months x (variable, neighbourhood cell), variable-major, float64.
	A := mat.NewDense(N, nv*n, nil)
	raw := A.RawMatrix()
	for t := 0; t < N; t++ {
		row := raw.Data[t*raw.Stride : t*raw.Stride+nv*n]
		for v, s := range series {
			vals := s.Values[t*size : (t+1)*size]
			for c, k := range cells {
				row[v*n+c] = float64(vals[k])
			}
		}
	}
	t0, t1 := tr.TrainMonths[0], tr.TrainMonths[1]
	y := make([]float64, N)
	for t := range y {
		y[t] = A.At(t, self)
	}
	G, err := gram(ctx, A, t0, t1)
	if err != nil {
		return err
	}
	chol, err := factor(G, p, nv, RidgeFraction, centre)
	if err != nil {
		return err
	}
	for li, L := range tr.Leads {
		if err := ctx.Err(); err != nil {
			return err
		}
		beta, err := solve(chol, rhs(A, y, t0, t1, L), centre, L)
		if err != nil {
			return err
		}
		for v := range nv {
			coef := tr.VarCoefficients(v, i, li)
			for k := 0; k < Lags; k++ {
				fk := coef[k*size : (k+1)*size]
				for kk := range fk {
					if !ocean[kk] {
						fk[kk] = float32(math.NaN())
					}
				}
				for c, kk := range cells {
					fk[kk] = float32(beta[(k*nv+v)*n+c])
				}
			}
		}
		idx := i*len(tr.Leads) + li
		pr := func(t int) float64 { return predict(A, beta, t) }
		tr.R2Train[idx] = r2(t0, t1, L, y, pr)
		tr.R2Test[idx] = r2(max(N-12*tr.TestYears, Lags-1), N-1-L, L, y, pr)
	}
	return nil
}

// gram returns XᵀX (p x p, p = Lags·n, row-major, upper triangle valid) of the lagged features
// x(t) = (a(t), a(t-1), ..., a(t-35)) for init months from..to (from >= 35). The first block
// row comes from 36 matrix products; block (k, l) for 1 <= k <= l follows from block
// (k-1, l-1) by adding the sample that enters and removing the one that leaves:
//
//	G(k,l) = G(k-1,l-1) + a(from-k) a(from-l)ᵀ - a(to+1-k) a(to+1-l)ᵀ
func gram(ctx context.Context, A *mat.Dense, from, to int) ([]float64, error) {
	_, n := A.Dims()
	p := Lags * n
	G := make([]float64, p*p)
	rows := func(a, b int) mat.Matrix { return A.Slice(a, b+1, 0, n) }
	X0 := rows(from, to)
	var G0 mat.Dense
	for l := 0; l < Lags; l++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		G0.Mul(X0.T(), rows(from-l, to-l))
		for c := 0; c < n; c++ {
			copy(G[c*p+l*n:c*p+l*n+n], G0.RawRowView(c))
		}
	}
	for k := 1; k < Lags; k++ {
		for l := k; l < Lags; l++ {
			ak, al := A.RawRowView(from-k), A.RawRowView(from-l)
			bk, bl := A.RawRowView(to+1-k), A.RawRowView(to+1-l)
			for c := 0; c < n; c++ {
				dst := G[(k*n+c)*p+l*n : (k*n+c)*p+l*n+n]
				src := G[((k-1)*n+c)*p+(l-1)*n : ((k-1)*n+c)*p+(l-1)*n+n]
				x, y := ak[c], bk[c]
				for d := range dst {
					dst[d] = src[d] + x*al[d] - y*bl[d]
				}
			}
		}
	}
	return G, nil
}

// factor returns the Cholesky factorisation of G + Λ for p features of nv variables (lag-major,
// then variable, then cell, as gram orders them): each variable's features get λ_v =
// f·trace_v/p_v, its own diagonal's mean times f.
func factor(G []float64, p, nv int, f float64, centre LatLon) (*mat.Cholesky, error) {
	width := p / Lags // features per lag
	n := width / nv   // cells
	trace := make([]float64, nv)
	for d := 0; d < p; d++ {
		trace[d%width/n] += G[d*p+d]
	}
	lambda := make([]float64, nv)
	for v := range lambda {
		lambda[v] = f * trace[v] / float64(p/nv)
		if lambda[v] <= 0 {
			lambda[v] = 1e-12
		}
	}
	work := make([]float64, len(G))
	copy(work, G)
	for d := 0; d < p; d++ {
		work[d*p+d] += lambda[d%width/n]
	}
	var chol mat.Cholesky
	if ok := chol.Factorize(mat.NewSymDense(p, work)); !ok {
		return nil, fmt.Errorf("synth: target %g,%g: the normal equations are not positive definite (is the anomaly constant?)", centre.Lat, centre.Lon)
	}
	return &chol, nil
}

// rhs returns Xᵀy: for lag k and cell c, Σ_t a(t-k, c) y(t+L) over init months from..to.
func rhs(A *mat.Dense, y []float64, from, to, L int) []float64 {
	_, n := A.Dims()
	b := make([]float64, Lags*n)
	for t := from; t <= to; t++ {
		yt := y[t+L]
		for k := 0; k < Lags; k++ {
			row := A.RawRowView(t - k)
			bk := b[k*n : (k+1)*n]
			for c := range bk {
				bk[c] += row[c] * yt
			}
		}
	}
	return b
}

// solve returns the coefficients for right-hand side b.
func solve(chol *mat.Cholesky, b []float64, centre LatLon, L int) ([]float64, error) {
	beta := mat.NewVecDense(len(b), nil)
	if err := chol.SolveVecTo(beta, mat.NewVecDense(len(b), b)); err != nil {
		return nil, fmt.Errorf("synth: target %g,%g lead %d: %w", centre.Lat, centre.Lon, L, err)
	}
	return beta.RawVector().Data, nil
}

// predict returns Σ_k Σ_c β(k,c) a(t-k, c).
func predict(A *mat.Dense, beta []float64, t int) float64 {
	_, n := A.Dims()
	s := 0.0
	for k := 0; k < Lags; k++ {
		row := A.RawRowView(t - k)
		bk := beta[k*n : (k+1)*n]
		for c := range bk {
			s += bk[c] * row[c]
		}
	}
	return s
}

// r2 returns 1 - SSE/SST of predictions of y(t+L) for init months from..to, or NaN if there
// are fewer than two.
func r2(from, to, L int, y []float64, predict func(t int) float64) float64 {
	if to-from < 1 {
		return math.NaN()
	}
	mean := 0.0
	for t := from; t <= to; t++ {
		mean += y[t+L]
	}
	mean /= float64(to - from + 1)
	sse, sst := 0.0, 0.0
	for t := from; t <= to; t++ {
		v := y[t+L]
		e := v - predict(t)
		sse += e * e
		sst += (v - mean) * (v - mean)
	}
	if sst == 0 {
		return math.NaN()
	}
	return 1 - sse/sst
}
