package dataset

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stepFile writes sst(time, lat, lon) (or thetao(time, lev, lat, lon) on levels) at the given
// times (days since 2000-01-01, noleap) on 2 x 2 cells, value(step, level, cell) (NaN: missing),
// and returns its path.
func stepFile(t testing.TB, times, levels []float64, value func(k, z, c int) float64) string {
	t.Helper()
	nz := max(1, len(levels))
	var vals, tt, lev []string
	for k, tv := range times {
		tt = append(tt, fmt.Sprint(tv))
		for z := range nz {
			for c := range 4 {
				v := value(k, z, c)
				if v != v {
					vals = append(vals, "1e20")
				} else {
					vals = append(vals, fmt.Sprint(v))
				}
			}
		}
	}
	name, dims, levDim, levVar := "sst", "time, lat, lon", "", ""
	if levels != nil {
		for _, z := range levels {
			lev = append(lev, fmt.Sprint(z))
		}
		name, dims = "thetao", "time, lev, lat, lon"
		levDim = fmt.Sprintf("lev = %d ;", nz)
		levVar = `double lev(lev) ; lev:units = "m" ; lev:standard_name = "depth" ;`
	}
	levData := ""
	if levels != nil {
		levData = "lev = " + strings.Join(lev, ", ") + " ;"
	}
	cdl := fmt.Sprintf(`netcdf steps {
dimensions: time = %d ; %s lat = 2 ; lon = 2 ;
variables:
	double time(time) ; time:units = "days since 2000-01-01" ; time:calendar = "noleap" ;
	%s
	float lat(lat) ; lat:units = "degrees_north" ;
	float lon(lon) ; lon:units = "degrees_east" ;
	float %s(%s) ; %s:units = "degC" ; %s:_FillValue = 1e20f ;
data:
	time = %s ;
	%s
	lat = 40.5, 41.5 ;
	lon = -30.5, -29.5 ;
	%s = %s ;
}
`, len(times), levDim, levVar, name, dims, name, name, strings.Join(tt, ", "), levData, name, strings.Join(vals, ", "))
	return cdlFile(t, cdl, "classic")
}

// days returns the times of steps per day from day from to day to (exclusive), at the middle of
// each step.
func days(from, to float64, perDay int) []float64 {
	var out []float64
	for d := from; d < to; d += 1 / float64(perDay) {
		out = append(out, d+0.5/float64(perDay))
	}
	return out
}

