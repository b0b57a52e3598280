package attribution

import (
	"cmp"
	"math"
	"slices"
)

// Skill metrics shared by ablation (prediction against truth) and fidelity (attribution against
// ground truth). All take float64 slices of equal length, skip pairs where either value is NaN,
// and return NaN when the statistic is undefined (fewer than two pairs, or a constant series
// where a correlation needs spread).

// Skill is the skill of a prediction against the truth over a set of samples.
type Skill struct {
	Corr float64 // Pearson correlation
	RMSE float64 // root-mean-square error, in the values' units
	R2   float64 // coefficient of determination 1 - SSE/SST about the truth's mean
	N    int     // pairs used
}

// ScoreSkill returns the Pearson correlation, RMSE and R² of pred against truth.
func ScoreSkill(pred, truth []float64) Skill {
	p, t := finitePairs(pred, truth)
	return Skill{Corr: Pearson(p, t), RMSE: RMSE(p, t), R2: R2(p, t), N: len(p)}
}

// finitePairs returns the pairs of a and b where both are not NaN (copies).
func finitePairs(a, b []float64) (x, y []float64) {
	n := min(len(a), len(b))
	x, y = make([]float64, 0, n), make([]float64, 0, n)
	for i := range n {
		if !math.IsNaN(a[i]) && !math.IsNaN(b[i]) {
			x, y = append(x, a[i]), append(y, b[i])
		}
	}
	return x, y
}

// Pearson returns the Pearson product-moment correlation of a and b (two-pass, about the means,
// for accuracy with large offsets).
func Pearson(a, b []float64) float64 {
	x, y := finitePairs(a, b)
	n := len(x)
	if n < 2 {
		return math.NaN()
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return math.Max(-1, math.Min(1, sxy/math.Sqrt(sxx*syy)))
}

// RMSE returns the root-mean-square difference of pred and truth.
func RMSE(pred, truth []float64) float64 {
	p, t := finitePairs(pred, truth)
	if len(p) == 0 {
		return math.NaN()
	}
	var s float64
	for i := range p {
		d := p[i] - t[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(p)))
}

// R2 returns the coefficient of determination 1 - SSE/SST of pred against truth, where SST is
// the spread of the truth about its own mean: 1 for a perfect prediction, 0 for predicting the
// truth's mean, negative for worse (so, unlike the squared correlation, it penalises bias and
// wrong amplitude). NaN when the truth is constant.
func R2(pred, truth []float64) float64 {
	p, t := finitePairs(pred, truth)
	if len(p) < 2 {
		return math.NaN()
	}
	var m float64
	for _, v := range t {
		m += v
	}
	m /= float64(len(t))
	var sse, sst float64
	for i := range p {
		sse += (p[i] - t[i]) * (p[i] - t[i])
		sst += (t[i] - m) * (t[i] - m)
	}
	if sst == 0 {
		return math.NaN()
	}
	return 1 - sse/sst
}

// Spearman returns Spearman's rank correlation of a and b: the Pearson correlation of their
// ranks, tied values sharing the mean of the ranks they span (so it is exact with ties).
func Spearman(a, b []float64) float64 {
	x, y := finitePairs(a, b)
	if len(x) < 2 {
		return math.NaN()
	}
	return Pearson(averageRanks(x), averageRanks(y))
}

// SpearmanMatrix returns Spearman(cols[i], cols[j]) for every pair of columns of one length
// (NaN for columns of different lengths, whose values do not pair up), 1 on the diagonal. A
// column without NaN is ranked once rather than once per pair: the same numbers, since
// Spearman's NaN filter then keeps every value.
func SpearmanMatrix(cols [][]float64) [][]float64 {
	ranks := make([][]float64, len(cols)) // nil for a column with NaN
	for i, c := range cols {
		if len(c) >= 2 && !slices.ContainsFunc(c, math.IsNaN) {
			ranks[i] = averageRanks(c)
		}
	}
	out := make([][]float64, len(cols))
	for i := range cols {
		out[i] = make([]float64, len(cols))
		out[i][i] = 1
		for j := range i {
			switch {
			case len(cols[i]) != len(cols[j]):
				out[i][j] = math.NaN()
			case ranks[i] != nil && ranks[j] != nil:
				out[i][j] = Pearson(ranks[i], ranks[j])
			default:
				out[i][j] = Spearman(cols[i], cols[j])
			}
			out[j][i] = out[i][j]
		}
	}
	return out
}

// averageRanks returns the 1-based ranks of v, ties averaged (so the order in which ties are
// sorted does not matter).
func averageRanks(v []float64) []float64 {
	type item struct {
		v float64
		i int
	}
	idx := make([]item, len(v))
	for i, x := range v {
		idx[i] = item{x, i}
	}
	slices.SortFunc(idx, func(a, b item) int { return cmp.Compare(a.v, b.v) })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1].v == idx[i].v {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k].i] = mean
		}
		i = j + 1
	}
	return r
}
