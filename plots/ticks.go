package plots

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// niceTicker labels an axis at about n round values (steps of 1, 2, 2.5 or 5 times a power of
// ten, as the colour bars) with an unlabelled minor tick between labels. gonum's default
// ticker labels as few as two values on a short axis (0.25 and 0.5 on a skill axis), which
// reads badly at single-column width.
type niceTicker struct {
	n int // about this many labels; 0 means 5
}

func (t niceTicker) Ticks(lo, hi float64) []plot.Tick {
	n := t.n
	if n == 0 {
		n = 5
	}
	major := niceTicks(lo, hi, n)
	if len(major) < n-1 {
		// niceTicks never gives more than n labels, often fewer (0.22..0.5: 0.3, 0.4, 0.5):
		// take the next finer round step instead.
		major = niceTicks(lo, hi, 2*n)
	}
	if len(major) < 2 {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	st := major[1] - major[0]
	prec := decimals(st)
	var ts []plot.Tick
	for _, v := range major {
		ts = append(ts, plot.Tick{Value: v, Label: tickLabel(v, prec)})
	}
	// Minor ticks halfway, including before the first and after the last label.
	for v := major[0] - st/2; v <= hi+1e-9*st; v += st {
		if v >= lo-1e-9*st {
			ts = append(ts, plot.Tick{Value: v})
		}
	}
	return ts
}

// decimals returns the number of decimals that a step of st needs (0.25: 2, 0.5: 1, 10: 0).
func decimals(st float64) int {
	for d := 0; d < 10; d++ {
		if math.Abs(st*math.Pow(10, float64(d))-math.Round(st*math.Pow(10, float64(d)))) < 1e-6 {
			return d
		}
	}
	return 10
}

// tickLabel formats v with prec decimals and a typographic minus sign; very large or small
// values are written with an exponent.
func tickLabel(v float64, prec int) string {
	var s string
	if a := math.Abs(v); a != 0 && (a >= 1e6 || a < 1e-4) {
		s = strconv.FormatFloat(v, 'g', 3, 64)
	} else {
		s = strconv.FormatFloat(v, 'f', prec, 64)
	}
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-") // no negative zero
	}
	return strings.Replace(s, "-", "−", 1)
}
