package dataset

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"climxai/dataset/netcdf"
)

// writeTestMap writes a decaymap-style file: lat, lon, the maps given (NaN written as the fill
// value 1e20), and global attributes.
func writeTestMap(t *testing.T, path string, lat, lon []float64, maps map[string][]float32, attrs map[string]any) {
	t.Helper()
	f, err := netcdf.Create(path, netcdf.NetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dlat, _ := f.DefDim("lat", len(lat))
	dlon, _ := f.DefDim("lon", len(lon))
	vlat, _ := f.DefVar("lat", netcdf.Double, []netcdf.Dim{dlat})
	vlon, _ := f.DefVar("lon", netcdf.Double, []netcdf.Dim{dlon})
	vars := map[string]*netcdf.Var{}
	for name := range maps {
		v, err := f.DefVar(name, netcdf.Float, []netcdf.Dim{dlat, dlon})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.PutAttr("_FillValue", FillValue); err != nil {
			t.Fatal(err)
		}
		if err := v.PutAttr("units", "months"); err != nil {
			t.Fatal(err)
		}
		vars[name] = v
	}
	for k, v := range attrs {
		if err := f.PutAttr(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.EndDef(); err != nil {
		t.Fatal(err)
	}
	if err := vlat.WriteFloat64(nil, nil, lat); err != nil {
		t.Fatal(err)
	}
	if err := vlon.WriteFloat64(nil, nil, lon); err != nil {
		t.Fatal(err)
	}
	for name, vals := range maps {
		w := append([]float32(nil), vals...)
		for i, x := range w {
			if x != x {
				w[i] = FillValue
			}
		}
		if err := vars[name].WriteFloat32(nil, nil, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadMapFile(t *testing.T) {
	dir := t.TempDir()
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	p := filepath.Join(dir, "map.nc")
	writeTestMap(t, p, []float64{10, 20}, []float64{-40, -30, -20},
		map[string][]float32{"efold": {1, nan, 3, inf, 5, 6}, "r90": {100, 200, nan, 400, 500, 600}},
		map[string]any{"method": "saliency", "efold_median": 3.5, "stride": "4", "efold_cv": "NaN"})
	m, err := ReadMapFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Grid.NLat() != 2 || m.Grid.NLon() != 3 || len(m.Maps) != 2 {
		t.Fatalf("grid %v, %d maps", m.Grid, len(m.Maps))
	}
	e := m.Map("efold")
	if e == nil || e.Units != "months" || !math.IsNaN(float64(e.Values[1])) || !math.IsInf(float64(e.Values[3]), 1) || e.Values[5] != 6 {
		t.Errorf("efold %+v", e)
	}
	if m.Map("r50") != nil {
		t.Error("r50 found in a file without it")
	}
	if v, ok := m.Float("efold_median"); !ok || v != 3.5 {
		t.Errorf("efold_median %v %v", v, ok)
	}
	if v, ok := m.Float("efold_cv"); !ok || !math.IsNaN(v) {
		t.Errorf("efold_cv %v %v", v, ok)
	}
	if _, ok := m.Float("method"); ok {
		t.Error("method read as a number")
	}
	if s, _ := m.Float("stride"); s != 4 || m.Attrs["method"] != "saliency" {
		t.Errorf("attributes %v", m.Attrs)
	}

	for _, tc := range []struct {
		name  string
		write func(path string)
		kind  error
	}{
		{"not netcdf", func(path string) { os.WriteFile(path, []byte("hello"), 0o644) }, ErrNotNetCDF},
		{"no map", func(path string) {
			writeTestMap(t, path, []float64{10, 20}, []float64{0, 1}, nil, nil)
		}, ErrNoVariable},
		{"lat not monotonic", func(path string) {
			writeTestMap(t, path, []float64{10, 30, 20}, []float64{0, 1}, map[string][]float32{"efold": make([]float32, 6)}, nil)
		}, ErrIrregularGrid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".nc")
			tc.write(path)
			_, err := ReadMapFile(path)
			var de *Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &de) || de.Path != path {
				t.Errorf("err = %v, want a *dataset.Error of kind %v naming the file", err, tc.kind)
			}
		})
	}
	// Descending latitudes (a card with lat_step < 0) are a grid like any other.
	writeTestMap(t, p, []float64{20, 10}, []float64{0, 1}, map[string][]float32{"efold": make([]float32, 4)}, nil)
	if _, err := ReadMapFile(p); err != nil {
		t.Errorf("descending latitudes: %v", err)
	}
}
