package dataset

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// geo is a smooth field of geographic position (the same whatever the longitude convention) and
// time.
func geo(t int, y, x float64) float64 {
	r := x * math.Pi / 180
	return 0.1*y + 5*math.Cos(r) + 3*math.Sin(r) + float64(t)
}

func TestRegridExactSubset(t *testing.T) {
	global360 := centres(0.5, 1, 360)
	global180 := centres(-179.5, 1, 360)
	tests := []struct {
		name     string
		lat, lon []float64
		spec     GridSpec
	}{
		{"0..360 data, card -100..25 across the 0 meridian", centres(0.5, 1, 80), global360,
			GridSpec{5.5, 1, 10, -99.5, 1, 125}},
		{"-180..180 data, card 120..240 across the dateline", centres(0.5, 1, 80), global180,
			GridSpec{10.5, 1, 5, 120.5, 1, 120}},
		{"-180..180 data, card 150..-150 written as 150.5 + 2n", centres(0.5, 1, 80), global180,
			GridSpec{10.5, 1, 5, 150.5, 2, 30}},
		{"data latitude descending, card ascending", centres(79.5, -1, 80), global360,
			GridSpec{5.5, 1, 10, 280.5, 1, 20}},
		{"data ascending, card descending", centres(0.5, 1, 80), global360,
			GridSpec{70.5, -2, 10, 0.5, 1, 20}},
		{"regional 0..360 data, card in -180..180", centres(0.5, 1, 80), centres(200.5, 1, 140),
			GridSpec{5.5, 1, 70, -149.5, 1, 125}},
		{"card at the data's last longitude, just past the seam value", centres(0.5, 1, 4), global360,
			GridSpec{0.5, 1, 2, -0.5, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := seriesOf(tc.lat, tc.lon, NewMonth(2000, 1), 3, geo)
			s.Notices = []string{"from the reader"}
			r, err := Regrid(s, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.spec.Grid()
			if !equalF(r.Grid.Lat, want.Lat) || !equalF(r.Grid.Lon, want.Lon) {
				t.Fatalf("result grid %v x %v, want the card's %v x %v", r.Grid.Lat, r.Grid.Lon, want.Lat, want.Lon)
			}
			if len(r.Notices) != 1 {
				t.Errorf("an exact subset should only keep the source's notices, got %q", r.Notices)
			}
			if r.N != 3 || r.Start != s.Start || len(r.Values) != 3*want.Size() {
				t.Fatalf("result has %d months from %v, %d values", r.N, r.Start, len(r.Values))
			}
			for tt := 0; tt < r.N; tt++ {
				for i, y := range want.Lat {
					for j, x := range want.Lon {
						got := r.Values[(tt*len(want.Lat)+i)*len(want.Lon)+j]
						if w := float32(geo(tt, y, x)); got != w {
							t.Fatalf("month %d at (%g, %g): got %g, want exactly %g", tt, y, x, got, w)
						}
					}
				}
			}
		})
	}
}

func TestRegridBilinear(t *testing.T) {
	linear := func(t int, y, x float64) float64 { return 2*y + 0.5*x + float64(t) }
	tests := []struct {
		name     string
		lat, lon []float64
		spec     GridSpec
		f        func(t int, y, x float64) float64
		tol      float64
		offset   string // the notice's hint on a grid of the same spacing, "" for none
	}{
		{"linear field, 1 degree to 2 degrees, reproduced exactly", centres(0.5, 1, 40), centres(200.5, 1, 60),
			GridSpec{10, 2, 6, 210, 2, 20}, linear, 1e-4, ""},
		{"linear field, data latitude descending", centres(39.5, -1, 40), centres(200.5, 1, 60),
			GridSpec{30, -2, 6, 210, 2, 20}, linear, 1e-4, ""},
		{"periodic longitude across the seam of global data", centres(-9.5, 1, 20), centres(0.5, 1, 360),
			GridSpec{-5, 1, 3, -2, 1, 5}, geo, 2e-3, " (same spacing, but the card's cell centres are 0.5° in latitude and 0.5° in longitude from the file's;"},
		{"card longitudes in the other convention", centres(-9.5, 1, 20), centres(-179.5, 1, 360),
			GridSpec{-5, 2, 3, 170, 2, 11}, geo, 2e-3, ""},
		{"same spacing, card centres on the file's latitudes, a quarter cell off in longitude", centres(0.5, 1, 40), centres(200.5, 1, 60),
			GridSpec{10.5, 1, 6, 210.25, 1, 20}, linear, 1e-4, " (same spacing, but the card's cell centres are 0.0° in latitude and 0.25° in longitude from the file's;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := seriesOf(tc.lat, tc.lon, NewMonth(2000, 1), 2, tc.f)
			r, err := Regrid(s, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			g := tc.spec.Grid()
			for tt := 0; tt < r.N; tt++ {
				for i, y := range g.Lat {
					for j, x := range g.Lon {
						got := float64(r.Values[(tt*len(g.Lat)+i)*len(g.Lon)+j])
						if w := tc.f(tt, y, x); math.Abs(got-w) > tc.tol {
							t.Fatalf("month %d at (%g, %g): got %g, want %g", tt, y, x, got, w)
						}
					}
				}
			}
			if len(r.Notices) != 1 || !strings.HasPrefix(r.Notices[0], "regridded bilinearly from 1.0° x 1.0° to ") {
				t.Fatalf("notices %q, want one saying the data were regridded bilinearly", r.Notices)
			}
			if hint := strings.Contains(r.Notices[0], "same spacing"); hint != (tc.offset != "") || !strings.Contains(r.Notices[0], tc.offset) {
				t.Errorf("notice %q, want the offset hint %q", r.Notices[0], tc.offset)
			}
		})
	}
}

func TestRegridMissingNeighbours(t *testing.T) {
	// Data on lats 0, 1 and lons 10, 11; the card cell (0.25, 10.5) takes weights
	// 0.375 from (0,10) and (0,11), 0.125 from (1,10) and (1,11).
	nan := math.NaN()
	tests := []struct {
		name   string
		values [4]float64 // (0,10), (0,11), (1,10), (1,11)
		want   float64
		lost   string
	}{
		{"all present", [4]float64{1, 2, 3, 4}, 0.375*1 + 0.375*2 + 0.125*3 + 0.125*4, "; 0 cells"},
		{"one light neighbour missing: renormalised", [4]float64{1, 2, 3, nan}, (0.375*1 + 0.375*2 + 0.125*3) / 0.875, "; 0 cells"},
		{"half the weight missing: still kept", [4]float64{1, nan, 3, 5}, (0.375*1 + 0.125*3 + 0.125*5) / 0.625, "; 0 cells"},
		{"heavy neighbours missing: valid weight 0.25 < 0.5", [4]float64{nan, nan, 3, 4}, nan, "; 1 cells"},
		{"all missing (land)", [4]float64{nan, nan, nan, nan}, nan, "; 0 cells"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Series{Grid: Grid{Lat: []float64{0, 1}, Lon: []float64{10, 11}}, N: 1, Values: make([]float32, 4)}
			for k, v := range tc.values {
				s.Values[k] = float32(v)
			}
			r, err := Regrid(s, GridSpec{0.25, 1, 1, 10.5, 1, 1})
			if err != nil {
				t.Fatal(err)
			}
			got := float64(r.Values[0])
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-6) {
				t.Errorf("got %g, want %g", got, tc.want)
			}
			if !strings.Contains(r.Notices[0], tc.lost) {
				t.Errorf("notice %q should contain %q", r.Notices[0], tc.lost)
			}
		})
	}
}

