package dataset

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds damaged files to Open, Inspect and ReadMapFile: they must return a *Error naming the file
// (or succeed), never panic, crash or hang. Seeds are the fixtures as NetCDF-3 and NetCDF-4
// files, written by ncgen, plus the committed corpus under testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	for _, s := range fxSpecs() {
		for _, kind := range []string{"nc3", "nc4"} {
			if kind == "nc4" && s.name != "wrap" && s.name != "allmissing" {
				continue // two small NetCDF-4 seeds suffice: HDF5 files are large, slow to mutate and minimise
			}
			out := filepath.Join(dir, s.name+"_"+kind+".nc")
			if err := ncgenKind(kind, out, s.name); err != nil {
				f.Fatalf("ncgen: %v (install netcdf-bin: make setup)", err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	// A compressed, chunked NetCDF-4 file as climxai writes it: the direct chunk reader's path.
	small := seriesOf(centres(10, 2, 4), centres(-50, 2, 5), NewMonth(2000, 1), 40, func(t int, y, x float64) float64 {
		if y > 15 && x > -45 {
			return math.NaN()
		}
		return 20 + float64(t%12) - 0.1*y
	})
	seed := filepath.Join(dir, "written.nc")
	if err := WriteSeries(seed, small, nil); err != nil {
		f.Fatal(err)
	}
	if b, err := os.ReadFile(seed); err != nil {
		f.Fatal(err)
	} else {
		f.Add(b)
	}
	// Ocean temperature on three depth levels: the level reader's path.
	lev := cdlFile(f, levelCDL(false), "classic")
	if b, err := os.ReadFile(lev); err != nil {
		f.Fatal(err)
	} else {
		f.Add(b)
	}
	// The same with bounds on the levels and a sea floor within them: the layer reader's path.
	if b, err := os.ReadFile(layerFile(f, "layer", []float64{5, 100, 300}, [][2]float64{{0, 10}, {10, 200}, {200, 1000}}, [][2]int{{3, 2}}, false)); err != nil {
		f.Fatal(err)
	} else {
		f.Add(b)
	}
	// A curvilinear grid: the reader that averages it onto a card's grid.
	if b, err := os.ReadFile(fxNcgen(f, dir, "curvilinear")); err != nil {
		f.Fatal(err)
	} else {
		f.Add(b)
	}
	f.Add([]byte("CDF\x01"))
	f.Add([]byte("CDF\x02\x00\x00\x00\x00"))
	f.Add([]byte("\x89HDF\r\n\x1a\n"))
	f.Add([]byte("not a netcdf file"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in.nc")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		check := func(what string, err error) {
			if err == nil {
				return
			}
			var de *Error
			if !errors.As(err, &de) || de.Path != path || de.Kind == nil {
				t.Fatalf("%s: error %v (%T) is not a *dataset.Error naming the file", what, err, err)
			}
		}
		s, err := Open(path, OpenOptions{})
		check("Open", err)
		if err == nil && (s.N < 1 || len(s.Values) != s.N*s.Grid.Size()) {
			t.Fatalf("Open: inconsistent series: N=%d grid %dx%d, %d values", s.N, s.Grid.NLat(), s.Grid.NLon(), len(s.Values))
		}
		if err == nil {
			// The same variable as a further input variable reads: in its own units.
			r, err := Open(path, OpenOptions{Var: s.Name, Raw: true})
			check("Open raw", err)
			if err == nil && (r.N != s.N || len(r.Values) != len(s.Values)) {
				t.Fatalf("Open raw: %d months, %d values; as SST %d, %d", r.N, len(r.Values), s.N, len(s.Values))
			}
		}
		level := 100.0
		z, err := Open(path, OpenOptions{Var: "thetao", Raw: true, Level: &level})
		check("Open at a level", err)
		if err == nil && (z.N < 1 || len(z.Values) != z.N*z.Grid.Size()) {
			t.Fatalf("Open at a level: inconsistent series: N=%d grid %dx%d, %d values", z.N, z.Grid.NLat(), z.Grid.NLon(), len(z.Values))
		}
		z, err = Open(path, OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{0, 300}})
		check("Open over a layer", err)
		if err == nil && (z.N < 1 || len(z.Values) != z.N*z.Grid.Size()) {
			t.Fatalf("Open over a layer: inconsistent series: N=%d grid %dx%d, %d values", z.N, z.Grid.NLat(), z.Grid.NLon(), len(z.Values))
		}
		spec := GridSpec{LatStart: 10, LatStep: 1, NLat: 3, LonStart: 200, LonStep: 1, NLon: 3}
		z, err = Open(path, OpenOptions{Grid: &spec})
		check("Open onto a grid", err)
		if err == nil && (z.N < 1 || len(z.Values) != z.N*z.Grid.Size()) {
			t.Fatalf("Open onto a grid: inconsistent series: N=%d grid %dx%d, %d values", z.N, z.Grid.NLat(), z.Grid.NLon(), len(z.Values))
		}
		_, err = Inspect(path, "")
		check("Inspect", err)
		if m, err := ReadMapFile(path); err == nil {
			for _, v := range m.Maps {
				if len(v.Values) != m.Grid.Size() {
					t.Fatalf("ReadMapFile: %s has %d values on a %dx%d grid", v.Name, len(v.Values), m.Grid.NLat(), m.Grid.NLon())
				}
			}
		} else {
			check("ReadMapFile", err)
		}
	})
}
