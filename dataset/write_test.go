package dataset

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"climxai/dataset/netcdf"
)

func smallSeries(cal string) *Series {
	g := Grid{Lat: []float64{10, 12, 14}, Lon: []float64{-30, -28}}
	s := &Series{Name: "sst", Units: "degC", Calendar: cal, Grid: g, Start: NewMonth(2000, 11), N: 4}
	s.Values = make([]float32, s.N*g.Size())
	for i := range s.Values {
		s.Values[i] = float32(i) * 0.25
	}
	s.Values[7] = float32(math.NaN())
	return s
}

func TestWriteSeriesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		cal       string
		wantCal   string
		wantTimes []float64 // mid-month days since 2000-01-01
	}{
		{"standard", "proleptic_gregorian", []float64{305 + 15, 335 + 15.5, 366 + 15.5, 397 + 14}},
		{"noleap", "noleap", []float64{304 + 15, 334 + 15.5, 365 + 15.5, 396 + 14}},
		{"360_day", "360_day", []float64{300 + 15, 330 + 15, 360 + 15, 390 + 15}},
	} {
		t.Run(tc.cal, func(t *testing.T) {
			s := smallSeries(tc.cal)
			path := filepath.Join(t.TempDir(), "out.nc")
			if err := WriteSeries(path, s, map[string]string{"generator": "test"}); err != nil {
				t.Fatal(err)
			}
			f, err := netcdf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			vt, _ := f.Var("time")
			times, _ := vt.ReadFloat64(nil, nil)
			for i := range tc.wantTimes {
				if times[i] != tc.wantTimes[i] {
					t.Errorf("time[%d] = %v, want %v", i, times[i], tc.wantTimes[i])
				}
			}
			if a, _ := vt.Attr("calendar"); a.Text != tc.wantCal {
				t.Errorf("calendar = %q, want %q", a.Text, tc.wantCal)
			}
			if a, _ := vt.Attr("units"); a.Text != "days since 2000-01-01 00:00:00" {
				t.Errorf("units = %q", a.Text)
			}
			v, err := f.Var("sst")
			if err != nil {
				t.Fatal(err)
			}
			vals, _ := v.ReadFloat32(nil, nil)
			for i, want := range s.Values {
				got := vals[i]
				if math.IsNaN(float64(want)) {
					if got != FillValue {
						t.Errorf("missing value written as %v", got)
					}
				} else if got != want {
					t.Errorf("value %d = %v, want %v", i, got, want)
				}
			}
			if a, err := f.Attr("generator"); err != nil || a.Text != "test" {
				t.Errorf("generator attribute = %+v, %v", a, err)
			}
			if a, err := f.Attr("Conventions"); err != nil || a.Text != "CF-1.8" {
				t.Errorf("Conventions = %+v, %v", a, err)
			}
		})
	}
}

