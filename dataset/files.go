package dataset

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// OpenFiles reads variable opt.Var from the files at paths that hold it, as Open reads one file.
// This is how data stored one variable per file (CMIP's tos_Omon_..., thetao_Omon_...) or one
// period per file (tos_..._185001-189912.nc, tos_..._190001-194912.nc) are given: files without
// the variable are passed over, and the files with it are joined along time in the order of
// their months, which must follow one another without a gap or an overlap on one grid and in
// one unit. With a single path it is Open, with the hint for a missing variable addressed to a
// card's user. Every error is a *Error; a variable none of the files holds is ErrNoVariable
// naming them all, files that do not join are ErrLayout.
func OpenFiles(paths []string, opt OpenOptions) (*Series, error) {
	switch {
	case len(paths) == 0:
		return nil, errorf("", ErrNoVariable, "give the data file (--data)", "no data file given")
	case len(paths) == 1:
		s, err := Open(paths[0], opt)
		var de *Error
		if errors.Is(err, errAbsent) && errors.As(err, &de) {
			de.Hint = absentHint
		}
		return s, err
	case opt.Var == "":
		return nil, errorf(strings.Join(paths, ", "), ErrNoVariable, "name the variable to read",
			"a variable read from several files needs its name")
	}
	min := opt.MinMonths
	opt.MinMonths = 0 // of the joined series, not of each piece
	// The headers first: files that do not join are refused before anything is read, and the
	// joined series is allocated once, each file's values read straight into their months.
	head := opt
	head.header = true
	var parts []*Series
	for _, p := range paths {
		s, err := Open(p, head)
		if errors.Is(err, errAbsent) {
			continue // another file's variable
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return nil, errorf(strings.Join(paths, ", "), ErrNoVariable, absentHint,
			"none of the %d data files holds variable %q", len(paths), opt.Var)
	}
	if len(parts) == 1 {
		opt.MinMonths = min
		return Open(parts[0].Source, opt)
	}
	s, err := joinTime(parts)
	if err != nil {
		return nil, err
	}
	cells := s.Grid.Size()
	for _, p := range parts {
		o := opt
		off := int(p.Start-s.Start) * cells
		o.into = s.Values[off : off+p.N*cells]
		r, err := Open(p.Source, o)
		if err != nil {
			return nil, err
		}
		if r.Start != p.Start || r.N != p.N || !sameGrid(r.Grid, p.Grid) {
			return nil, errorf(p.Source, ErrLayout, "leave the file unchanged while climxai reads it, then try again",
				"%s changed while it was read (%s, %d months before; %s, %d months now)", p.Source, p.Start, p.N, r.Start, r.N)
		}
		for _, note := range r.Notices {
			if !slices.Contains(s.Notices, note) {
				s.Notices = append(s.Notices, note)
			}
		}
	}
	s.Notices = append(s.Notices, fmt.Sprintf("%s joined from %d files: %s to %s", s.Name, len(parts), s.Start, s.Month(s.N-1)))
	if err := s.checkMonths(min); err != nil {
		return nil, err
	}
	return s, nil
}

// Glob returns the files a pattern (filepath.Match syntax: *, ?, [...]) matches, in name order:
// how a variable split into files by period is given (--data 'tos_Omon_*.nc', the window's
// File > Add data files matching…). A pattern that matches nothing, or is malformed, is an error
// saying so.
func Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q: %v", pattern, err)
	case len(m) == 0:
		return nil, fmt.Errorf("no file matches %q", pattern)
	}
	return m, nil
}

// PathList writes a list of data files as the one text that result files (data_file) and
// messages give them: the paths joined by " + ", a single path as itself.
func PathList(paths []string) string { return strings.Join(paths, " + ") }

// absentHint is what to do about a variable the data files lack.
const absentHint = "give the file that holds it with another --data, or name the files' variable in the emulator card (climxai info FILE lists a file's variables)"

