package dataset

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// metaVar builds a varInfo from a name, dims with lengths, and text attributes "key=value".
func metaVar(name string, dims map[string]int, order []string, attrs ...string) *varInfo {
	v := &varInfo{Name: name, Type: "float"}
	for _, d := range order {
		v.Dims = append(v.Dims, d)
		v.Shape = append(v.Shape, dims[d])
	}
	for _, a := range attrs {
		k, val, _ := strings.Cut(a, "=")
		v.Attrs = append(v.Attrs, attrInfo{Name: k, Text: val, Type: "char"})
	}
	return v
}

func TestClassify(t *testing.T) {
	d := map[string]int{"x": 3}
	tests := []struct {
		name  string
		attrs []string
		want  cfAxis
	}{
		{"lat", []string{"standard_name=latitude"}, axisY},
		{"whatever", []string{"units=degrees_north"}, axisY},
		{"whatever", []string{"units=degree_N"}, axisY},
		{"whatever", []string{"units=degreesN"}, axisY},
		{"whatever", []string{"units=degrees_east"}, axisX},
		{"whatever", []string{"units=degreeE"}, axisX},
		{"whatever", []string{"units=days since 1800-1-1"}, axisT},
		{"whatever", []string{"axis=T"}, axisT},
		{"whatever", []string{"axis=Y", "units=degrees"}, axisY},
		{"y", []string{"axis=Y", "units=m"}, axisRotated},
		{"rlat", []string{"standard_name=grid_latitude", "units=degrees"}, axisRotated},
		{"lat", nil, axisY},
		{"latitude", nil, axisY},
		{"nav_lat", nil, axisY},
		{"lon", nil, axisX},
		{"longitude", nil, axisX},
		{"time", nil, axisT},
		{"t", nil, axisT},
		{"y", []string{"units=km"}, axisNone},
		{"lev", nil, axisZ},
		{"depth", []string{"positive=down", "units=m"}, axisZ},
		{"zz", []string{"positive=up"}, axisZ},
		{"sst", []string{"units=degC"}, axisNone},
	}
	for _, tc := range tests {
		v := metaVar(tc.name, d, []string{"x"}, tc.attrs...)
		if got := classify(v); got != tc.want {
			t.Errorf("classify(%s %v) = %v, want %v", tc.name, tc.attrs, got, tc.want)
		}
	}
}

