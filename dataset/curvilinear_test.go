package dataset

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// curviFile writes tos(time, j, i) on a curvilinear grid of 4 x 6 cells with latitude(j, i) and
// longitude(j, i) from pos (a fill value where pos says NaN) and values value(t, j, i) (NaN:
// missing) for 3 months from day day0 (days since 2000-01-01, noleap), and returns its path.
func curviFile(t *testing.T, day0 float64, pos func(j, i int) (lat, lon float64), value func(tm, j, i int) float64) string {
	t.Helper()
	num := func(v float64) string {
		if v != v {
			return "1e20"
		}
		return fmt.Sprint(v)
	}
	var lat, lon, vals []string
	for j := range 4 {
		for i := range 6 {
			y, x := pos(j, i)
			lat, lon = append(lat, num(y)), append(lon, num(x))
		}
	}
	for tm := range 3 {
		for j := range 4 {
			for i := range 6 {
				vals = append(vals, num(value(tm, j, i)))
			}
		}
	}
	cdl := `netcdf curvi {
dimensions: time = 3 ; j = 4 ; i = 6 ;
variables:
	double time(time) ; time:units = "days since 2000-01-01" ; time:calendar = "noleap" ;
	double latitude(j, i) ; latitude:standard_name = "latitude" ; latitude:units = "degrees_north" ; latitude:_FillValue = 1e20 ;
	double longitude(j, i) ; longitude:standard_name = "longitude" ; longitude:units = "degrees_east" ; longitude:_FillValue = 1e20 ;
	float tos(time, j, i) ; tos:units = "degC" ; tos:coordinates = "latitude longitude" ; tos:_FillValue = 1e20f ;
data:
	time = ` + fmt.Sprintf("%g, %g, %g", day0+15, day0+45, day0+76) + ` ;
	latitude = ` + strings.Join(lat, ", ") + ` ;
	longitude = ` + strings.Join(lon, ", ") + ` ;
	tos = ` + strings.Join(vals, ", ") + ` ;
}
`
	return cdlFile(t, cdl, "classic")
}

// TestOpenCurvilinear: data on a curvilinear grid are averaged onto the card's grid as they are
// read. Each 2° card cell holds a 2 x 2 block of data cells, skewed as a tripolar grid's are and
// with longitudes given as 328..334 + 360: its mean is the block's, over the cells with a value;
// a card cell whose data cells have no position takes its nearest data cell's value; without a
// card's grid such data are refused, and a grid they do not reach too.
func TestOpenCurvilinear(t *testing.T) {
	spec := GridSpec{LatStart: 41, LatStep: 2, NLat: 2, LonStart: -31, LonStep: 2, NLon: 3}
	// Data cell (j, i) lies in card cell (j/2, i/2), skewed by up to 0.2°.
	pos := func(j, i int) (float64, float64) {
		y := 40 + float64(j) + 0.5 + 0.2*float64(i%2) - 0.1
		x := -32 + float64(i) + 0.5 + 0.2*float64(j%2) - 0.1
		if (j+i)%3 == 0 {
			x += 720 // 688.5 and the like: a tripolar grid's longitudes run past 360
		}
		return y, x
	}
	value := func(tm, j, i int) float64 {
		if j == 0 && i == 0 {
			return math.NaN() // land
		}
		return float64(10*tm + 6*j + i)
	}
	noPos := func(j, i int) bool { return j >= 2 && i >= 4 } // card cell (1, 2)'s data cells
	path := curviFile(t, 0, func(j, i int) (float64, float64) {
		if noPos(j, i) {
			return math.NaN(), math.NaN()
		}
		return pos(j, i)
	}, value)
	s, err := Open(path, OpenOptions{Grid: &spec})
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.Grid.NLat() != 2 || s.Grid.NLon() != 3 || s.Grid.Lon[0] != -31 {
		t.Fatalf("got %d months on %v", s.N, s.Grid)
	}
	for tm := range 3 {
		for ci := range 2 {
			for ck := range 3 {
				var want float64
				if ci == 1 && ck == 2 {
					// The nearest data cell with a position to the card cell's centre (43, -27).
					best := math.Inf(1)
					for j := range 4 {
						for i := range 6 {
							if noPos(j, i) {
								continue
							}
							y, x := pos(j, i)
							dx := math.Mod(math.Abs(x+27), 360)
							dx = min(dx, 360-dx) * math.Cos(43*math.Pi/180)
							if d := (y-43)*(y-43) + dx*dx; d < best {
								best, want = d, value(tm, j, i)
							}
						}
					}
				} else {
					n := 0.0
					for j := 2 * ci; j < 2*ci+2; j++ {
						for i := 2 * ck; i < 2*ck+2; i++ {
							if v := value(tm, j, i); v == v {
								want += v
								n++
							}
						}
					}
					want /= n
				}
				if got := s.Values[(tm*2+ci)*3+ck]; !(math.Abs(float64(got)-want) <= 1e-5) {
					t.Errorf("month %d, card cell (%d, %d): %g, want %g", tm, ci, ck, got, want)
				}
			}
		}
	}
	wantNotice(t, s, "tos on a curvilinear grid (latitude/longitude, 4 x 6 cells) averaged onto the card's 2 x 3 grid: each cell the mean of the data cells whose centres lie in it (4 to 4, median 4); 4 data cells lie outside it or have no position")
	wantNotice(t, s, "1 card cells hold no data cell centre: 1 took the nearest data cell's value (within 2 cells), 0 are missing")

	// Joined from two files of months, as a variable split by period is.
	two := curviFile(t, 90, pos, func(tm, j, i int) float64 { return value(tm+3, j, i) })
	joined, err := OpenFiles([]string{two, path}, OpenOptions{Var: "tos", Grid: &spec})
	if err != nil || joined.N != 6 || joined.Values[3*6+4] != float32((value(3, 2, 2)+value(3, 2, 3)+value(3, 3, 2)+value(3, 3, 3))/4) {
		t.Errorf("joined: %v", err)
	}

	// A card grid over part of the data: only the 2 x 4 block of data cells it uses is read,
	// with the same means.
	part := GridSpec{LatStart: 43, LatStep: 2, NLat: 1, LonStart: -29, LonStep: 2, NLon: 2}
	p, err := Open(two, OpenOptions{Grid: &part})
	if err != nil {
		t.Fatal(err)
	}
	wantNotice(t, p, "the 2 x 4 block of data cells around it is read")
	for tm := range 3 {
		for ck := range 2 {
			want := 0.0
			for j := 2; j < 4; j++ {
				for i := 2 + 2*ck; i < 4+2*ck; i++ {
					want += value(tm+3, j, i) / 4
				}
			}
			if got := p.Values[tm*2+ck]; !(math.Abs(float64(got)-want) <= 1e-5) {
				t.Errorf("part of the grid, month %d, card cell %d: %g, want %g", tm, ck, got, want)
			}
		}
	}

	for _, tc := range []struct {
		name  string
		opt   OpenOptions
		kind  error
		words string
	}{
		{"no card grid", OpenOptions{}, ErrIrregularGrid, "read it through an emulator card"},
		{"a grid the data do not reach", OpenOptions{Grid: &GridSpec{LatStart: -41, LatStep: 2, NLat: 2, LonStart: -31, LonStep: 2, NLon: 3}},
			ErrGridMismatch, "no cell of tos's curvilinear grid (24 cells) lies within the card's grid"},
	} {
		_, err := Open(path, tc.opt)
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.kind, tc.words)
		}
	}
}

