package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/dataset"
	"climxai/dataset/netcdf"
	"climxai/dataset/synth"
	"climxai/inference"
)

// writeCurvilinear writes s as CMIP stores an ocean model's SST on its own grid: tos(time, j, i)
// with latitude(j, i) and longitude(j, i), here the centres of s's cells skewed by up to 0.3°
// and, in every other row, given as longitude + 360 as a tripolar grid's run past 360.
func writeCurvilinear(t *testing.T, path string, s *dataset.Series) {
	t.Helper()
	f, err := netcdf.Create(path, netcdf.NetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ny, nx := s.Grid.NLat(), s.Grid.NLon()
	dt, _ := f.DefDim("time", s.N)
	dj, _ := f.DefDim("j", ny)
	di, _ := f.DefDim("i", nx)
	def := ncDef(t, f)
	vt := def("time", netcdf.Double, []netcdf.Dim{dt}, map[string]string{"units": "days since 0001-01-01 00:00:00", "calendar": "noleap"})
	vy := def("latitude", netcdf.Double, []netcdf.Dim{dj, di}, map[string]string{"units": "degrees_north", "standard_name": "latitude"})
	vx := def("longitude", netcdf.Double, []netcdf.Dim{dj, di}, map[string]string{"units": "degrees_east", "standard_name": "longitude"})
	vv := def("tos", netcdf.Float, []netcdf.Dim{dt, dj, di}, map[string]string{"units": "degC", "coordinates": "latitude longitude"})
	if err := vv.PutAttr("_FillValue", float32(1e20)); err != nil {
		t.Fatal(err)
	}
	if err := f.EndDef(); err != nil {
		t.Fatal(err)
	}
	days := noleapDays(s)
	lat, lon := make([]float64, ny*nx), make([]float64, ny*nx)
	for j := range ny {
		for i := range nx {
			lat[j*nx+i] = s.Grid.Lat[j] + 0.3*float64((i%3)-1)
			lon[j*nx+i] = s.Grid.Lon[i] + 0.3*float64((j%3)-1) + 360*float64(j%2)
		}
	}
	vals := slices.Clone(s.Values)
	for k, v := range vals {
		if v != v {
			vals[k] = 1e20
		}
	}
	for _, err := range []error{vt.WriteFloat64(nil, nil, days), vy.WriteFloat64(nil, nil, lat), vx.WriteFloat64(nil, nil, lon), vv.WriteFloat32(nil, nil, vals)} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestExplainCurvilinear: SST stored on a curvilinear grid whose cells lie one in each of the
// card's cells is read onto the card's grid as the same values, so the emulator's inputs and
// IG's maps equal those from the regular file; info CARD --data says how the data were read.
func TestExplainCurvilinear(t *testing.T) {
	dir := t.TempDir()
	res, err := synth.Generate(context.Background(), synth.Config{Years: 5, Grid: 2, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	regular, curvi := filepath.Join(dir, "sst.nc"), filepath.Join(dir, "tos_Omon_gn.nc")
	if err := dataset.WriteSeries(regular, res.SST, nil); err != nil {
		t.Fatal(err)
	}
	writeCurvilinear(t, curvi, res.SST)
	linearIndexModel(t, filepath.Join(dir, "index1.onnx"), 1)
	card := filepath.Join(dir, "card.toml")
	if err := os.WriteFile(card, []byte(`name = "linear spg index"
`+strings.Replace(linearIndexCard, `variable = "sst"`, `variable = "tos"`, 1)+`[[model]]
lead = 3
file = "index1.onnx"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := inference.LoadCard(card)
	if err != nil {
		t.Fatal(err)
	}
	// The regular file names the variable sst: read it under the card's name by renaming.
	text, _ := os.ReadFile(card)
	sstCard := filepath.Join(dir, "sst_card.toml")
	if err := os.WriteFile(sstCard, []byte(strings.Replace(string(text), `variable = "tos"`, `variable = "sst"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cs, err := inference.LoadCard(sstCard)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := c.Prepare(curvi)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := cs.Prepare(regular)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b []float32) bool {
		return slices.EqualFunc(a, b, func(x, y float32) bool { return x == y || x != x && y != y })
	}
	if !same(pc.Series.Values, pr.Series.Values) || !slices.Equal(pc.Ocean, pr.Ocean) {
		t.Fatalf("the curvilinear file's prepared SST differs from the regular file's")
	}
	var maps [][]float32
	for _, run := range []struct{ card, data string }{{card, curvi}, {sstCard, regular}} {
		out := filepath.Join(dir, filepath.Base(run.data)+".ig.nc")
		_, af, err := runExplain(t, []string{"--card", run.card, "--data", run.data, "--init", "0004-06", "--target", "spg",
			"--method", "ig", "--steps", "8", "--out", out, "--json", "--threads", "1"}, out)
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, af.Values)
	}
	if !same(maps[0], maps[1]) {
		t.Errorf("IG from the curvilinear file differs from the regular file's by %.3g (relative)", maxRelDiff(maps[0], maps[1]))
	}
	var stdout, stderr bytes.Buffer
	if err := cmdInfo(context.Background(), []string{card, "--data", curvi}, &stdout, &stderr); err != nil ||
		!strings.Contains(stdout.String(), "tos on a curvilinear grid (latitude/longitude, 35 x 63 cells) averaged onto the card's 35 x 63 grid: each cell the mean of the data cells whose centres lie in it (1 to 1, median 1)") {
		t.Errorf("info CARD --data: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if err := cmdInfo(context.Background(), []string{curvi}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "info CARD.toml --data FILE") {
		t.Errorf("info on the curvilinear file alone: %v", err)
	}
}
