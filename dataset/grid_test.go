package dataset

import (
	"errors"
	"math"
	"testing"
)

// seriesOf builds a Series on (lat, lon) with n months from start, value f(t, lat, lon).
func seriesOf(lat, lon []float64, start Month, n int, f func(t int, y, x float64) float64) *Series {
	g := Grid{Lat: lat, Lon: lon}
	s := &Series{Name: "sst", Units: "degC", Source: "test.nc", Grid: g, Start: start, N: n,
		Values: make([]float32, n*g.Size())}
	for t := 0; t < n; t++ {
		for i, y := range lat {
			for j, x := range lon {
				s.Values[(t*len(lat)+i)*len(lon)+j] = float32(f(t, y, x))
			}
		}
	}
	return s
}

// centres returns n values start, start+step, ...
func centres(start, step float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = start + float64(i)*step
	}
	return v
}

func TestGridSpecValidate(t *testing.T) {
	ok := GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	tests := []struct {
		name string
		edit func(g *GridSpec)
		bad  bool
	}{
		{"the demo card's grid", func(g *GridSpec) {}, false},
		{"latitude descending", func(g *GridSpec) { g.LatStart, g.LatStep = 73, -2 }, false},
		{"dateline-crossing card 150..210", func(g *GridSpec) { g.LonStart = 150; g.NLon = 31 }, false},
		{"single cell", func(g *GridSpec) { g.NLat, g.NLon, g.LatStep, g.LonStep = 1, 1, 0, 0 }, false},
		{"global 1 degree", func(g *GridSpec) { *g = GridSpec{-89.5, 1, 180, 0.5, 1, 360} }, false},
		{"no latitudes", func(g *GridSpec) { g.NLat = 0 }, true},
		{"negative nlon", func(g *GridSpec) { g.NLon = -3 }, true},
		{"zero lat_step", func(g *GridSpec) { g.LatStep = 0 }, true},
		{"negative lon_step", func(g *GridSpec) { g.LonStep = -2 }, true},
		{"NaN lat_start", func(g *GridSpec) { g.LatStart = math.NaN() }, true},
		{"infinite lon_step", func(g *GridSpec) { g.LonStep = math.Inf(1) }, true},
		{"latitudes beyond the pole", func(g *GridSpec) { g.LatStart = 30 }, true},
		{"lon_start below -180", func(g *GridSpec) { g.LonStart = -200 }, true},
		{"lon_start at 360", func(g *GridSpec) { g.LonStart = 360 }, true},
		{"more than one turn", func(g *GridSpec) { g.NLon = 181 }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := ok
			tc.edit(&g)
			err := g.Validate()
			if (err != nil) != tc.bad {
				t.Fatalf("Validate(%+v) = %v, want error %v", g, err, tc.bad)
			}
			var e *Error
			if err != nil && (!errors.As(err, &e) || !errors.Is(err, ErrIrregularGrid) || e.Hint == "") {
				t.Errorf("error %v is not an *Error of kind ErrIrregularGrid with a hint", err)
			}
		})
	}
}

func TestGridSpecGrid(t *testing.T) {
	tests := []struct {
		name     string
		spec     GridSpec
		lat, lon []float64
		conv     LonConvention
	}{
		{"ascending, -180..180", GridSpec{5, 2, 3, -100, 2, 3}, []float64{5, 7, 9}, []float64{-100, -98, -96}, Lon180To180},
		{"descending latitude", GridSpec{60, -1, 3, 0.5, 1, 2}, []float64{60, 59, 58}, []float64{0.5, 1.5}, Lon0To360},
		{"past the dateline in 0..360", GridSpec{0, 1, 1, 170, 10, 4}, []float64{0}, []float64{170, 180, 190, 200}, Lon0To360},
		{"starting at 0 is 0..360", GridSpec{0, 1, 1, 0, 90, 4}, []float64{0}, []float64{0, 90, 180, 270}, Lon0To360},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.spec.Grid()
			if !equalF(g.Lat, tc.lat) || !equalF(g.Lon, tc.lon) {
				t.Errorf("Grid() = %v, %v; want %v, %v", g.Lat, g.Lon, tc.lat, tc.lon)
			}
			if c := tc.spec.LonConvention(); c != tc.conv {
				t.Errorf("LonConvention() = %v, want %v", c, tc.conv)
			}
		})
	}
}

func TestLonConventionNormalize(t *testing.T) {
	tests := []struct {
		c       LonConvention
		in, out float64
	}{
		{Lon0To360, -100, 260}, {Lon0To360, 360, 0}, {Lon0To360, 725, 5}, {Lon0To360, 0, 0},
		{Lon180To180, 270, -90}, {Lon180To180, 180, -180}, {Lon180To180, -181, 179}, {Lon180To180, 25, 25},
	}
	for _, tc := range tests {
		if got := tc.c.Normalize(tc.in); math.Abs(got-tc.out) > 1e-12 {
			t.Errorf("%v.Normalize(%g) = %g, want %g", tc.c, tc.in, got, tc.out)
		}
	}
	if c := LonConventionOf(Grid{Lon: []float64{-179.5, 179.5}}); c != Lon180To180 {
		t.Errorf("LonConventionOf(-179.5..179.5) = %v", c)
	}
	if c := LonConventionOf(Grid{Lon: []float64{0.5, 359.5}}); c != Lon0To360 {
		t.Errorf("LonConventionOf(0.5..359.5) = %v", c)
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// TestCoordinateLabels: hemispheres, both longitude conventions, and no side on the equator,
// the prime meridian and the antimeridian (a Pacific grid's cell at 180 read "180.0°W").
func TestCoordinateLabels(t *testing.T) {
	for lat, want := range map[float64]string{39: "39.0°N", -10.5: "10.5°S", 0: "0.0°", -0.01: "0.0°"} {
		if got := LatLabel(lat); got != want {
			t.Errorf("dataset.LatLabel(%g) = %q, want %q", lat, got, want)
		}
	}
	for lon, want := range map[float64]string{-38: "38.0°W", 322: "38.0°W", 150: "150.0°E", 180: "180.0°", -180: "180.0°",
		0: "0.0°", 360: "0.0°", 179.96: "180.0°", 200: "160.0°W"} {
		if got := LonLabel(lon); got != want {
			t.Errorf("dataset.LonLabel(%g) = %q, want %q", lon, got, want)
		}
	}
}
