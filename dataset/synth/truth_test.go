package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"climxai/dataset"
	"climxai/dataset/netcdf"
)

// toySeries returns a 3 x 3 grid around 40N 40W (about 110 km apart, all ocean) with months of
// values from next(t, cell).
func toySeries(months int, fill func(vals [][]float64)) *dataset.Series {
	g := dataset.Grid{Lat: []float64{39, 40, 41}, Lon: []float64{-41, -40, -39}}
	vals := make([][]float64, months)
	for t := range vals {
		vals[t] = make([]float64, 9)
	}
	fill(vals)
	s := &dataset.Series{Name: "a", Units: "degC", Grid: g, Start: dataset.NewMonth(1, 1), N: months,
		Values: make([]float32, months*9)}
	for t := range vals {
		for k, v := range vals[t] {
			s.Values[t*9+k] = float32(v)
		}
	}
	return s
}

func TestFitTruthIndependentAR1(t *testing.T) {
	const phi = 0.8
	rng := rand.New(rand.NewPCG(1, 2))
	s := toySeries(12*1000, func(v [][]float64) {
		for tt := 1; tt < len(v); tt++ {
			for k := range v[tt] {
				v[tt][k] = phi*v[tt-1][k] + rng.NormFloat64()
			}
		}
	})
	leads := []int{1, 2, 3}
	tr, err := FitTruth(context.Background(), s, []LatLon{{40.2, -40.1}}, leads, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.TargetCells[0] != 4 || tr.Features[0] != 9 {
		t.Fatalf("target cell %d with %d neighbours, want the centre 4 with 9", tr.TargetCells[0], tr.Features[0])
	}
	for li, L := range leads {
		coef := tr.Coefficients(0, li)
		want := math.Pow(phi, float64(L))
		if got := float64(coef[4]); math.Abs(got-want) > 0.05 {
			t.Errorf("lead %d: lag-0 coefficient on the target %.3f, want φ^L = %.3f", L, got, want)
		}
		worst := 0.0
		for k, c := range coef {
			if k != 4 {
				worst = math.Max(worst, math.Abs(float64(c)))
			}
		}
		if worst > 0.06 {
			t.Errorf("lead %d: largest other coefficient %.3f, want about 0", L, worst)
		}
		// Skill of AR(1): R² = φ^(2L).
		if r2 := tr.R2Test[li]; math.Abs(r2-want*want) > 0.06 {
			t.Errorf("lead %d: test R² %.3f, want φ^2L = %.3f", L, r2, want*want)
		}
	}
}

func TestFitTruthLaggedNeighbour(t *testing.T) {
	// Cell 0 is white noise; cell 8 follows it two months later: b(t) = 0.8 a(t-2) + 0.6 e.
	// So b(t+1) = 0.8 a(t-1) + noise: the lead-1 predictor of cell 8 is 0.8 at lag 1 on cell 0.
	rng := rand.New(rand.NewPCG(3, 4))
	s := toySeries(12*1000, func(v [][]float64) {
		for tt := range v {
			for k := range v[tt] {
				v[tt][k] = rng.NormFloat64()
			}
			if tt >= 2 {
				v[tt][8] = 0.8*v[tt-2][0] + 0.6*rng.NormFloat64()
			}
		}
	})
	tr, err := FitTruth(context.Background(), s, []LatLon{{41, -39}}, []int{1, 2, 3}, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	size := 9
	for li, L := range tr.Leads {
		coef := tr.Coefficients(0, li)
		for lag := 0; lag < Lags; lag++ {
			for k := 0; k < size; k++ {
				want := 0.0
				if k == 0 && lag == 2-L {
					want = 0.8
				}
				if got := float64(coef[lag*size+k]); math.Abs(got-want) > 0.07 {
					t.Errorf("lead %d lag %d cell %d: coefficient %.3f, want %.1f", L, lag, k, got, want)
				}
			}
		}
	}
	if r2 := tr.R2Test[0]; math.Abs(r2-0.64) > 0.05 {
		t.Errorf("lead 1: test R² %.3f, want %.3f", r2, 0.64)
	}
	if r2 := tr.R2Test[2]; math.Abs(r2) > 0.05 {
		t.Errorf("lead 3: test R² %.3f, want about 0 (nothing predictable)", r2)
	}
}

func TestGramMatchesDirectProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const months, n = 80, 3
	A := mat.NewDense(months, n, nil)
	for r := 0; r < months; r++ {
		for c := 0; c < n; c++ {
			A.Set(r, c, rng.NormFloat64())
		}
	}
	from, to := 40, 70
	G, err := gram(context.Background(), A, from, to)
	if err != nil {
		t.Fatal(err)
	}
	p := Lags * n
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			want := 0.0 // literal Σ_t x_i(t) x_j(t), x_{k*n+c}(t) = a(t-k, c)
			for tt := from; tt <= to; tt++ {
				want += A.At(tt-i/n, i%n) * A.At(tt-j/n, j%n)
			}
			if got := G[i*p+j]; math.Abs(got-want) > 1e-9 {
				t.Fatalf("G[%d][%d] = %v, want %v", i, j, got, want)
			}
		}
	}
}