// TestOpenCurvilinearLayerDaily: CMIP's daily thetao on its own grid and on depth levels is read
// as monthly means over a layer and over the card's cells at once: each mean here is the block
// mean of the data cells plus the layer's weighted level offset plus the month's mean day.
func TestOpenCurvilinearLayerDaily(t *testing.T) {
	var lat, lon, vals, tt []string
	for j := range 2 {
		for i := range 2 {
			lat = append(lat, fmt.Sprint(40.5+float64(j)+0.1*float64(i)))
			lon = append(lon, fmt.Sprint(328.5+float64(i)+360*float64(j)))
		}
	}
	nd := 59 // January and February (noleap)
	for d := range nd {
		tt = append(tt, fmt.Sprint(float64(d)+0.5))
		for z := range 3 {
			for c := range 4 {
				vals = append(vals, fmt.Sprint(float64(d)+100*float64(z)+float64(c)))
			}
		}
	}
	cdl := `netcdf cld {
dimensions: time = ` + fmt.Sprint(nd) + ` ; lev = 3 ; j = 2 ; i = 2 ;
variables:
	double time(time) ; time:units = "days since 2000-01-01" ; time:calendar = "noleap" ;
	double lev(lev) ; lev:units = "m" ; lev:standard_name = "depth" ;
	double latitude(j, i) ; latitude:units = "degrees_north" ;
	double longitude(j, i) ; longitude:units = "degrees_east" ;
	float thetao(time, lev, j, i) ; thetao:units = "degC" ; thetao:coordinates = "latitude longitude" ;
data:
	time = ` + strings.Join(tt, ", ") + ` ;
	lev = 5, 100, 300 ;
	latitude = ` + strings.Join(lat, ", ") + ` ;
	longitude = ` + strings.Join(lon, ", ") + ` ;
	thetao = ` + strings.Join(vals, ", ") + ` ;
}
`
	path := cdlFile(t, cdl, "classic")
	spec := GridSpec{LatStart: 41, LatStep: 2, NLat: 1, LonStart: -31, LonStep: 2, NLon: 1} // one cell: 40-42 N, 32-30 W
	s, err := Open(path, OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{0, 300}, Grid: &spec})
	if err != nil {
		t.Fatal(err)
	}
	layer := 100 * (0*52.5 + 1*147.5 + 2*100) / 300 // edges 0, 52.5, 200, 400
	for m, days := range [][2]int{{0, 31}, {31, 59}} {
		want := float64(days[0]+days[1]-1)/2 + layer + 1.5 // mean day, layer offset, mean of cells 0..3
		if s.N != 2 || !(math.Abs(float64(s.Values[m])-want) <= 1e-4) {
			t.Errorf("month %d: %d months, %v, want %g", m, s.N, s.Values, want)
		}
	}
	wantNotice(t, s, "averaged onto the card's 1 x 1 grid: each cell the mean of the data cells whose centres lie in it (4 to 4, median 4)")
	wantNotice(t, s, "thetao averaged over lev = 0 to 300 m: 3 of 3 levels")
	wantNotice(t, s, "time steps 1 day apart averaged to 2 monthly means")
}