// TestOpenSubMonthly: daily and 6-hourly data are read as their monthly means, worked out here
// from the values written: partial first and last months are left out, a missing value leaves
// its step out of its cell's mean, a month in between with fewer steps is kept and noted, and the
// means are also taken over a layer; a month without any step, steps out of order, and steps
// that cover no whole month are refused.
func TestOpenSubMonthly(t *testing.T) {
	// The committed daily fixture: 40 days from 2000-01-01 (standard calendar): January's mean
	// is that of its first 31 steps, February (9 days) is left out.
	dir := t.TempDir()
	s, err := Open(fxNcgen(t, dir, "daily"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 1 || s.Start != NewMonth(2000, 1) {
		t.Fatalf("daily fixture: %d months from %v", s.N, s.Start)
	}
	cdl, err := os.ReadFile(filepath.Join("testdata", "daily.cdl"))
	if err != nil {
		t.Fatal(err)
	}
	_, text, _ := strings.Cut(string(cdl), "sst =")
	text, _, _ = strings.Cut(text, ";")
	var all []float64
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		var v float64
		if _, err := fmt.Sscan(f, &v); err != nil {
			t.Fatalf("daily.cdl: %q", f)
		}
		all = append(all, v)
	}
	for c := range 4 {
		want := 0.0
		for k := range 31 {
			want += all[4*k+c] / 31
		}
		if !(math.Abs(float64(s.Values[c])-want) <= 1e-5) {
			t.Errorf("daily fixture: cell %d January mean %g, want %g", c, s.Values[c], want)
		}
	}
	wantNotice(t, s, "time steps 1 day apart averaged to 1 monthly means, 2000-01 to 2000-01; the partial months 2000-02 (the last, 9 of 29 steps) left out")

	// Noleap days from 2000-01-11 to 2000-04-21: January and April partial, February and March
	// whole. Value = step index + cell/10, so a month's mean is the mean of its steps' indices.
	val := func(k, z, c int) float64 { return float64(k) + float64(c)/10 + 100*float64(z) }
	monthMean := func(first, n int) float64 { return float64(first) + float64(n-1)/2 }
	for _, perDay := range []int{1, 4} {
		times := days(10, 110, perDay)
		s, err := Open(stepFile(t, times, nil, func(k, z, c int) float64 {
			if c == 3 && k == 25*perDay { // a missing value in February (day 36) at cell 3
				return math.NaN()
			}
			return val(k, z, c)
		}), OpenOptions{})
		if err != nil {
			t.Fatalf("%d steps a day: %v", perDay, err)
		}
		if s.N != 2 || s.Start != NewMonth(2000, 2) {
			t.Fatalf("%d steps a day: %d months from %v", perDay, s.N, s.Start)
		}
		feb0, mar0 := 21*perDay, (21+28)*perDay // indices of Feb 1 and Mar 1
		for c := range 4 {
			feb := monthMean(feb0, 28*perDay) + float64(c)/10
			if c == 3 { // without step 25·perDay
				feb = (feb*float64(28*perDay) - float64(25*perDay) - 0.3) / float64(28*perDay-1)
			}
			mar := monthMean(mar0, 31*perDay) + float64(c)/10
			if !(math.Abs(float64(s.Values[c])-feb) <= 1e-4) || !(math.Abs(float64(s.Values[4+c])-mar) <= 1e-4) {
				t.Errorf("%d steps a day, cell %d: means %g, %g, want %g, %g", perDay, c, s.Values[c], s.Values[4+c], feb, mar)
			}
		}
		step := map[int]string{1: "1 day", 4: "6 hours"}[perDay]
		wantNotice(t, s, fmt.Sprintf("time steps %s apart averaged to 2 monthly means, 2000-02 to 2000-03; the partial months 2000-01 (the first, %d of %d steps) and 2000-04 (the last, %d of %d steps) left out",
			step, 21*perDay, 31*perDay, 20*perDay, 30*perDay))
		wantNotice(t, s, "1 cells lack values on some time steps of a month")
	}

	// A week (days 41 to 47) missing from February: kept, with a note.
	gap := slices.DeleteFunc(days(0, 90, 1), func(d float64) bool { return d > 40 && d < 47 })
	s, err = Open(stepFile(t, gap, nil, val), OpenOptions{})
	if err != nil || s.N != 3 {
		t.Fatalf("a week missing: %v", err)
	}
	wantNotice(t, s, "1 months have fewer time steps than their days hold and are the mean of those they have (2000-02: 21 of 28)")

	// Daily means over a layer: levels 5, 100, 300 m (edges 0, 52.5, 200, 400), 0-300 m.
	s, err = Open(stepFile(t, days(0, 59, 1), []float64{5, 100, 300}, val), OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{0, 300}})
	if err != nil || s.N != 2 {
		t.Fatalf("daily over a layer: %v", err)
	}
	layer := (52.5*0 + 147.5*100 + 100*200) / 300
	for c := range 4 {
		if want := monthMean(0, 31) + float64(c)/10 + layer; !(math.Abs(float64(s.Values[c])-want) <= 1e-3) {
			t.Errorf("daily over a layer, cell %d: January %g, want %g", c, s.Values[c], want)
		}
	}

	for _, tc := range []struct {
		name  string
		times []float64
		kind  error
		words string
	}{
		{"a month without steps", append(days(0, 31, 1), days(59, 90, 1)...), ErrNotMonthly, "skip 2000-02"},
		{"steps out of order", append(days(31, 59, 1), days(0, 31, 1)...), ErrNotMonthly, "not in increasing order"},
		{"no whole month", days(5, 40, 1), ErrTooShort, "cover no whole month"},
		// A damaged last step 27000 years on: refused at once, without counting its months.
		{"a step years away", append(days(0, 31, 1), 1e7), ErrNotMonthly, "skip 2000-02"},
	} {
		_, err := Open(stepFile(t, tc.times, nil, val), OpenOptions{})
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.kind, tc.words)
		}
	}
}

// wantNotice fails t unless one of s's notices contains text.
func wantNotice(t *testing.T, s *Series, text string) {
	t.Helper()
	if !slices.ContainsFunc(s.Notices, func(n string) bool { return strings.Contains(n, text) }) {
		t.Errorf("no notice %q in %q", text, s.Notices)
	}
}