func TestFitTruthCancel(t *testing.T) {
	s := toySeries(12*50, func(v [][]float64) {})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FitTruth(ctx, s, []LatLon{{40, -40}}, []int{1}, 200, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestTruthMinYears(t *testing.T) {
	for _, lead := range []int{1, 9, 12, 24} {
		y := TruthMinYears(lead)
		ok := func(years int) bool {
			s := toySeries(12*years, func(v [][]float64) {})
			_, err := FitTruth(context.Background(), s, []LatLon{{40, -40}}, []int{lead}, 100, nil)
			return !errors.Is(err, ErrConfig)
		}
		if !ok(y) || ok(y-1) {
			t.Errorf("lead %d: TruthMinYears = %d, but %d years fit: %v, %d years fit: %v", lead, y, y, ok(y), y-1, ok(y-1))
		}
	}
}

func TestFitTruthNaNOutsideOcean(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := toySeries(12*60, func(v [][]float64) {
		for tt := range v {
			for k := range v[tt] {
				v[tt][k] = rng.NormFloat64()
			}
			v[tt][2] = math.NaN() // land
		}
	})
	tr, err := FitTruth(context.Background(), s, []LatLon{{39, -41}}, []int{1}, 120, nil)
	if err != nil {
		t.Fatal(err)
	}
	coef := tr.Coefficients(0, 0)
	for lag := 0; lag < Lags; lag++ {
		if !math.IsNaN(float64(coef[lag*9+2])) {
			t.Fatalf("lag %d: land cell has coefficient %v, want NaN", lag, coef[lag*9+2])
		}
		// Cell 8 (41N 39W) is about 250 km away: outside the 120 km neighbourhood.
		if coef[lag*9+8] != 0 {
			t.Fatalf("lag %d: cell outside the radius has coefficient %v, want 0", lag, coef[lag*9+8])
		}
	}
}

func TestFitTruthRejects(t *testing.T) {
	s := toySeries(12*10, func(v [][]float64) {})
	tests := []struct {
		name    string
		series  *dataset.Series
		targets []LatLon
		leads   []int
		radius  float64
	}{
		{"nil series", nil, []LatLon{{40, -40}}, []int{1}, 800},
		{"no targets", s, nil, []int{1}, 800},
		{"no leads", s, []LatLon{{40, -40}}, nil, 800},
		{"lead 0", s, []LatLon{{40, -40}}, []int{0}, 800},
		{"negative radius", s, []LatLon{{40, -40}}, []int{1}, -1},
		{"target far away", s, []LatLon{{-40, 100}}, []int{1}, 800},
		{"too short", toySeries(40, func(v [][]float64) {}), []LatLon{{40, -40}}, []int{9}, 800},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitTruth(context.Background(), tc.series, tc.targets, tc.leads, tc.radius, nil)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
}

func TestFitTruthOnSyntheticRun(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a 1000-year run")
	}
	r, err := Generate(context.Background(), Config{Years: 1000, Grid: 2, Seed: 11}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tr, err := FitTruth(context.Background(), r.Anomaly, []LatLon{{55, -35}}, []int{1, 6, 9}, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit in %v, %d cells, R² test %.3f, train %.3f", time.Since(start), tr.Features[0], tr.R2Test, tr.R2Train)
	if !(tr.R2Test[0] > tr.R2Test[1] && tr.R2Test[1] > tr.R2Test[2] && tr.R2Test[2] > 0.03 && tr.R2Test[0] > 0.8) {
		t.Errorf("R² %v: want lead 1 > lead 6 > lead 9 > 0.03 and lead 1 > 0.8", tr.R2Test)
	}
	// The lead-1 predictor rests on the latest month near the target: the net weight of lag 0
	// (summed over the neighbourhood) is the largest of all lags, the largest single weight is
	// a positive lag-0 weight within 300 km, and the target's own lag-0 weight is positive. (Not
	// necessarily the largest: the current brings next month's water from upstream, and the
	// broad subsurface anomaly that re-emerges is best estimated by averaging neighbours.)
	coef := tr.Coefficients(0, 0)
	size := tr.Grid.Size()
	target := tr.TargetCells[0]
	net := make([]float64, Lags)
	best := target
	for k, c := range coef {
		if math.IsNaN(float64(c)) {
			continue
		}
		net[k/size] += float64(c)
		if math.Abs(float64(c)) > math.Abs(float64(coef[best])) {
			best = k
		}
	}
	for k := 1; k < Lags; k++ {
		if net[k] >= net[0] {
			t.Errorf("lead 1: net weight of lag %d %.3f not below lag 0's %.3f", k, net[k], net[0])
		}
	}
	nlon := tr.Grid.NLon()
	at := LatLon{tr.Grid.Lat[best%size/nlon], tr.Grid.Lon[best%size%nlon]}
	if d := greatCircleKm(at, tr.Targets[0]); best >= size || coef[best] <= 0 || d > 300 {
		t.Errorf("lead 1: largest weight %.3f at lag %d, %.0f km from the target; want a positive lag-0 weight within 300 km", coef[best], best/size, d)
	}
	if coef[target] <= 0 {
		t.Errorf("lead 1: target's lag-0 coefficient %.3f, want positive", coef[target])
	}
}

func BenchmarkFitTruth2Degree(b *testing.B) {
	r, err := Generate(context.Background(), Config{Years: 1000, Grid: 2, Seed: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := FitTruth(context.Background(), r.Anomaly, []LatLon{{55, -35}}, []int{1, 6, 9}, DefaultRadiusKm, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTruthWriteNetCDF(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	s := toySeries(12*20, func(v [][]float64) {
		for tt := range v {
			for k := range v[tt] {
				v[tt][k] = rng.NormFloat64()
			}
			v[tt][2] = math.NaN()
		}
	})
	tr, err := FitTruth(context.Background(), s, []LatLon{{40, -40}, {39, -41}}, []int{1, 6}, 150, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "truth.nc")
	if err := tr.WriteNetCDF(path, map[string]string{"seed": "9", "climxai_version": "test"}); err != nil {
		t.Fatal(err)
	}
	f, err := netcdf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.Var("coef")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Shape(), []int{2, 2, Lags, 3, 3}; !slices.Equal(got, want) {
		t.Fatalf("coef shape %v, want %v", got, want)
	}
	coef, err := v.ReadFloat32(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, c := range coef {
		want := tr.Coef[k]
		if math.IsNaN(float64(want)) {
			want = truthFill
		}
		if c != want {
			t.Fatalf("coef[%d] = %v, want %v", k, c, want)
		}
	}
	for _, name := range []string{"r2_test", "r2_train", "target_lat", "target_lon", "lead", "lag", "lat", "lon"} {
		if _, err := f.Var(name); err != nil {
			t.Errorf("variable %s: %v", name, err)
		}
	}
	a, err := f.Attr("seed")
	if err != nil || a.Text != "9" {
		t.Errorf("global attribute seed = %+v, %v", a, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the truth file (no temporary left)", len(entries))
	}
}

// twoVarSeries returns toy series a (the predicted variable) and d (a second predictor, of
// standard deviation 2) on toySeries' grid: white noise, except that cell 8 of a follows both,
// a(t, 8) = 0.5 a(t-2, 0) + 0.35 d(t-3, 4) + 0.4 e(t). From init month t, a(t+L, 8) is then
// predicted by 0.5 on a at lag 2-L in cell 0 and 0.35 on d at lag 3-L in cell 4: R² 0.74/0.9 from
// both, 0.25/0.9 from a alone at lead 1.
func twoVarSeries(years int, seed uint64) (a, d *dataset.Series) {
	rng := rand.New(rand.NewPCG(seed, 12))
	months := 12 * years
	dv := make([][]float64, months)
	for t := range dv {
		dv[t] = make([]float64, 9)
		for k := range dv[t] {
			dv[t][k] = 2 * rng.NormFloat64()
		}
	}
	a = toySeries(months, func(v [][]float64) {
		for t := range v {
			for k := range v[t] {
				v[t][k] = rng.NormFloat64()
			}
			if t >= 3 {
				v[t][8] = 0.5*v[t-2][0] + 0.35*dv[t-3][4] + 0.4*rng.NormFloat64()
			}
		}
	})
	d = toySeries(months, func(v [][]float64) { copy(v, dv) })
	d.Name = "d"
	return a, d
}

// TestFitTruthJointRecoversCoefficients: from two variables the fit finds both known
// coefficients (and nothing else: 648 features on 28,800 fitting months leave sampling noise of
// about 0.004) at each lead, with the R² they imply; from the predicted variable alone it finds
// its own and explains less.
func TestFitTruthJointRecoversCoefficients(t *testing.T) {
	a, d := twoVarSeries(3000, 21)
	leads := []int{1, 2, 3}
	target := []LatLon{{41, -39}}
	tr, err := FitTruthJoint(context.Background(), []Predictor{{"sst", a}, {"tsub", d}}, target, leads, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	one, err := FitTruth(context.Background(), a, target, leads, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.NVars() != 2 || !slices.Equal(tr.Vars, []string{"sst", "tsub"}) || len(tr.Coef) != 2*len(leads)*Lags*9 || tr.Features[0] != 9 {
		t.Fatalf("vars %v, %d coefficients, %v features", tr.Vars, len(tr.Coef), tr.Features)
	}
	for li, L := range leads {
		for v, want := range []struct {
			cell, lag int
			coef      float64
		}{{0, 2 - L, 0.5}, {4, 3 - L, 0.35}} {
			coef := tr.VarCoefficients(v, 0, li)
			for lag := range Lags {
				for k := range 9 {
					w, tol := 0.0, 0.04
					if k == want.cell && lag == want.lag {
						w, tol = want.coef, 0.015
					}
					if got := float64(coef[lag*9+k]); math.Abs(got-w) > tol {
						t.Errorf("lead %d variable %s lag %d cell %d: coefficient %.3f, want %.2f", L, tr.Vars[v], lag, k, got, w)
					}
				}
			}
		}
	}
	wantR2 := []float64{0.74 / 0.9, 0.74 / 0.9, 0.49 / 0.9}
	wantR2One := []float64{0.25 / 0.9, 0.25 / 0.9, 0}
	for li, L := range leads {
		t.Logf("lead %d: held-out R² %.3f from both, %.3f from sst alone", L, tr.R2Test[li], one.R2Test[li])
		if math.Abs(tr.R2Test[li]-wantR2[li]) > 0.03 || math.Abs(one.R2Test[li]-wantR2One[li]) > 0.03 {
			t.Errorf("lead %d: R² %.3f from both (want %.3f), %.3f from sst alone (want %.3f)", L, tr.R2Test[li], wantR2[li], one.R2Test[li], wantR2One[li])
		}
	}
	// FitTruth's coefficients on sst alone are the known one: nothing of d leaks into them,
	// since d is independent of a's past.
	if c := one.Coefficients(0, 0)[1*9+0]; math.Abs(float64(c)-0.5) > 0.02 {
		t.Errorf("sst alone, lead 1: coefficient %.3f at lag 1 cell 0, want 0.5", c)
	}
}

// TestFitTruthJointOfOneIsFitTruth: a joint fit from the predicted variable alone is FitTruth,
// bit for bit (the per-variable penalty of one variable is the single penalty).
func TestFitTruthJointOfOneIsFitTruth(t *testing.T) {
	a, _ := twoVarSeries(60, 5)
	want, err := FitTruth(context.Background(), a, []LatLon{{41, -39}, {40, -40}}, []int{1, 6}, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FitTruthJoint(context.Background(), []Predictor{{"sst", a}}, []LatLon{{41, -39}, {40, -40}}, []int{1, 6}, 200, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(got.Coef, want.Coef) || !slices.Equal(got.R2Test, want.R2Test) || !slices.Equal(got.Vars, []string{"sst"}) {
		t.Errorf("joint fit of one variable differs from FitTruth (vars %v)", got.Vars)
	}
}

func TestFitTruthJointRejects(t *testing.T) {
	a, d := twoVarSeries(10, 1)
	short := toySeries(12*9, func(v [][]float64) {})
	for _, tc := range []struct {
		name string
		p    []Predictor
	}{
		{"none", nil},
		{"unnamed", []Predictor{{"sst", a}, {"", d}}},
		{"same name", []Predictor{{"sst", a}, {"sst", d}}},
		{"no anomalies", []Predictor{{"sst", a}, {"tsub", nil}}},
		{"other months", []Predictor{{"sst", a}, {"tsub", short}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := FitTruthJoint(context.Background(), tc.p, []LatLon{{40, -40}}, []int{1}, 300, nil); !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}

// TestTruthWriteNetCDFJoint: a joint predictor adds joint_coef_NAME per variable, the joint R²
// and joint_predictors, and leaves every variable and attribute of the one-variable file as it
// was.
func TestTruthWriteNetCDFJoint(t *testing.T) {
	a, d := twoVarSeries(20, 9)
	targets, leads := []LatLon{{40, -40}, {39, -41}}, []int{1, 6}
	tr, err := FitTruth(context.Background(), a, targets, leads, 150, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain, joint := filepath.Join(dir, "plain.nc"), filepath.Join(dir, "joint.nc")
	if err := tr.WriteNetCDF(plain, map[string]string{"seed": "9"}); err != nil {
		t.Fatal(err)
	}
	if tr.Joint, err = FitTruthJoint(context.Background(), []Predictor{{"sst", a}, {"tsub", d}}, targets, leads, 150, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteNetCDF(joint, map[string]string{"seed": "9"}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Joint.WriteNetCDF(filepath.Join(dir, "bad.nc"), nil); err == nil {
		t.Error("a joint predictor written as the file's coef: no error")
	}
	fp, err := netcdf.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	fj, err := netcdf.Open(joint)
	if err != nil {
		t.Fatal(err)
	}
	defer fj.Close()
	vars, err := fp.Vars()
	if err != nil {
		t.Fatal(err)
	}
	for _, vp := range vars {
		vj, err := fj.Var(vp.Name)
		if err != nil {
			t.Errorf("%s missing beside the joint predictor: %v", vp.Name, err)
			continue
		}
		a, _ := vp.ReadFloat64(nil, nil)
		b, _ := vj.ReadFloat64(nil, nil)
		ap, _ := vp.Attrs()
		aj, _ := vj.Attrs()
		if !slices.Equal(vp.Shape(), vj.Shape()) || !slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }) ||
			fmt.Sprint(ap) != fmt.Sprint(aj) {
			t.Errorf("%s differs beside the joint predictor", vp.Name)
		}
	}
	gp, _ := fp.Attrs()
	for _, ga := range gp {
		if gj, err := fj.Attr(ga.Name); ga.Name != "history" && (err != nil || gj.Text != ga.Text) {
			t.Errorf("global attribute %s = %q beside the joint predictor, %q without", ga.Name, gj.Text, ga.Text)
		}
	}
	if at, err := fj.Attr("joint_predictors"); err != nil || at.Text != "sst tsub" {
		t.Errorf("joint_predictors = %+v, %v", at, err)
	}
	size := tr.Grid.Size()
	for v, name := range []string{"sst", "tsub"} {
		cv, err := fj.Var("joint_coef_" + name)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := cv.Attr("predictor"); err != nil || p.Text != name {
			t.Errorf("joint_coef_%s:predictor = %+v, %v", name, p, err)
		}
		got, err := cv.ReadFloat32(nil, nil)
		if err != nil || len(got) != 2*2*Lags*size {
			t.Fatalf("joint_coef_%s: %d values, %v", name, len(got), err)
		}
		for i := range 2 {
			for l := range 2 {
				want := tr.Joint.VarCoefficients(v, i, l)
				off := (i*2 + l) * Lags * size
				for k, w := range want {
					if math.IsNaN(float64(w)) {
						w = truthFill
					}
					if got[off+k] != w {
						t.Fatalf("joint_coef_%s target %d lead %d [%d] = %v, want %v", name, i, l, k, got[off+k], w)
					}
				}
			}
		}
	}
	if r2, err := fj.Var("joint_r2_test"); err != nil {
		t.Error(err)
	} else if v, _ := r2.ReadFloat64(nil, nil); !slices.Equal(v, tr.Joint.R2Test) {
		t.Errorf("joint_r2_test = %v, want %v", v, tr.Joint.R2Test)
	}
}