func TestRegridErrors(t *testing.T) {
	regional := seriesOf(centres(0.5, 1, 40), centres(200.5, 1, 60), NewMonth(2000, 1), 1, geo)
	global := seriesOf(centres(0.5, 1, 40), centres(0.5, 1, 360), NewMonth(2000, 1), 1, geo)
	zigzag := seriesOf([]float64{0, 2, 1}, centres(0.5, 1, 10), NewMonth(2000, 1), 1, geo)
	decreasingLon := seriesOf(centres(0.5, 1, 4), centres(10, -1, 10), NewMonth(2000, 1), 1, geo)
	empty := &Series{Grid: Grid{Lat: []float64{}, Lon: []float64{1}}, N: 1}
	tests := []struct {
		name  string
		s     *Series
		spec  GridSpec
		kind  error
		hints []string
	}{
		{"card north of the data", global, GridSpec{30, 1, 20, 0, 1, 10}, ErrGridMismatch,
			[]string{"latitudes 0.5..39.5", "longitudes 0.5..359.5", "latitudes 30..49"}},
		{"card west of regional data", regional, GridSpec{10, 1, 5, 190, 1, 20}, ErrGridMismatch,
			[]string{"longitudes 200.5..259.5 (0..360)", "longitudes 190..209"}},
		{"card east of regional data, exact centres", regional, GridSpec{10.5, 1, 5, 250.5, 1, 20}, ErrGridMismatch,
			[]string{"longitudes 200.5..259.5"}},
		{"card south of data, exact centres would need latitude -0.5", global, GridSpec{-0.5, 1, 3, 0.5, 1, 3}, ErrGridMismatch,
			[]string{"latitudes 0.5..39.5"}},
		{"invalid card grid", global, GridSpec{0, 1, 0, 0, 1, 10}, ErrIrregularGrid, nil},
		{"data latitudes not monotonic", zigzag, GridSpec{0.5, 1, 1, 1, 1, 1}, ErrIrregularGrid, nil},
		{"data longitudes decreasing", decreasingLon, GridSpec{0.5, 1, 1, 5, 1, 1}, ErrIrregularGrid, nil},
		{"data grid empty", empty, GridSpec{0.5, 1, 1, 5, 1, 1}, ErrIrregularGrid, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Regrid(tc.s, tc.spec)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Regrid: %v, want kind %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *Error", err)
			}
			for _, h := range tc.hints {
				if !strings.Contains(e.Hint, h) {
					t.Errorf("hint %q should name %q", e.Hint, h)
				}
			}
		})
	}
}