func TestFindLayout(t *testing.T) {
	dims := map[string]int{"time": 40, "lat": 6, "lon": 8, "lev": 1, "depth": 5, "nv": 2, "y": 4, "x": 5}
	tm := metaVar("time", dims, []string{"time"}, "units=days since 1850-01-01", "bounds=time_bnds")
	bnds := metaVar("time_bnds", dims, []string{"time", "nv"}, "units=days since 1850-01-01")
	lat := metaVar("lat", dims, []string{"lat"}, "units=degrees_north")
	lon := metaVar("lon", dims, []string{"lon"}, "units=degrees_east")
	latB := metaVar("lat_bnds", dims, []string{"lat", "nv"}, "units=degrees_north")
	lev := metaVar("lev", dims, []string{"lev"}, "axis=Z")
	depth := metaVar("depth", dims, []string{"depth"}, "positive=down")
	base := []*varInfo{tm, bnds, lat, lon, latB}

	t.Run("found by the only (time, lat, lon) variable", func(t *testing.T) {
		v := metaVar("temperature", dims, []string{"time", "lat", "lon"})
		lay, err := findLayout("f.nc", append(slices.Clone(base), v), "", false)
		if err != nil {
			t.Fatal(err)
		}
		if lay.Data != v || lay.Time != tm || lay.Lat != lat || lay.Lon != lon || lay.TimeBounds != bnds {
			t.Errorf("wrong layout %+v", lay)
		}
	})
	t.Run("sst wins over others", func(t *testing.T) {
		sst := metaVar("sst", dims, []string{"time", "lat", "lon"})
		other := metaVar("err", dims, []string{"time", "lat", "lon"})
		lay, err := findLayout("f.nc", append(slices.Clone(base), other, sst), "", false)
		if err != nil || lay.Data != sst {
			t.Fatalf("got %v, %v; want sst", lay, err)
		}
	})
	t.Run("standard_name", func(t *testing.T) {
		v := metaVar("analysed", dims, []string{"time", "lat", "lon"}, "standard_name=sea_surface_temperature")
		other := metaVar("err", dims, []string{"time", "lat", "lon"})
		lay, err := findLayout("f.nc", append(slices.Clone(base), other, v), "", false)
		if err != nil || lay.Data != v {
			t.Fatalf("got %v, %v; want analysed", lay, err)
		}
	})
	t.Run("ambiguous", func(t *testing.T) {
		a := metaVar("a", dims, []string{"time", "lat", "lon"})
		b := metaVar("b", dims, []string{"time", "lat", "lon"})
		_, err := findLayout("f.nc", append(slices.Clone(base), a, b), "", false)
		if !errors.Is(err, ErrNoVariable) || !strings.Contains(err.Error(), "a, b") || !strings.Contains(err.Error(), "--var") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("singleton level squeezed", func(t *testing.T) {
		v := metaVar("sst", dims, []string{"time", "lev", "lat", "lon"})
		lay, err := findLayout("f.nc", append(slices.Clone(base), lev, v), "", false)
		if err != nil || !slices.Equal(lay.Squeezed, []int{1}) || lay.LatDim != 2 || lay.LonDim != 3 {
			t.Fatalf("got %+v, %v", lay, err)
		}
	})
	t.Run("several levels", func(t *testing.T) {
		v := metaVar("sst", dims, []string{"time", "depth", "lat", "lon"})
		_, err := findLayout("f.nc", append(slices.Clone(base), depth, v), "", false)
		if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), "5 levels") || !strings.Contains(err.Error(), "sellevidx") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("transposed", func(t *testing.T) {
		v := metaVar("sst", dims, []string{"lat", "lon", "time"})
		_, err := findLayout("f.nc", append(slices.Clone(base), v), "", false)
		if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), "ncpdq") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("curvilinear by coordinates attribute", func(t *testing.T) {
		nl := metaVar("nav_lat", dims, []string{"y", "x"}, "units=degrees_north")
		nlo := metaVar("nav_lon", dims, []string{"y", "x"}, "units=degrees_east")
		v := metaVar("tos", dims, []string{"time", "y", "x"}, "coordinates=nav_lat nav_lon")
		lay, err := findLayout("f.nc", []*varInfo{tm, nl, nlo, v}, "", false)
		if err != nil || lay.Curvi == nil || lay.Curvi.Lat != nl || lay.Curvi.Lon != nlo || lay.LatDim != 1 || lay.LonDim != 2 || lay.TimeDim != 0 {
			t.Errorf("got %+v, %v; want the curvilinear grid of nav_lat, nav_lon on dimensions 1 and 2", lay, err)
		}
		// Only one of the two: not a grid climxai can read.
		_, err = findLayout("f.nc", []*varInfo{tm, nl, v}, "", false)
		if !errors.Is(err, ErrIrregularGrid) || !strings.Contains(err.Error(), "nav_lat") {
			t.Errorf("latitude alone: got %v", err)
		}
	})
	t.Run("rotated pole", func(t *testing.T) {
		rd := map[string]int{"time": 3, "rlat": 4, "rlon": 5}
		rl := metaVar("rlat", rd, []string{"rlat"}, "standard_name=grid_latitude", "units=degrees")
		rn := metaVar("rlon", rd, []string{"rlon"}, "standard_name=grid_longitude", "units=degrees")
		v := metaVar("tos", rd, []string{"time", "rlat", "rlon"})
		_, err := findLayout("f.nc", []*varInfo{tm, rl, rn, v}, "", false)
		if !errors.Is(err, ErrIrregularGrid) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("no time", func(t *testing.T) {
		v := metaVar("sst", dims, []string{"lat", "lon"})
		_, err := findLayout("f.nc", []*varInfo{lat, lon, v}, "", false)
		if !errors.Is(err, ErrNoCoordinate) || !strings.Contains(err.Error(), "no time coordinate") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("missing --var lists variables", func(t *testing.T) {
		_, err := findLayout("f.nc", base, "tos", false)
		if !errors.Is(err, ErrNoVariable) || !strings.Contains(err.Error(), "variables in file: time, time_bnds, lat, lon, lat_bnds") {
			t.Errorf("got %v", err)
		}
	})
}

func TestCheckLatLon(t *testing.T) {
	if o, err := checkLat("f", "lat", []float64{89.5, 88.5, 87.5}); err != nil || o != descending {
		t.Errorf("descending: %v %v", o, err)
	}
	if o, err := checkLat("f", "lat", []float64{-88, -86}); err != nil || o != ascending {
		t.Errorf("ascending: %v %v", o, err)
	}
	for _, bad := range [][]float64{{0, 1, 1}, {0, 2, 1}, {0, 91}, {math.NaN(), 1}} {
		if _, err := checkLat("f", "lat", bad); !errors.Is(err, ErrIrregularGrid) {
			t.Errorf("checkLat(%v) = %v, want ErrIrregularGrid", bad, err)
		}
	}
	tests := []struct {
		lon  []float64
		perm []int
	}{
		{[]float64{0, 1, 2, 3}, nil},
		{[]float64{-179.5, -178.5, 179.5}, nil},
		{[]float64{20, 180, 359, 0, 10}, []int{3, 4, 0, 1, 2}},
		{[]float64{0, 90, -180, -90}, []int{2, 3, 0, 1}},
		{[]float64{3, 2, 1}, []int{2, 1, 0}},
	}
	for _, tc := range tests {
		perm, err := checkLon("f", "lon", tc.lon)
		if err != nil || !slices.Equal(perm, tc.perm) {
			t.Errorf("checkLon(%v) = %v, %v; want %v", tc.lon, perm, err, tc.perm)
		}
	}
	for _, bad := range [][]float64{{0, 1, 1, 2}, {0, 2, 1, 3}, {10, 20, 0, 30}} {
		if _, err := checkLon("f", "lon", bad); !errors.Is(err, ErrIrregularGrid) {
			t.Errorf("checkLon(%v) = %v, want ErrIrregularGrid", bad, err)
		}
	}
	if s := regularStep([]float64{89.5, 88.5, 87.5}); s != -1 {
		t.Errorf("step %v, want -1", s)
	}
	if s := regularStep([]float64{0, 1, 3}); !math.IsNaN(s) {
		t.Errorf("irregular step %v, want NaN", s)
	}
	if !lonGlobal(fxSeq(0.5, 1, 360), 1) || lonGlobal(fxSeq(0.5, 1, 100), 1) {
		t.Errorf("lonGlobal wrong")
	}
	if lonConvention([]float64{-179.5, 0}) != "-180..180" || lonConvention([]float64{0.5, 359.5}) != "0..360" {
		t.Errorf("lonConvention wrong")
	}
}
