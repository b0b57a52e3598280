package dataset

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nearF32 reports whether a float32 value is within tol of want.
func nearF32(got float32, want, tol float64) bool { return math.Abs(float64(got)-want) <= tol }

// seriesAt returns the value of series s at month index t, file-order latitude i and longitude j.
func seriesAt(s *Series, t, i, j int) float32 { return s.At(t).At(i, j) }

func TestOpenProducts(t *testing.T) {
	tests := []struct {
		name     string
		start    string
		calendar string
		lat0     float64
		latStep  float64
		lon0     float64
		kelvin   bool
		ice      bool
		packed   bool
		notices  []string
	}{
		{name: "ersst", start: "1990-01", calendar: "standard", lat0: 20, latStep: 2, lon0: 300, notices: []string{"dimension lev of length 1 dropped"}},
		{name: "hadisst", start: "2000-01", calendar: "standard", lat0: 59.5, latStep: -1, lon0: -179.5, ice: true, notices: []string{"24 values at or below -999"}},
		{name: "oisst", start: "1981-12", calendar: "standard", lat0: 10.5, latStep: -1, lon0: 200.5, packed: true},
		{name: "cobe", start: "1950-01", calendar: "standard", lat0: 45.5, latStep: -1, lon0: 330.5},
		{name: "tos_k", start: "1850-01", calendar: "noleap", lat0: -5, latStep: 2, lon0: -10, kelvin: true, notices: []string{"kelvin"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := fxFile(t, tc.name)
			s, err := Open(path, OpenOptions{MinMonths: 37})
			if err != nil {
				t.Fatal(err)
			}
			if s.N != 40 || s.Start.String() != tc.start || s.Calendar != tc.calendar || s.Units != "degC" || s.Source != path {
				t.Errorf("got N=%d start=%v calendar=%s units=%s source=%s; want 40 %s %s degC %s",
					s.N, s.Start, s.Calendar, s.Units, s.Source, tc.start, tc.calendar, path)
			}
			if s.Grid.NLat() != 6 || s.Grid.NLon() != 8 || len(s.Values) != 40*48 {
				t.Fatalf("grid %dx%d, %d values; want 6x8, 1920", s.Grid.NLat(), s.Grid.NLon(), len(s.Values))
			}
			if s.Grid.Lat[0] != tc.lat0 || s.Grid.Lat[1]-s.Grid.Lat[0] != tc.latStep || s.Grid.Lon[0] != tc.lon0 {
				t.Errorf("grid starts at lat %v (step %v), lon %v; want %v (%v), %v",
					s.Grid.Lat[0], s.Grid.Lat[1]-s.Grid.Lat[0], s.Grid.Lon[0], tc.lat0, tc.latStep, tc.lon0)
			}
			tol := 1e-6
			if tc.kelvin || tc.packed {
				tol = 1e-4
			}
			for tt := range 40 {
				for i := range 6 {
					for j := range 8 {
						got := seriesAt(s, tt, i, j)
						switch {
						case fxLand(i, j) || fxGap(tt, i, j) || (tc.packed && fxInvalid(tt, i, j)):
							if !math.IsNaN(float64(got)) {
								t.Fatalf("(%d,%d,%d) = %v, want NaN (missing)", tt, i, j, got)
							}
						case tc.ice && fxIce(tt, i, j):
							if got != IceFreezing {
								t.Fatalf("ice cell (%d,%d,%d) = %v, want %v", tt, i, j, got, IceFreezing)
							}
						case !nearF32(got, fxPhys(tt, i, j), tol):
							t.Fatalf("(%d,%d,%d) = %v, want %v", tt, i, j, got, fxPhys(tt, i, j))
						}
					}
				}
			}
			for _, n := range tc.notices {
				if !slices.ContainsFunc(s.Notices, func(x string) bool { return strings.Contains(x, n) }) {
					t.Errorf("notices %q lack %q", s.Notices, n)
				}
			}
			if !tc.kelvin && !tc.ice && tc.name != "ersst" && len(s.Notices) > 0 {
				t.Errorf("unexpected notices %q", s.Notices)
			}
		})
	}
}