// TestOpenRegularWindow: a card's grid on global regular data reads only the block of cells
// around it, and regridding that block gives exactly what regridding the whole grid gives: for
// a card on the data's cells, a card between them (bilinear), cards across the data's 0° seam
// and dateline and at its last column (every column read), and latitudes stored north first; a
// global card reads it all.
func TestOpenRegularWindow(t *testing.T) {
	value := func(tm int, y, x float64) float64 {
		if y > 60 && x > 100 && x < 140 {
			return math.NaN()
		}
		return 20 - 0.3*y + math.Sin(float64(tm)+x/17) + math.Cos(y/11)
	}
	na := GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	between := GridSpec{LatStart: 4.5, LatStep: 1, NLat: 60, LonStart: -99.5, LonStep: 1, NLon: 110}
	pacific := GridSpec{LatStart: -21, LatStep: 2, NLat: 10, LonStart: 140, LonStep: 2, NLon: 30}
	edge := GridSpec{LatStart: 1, LatStep: 2, NLat: 5, LonStart: 170, LonStep: 2, NLon: 5}
	for _, tc := range []struct {
		name     string
		lat, lon []float64
		spec     GridSpec
		window   bool
	}{
		{"on the data's cells", centres(-89, 2, 90), centres(-179, 2, 180), na, true},
		{"between the data's cells", centres(-89, 2, 90), centres(-179, 2, 180), between, true},
		{"across the data's 0° seam", centres(-89, 2, 90), centres(1, 2, 180), na, true},
		{"north first", centres(89, -2, 90), centres(-179, 2, 180), between, true},
		{"across the data's dateline", centres(-89, 2, 90), centres(-179, 2, 180), pacific, true},
		{"at the data's last column", centres(-89, 2, 90), centres(-179, 2, 180), edge, true},
		{"the whole globe", centres(-89, 2, 90), centres(-179, 2, 180), GridSpec{LatStart: -89, LatStep: 2, NLat: 90, LonStart: -179, LonStep: 2, NLon: 180}, false},
	} {
		path := filepath.Join(t.TempDir(), "global.nc")
		if err := WriteSeries(path, seriesOf(tc.lat, tc.lon, NewMonth(2000, 1), 3, value), nil); err != nil {
			t.Fatal(err)
		}
		whole, err := Open(path, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		spec := tc.spec
		part, err := Open(path, OpenOptions{Grid: &spec})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		read := slices.ContainsFunc(part.Notices, func(n string) bool { return strings.Contains(n, "block of the data's 90 x 180 cells") })
		if read != tc.window || tc.window && part.Grid.Size() >= whole.Grid.Size() {
			t.Errorf("%s: a block read %v (want %v), %d of %d cells; notices %q", tc.name, read, tc.window, part.Grid.Size(), whole.Grid.Size(), part.Notices)
		}
		a, err := Regrid(whole, spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Regrid(part, spec)
		if err != nil {
			t.Fatalf("%s: regridding the block: %v", tc.name, err)
		}
		if !slices.EqualFunc(a.Values, b.Values, func(x, y float32) bool { return x == y || x != x && y != y }) {
			t.Errorf("%s: the block regrids differently from the whole grid", tc.name)
		}
	}
}
