package dataset

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Daily (or 6-hourly, ...) data are read as their monthly means, as cdo monmean makes them: each
// month's value is the mean of the time steps that fall in it, cell by cell over the steps with
// a value. The first and the last month are left out when the file covers only part of them (a
// mean of a few days is not a monthly mean); a month in between with fewer steps than its days
// hold is kept, with a note. The values are averaged while they are read, so memory holds the
// monthly means, not the daily fields.

// timeMeans maps a sub-monthly time axis to the months whose means are read.
type timeMeans struct {
	start   Month
	months  int
	monthOf []int // per time step: its month's index, -1 when the step is left out
}

// subMonthly returns how the time steps dates (in calendar cal) average to monthly means, or nil
// when they are not sub-monthly (their median step is 25 days or more), so that the caller keeps
// its own error. Steps out of order, or a month without any step, are ErrNotMonthly errors.
func subMonthly(path string, dates []Date, cal Calendar, s *Series) (*timeMeans, error) {
	if len(dates) < 2 {
		return nil, nil
	}
	day := func(d Date) float64 { return float64(cal.toDays(d.Year, d.Month, d.Day)) + d.secondsOfDay()/86400 }
	steps := make([]float64, 0, len(dates)-1)
	for i := 1; i < len(dates); i++ {
		dt := day(dates[i]) - day(dates[i-1])
		if dt <= 0 {
			steps = nil
			break
		}
		steps = append(steps, dt)
	}
	step := typicalStep(dates)
	if step >= 25 {
		return nil, nil
	}
	if steps == nil {
		return nil, errorf(path, ErrNotMonthly, "sort the time axis and remove repeated steps first (e.g. cdo sorttimestamp)",
			"the time steps (median %.3g days apart) are not in increasing order", step)
	}
	step = median(steps)
	// In increasing order, a month without a step is a jump between neighbours; found so, a
	// damaged axis cannot make the months counted below more than the steps.
	for i := 1; i < len(dates); i++ {
		if prev, cur := dates[i-1].YearMonth(), dates[i].YearMonth(); cur > prev+1 {
			return nil, errorf(path, ErrNotMonthly, "fill the missing months or cut the file to a period without gaps (e.g. cdo seldate,START,END)",
				"the time steps (%s apart) skip %v: no step falls in it", stepText(step), prev+1)
		}
	}
	first, last := dates[0].YearMonth(), dates[len(dates)-1].YearMonth()
	n := int(last-first) + 1
	count := make([]int, n)
	for _, d := range dates {
		count[d.YearMonth()-first]++
	}
	// A month's steps when it is complete: its days over the step.
	expect := func(m Month) int {
		return int(math.Round(float64(cal.monthLength(m.Year(), m.MonthOfYear())) / step))
	}
	lo, hi := 0, n // the months kept: [lo, hi)
	var dropped []string
	if count[0] < expect(first) {
		dropped = append(dropped, fmt.Sprintf("%v (the first, %d of %d steps)", first, count[0], expect(first)))
		lo = 1
	}
	if hi > lo && count[n-1] < expect(last) {
		dropped = append(dropped, fmt.Sprintf("%v (the last, %d of %d steps)", last, count[n-1], expect(last)))
		hi = n - 1
	}
	if hi <= lo {
		return nil, errorf(path, ErrTooShort, "use data that cover at least one whole month",
			"the time steps (%s apart, %v to %v) cover no whole month", stepText(step), dates[0], dates[len(dates)-1])
	}
	tm := &timeMeans{start: first + Month(lo), months: hi - lo, monthOf: make([]int, len(dates))}
	for i, d := range dates {
		m := int(d.YearMonth()-first) - lo
		if m < 0 || m >= tm.months {
			m = -1
		}
		tm.monthOf[i] = m
	}
	var short []string
	for m := lo; m < hi; m++ {
		if e := expect(first + Month(m)); count[m] < e {
			short = append(short, fmt.Sprintf("%v: %d of %d", first+Month(m), count[m], e))
		}
	}
	note := fmt.Sprintf("time steps %s apart averaged to %d monthly means, %v to %v", stepText(step), tm.months, tm.start, tm.start+Month(tm.months-1))
	if len(dropped) > 0 {
		note += "; the partial months " + strings.Join(dropped, " and ") + " left out"
	}
	s.Notices = append(s.Notices, note)
	if ns := len(short); ns > 0 {
		if ns > 3 {
			short = append(short[:3], fmt.Sprintf("and %d more", ns-3))
		}
		s.Notices = append(s.Notices, fmt.Sprintf("%d months have fewer time steps than their days hold and are the mean of those they have (%s)",
			ns, strings.Join(short, ", ")))
	}
	return tm, nil
}

// stepText writes a time step given in days: "1 day", "6 hours".
func stepText(days float64) string {
	switch {
	case math.Abs(days-1) < 1e-6:
		return "1 day"
	case days < 1:
		return fmt.Sprintf("%.3g hours", days*24)
	}
	return fmt.Sprintf("%.3g days", days)
}

// median is the median of v (which it sorts).
func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}