// Files climxai writes are read through the direct chunk path, and Open gives back exactly the
// values written.
func TestWriteSeriesReadsDirect(t *testing.T) {
	s := smallSeries("noleap")
	path := filepath.Join(t.TempDir(), "out.nc")
	if err := WriteSeries(path, s, nil); err != nil {
		t.Fatal(err)
	}
	f, err := netcdf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Var("sst")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := v.DirectChunks()
	if err != nil {
		t.Fatalf("a written series is not read directly: %v", err)
	}
	ch.Close()
	f.Close()
	got, err := Open(path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range s.Values {
		if g := got.Values[i]; g != want && !(math.IsNaN(float64(g)) && math.IsNaN(float64(want))) {
			t.Fatalf("value %d = %v, want %v", i, g, want)
		}
	}
}

// TestWriteSeriesNcdump checks that the standard tool reads the file and decodes the dates.
func TestWriteSeriesNcdump(t *testing.T) {
	if _, err := exec.LookPath("ncdump"); err != nil {
		t.Fatal("ncdump not found: install netcdf-bin (make setup)")
	}
	path := filepath.Join(t.TempDir(), "out.nc")
	if err := WriteSeries(path, smallSeries("noleap"), nil); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ncdump", "-t", "-v", "time", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ncdump: %v\n%s", err, out)
	}
	for _, want := range []string{"2000-11-16", "2001-02-15", "sst:_FillValue = 1.e+20f", `calendar = "noleap"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ncdump output lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteAtomicKeepsOldFileOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.nc")
	os.WriteFile(path, []byte("the user's earlier result"), 0o644)
	boom := errors.New("disk full")
	err := WriteAtomic(path, func(tmp string) error {
		os.WriteFile(tmp, []byte("half"), 0o644)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "the user's earlier result" {
		t.Errorf("old file changed to %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary file left behind: %v", entries)
	}
}

func TestWriteAtomicMissingDirectory(t *testing.T) {
	err := WriteAtomic(filepath.Join(t.TempDir(), "no", "such", "dir", "x.nc"), func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("err = %v", err)
	}
}

func TestAttributionRoundTrip(t *testing.T) {
	g := Grid{Lat: []float64{5, 7}, Lon: []float64{-100, -98, -96}}
	a := &AttributionFile{Grid: g, Lags: []int{0, 1, 35}}
	a.Values = make([]float32, 3*g.Size())
	signed := make([]float32, len(a.Values))
	for i := range a.Values {
		a.Values[i] = float32(i) / 10
		signed[i] = -float32(i)
	}
	a.Values[4] = float32(math.NaN())
	a.Extra = []LagField{{Name: "signed_mean", Units: "1", LongName: "signed", Values: signed}}
	a.Meta = AttributionMeta{Method: "ig", Parameters: "steps=64", Target: "7,-98", Lead: 6, Init: "0950-01",
		ModelFile: "lead06.onnx", ModelSHA256: "abc", DataFile: "sst.nc", Samples: 12, Version: "test",
		Other: map[string]string{"completeness_delta": "0.001"}}
	path := filepath.Join(t.TempDir(), "a.nc")
	if err := WriteAttribution(path, a); err != nil {
		t.Fatal(err)
	}
	b, err := ReadAttribution(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Lags) != 3 || b.Lags[2] != 35 || b.Grid.Lon[2] != -96 || b.Grid.Lat[1] != 7 {
		t.Errorf("coordinates = %v %v", b.Lags, b.Grid)
	}
	for i := range a.Values {
		if !(a.Values[i] == b.Values[i] || math.IsNaN(float64(a.Values[i])) && math.IsNaN(float64(b.Values[i]))) {
			t.Errorf("value %d = %v, want %v", i, b.Values[i], a.Values[i])
		}
	}
	if len(b.Extra) != 1 || b.Extra[0].Name != "signed_mean" || b.Extra[0].Values[5] != -5 {
		t.Errorf("extra = %+v", b.Extra)
	}
	m := b.Meta
	if m.Method != "ig" || m.Lead != 6 || m.Init != "0950-01" || m.Samples != 12 || m.ModelSHA256 != "abc" || m.Other["completeness_delta"] != "0.001" || m.Parameters != "steps=64" {
		t.Errorf("meta = %+v", m)
	}
}

func TestReadAttributionBadFiles(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "x.nc")
	os.WriteFile(txt, []byte("not netcdf"), 0o644)
	if _, err := ReadAttribution(txt); !errors.Is(err, ErrNotNetCDF) {
		t.Errorf("text file: err = %v", err)
	}
	series := filepath.Join(dir, "s.nc")
	WriteSeries(series, smallSeries("noleap"), nil)
	if _, err := ReadAttribution(series); !errors.Is(err, ErrNoVariable) || !strings.Contains(err.Error(), series) {
		t.Errorf("series file: err = %v", err)
	}
	if err := WriteAttribution(filepath.Join(dir, "bad.nc"), &AttributionFile{Grid: Grid{Lat: []float64{1}, Lon: []float64{1}}, Lags: []int{0}, Values: []float32{1, 2}}); err == nil {
		t.Error("mismatched values written without error")
	}
}