func TestOpenSpecificValues(t *testing.T) {
	// A few hand-computed cells, independent of the loop above: fxPhys(t,i,j) = 20 + i - j/2 + (t%12)/4.
	s, err := Open(fxFile(t, "oisst"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 1982-03 is t = 3 (from 1981-12); cell lat 7.5 (i = 3), lon 204.5 (j = 4): 20 + 3 - 2 + 0.75.
	if m := s.Index(NewMonth(1982, 3)); m != 3 || !nearF32(seriesAt(s, m, 3, 4), 21.75, 1e-5) {
		t.Errorf("oisst 1982-03 at (7.5N, 204.5E) = %v (t=%d), want 21.75", seriesAt(s, 3, 3, 4), m)
	}
	if s.Grid.Lat[3] != 7.5 || s.Grid.Lon[4] != 204.5 {
		t.Errorf("grid point (3,4) = (%v, %v), want (7.5, 204.5)", s.Grid.Lat[3], s.Grid.Lon[4])
	}
	k, err := Open(fxFile(t, "tos_k"), OpenOptions{Var: "tos"})
	if err != nil {
		t.Fatal(err)
	}
	// CESM-style end-of-interval stamps: the bounds midpoints put month 0 in 1850-01, not 1850-02.
	if k.Start != NewMonth(1850, 1) || k.Month(39) != NewMonth(1853, 4) {
		t.Errorf("tos_k months %v..%v, want 1850-01..1853-04", k.Start, k.Month(39))
	}
	if !nearF32(seriesAt(k, 13, 2, 5), 20+2-2.5+0.25, 1e-4) {
		t.Errorf("tos_k (13,2,5) = %v, want 19.75 (°C from K)", seriesAt(k, 13, 2, 5))
	}
}

func TestOpenLongitudeWrap(t *testing.T) {
	s, err := Open(fxFile(t, "wrap"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Grid.Lon, []float64{0, 90, 180, 270}) {
		t.Fatalf("lon = %v, want rotated to 0 90 180 270", s.Grid.Lon)
	}
	// File lon order 180, 270, 0, 90 holds 10t + j; after rotation lon 0 is file j = 2.
	for tt := range 3 {
		for i := range 2 {
			for j, fileJ := range []int{2, 3, 0, 1} {
				if got := seriesAt(s, tt, i, j); got != float32(10*tt+fileJ) {
					t.Fatalf("(%d,%d,%d) = %v, want %v", tt, i, j, got, 10*tt+fileJ)
				}
			}
		}
	}
	if s.Calendar != "360_day" || s.Start != NewMonth(2000, 1) {
		t.Errorf("calendar %s start %v, want 360_day 2000-01", s.Calendar, s.Start)
	}
}

// expectDatasetError checks that err is a *Error of kind, naming path, with a message containing msg.
func expectDatasetError(t *testing.T, err error, kind error, path, msg string) {
	t.Helper()
	var de *Error
	if !errors.Is(err, kind) || !errors.As(err, &de) {
		t.Fatalf("got %v, want a *dataset.Error of kind %v", err, kind)
	}
	if de.Path != path || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file %s", err, path)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not contain %q", err, msg)
	}
	if de.Hint == "" && kind != ErrNoFile {
		t.Errorf("error %q has no hint", err)
	}
}

func TestOpenBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.nc")
	if err := os.WriteFile(text, []byte("this is not a NetCDF file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.nc")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	half := func(name string) string {
		full := fxNcgen(t, dir, name)
		b, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+"_half.nc")
		if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ersst := fxNcgen(t, dir, "ersst")
	tests := []struct {
		name string
		path string
		opt  OpenOptions
		kind error
		msg  string
	}{
		{"text file", text, OpenOptions{}, ErrNotNetCDF, "NetCDF"},
		{"empty file", empty, OpenOptions{}, ErrNotNetCDF, "empty"},
		{"missing file", filepath.Join(dir, "nope.nc"), OpenOptions{}, ErrNoFile, "no such file"},
		{"directory", dir, OpenOptions{}, ErrNoFile, "not a regular file"},
		{"truncated NetCDF-4", half("ersst"), OpenOptions{}, ErrTruncated, ""},
		{"truncated NetCDF-3", half("hadisst"), OpenOptions{}, ErrTruncated, ""},
		{"no coordinates", fxNcgen(t, dir, "nocoords"), OpenOptions{}, ErrNoCoordinate, "no latitude, longitude, time coordinate"},
		{"missing variable", ersst, OpenOptions{Var: "tos"}, ErrNoVariable, "variables in file: time, lev, lat, lon, sst"},
		{"too short", fxNcgen(t, dir, "short"), OpenOptions{MinMonths: 37}, ErrTooShort, "30 months"},
		{"all missing", fxNcgen(t, dir, "allmissing"), OpenOptions{}, ErrAllMissing, "every value of sst"},
		{"curvilinear", fxNcgen(t, dir, "curvilinear"), OpenOptions{}, ErrIrregularGrid, "two-dimensional latitude/longitude"},
		{"coordinate as data", ersst, OpenOptions{Var: "lat"}, ErrNoCoordinate, "no longitude, time coordinate recognised for lat(lat)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(tc.path, tc.opt)
			if s != nil {
				t.Errorf("got a series with the error")
			}
			expectDatasetError(t, err, tc.kind, tc.path, tc.msg)
			if _, err := Inspect(tc.path, tc.opt.Var); tc.kind != ErrTooShort && !errors.Is(err, tc.kind) {
				t.Errorf("Inspect: got %v, want kind %v", err, tc.kind)
			}
		})
	}
	// Hints that say what to do.
	_, err := Open(fxNcgen(t, dir, "curvilinear"), OpenOptions{})
	if !strings.Contains(err.Error(), "remapbil") {
		t.Errorf("curvilinear error %q lacks the regridding hint", err)
	}
}

