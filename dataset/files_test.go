package dataset

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// piece is months [from, from+n) of s as its own series.
func piece(s *Series, from, n int) *Series {
	c := *s
	g := s.Grid.Size()
	c.Start, c.N = s.Start+Month(from), n
	c.Values = slices.Clone(s.Values[from*g : (from+n)*g])
	return &c
}

// writeTemp writes the series as variables of one file in dir and returns its path.
func writeTemp(t *testing.T, dir, name string, ss ...*Series) string {
	t.Helper()
	vars := make([]SeriesVar, len(ss))
	for i, s := range ss {
		vars[i] = SeriesVar{Series: s}
	}
	path := filepath.Join(dir, name)
	if err := WriteSeriesVars(path, vars, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenFiles: a variable stored one period per file is joined back whatever the order of the
// files, files of other variables are passed over, and files that do not join say why.
func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	lat, lon := centres(40.5, 1, 3), centres(-30.5, 1, 4)
	start := NewMonth(1950, 1)
	sst := seriesOf(lat, lon, start, 60, func(t int, y, x float64) float64 { return 12 + math.Sin(float64(t)/3) + y/10 - x/50 })
	ohc := seriesOf(lat, lon, start, 60, func(t int, y, x float64) float64 { return 1e9 * (1 + math.Cos(float64(t)/7)) })
	ohc.Name, ohc.Units = "ohc", "J m-2"
	a := writeTemp(t, dir, "sst_1950-1951.nc", piece(sst, 0, 24))
	b := writeTemp(t, dir, "sst_1952-1953.nc", piece(sst, 24, 24))
	c := writeTemp(t, dir, "sst_1954.nc", piece(sst, 48, 12))
	o := writeTemp(t, dir, "ohc.nc", ohc)

	got, err := OpenFiles([]string{o, c, a, b}, OpenOptions{Var: "sst", MinMonths: 60})
	if err != nil {
		t.Fatal(err)
	}
	whole := writeTemp(t, dir, "sst.nc", sst)
	want, err := Open(whole, OpenOptions{Var: "sst"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != want.Start || got.N != want.N || !slices.Equal(got.Values, want.Values) {
		t.Errorf("joined %s + %d months differ from the file of all months (%s + %d)", got.Start, got.N, want.Start, want.N)
	}
	if got.Source != a+" + "+b+" + "+c || !slices.ContainsFunc(got.Notices, func(n string) bool { return strings.Contains(n, "sst joined from 3 files: 1950-01 to 1954-12") }) {
		t.Errorf("source %q, notices %q", got.Source, got.Notices)
	}
	r, err := OpenFiles([]string{a, o}, OpenOptions{Var: "ohc", Raw: true})
	if err != nil || r.Units != "J m-2" || r.N != 60 || r.Source != o {
		t.Errorf("ohc from a list: %v %+v", err, r)
	}
	one, err := OpenFiles([]string{whole}, OpenOptions{Var: "sst"})
	if err != nil || !slices.Equal(one.Values, want.Values) || one.Source != whole {
		t.Errorf("one file: %v", err)
	}

	shifted := piece(sst, 24, 24)
	shifted.Grid = Grid{Lat: centres(41.5, 1, 3), Lon: lon}
	far := writeTemp(t, dir, "sst_shifted.nc", shifted)
	other := seriesOf(lat, lon, start, 12, func(t int, y, x float64) float64 { return 1 })
	other.Name = "tsub"
	tsub := writeTemp(t, dir, "tsub.nc", other)
	for _, tc := range []struct {
		name  string
		paths []string
		opt   OpenOptions
		kind  error
		msg   string
	}{
		{"gap", []string{a, c}, OpenOptions{Var: "sst"}, ErrLayout, "sst has no months from 1952-01 to 1953-12"},
		{"overlap", []string{a, b, whole}, OpenOptions{Var: "sst"}, ErrLayout, "both hold sst from 1950-01 to 1951-12"},
		{"grid", []string{a, far}, OpenOptions{Var: "sst"}, ErrLayout, "grid (3 x 4) differs"},
		{"absent", []string{a, tsub}, OpenOptions{Var: "ohc", Raw: true}, ErrNoVariable, `none of the 2 data files holds variable "ohc"`},
		{"unnamed", []string{a, b}, OpenOptions{}, ErrNoVariable, "needs its name"},
		{"none", nil, OpenOptions{Var: "sst"}, ErrNoVariable, "no data file given"},
		{"short", []string{a, b}, OpenOptions{Var: "sst", MinMonths: 50}, ErrTooShort, "sst has 48 months (1950-01 to 1953-12); at least 50"},
	} {
		_, err := OpenFiles(tc.paths, tc.opt)
		var de *Error
		if !errors.Is(err, tc.kind) || !errors.As(err, &de) || !strings.Contains(err.Error(), tc.msg) || de.Hint == "" {
			t.Errorf("%s: %v, want %v saying %q with a hint", tc.name, err, tc.kind, tc.msg)
		}
	}
	// A file that holds the variable but cannot be read gives its own error, not "none holds it":
	// a damaged file, and a file whose sst is text.
	bad := filepath.Join(dir, "bad.nc")
	if err := os.WriteFile(bad, []byte("CDF\x01 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFiles([]string{a, bad}, OpenOptions{Var: "sst"}); errors.Is(err, ErrNoVariable) || err == nil {
		t.Errorf("damaged file: %v", err)
	}
	text := cdlFile(t, `netcdf text {
dimensions: time = 1 ; lat = 1 ; lon = 1 ;
variables: double time(time) ; time:units = "days since 1955-01-01" ; float lat(lat) ; float lon(lon) ; char sst(time, lat, lon) ;
data: time = 14 ; lat = 40.5 ; lon = -30.5 ; sst = "x" ;
}
`, "classic")
	if _, err := OpenFiles([]string{a, text}, OpenOptions{Var: "sst"}); !errors.Is(err, ErrNoVariable) || !strings.Contains(err.Error(), "not numeric") {
		t.Errorf("text sst: %v, want the file's own error", err)
	}
}
