package dataset

import (
	"math"
	"strings"
	"testing"
)

func TestParseRegion(t *testing.T) {
	for _, tc := range []struct {
		s      string
		ok     bool
		name   string
		box    Box
		errHas string
	}{
		{"spg", true, "spg", Box{50, 65, -60, -10}, ""},
		{" NINO34 ", true, "nino34", Box{-5, 5, -170, -120}, ""},
		{"box:10,20,170,-170", true, "", Box{10, 20, 170, -170}, ""},
		{"box:20,10,0,1", true, "", Box{}, "south must not exceed north"},
		{"box:-95,10,0,1", true, "", Box{}, "±90"},
		{"box:1,2,x,3", true, "", Box{}, `"x" is not a number`},
		{"box:1,2,NaN,3", true, "", Box{}, "not a number"},
		{"55,-35", false, "", Box{}, ""},
		{"gyre", false, "", Box{}, ""},
	} {
		r, ok, err := ParseRegion(tc.s)
		switch {
		case ok != tc.ok:
			t.Errorf("%q: ok = %v", tc.s, ok)
		case tc.errHas != "":
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("%q: err = %v, want %q", tc.s, err, tc.errHas)
			}
		case err != nil || r.Name != tc.name || r.Box != tc.box:
			t.Errorf("%q: %+v, %v", tc.s, r, err)
		}
	}
}

func TestBoxCellsAndIndexField(t *testing.T) {
	// 3 x 4 grid on 0..360 longitudes; a box across the 0/360 seam given in -180..180.
	g := GridSpec{LatStart: 0, LatStep: 60, NLat: 3, LonStart: 0, LonStep: 90, NLon: 4}
	in := g.BoxCells(Box{S: 0, N: 60, W: -90, E: 0})
	want := []bool{true, false, false, true, true, false, false, true, false, false, false, false}
	for k := range want {
		if in[k] != want[k] {
			t.Fatalf("BoxCells = %v, want %v", in, want)
		}
	}
	v := []float32{1, 9, 9, 3, 5, 9, 9, float32(math.NaN()), 9, 9, 9, 9}
	f := g.IndexField(v, in)
	// cos 0 = 1 for 1 and 3, cos 60° = 0.5 for 5 (the NaN cell is left out): (1 + 3 + 2.5) / 2.5.
	idx := float32(6.5 / 2.5)
	for k, x := range f {
		inside := in[k] && k != 7
		if inside && math.Abs(float64(x-idx)) > 1e-6 || !inside && !math.IsNaN(float64(x)) {
			t.Fatalf("IndexField = %v, want %g on the region's valid cells, NaN elsewhere", f, idx)
		}
	}
}