// The CDL fixtures under testdata/ are written by TestRegenFixtures (go test ./dataset -run
// TestRegenFixtures -regen-fixtures) and turned into .nc files by ncgen at test time. Each mimics
// the layout and attributes of a real SST product on a tiny grid, with values from fxPhys so
// that tests can check decoded values cell by cell.

var regenFixtures = flag.Bool("regen-fixtures", false, "rewrite the CDL fixtures in testdata/")

// fxPhys is the physical SST (°C) of fixture cell (t, i, j), i and j in the file's own order.
func fxPhys(t, i, j int) float64 { return 20 + float64(i) - 0.5*float64(j) + 0.25*float64(t%12) }

// fxLand reports the cells missing in every month; fxGap the one missing only at t = 3.
func fxLand(i, j int) bool       { return i == 0 && j < 2 }
func fxGap(t, i, j int) bool     { return t == 3 && i == 5 && j == 7 }
func fxIce(t, i, j int) bool     { return i == 0 && (j == 2 || j == 3) && t%12 < 3 }
func fxInvalid(t, i, j int) bool { return t == 0 && i == 1 && j == 1 }

// fxSpec describes one fixture file.
type fxSpec struct {
	name, kind     string // file base name, ncgen -k kind
	global         []string
	nt             int
	timeName       string
	timeAttrs      []string
	times          []float64
	bounds         [][2]float64
	lev            bool // a singleton lev dimension (ERSST)
	latName        string
	lat            []float64
	latAttrs       []string
	lonName        string
	lon            []float64
	lonAttrs       []string
	varName, vtype string
	varAttrs       []string
	value          func(t, i, j int) string
}

// fxSeq returns n values from a in steps of d.
func fxSeq(a, d float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = a + d*float64(i)
	}
	return x
}

// fxDaysSince returns Gregorian days from ref to the given dates (the standard calendar after 1582,
// computed with Go's time package as an independent reference).
func fxDaysSince(ref time.Time, dates []time.Time) []float64 {
	out := make([]float64, len(dates))
	for i, d := range dates {
		out[i] = d.Sub(ref).Hours() / 24
	}
	return out
}

// fxMonthly returns n dates on day `day` of consecutive months from y-m.
func fxMonthly(y, m, day, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = time.Date(y, time.Month(m+i), day, 0, 0, 0, 0, time.UTC)
	}
	return out
}