// joinTime checks that pieces of one variable (their headers: OpenOptions.header) join along
// time, in the order of their first months, and returns the joined series with room for their
// values. It sorts parts.
func joinTime(parts []*Series) (*Series, error) {
	slices.SortStableFunc(parts, func(a, b *Series) int { return int(a.Start - b.Start) })
	first := parts[0]
	n, sources := 0, make([]string, len(parts))
	for i, p := range parts {
		sources[i] = p.Source
		n += p.N
		if i == 0 {
			continue
		}
		prev := parts[i-1]
		end := prev.Start + Month(prev.N) // the month after prev's last
		where := fmt.Sprintf("%s ends %s, %s begins %s", prev.Source, prev.Month(prev.N-1), p.Source, p.Start)
		switch {
		case p.Start < end:
			return nil, errorf(p.Source, ErrLayout, "give each month once: leave out the file that repeats them, or cut one with cdo seldate",
				"%s and %s both hold %s from %s to %s", prev.Source, p.Source, p.Name, p.Start, min(end-1, p.Month(p.N-1)))
		case p.Start > end:
			return nil, errorf(p.Source, ErrLayout, "give the files of the missing months too",
				"%s has no months from %s to %s (%s)", p.Name, end, p.Start-1, where)
		case !sameGrid(p.Grid, first.Grid):
			return nil, errorf(p.Source, ErrLayout, "regrid the files to one grid first (e.g. cdo remapbil)",
				"%s's grid (%d x %d) differs from %s's (%d x %d)", p.Source, p.Grid.NLat(), p.Grid.NLon(), first.Source, first.Grid.NLat(), first.Grid.NLon())
		case p.Units != first.Units:
			return nil, errorf(p.Source, ErrLayout, "convert the files to one unit first (e.g. cdo mulc/addc)",
				"%s is in %q in %s but %q in %s", p.Name, p.Units, p.Source, first.Units, first.Source)
		}
	}
	if int64(n)*int64(first.Grid.Size()) > maxValues {
		return nil, errorf(PathList(sources), ErrLayout, "cut the files to a smaller region or period first (e.g. cdo sellonlatbox / seldate)",
			"%s has %d values in all, more than the %d climxai reads at once", first.Name, int64(n)*int64(first.Grid.Size()), maxValues)
	}
	return &Series{Name: first.Name, Units: first.Units, Calendar: first.Calendar, Source: PathList(sources),
		Grid: first.Grid, Start: first.Start, N: n, Values: make([]float32, n*first.Grid.Size())}, nil
}

// sameGrid reports whether two grids have the same coordinates (to a millionth of a degree:
// files written by different tools round the same grid differently in the last digits).
func sameGrid(a, b Grid) bool {
	near := func(x, y []float64) bool {
		return slices.EqualFunc(x, y, func(u, v float64) bool { return math.Abs(u-v) <= 1e-6 })
	}
	return near(a.Lat, b.Lat) && near(a.Lon, b.Lon)
}

// CommonMonths cuts series to the months they all cover, for input variables read from
// different files: a notice on the first says so when they differ. Series are not modified;
// the cut ones share their values. Disjoint series are an ErrLayout error.
func CommonMonths(series []*Series) ([]*Series, error) {
	if len(series) < 2 {
		return series, nil
	}
	start, end := series[0].Start, series[0].Month(series[0].N-1)
	same := true
	for _, s := range series[1:] {
		same = same && s.Start == series[0].Start && s.N == series[0].N
		start, end = max(start, s.Start), min(end, s.Month(s.N-1))
	}
	if same {
		return series, nil
	}
	spans := make([]string, len(series))
	for i, s := range series {
		spans[i] = fmt.Sprintf("%s %s to %s", s.Name, s.Start, s.Month(s.N-1))
	}
	if start > end {
		return nil, errorf(series[0].Source, ErrLayout, "give data of the input variables that cover common months",
			"the input variables share no month (%s)", strings.Join(spans, ", "))
	}
	out := make([]*Series, len(series))
	for i, s := range series {
		c := *s
		n := s.Grid.Size()
		a := int(start - s.Start)
		c.Start, c.N = start, int(end-start)+1
		c.Values = s.Values[a*n : (a+c.N)*n : (a+c.N)*n]
		c.Notices = slices.Clone(s.Notices)
		out[i] = &c
	}
	out[0].Notices = append(out[0].Notices, fmt.Sprintf("the input variables cover different months (%s): using the %d months they share, %s to %s",
		strings.Join(spans, ", "), int(end-start)+1, start, end))
	return out, nil
}
