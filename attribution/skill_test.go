package attribution

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSkillMetrics checks every metric against answers worked out by hand.
func TestSkillMetrics(t *testing.T) {
	nan := math.NaN()
	near := func(t *testing.T, name string, got, want float64) {
		t.Helper()
		if math.IsNaN(want) {
			if !math.IsNaN(got) {
				t.Errorf("%s = %g, want NaN", name, got)
			}
			return
		}
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %.15g, want %.15g", name, got, want)
		}
	}
	for _, tc := range []struct {
		name                  string
		pred, truth           []float64
		corr, rmse, r2, spear float64
	}{
		// pred = truth: perfect everything.
		{"perfect", []float64{1, 2, 3, 4}, []float64{1, 2, 3, 4}, 1, 0, 1, 1},
		// pred = 2·truth: correlation 1, errors 1,2,3,4: RMSE √(30/4), SST = 5, R² = 1 - 30/5.
		{"double amplitude", []float64{2, 4, 6, 8}, []float64{1, 2, 3, 4}, 1, math.Sqrt(7.5), -5, 1},
		// pred = truth + 1: bias only.
		{"bias", []float64{2, 3, 4, 5}, []float64{1, 2, 3, 4}, 1, 1, 1 - 4.0/5, 1},
		// pred = truth's mean: R² 0, correlation undefined.
		{"climatology", []float64{2.5, 2.5, 2.5, 2.5}, []float64{1, 2, 3, 4}, nan, math.Sqrt(5.0 / 4), 0, nan},
		// Anti-correlated.
		{"reversed", []float64{4, 3, 2, 1}, []float64{1, 2, 3, 4}, -1, math.Sqrt(20.0 / 4), 1 - 20.0/5, -1},
		// pred (1,3,2) vs (1,2,3): means 2, Σdxdy = 1·... = (−1)(−1)+(1)(0)+(0)(1) = 1, Σdx² = 2.
		{"partial", []float64{1, 3, 2}, []float64{1, 2, 3}, 0.5, math.Sqrt(2.0 / 3), 0, 0.5},
		// NaN pairs are skipped: the same as "perfect".
		{"nan skipped", []float64{1, nan, 2, 3, 4}, []float64{1, 5, 2, 3, 4}, 1, 0, 1, 1},
		// Monotone but not linear: Spearman 1; Pearson Σdxdy = 104, Σdx² = 2390, Σdy² = 5.
		{"monotone", []float64{1, 8, 27, 64}, []float64{1, 2, 3, 4}, 104 / math.Sqrt(2390*5), math.Sqrt((0 + 36 + 576 + 3600) / 4.0), 1 - 4212.0/5, 1},
		{"one pair", []float64{1}, []float64{2}, nan, 1, nan, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ScoreSkill(tc.pred, tc.truth)
			near(t, "corr", s.Corr, tc.corr)
			near(t, "rmse", s.RMSE, tc.rmse)
			near(t, "r2", s.R2, tc.r2)
			near(t, "spearman", Spearman(tc.pred, tc.truth), tc.spear)
		})
	}
}

// TestSpearmanTies: ties take the mean of their ranks. a = (1, 2, 2, 3) has ranks (1, 2.5, 2.5,
// 4); b = (10, 20, 30, 40) ranks (1, 2, 3, 4); Pearson of the ranks: Σdxdy = 4.5, Σdx² = 4.5,
// Σdy² = 5, so ρ = 4.5/√22.5 = 0.9486832980505138.
func TestSpearmanTies(t *testing.T) {
	got := Spearman([]float64{1, 2, 2, 3}, []float64{10, 20, 30, 40})
	if want := 4.5 / math.Sqrt(22.5); math.Abs(got-want) > 1e-12 {
		t.Errorf("Spearman = %.15g, want %.15g", got, want)
	}
	r := averageRanks([]float64{5, 1, 5, 5, 0})
	for i, want := range []float64{4, 2, 4, 4, 1} {
		if r[i] != want {
			t.Errorf("ranks %v, want 4 2 4 4 1", r)
			break
		}
	}
}

// BenchmarkSpearman ranks two maps of the 2° grid's size (36 x 35 x 63 features), what the
// fidelity analysis does several times per method and sample.
func BenchmarkSpearman(b *testing.B) {
	a, c := make([]float64, 36*35*63), make([]float64, 36*35*63)
	for i := range a {
		a[i] = math.Sin(float64(i))
		c[i] = math.Cos(float64(i) * 0.7)
	}
	b.ResetTimer()
	for range b.N {
		Spearman(a, c)
	}
}

// TestSkillMap checks the streaming per-cell skill against the batch metrics of skill.go, and the
// area mean against a hand computation.
func TestSkillMap(t *testing.T) {
	pred := [][]float32{{1, 2, float32(math.NaN())}, {2, 4, 1}, {3, 5, 2}, {4, 9, 3}}
	truth := [][]float32{{1.5, 1, 0}, {1.8, 5, 1}, {3.2, 4, 2}, {4.1, 8, 3}}
	m := NewSkillMap(3)
	for k := range pred {
		m.Add(pred[k], truth[k])
	}
	corr, rmse := m.Maps()
	for c := 0; c < 3; c++ {
		var p, tr []float64
		for k := range pred {
			if x := float64(pred[k][c]); !math.IsNaN(x) {
				p, tr = append(p, x), append(tr, float64(truth[k][c]))
			}
		}
		if d := math.Abs(corr[c] - Pearson(p, tr)); d > 1e-12 {
			t.Errorf("cell %d: corr %v, Pearson %v", c, corr[c], Pearson(p, tr))
		}
		if d := math.Abs(rmse[c] - RMSE(p, tr)); d > 1e-12 {
			t.Errorf("cell %d: rmse %v, RMSE %v", c, rmse[c], RMSE(p, tr))
		}
	}
	// Two latitudes, 0° and 60° (weights 1 and 0.5), one NaN cell.
	got := AreaMean([]float64{1, 3, math.NaN(), 6}, []float64{0, 60})
	if want := (1 + 3 + 0.5*6) / 2.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("AreaMean = %v, want %v", got, want)
	}
}

// TestSpearmanMatrix: the matrix equals Spearman pair by pair, with ties, with a NaN column
// (ranked pairwise) and with a column of another length (NaN).
func TestSpearmanMatrix(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	cols := make([][]float64, 4)
	for i := range cols {
		for range 500 {
			cols[i] = append(cols[i], math.Round(10*rng.NormFloat64())) // many ties
		}
	}
	cols[1] = slices.Clone(cols[0])
	for k := range cols[1] {
		cols[1][k] += 0.5 * rng.NormFloat64()
	}
	cols[2][7] = math.NaN()
	cols = append(cols, []float64{1, 2, 3})
	m := SpearmanMatrix(cols)
	for i := range cols {
		for j := range cols {
			want := Spearman(cols[i], cols[j])
			switch {
			case i == j:
				want = 1
			case len(cols[i]) != len(cols[j]):
				want = math.NaN()
			}
			if got := m[i][j]; got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("[%d][%d] = %v, pairwise %v", i, j, got, want)
			}
		}
	}
	if !(m[0][1] > 0.8) {
		t.Errorf("correlated columns: %g", m[0][1])
	}
}