func fxUTC(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// noleapBounds returns the month bounds of n months from 1850-01 in days since 1850-01-01 of the
// noleap calendar.
func noleapBounds(n int) [][2]float64 {
	cum := []int{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365}
	out := make([][2]float64, n)
	for k := range out {
		y, m := k/12, k%12
		out[k] = [2]float64{float64(365*y + cum[m]), float64(365*y + cum[m+1])}
	}
	return out
}

func fxSpecs() []fxSpec {
	g := func(f string) func(t, i, j int) string {
		return func(t, i, j int) string { return fmt.Sprintf(f, fxPhys(t, i, j)) }
	}
	withMissing := func(miss string, v func(t, i, j int) string) func(t, i, j int) string {
		return func(t, i, j int) string {
			if fxLand(i, j) || fxGap(t, i, j) {
				return miss
			}
			return v(t, i, j)
		}
	}
	tosBounds := noleapBounds(40)
	tosTimes := make([]float64, 40)
	for k, b := range tosBounds {
		tosTimes[k] = b[1] // CESM-style: the time stamp is the end of the averaging interval
	}
	return []fxSpec{
		{
			name: "ersst", kind: "nc4", nt: 40,
			global:    []string{`title = "NOAA ERSSTv5 (in situ only) -- tiny test subset"`, `Conventions = "CF-1.6, ACDD-1.3"`},
			timeName:  "time",
			timeAttrs: []string{`units = "days since 1800-1-1 00:00:00"`, `long_name = "Time"`, `axis = "T"`, `standard_name = "time"`},
			times:     fxDaysSince(fxUTC(1800, 1, 1), fxMonthly(1990, 1, 1, 40)),
			lev:       true,
			latName:   "lat", lat: fxSeq(20, 2, 6),
			latAttrs: []string{`units = "degrees_north"`, `long_name = "Latitude"`, `standard_name = "latitude"`, `axis = "Y"`},
			lonName:  "lon", lon: fxSeq(300, 2, 8),
			lonAttrs: []string{`units = "degrees_east"`, `long_name = "Longitude"`, `standard_name = "longitude"`, `axis = "X"`},
			varName:  "sst", vtype: "float",
			varAttrs: []string{`_FillValue = -999.f`, `long_name = "Extended reconstructed sea surface temperature"`,
				`standard_name = "sea_surface_temperature"`, `units = "degree_C"`, `missing_value = -999.f`, `valid_min = -3.f`, `valid_max = 45.f`},
			value: withMissing("-999", g("%g")),
		},
		{
			name: "hadisst", kind: "nc3", nt: 40,
			global:    []string{`title = "HadISST 1.1 monthly average sea surface temperature -- tiny test subset"`},
			timeName:  "time",
			timeAttrs: []string{`units = "days since 1870-1-1 0:0:0"`, `calendar = "gregorian"`, `long_name = "Time"`, `standard_name = "time"`},
			times:     fxDaysSince(fxUTC(1870, 1, 1), fxMonthly(2000, 1, 16, 40)),
			latName:   "latitude", lat: fxSeq(59.5, -1, 6),
			latAttrs: []string{`units = "degrees_north"`, `long_name = "Latitude"`, `standard_name = "latitude"`},
			lonName:  "longitude", lon: fxSeq(-179.5, 1, 8),
			lonAttrs: []string{`units = "degrees_east"`, `long_name = "Longitude"`, `standard_name = "longitude"`},
			varName:  "sst", vtype: "float",
			varAttrs: []string{`_FillValue = -1.e+30f`, `standard_name = "sea_surface_temperature"`, `long_name = "sst"`,
				`units = "C"`, `cell_methods = "time: lat: lon: mean"`, `missing_value = -1.e+30f`},
			value: withMissing("-1e+30", func(t, i, j int) string {
				if fxIce(t, i, j) {
					return "-1000"
				}
				return fmt.Sprintf("%g", fxPhys(t, i, j))
			}),
		},
		{
			name: "oisst", kind: "nc3", nt: 40,
			global:    []string{`title = "NOAA Optimum Interpolation (OI) SST V2 -- tiny test subset"`, `Conventions = "CF-1.0"`},
			timeName:  "time",
			timeAttrs: []string{`units = "days since 1800-1-1 00:00:00"`, `long_name = "Time"`, `actual_range = 66443., 67630.`, `delta_t = "0000-01-00 00:00:00"`, `avg_period = "0000-01-00 00:00:00"`},
			times:     fxDaysSince(fxUTC(1800, 1, 1), fxMonthly(1981, 12, 1, 40)),
			latName:   "lat", lat: fxSeq(10.5, -1, 6),
			latAttrs: []string{`units = "degrees_north"`, `long_name = "Latitude"`, `actual_range = 89.5f, -89.5f`},
			lonName:  "lon", lon: fxSeq(200.5, 1, 8),
			lonAttrs: []string{`units = "degrees_east"`, `long_name = "Longitude"`, `actual_range = 0.5f, 359.5f`},
			varName:  "sst", vtype: "short",
			varAttrs: []string{`long_name = "Monthly Mean of Sea Surface Temperature"`, `valid_range = -300s, 4500s`, `units = "degC"`,
				`add_offset = 0.f`, `scale_factor = 0.01f`, `missing_value = 32767s`, `precision = 2s`, `var_desc = "Sea Surface Temperature"`},
			value: withMissing("32767", func(t, i, j int) string {
				if fxInvalid(t, i, j) {
					return "5000" // 50.00 °C: outside valid_range, so missing
				}
				return fmt.Sprintf("%d", int(math.Round(fxPhys(t, i, j)*100)))
			}),
		},
		{
			name: "cobe", kind: "nc4", nt: 40,
			global:    []string{`title = "COBE-SST2 Sea Surface Temperature -- tiny test subset"`},
			timeName:  "time",
			timeAttrs: []string{`units = "days since 1891-1-1 00:00:00"`, `long_name = "Time"`, `calendar = "standard"`},
			times:     fxDaysSince(fxUTC(1891, 1, 1), fxMonthly(1950, 1, 15, 40)),
			latName:   "lat", lat: fxSeq(45.5, -1, 6),
			latAttrs: []string{`units = "degrees_north"`, `long_name = "Latitude"`},
			lonName:  "lon", lon: fxSeq(330.5, 1, 8),
			lonAttrs: []string{`units = "degrees_east"`, `long_name = "Longitude"`},
			varName:  "sst", vtype: "float",
			varAttrs: []string{`long_name = "Monthly Means of Global Sea Surface Temperature"`, `units = "degC"`, `missing_value = 1.e+20f`},
			value:    withMissing("1e+20", g("%g")),
		},
		{
			name: "tos_k", kind: "nc4", nt: 40,
			global:    []string{`Conventions = "CF-1.7 CMIP-6.2"`, `source_id = "TEST-ESM"`, `experiment_id = "piControl"`},
			timeName:  "time",
			timeAttrs: []string{`bounds = "time_bnds"`, `units = "days since 1850-01-01"`, `calendar = "noleap"`, `axis = "T"`, `standard_name = "time"`},
			times:     tosTimes,
			bounds:    tosBounds,
			latName:   "lat", lat: fxSeq(-5, 2, 6),
			latAttrs: []string{`units = "degrees_north"`, `axis = "Y"`, `standard_name = "latitude"`},
			lonName:  "lon", lon: fxSeq(-10, 2.5, 8),
			lonAttrs: []string{`units = "degrees_east"`, `axis = "X"`, `standard_name = "longitude"`},
			varName:  "tos", vtype: "float",
			varAttrs: []string{`standard_name = "sea_surface_temperature"`, `long_name = "Sea Surface Temperature"`, `units = "K"`,
				`_FillValue = 1.e+20f`, `missing_value = 1.e+20f`, `cell_methods = "area: mean where sea time: mean"`},
			value: withMissing("1e+20", func(t, i, j int) string { return fmt.Sprintf("%.2f", fxPhys(t, i, j)+273.15) }),
		},
		{
			name: "short", kind: "nc3", nt: 30,
			timeName: "time", timeAttrs: []string{`units = "days since 1800-01-01"`},
			times:   fxDaysSince(fxUTC(1800, 1, 1), fxMonthly(2000, 1, 15, 30)),
			latName: "lat", lat: fxSeq(0, 1, 2), latAttrs: []string{`units = "degrees_north"`},
			lonName: "lon", lon: fxSeq(0, 1, 2), lonAttrs: []string{`units = "degrees_east"`},
			varName: "sst", vtype: "float", varAttrs: []string{`units = "degC"`}, value: g("%g"),
		},
		{
			name: "daily", kind: "nc3", nt: 40,
			timeName: "time", timeAttrs: []string{`units = "days since 2000-01-01"`},
			times:   fxSeq(0.5, 1, 40),
			latName: "lat", lat: fxSeq(0, 1, 2), latAttrs: []string{`units = "degrees_north"`},
			lonName: "lon", lon: fxSeq(0, 1, 2), lonAttrs: []string{`units = "degrees_east"`},
			varName: "sst", vtype: "float", varAttrs: []string{`units = "degC"`}, value: g("%g"),
		},
		{
			name: "allmissing", kind: "nc3", nt: 3,
			timeName: "time", timeAttrs: []string{`units = "days since 2000-01-01"`},
			times:   fxSeq(15, 30, 3),
			latName: "lat", lat: fxSeq(0, 1, 2), latAttrs: []string{`units = "degrees_north"`},
			lonName: "lon", lon: fxSeq(0, 1, 2), lonAttrs: []string{`units = "degrees_east"`},
			varName: "sst", vtype: "float", varAttrs: []string{`units = "degC"`, `_FillValue = -999.f`},
			value: func(t, i, j int) string { return "-999" },
		},
		{
			name: "wrap", kind: "nc3", nt: 3,
			timeName: "time", timeAttrs: []string{`units = "days since 2000-01-01"`, `calendar = "360_day"`},
			times:   fxSeq(15, 30, 3),
			latName: "lat", lat: fxSeq(0, 1, 2), latAttrs: []string{`units = "degrees_north"`},
			lonName: "lon", lon: []float64{180, 270, 0, 90}, lonAttrs: []string{`units = "degrees_east"`},
			varName: "sst", vtype: "float", varAttrs: []string{`units = "degC"`},
			value: func(t, i, j int) string { return fmt.Sprint(10*t + j) },
		},
		{
			name: "nocoords", kind: "nc3", nt: 3,
			timeName: "step", times: fxSeq(0, 1, 3),
			latName: "row", lat: fxSeq(0, 1, 2),
			lonName: "col", lon: fxSeq(0, 1, 2),
			varName: "sst", vtype: "float", value: g("%g"),
		},
	}
}

// cdl renders a fixture as CDL.
func (s fxSpec) cdl() string {
	var b strings.Builder
	nums := func(x []float64) string {
		p := make([]string, len(x))
		for i, v := range x {
			p[i] = fmt.Sprintf("%g", v)
		}
		return strings.Join(p, ", ")
	}
	attrs := func(v string, a []string) {
		for _, x := range a {
			fmt.Fprintf(&b, "\t\t%s:%s ;\n", v, x)
		}
	}
	fmt.Fprintf(&b, "// %s: generated by TestRegenFixtures (go test ./dataset -run TestRegenFixtures -regen-fixtures); do not edit.\n", s.name)
	fmt.Fprintf(&b, "netcdf %s {\ndimensions:\n\t%s = UNLIMITED ; // (%d currently)\n", s.name, s.timeName, s.nt)
	if s.bounds != nil {
		b.WriteString("\tnv = 2 ;\n")
	}
	if s.lev {
		b.WriteString("\tlev = 1 ;\n")
	}
	fmt.Fprintf(&b, "\t%s = %d ;\n\t%s = %d ;\nvariables:\n", s.latName, len(s.lat), s.lonName, len(s.lon))
	fmt.Fprintf(&b, "\tdouble %s(%s) ;\n", s.timeName, s.timeName)
	attrs(s.timeName, s.timeAttrs)
	if s.bounds != nil {
		fmt.Fprintf(&b, "\tdouble time_bnds(%s, nv) ;\n", s.timeName)
	}
	if s.lev {
		b.WriteString("\tfloat lev(lev) ;\n")
		attrs("lev", []string{`units = "meters"`, `long_name = "Depth of sea surface temperature measurements"`, `positive = "down"`, `axis = "Z"`})
	}
	fmt.Fprintf(&b, "\tfloat %s(%s) ;\n", s.latName, s.latName)
	attrs(s.latName, s.latAttrs)
	fmt.Fprintf(&b, "\tfloat %s(%s) ;\n", s.lonName, s.lonName)
	attrs(s.lonName, s.lonAttrs)
	dims := []string{s.timeName, s.latName, s.lonName}
	if s.lev {
		dims = []string{s.timeName, "lev", s.latName, s.lonName}
	}
	fmt.Fprintf(&b, "\t%s %s(%s) ;\n", s.vtype, s.varName, strings.Join(dims, ", "))
	attrs(s.varName, s.varAttrs)
	if len(s.global) > 0 {
		b.WriteString("\n// global attributes:\n")
		attrs("", s.global)
	}
	b.WriteString("data:\n\n")
	fmt.Fprintf(&b, " %s = %s ;\n\n", s.timeName, nums(s.times[:s.nt]))
	if s.bounds != nil {
		var x []float64
		for _, bb := range s.bounds[:s.nt] {
			x = append(x, bb[0], bb[1])
		}
		fmt.Fprintf(&b, " time_bnds = %s ;\n\n", nums(x))
	}
	if s.lev {
		b.WriteString(" lev = 0 ;\n\n")
	}
	fmt.Fprintf(&b, " %s = %s ;\n\n %s = %s ;\n\n %s =\n", s.latName, nums(s.lat), s.lonName, nums(s.lon), s.varName)
	for t := range s.nt {
		for i := range s.lat {
			row := make([]string, len(s.lon))
			for j := range s.lon {
				row[j] = s.value(t, i, j)
			}
			sep := ","
			if t == s.nt-1 && i == len(s.lat)-1 {
				sep = " ;"
			}
			fmt.Fprintf(&b, "  %s%s\n", strings.Join(row, ", "), sep)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// curvilinearCDL is a tos on a tripolar-like grid with 2-D lat/lon, written by hand.
const curvilinearCDL = `// curvilinear: generated by TestRegenFixtures; do not edit.
netcdf curvilinear {
dimensions:
	time = UNLIMITED ; // (2 currently)
	j = 2 ;
	i = 3 ;
variables:
	double time(time) ;
		time:units = "days since 1850-01-01" ;
		time:calendar = "noleap" ;
	int j(j) ;
		j:long_name = "cell index along second dimension" ;
	int i(i) ;
		i:long_name = "cell index along first dimension" ;
	float latitude(j, i) ;
		latitude:standard_name = "latitude" ;
		latitude:units = "degrees_north" ;
	float longitude(j, i) ;
		longitude:standard_name = "longitude" ;
		longitude:units = "degrees_east" ;
	float tos(time, j, i) ;
		tos:standard_name = "sea_surface_temperature" ;
		tos:units = "degC" ;
		tos:coordinates = "latitude longitude" ;
data:

 time = 15.5, 45 ;

 j = 0, 1 ;

 i = 0, 1, 2 ;

 latitude = 10, 10.5, 11, 11, 11.5, 12 ;

 longitude = 200, 201, 202, 200.5, 201.5, 202.5 ;

 tos = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 ;
}
`

// TestRegenFixtures rewrites testdata/*.cdl with -regen-fixtures; without it, checks they are current.
func TestRegenFixtures(t *testing.T) {
	files := map[string]string{"curvilinear": curvilinearCDL}
	for _, s := range fxSpecs() {
		files[s.name] = s.cdl()
	}
	for name, text := range files {
		p := filepath.Join("testdata", name+".cdl")
		if *regenFixtures {
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(p)
		if err != nil || string(old) != text {
			t.Errorf("%s is missing or stale; run go test ./dataset -run TestRegenFixtures -regen-fixtures", p)
		}
	}
}

// fxKind is the ncgen -k kind of a fixture.
func fxKind(name string) string {
	for _, s := range fxSpecs() {
		if s.name == name {
			return s.kind
		}
	}
	return "nc4"
}

// fxNcgen turns testdata/NAME.cdl into NAME.nc in dir and returns its path.
func fxNcgen(tb testing.TB, dir, name string) string {
	tb.Helper()
	out := filepath.Join(dir, name+".nc")
	if err := ncgenKind(fxKind(name), out, name); err != nil {
		tb.Fatal(err)
	}
	return out
}

// ncgenKind runs ncgen -k kind on testdata/NAME.cdl, writing out.
func ncgenKind(kind, out, name string) error {
	if _, err := exec.LookPath("ncgen"); err != nil {
		return fmt.Errorf("ncgen not found: install netcdf-bin (make setup)")
	}
	cmd := exec.Command("ncgen", "-k", kind, "-o", out, filepath.Join("testdata", name+".cdl"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ncgen -k %s %s: %v\n%s", kind, name, err, msg)
	}
	return nil
}

// fxFile writes the named fixture into a fresh temporary directory and returns its path.
func fxFile(t *testing.T, name string) string {
	t.Helper()
	return fxNcgen(t, t.TempDir(), name)
}

// TestOpenFormats reads the same fixture written in every on-disk format ncgen knows.
func TestOpenFormats(t *testing.T) {
	for kind, format := range map[string]string{
		"classic": "NetCDF-3 classic", "64-bit offset": "NetCDF-3 64-bit offset", "cdf5": "NetCDF-3 CDF-5",
		"netCDF-4": "NetCDF-4/HDF5", "netCDF-4 classic model": "NetCDF-4/HDF5 classic model",
	} {
		t.Run(kind, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ersst.nc")
			if err := ncgenKind(kind, out, "ersst"); err != nil {
				t.Fatal(err)
			}
			info, err := Inspect(out, "")
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != format || info.Time.Months != 40 || !nearF32(info.Series.At(39).At(5, 6), fxPhys(39, 5, 6), 1e-6) {
				t.Errorf("format %q months %d value %v; want %q 40 %v", info.Format, info.Time.Months,
					info.Series.At(39).At(5, 6), format, fxPhys(39, 5, 6))
			}
		})
	}
}

// TestWithTimeout checks the guard against libnetcdf calls that never return: the caller gets a
// *Error naming the file, and a late result is discarded.
func TestWithTimeout(t *testing.T) {
	release := make(chan struct{})
	discarded := make(chan int, 1)
	_, err := withTimeout("damaged.nc", 10*time.Millisecond, func() (int, error) {
		<-release
		return 7, nil
	}, func(v int) { discarded <- v })
	expectDatasetError(t, err, ErrTruncated, "damaged.nc", "did not finish")
	close(release)
	select {
	case v := <-discarded:
		if v != 7 {
			t.Errorf("discarded %d, want 7", v)
		}
	case <-time.After(5 * time.Second):
		t.Error("late result not discarded")
	}
	v, err := withTimeout("ok.nc", time.Minute, func() (int, error) { return 3, nil }, func(int) {})
	if v != 3 || err != nil {
		t.Errorf("got %d, %v", v, err)
	}
}

// TestOpenDamagedGlobalHeap checks the guard against the HDF5 1.10 global-heap bugs found by
// FuzzOpen (a crash and an endless loop in H5HG_read): the files are refused before libnetcdf
// sees them.
func TestOpenDamagedGlobalHeap(t *testing.T) {
	for name, msg := range map[string]string{
		"hdf5_gcol_object_too_big":  "has an object of 4611686018427387912 bytes",
		"hdf5_gcol_free_space_zero": "has a free-space object of 0 bytes",
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzOpen", name))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[1])
			raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(text, "[]byte("), ")"))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "damaged.nc")
			if err := os.WriteFile(path, []byte(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Open(path, OpenOptions{})
			expectDatasetError(t, err, ErrTruncated, path, msg)
		})
	}
}
