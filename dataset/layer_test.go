package dataset

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cdlFile writes the CDL text cdl as a NetCDF file of kind ("classic" or "nc4") with ncgen, in a
// directory of t's own, and returns its path.
func cdlFile(t testing.TB, cdl, kind string) string {
	t.Helper()
	if _, err := exec.LookPath("ncgen"); err != nil {
		t.Fatal("ncgen not found: install netcdf-bin (make setup)")
	}
	dir := t.TempDir()
	src, path := filepath.Join(dir, "in.cdl"), filepath.Join(dir, "in.nc")
	if err := os.WriteFile(src, []byte(cdl), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("ncgen", "-k", kind, "-o", path, src).CombinedOutput(); err != nil {
		t.Fatalf("ncgen: %v\n%s", err, msg)
	}
	return path
}

// layerFile writes thetao(time, lev, lat, lon) on the given levels, value 10·(level+1) + month +
// cell/10, with lev's bounds when bounds is not nil and a fill value at the (cell, level) pairs
// of floor (the sea floor above those levels), and returns its path; deflate makes it
// compressed NetCDF-4 with chunks of two levels.
func layerFile(t testing.TB, name string, levels []float64, bounds [][2]float64, floor [][2]int, deflate bool) string {
	t.Helper()
	nz := len(levels)
	var vals []string
	for tm := range 4 {
		for z := range nz {
			for c := range 4 {
				v := fmt.Sprint(float64(10*(z+1)+tm) + float64(c)/10)
				if slices.Contains(floor, [2]int{c, z}) {
					v = "1e20"
				}
				vals = append(vals, v)
			}
		}
	}
	var lev, bnds []string
	for _, z := range levels {
		lev = append(lev, fmt.Sprint(z))
	}
	for _, b := range bounds {
		bnds = append(bnds, fmt.Sprint(b[0]), fmt.Sprint(b[1]))
	}
	boundsDef, boundsData := "", ""
	if bounds != nil {
		boundsDef = `lev:bounds = "lev_bnds" ; double lev_bnds(lev, bnds) ;`
		boundsData = "lev_bnds = " + strings.Join(bnds, ", ") + " ;"
	}
	compress, kind := "", "classic"
	if deflate {
		compress, kind = `thetao:_DeflateLevel = 1 ; thetao:_ChunkSizes = 2, 2, 2, 2 ;`, "nc4"
	}
	cdl := fmt.Sprintf(`netcdf layer {
dimensions: time = 4 ; lev = %d ; lat = 2 ; lon = 2 ; bnds = 2 ;
variables:
	double time(time) ; time:units = "days since 2000-01-01" ; time:calendar = "noleap" ;
	double lev(lev) ; lev:units = "m" ; lev:standard_name = "depth" ; %s
	float lat(lat) ; lat:units = "degrees_north" ;
	float lon(lon) ; lon:units = "degrees_east" ;
	float thetao(time, lev, lat, lon) ; thetao:units = "degC" ; thetao:_FillValue = 1e20f ; %s
	float sst(time, lat, lon) ; sst:units = "degC" ;
data:
	time = 15, 45, 74, 105 ;
	lev = %s ;
	%s
	lat = 40.5, 41.5 ;
	lon = -30.5, -29.5 ;
	thetao = %s ;
	sst = %s ;
}
`, nz, boundsDef, compress, strings.Join(lev, ", "), boundsData, strings.Join(vals, ", "), strings.Join(vals[:16], ", "))
	return cdlFile(t, cdl, kind)
}

// TestOpenLayer: a variable on depth levels read as its mean over a layer weighs each level by
// the thickness of its water within the layer, worked out here by hand, with the levels' edges
// from their bounds or halfway between them (the top one stopping at the surface); a cell whose
// sea floor lies within the layer is the mean of its water; a layer beyond the levels, a layer
// with a level, and levels out of order are refused.
func TestOpenLayer(t *testing.T) {
	noFloor := [][2]int(nil)
	for _, tc := range []struct {
		name    string
		levels  []float64
		bounds  [][2]float64
		floor   [][2]int
		layer   [2]float64
		offset  [4]float64 // the mean minus month - cell/10, per cell
		notices []string
	}{
		// Edges 0 (not -42.5), 52.5, 200, 400: weights 52.5, 147.5, 100 over 300 m.
		{"midpoints", []float64{5, 100, 300}, nil, noFloor, [2]float64{0, 300}, fill4((52.5*10 + 147.5*20 + 100*30) / 300),
			[]string{"thetao averaged over lev = 0 to 300 m: 3 of 3 levels (5 to 300 m)", "edges halfway between levels: lev has no usable bounds"}},
		{"layer given bottom first", []float64{5, 100, 300}, nil, noFloor, [2]float64{300, 0}, fill4((52.5*10 + 147.5*20 + 100*30) / 300), nil},
		{"one level's water", []float64{5, 100, 300}, nil, noFloor, [2]float64{60, 150}, fill4(20),
			[]string{"1 of 3 levels (100 m)"}},
		// Bounds 0-10, 10-200, 200-1000: weights 10, 190, 100.
		{"bounds", []float64{5, 100, 300}, [][2]float64{{0, 10}, {10, 200}, {200, 1000}}, noFloor, [2]float64{0, 300},
			fill4((10*10 + 190*20 + 100*30) / 300.0), []string{"edges from lev_bnds"}},
		{"beyond the deepest water", []float64{5, 100, 300}, nil, noFloor, [2]float64{0, 1000}, fill4((52.5*10 + 147.5*20 + 200*30) / 400),
			[]string{"reaches beyond the levels' water (0 to 400 m): the mean covers 0 to 400 m"}},
		// Cell 3's floor at 200 m: its 300 m level is missing, its mean is over 0-200 m.
		{"sea floor within the layer", []float64{5, 100, 300}, nil, [][2]int{{3, 2}}, [2]float64{0, 300},
			[4]float64{21.58333, 21.58333, 21.58333, (52.5*10 + 147.5*20) / 200}, []string{"1 cells hold water in only part of the layer"}},
		// A height coordinate (positive up, negative below the surface): the same water.
		{"heights", []float64{-5, -100, -300}, nil, noFloor, [2]float64{-300, 0}, fill4((52.5*10 + 147.5*20 + 100*30) / 300), nil},
	} {
		for _, deflate := range []bool{false, true} {
			path := layerFile(t, "l", tc.levels, tc.bounds, tc.floor, deflate)
			layer := tc.layer
			s, err := Open(path, OpenOptions{Var: "thetao", Raw: true, Layer: &layer})
			if err != nil {
				t.Fatalf("%s (deflate %v): %v", tc.name, deflate, err)
			}
			if s.N != 4 || len(s.Values) != 16 {
				t.Fatalf("%s: %d months, %d values", tc.name, s.N, len(s.Values))
			}
			for i, v := range s.Values {
				tm, c := i/4, i%4
				if want := tc.offset[c] + float64(tm) + float64(c)/10; !(math.Abs(float64(v)-want) <= 1e-4) {
					t.Errorf("%s (deflate %v): value %d (month %d, cell %d) is %g, want %g", tc.name, deflate, i, tm, c, v, want)
				}
			}
			for _, n := range tc.notices {
				if !slices.ContainsFunc(s.Notices, func(x string) bool { return strings.Contains(x, n) }) {
					t.Errorf("%s: no notice %q in %q", tc.name, n, s.Notices)
				}
			}
		}
	}

	path := layerFile(t, "l", []float64{5, 100, 300}, nil, nil, false)
	for _, tc := range []struct {
		name  string
		opt   OpenOptions
		kind  error
		words string
	}{
		{"below every level", OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{500, 600}}, ErrLayout, "no level of thetao lies within the layer 500 to 600 m"},
		{"level and layer", OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{0, 300}, Level: ptr(100.0)}, ErrLayout, "not both"},
		{"no thickness", OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{100, 100}}, ErrLayout, "two different finite numbers"},
		{"NaN", OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{0, math.NaN()}}, ErrLayout, "two different finite numbers"},
	} {
		_, err := Open(path, tc.opt)
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.kind, tc.words)
		}
	}
	_, err := Open(layerFile(t, "l", []float64{5, 300, 100}, nil, nil, false), OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{0, 300}})
	if !errors.Is(err, ErrNoCoordinate) || !strings.Contains(err.Error(), "not monotonic") {
		t.Errorf("levels out of order: %v", err)
	}
	// A variable of one level ignores the layer, and says so.
	s, err := Open(path, OpenOptions{Var: "sst", Layer: &[2]float64{0, 300}})
	if err != nil || !slices.ContainsFunc(s.Notices, func(n string) bool { return strings.Contains(n, "layer 0 to 300 not used") }) || s.Values[0] != 10 {
		t.Errorf("sst with a layer: %v %q", err, s.Notices)
	}
}

func fill4(v float64) [4]float64 { return [4]float64{v, v, v, v} }

func ptr[T any](v T) *T { return &v }
