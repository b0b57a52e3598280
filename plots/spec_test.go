package plots

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"climxai/dataset"
	"climxai/dataset/netcdf"
	"climxai/resources"
)

// writeResults writes synthetic result files for leads 1, 6 and 9 (13 lags) into dir.
func writeResults(t *testing.T, dir string) []string {
	t.Helper()
	rings, err := resources.LandRings()
	if err != nil {
		t.Fatal(err)
	}
	g := naGrid()
	land := landMask(g, rings)
	var paths []string
	for k, lead := range []int{9, 1, 6} { // not in lead order: figures sort by lead
		a := &dataset.AttributionFile{Grid: g, Values: synthAttribution(g, land, 55, -35, []float64{8, 2, 5}[k], 13, false),
			Meta: dataset.AttributionMeta{Method: "ig", Parameters: "steps=32 baseline=zero", Target: "55,-35", Lead: lead, Samples: 100, ModelSHA256: "ab12"}}
		for l := 0; l < 13; l++ {
			a.Lags = append(a.Lags, l)
		}
		p := filepath.Join(dir, fmt.Sprintf("lead%02d.nc", lead))
		if err := dataset.WriteAttribution(p, a); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestSpecRegenerates makes each kind of figure from result files, then again from its
// sidecar alone, and checks that the files are identical (PNG pixels and vector bytes).
func TestSpecRegenerates(t *testing.T) {
	dir := t.TempDir()
	res := writeResults(t, dir)
	cases := []struct {
		kind   string
		inputs []string
		lags   []int
		ext    string
	}{
		{KindMap, res[:1], []int{0, 1, 2}, "png"},
		{KindMap, res[1:2], nil, "pdf"},
		{KindDecay, res, nil, "svg"},
		{KindDecay, res[:1], nil, "png"}, // fitted to lags 0..6 below
		{KindDistance, res, []int{0}, "eps"},
		{KindLeads, res, []int{0, 6}, "png"},
		{KindLagLat, res[2:], nil, "pdf"},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"_"+tc.ext, func(t *testing.T) {
			s, err := NewSpec(tc.kind, tc.inputs, tc.lags)
			if err != nil {
				t.Fatal(err)
			}
			s.DPI = 100
			if tc.kind == KindMap {
				s.Contours = []float64{0.5}
			}
			if tc.kind == KindDecay && tc.ext == "png" {
				s.FitMaxLag = 6
			}
			out := filepath.Join(dir, "fig_"+tc.kind+"_"+tc.ext+"."+tc.ext)
			if err := Make(s, ".", out); err != nil {
				t.Fatal(err)
			}
			side, err := ReadSpec(SidecarPath(out))
			if err != nil {
				t.Fatal(err)
			}
			if side.Kind != tc.kind || side.Format != tc.ext || side.DPI != 100 || side.Version == "" || len(side.Inputs) != len(tc.inputs) || side.FitMaxLag != s.FitMaxLag {
				t.Fatalf("sidecar %+v", side)
			}
			for _, in := range side.Inputs {
				if len(in.SHA256) != 64 || in.Method != "ig" || in.Parameters == "" || in.Samples != 100 || in.ModelSHA256 != "ab12" || filepath.IsAbs(in.Path) {
					t.Errorf("sidecar input %+v: want SHA-256, method and a path relative to the figure", in)
				}
			}
			// Regenerate from the sidecar alone, into another directory.
			redrawSame(t, side, filepath.Dir(out), out)
		})
	}
}

// TestLinesSpec makes an ablation-style curve figure whose data live in the sidecar, with a
// provenance input that is hashed but not parsed, and redraws it from the sidecar.
func TestLinesSpec(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "skill.csv")
	if err := os.WriteFile(src, []byte("r,skill\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Spec{Kind: KindLines, Inputs: []Input{{Path: src}}, Preset: "ams1", Lines: &Lines{
		Series:     []Series{{Label: "lead 1", X: []float64{250, 500, 1000}, Y: []float64{0.5, 0.7, 0.8}}},
		References: []Reference{{Label: "persistence", Y: 0.6}}, XLabel: "radius (km)", YLabel: "correlation",
	}}
	out := filepath.Join(dir, "ablate.pdf")
	if err := Make(s, ".", out); err != nil {
		t.Fatal(err)
	}
	side, err := ReadSpec(SidecarPath(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(side.Inputs[0].SHA256) != 64 || side.Lines == nil || side.Lines.References[0].Y != 0.6 {
		t.Fatalf("sidecar %+v", side)
	}
	redrawSame(t, side, dir, out)
	s.Lines = nil
	if err := s.validate(); !errors.Is(err, ErrSpec) {
		t.Errorf("lines without curves: %v", err)
	}
}

func TestSpecRefusesChangedInput(t *testing.T) {
	dir := t.TempDir()
	res := writeResults(t, dir)
	s, err := NewSpec(KindMap, res[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.png")
	if err := Make(s, ".", out); err != nil {
		t.Fatal(err)
	}
	side, err := ReadSpec(SidecarPath(out))
	if err != nil {
		t.Fatal(err)
	}
	side.Inputs[0].SHA256 = "00" + side.Inputs[0].SHA256[2:]
	if err := Make(side, dir, filepath.Join(dir, "n.png")); !errors.Is(err, ErrInputChanged) {
		t.Fatalf("err = %v, want ErrInputChanged", err)
	}
}

func TestSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Spec
	}{
		{"unknown kind", Spec{Kind: "pie", Inputs: []Input{{Path: "a"}}, Preset: "agu1"}},
		{"map of two files", Spec{Kind: KindMap, Inputs: []Input{{Path: "a"}, {Path: "b"}}, Preset: "agu1"}},
		{"no inputs", Spec{Kind: KindDecay, Preset: "agu1"}},
		{"unknown preset", Spec{Kind: KindDecay, Inputs: []Input{{Path: "a"}}, Preset: "nature"}},
		{"unknown scale", Spec{Kind: KindDecay, Inputs: []Input{{Path: "a"}}, Preset: "agu1", Scale: "jet"}},
		{"contour fraction 1", Spec{Kind: KindMap, Inputs: []Input{{Path: "a"}}, Preset: "agu1", Contours: []float64{1}}},
		{"decaymap of two files", Spec{Kind: KindDecayMap, Inputs: []Input{{Path: "a"}, {Path: "b"}}, Preset: "agu1"}},
		{"fit over two lags", Spec{Kind: KindDecay, Inputs: []Input{{Path: "a"}}, Preset: "agu1", FitMaxLag: 1}},
		{"fit lags on a map", Spec{Kind: KindMap, Inputs: []Input{{Path: "a"}}, Preset: "agu1", FitMaxLag: 11}},
		{"fidelity without scores", Spec{Kind: KindFidelity, Preset: "agu1"}},
		{"fidelity score per target missing", Spec{Kind: KindFidelity, Preset: "agu1", Fidelity: func() *Fidelity {
			f := synthFidelity()
			f.Rows[2].AggSpearman = f.Rows[2].AggSpearman[:1]
			return &f
		}()}},
		{"fidelity curve too short", Spec{Kind: KindFidelity, Preset: "agu1", Fidelity: func() *Fidelity {
			f := synthFidelity()
			f.Rows[4].Insertion[1] = f.Rows[4].Insertion[1][:3]
			return &f
		}()}},
		{"fidelity fractions not increasing", Spec{Kind: KindFidelity, Preset: "agu1", Fidelity: func() *Fidelity {
			f := synthFidelity()
			f.Fractions[3] = f.Fractions[2]
			return &f
		}()}},
		{"fidelity share per target missing", Spec{Kind: KindFidelity, Preset: "agu1", Fidelity: func() *Fidelity {
			f := synthFidelityVars()
			f.Rows[3].FurtherShare = f.Rows[3].FurtherShare[:1]
			return &f
		}()}},
		{"fidelity shares of |w| missing", Spec{Kind: KindFidelity, Preset: "agu1", Fidelity: func() *Fidelity {
			f := synthFidelityVars()
			f.WeightShare = nil
			return &f
		}()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.validate(); !errors.Is(err, ErrSpec) {
				t.Fatalf("err = %v, want ErrSpec", err)
			}
		})
	}
}

func TestParseMarker(t *testing.T) {
	if m, ok := ParseMarker("55,-35"); !ok || m.Box || m.Lat != 55 || m.Lon != -35 {
		t.Errorf("cell: %+v %v", m, ok)
	}
	if m, ok := ParseMarker("box:50,60,-40,-20"); !ok || !m.Box || m.South != 50 || m.East != -20 || m.Lat != 55 {
		t.Errorf("box: %+v %v", m, ok)
	}
	if _, ok := ParseMarker("nino34"); ok {
		t.Error("named region gave a marker")
	}
}

// writeDecayMapFile writes the synthetic decay map in decaymap's layout (fill value 1e20,
// statistics as global attributes) and returns its path.
func writeDecayMapFile(t *testing.T, dir string) string {
	t.Helper()
	rings, err := resources.LandRings()
	if err != nil {
		t.Fatal(err)
	}
	g := naGrid()
	d := synthDecayMap(g, landMask(g, rings))
	p := filepath.Join(dir, "decaymap.nc")
	f, err := netcdf.Create(p, netcdf.NetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dlat, _ := f.DefDim("lat", g.NLat())
	dlon, _ := f.DefDim("lon", g.NLon())
	vlat, _ := f.DefVar("lat", netcdf.Double, []netcdf.Dim{dlat})
	vlon, _ := f.DefVar("lon", netcdf.Double, []netcdf.Dim{dlon})
	maps := map[string][]float32{"efold": d.EFold.Values, "r90": d.R90.Values}
	vars := map[string]*netcdf.Var{}
	for _, name := range []string{"efold", "r90"} {
		v, err := f.DefVar(name, netcdf.Float, []netcdf.Dim{dlat, dlon})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.PutAttr("_FillValue", float32(1e20)); err != nil {
			t.Fatal(err)
		}
		vars[name] = v
	}
	for k, v := range map[string]any{"method": "saliency", "lead": "1", "stride": "4", "targets": "80", "samples": "24",
		"efold_median": d.EFoldStat.Median, "efold_q1": d.EFoldStat.Q1, "efold_q3": d.EFoldStat.Q3, "efold_cv": d.EFoldStat.CV,
		"efold_cells": d.EFoldStat.Cells, "efold_cells_without_value": d.EFoldStat.WithoutValue,
		"r90_median": d.R90Stat.Median, "r90_q1": d.R90Stat.Q1, "r90_q3": d.R90Stat.Q3, "r90_cv": d.R90Stat.CV, "r90_cells": d.R90Stat.Cells} {
		if err := f.PutAttr(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.EndDef(); err != nil {
		t.Fatal(err)
	}
	vlat.WriteFloat64(nil, nil, g.Lat)
	vlon.WriteFloat64(nil, nil, g.Lon)
	for name, vals := range maps {
		w := append([]float32(nil), vals...)
		for i, x := range w {
			if x != x {
				w[i] = 1e20
			}
		}
		if err := vars[name].WriteFloat32(nil, nil, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecayMapSpec draws a decay map from decaymap's file, reads its statistics from the file's
// attributes, and draws it again from the sidecar alone, identically in PNG and PDF.
func TestDecayMapSpec(t *testing.T) {
	dir := t.TempDir()
	src := writeDecayMapFile(t, dir)
	m, err := dataset.ReadMapFile(src)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecayMapOf(m, src)
	if err != nil {
		t.Fatal(err)
	}
	want := summary(d.EFold.Values)
	if d.Stride != 4 || d.EFoldStat.Median != want.Median || d.EFoldStat.WithoutValue != 2 || d.Header != "lead 1, saliency: 80 target cells × 24 samples" {
		t.Errorf("decay map from file: stride %d, stat %+v (want median %g, 2 without value), header %q", d.Stride, d.EFoldStat, want.Median, d.Header)
	}
	for _, ext := range []string{"png", "pdf"} {
		s, err := NewSpec(KindDecayMap, []string{src}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.DPI = 100
		out := filepath.Join(dir, "dm."+ext)
		if err := Make(s, ".", out); err != nil {
			t.Fatal(err)
		}
		side, err := ReadSpec(SidecarPath(out))
		if err != nil {
			t.Fatal(err)
		}
		if in := side.Inputs[0]; in.Method != "saliency" || in.Lead != 1 || in.Samples != 24 || len(in.SHA256) != 64 {
			t.Errorf("sidecar input %+v", in)
		}
		redrawSame(t, side, dir, out)
	}
	if _, err := DecayMapOf(&dataset.MapFile{Grid: m.Grid, Maps: m.Maps[:1]}, "x.nc"); !errors.Is(err, ErrSpec) {
		t.Errorf("map file without r90: %v, want ErrSpec", err)
	}
	// A result file is not a map file.
	res := writeResults(t, dir)
	s, _ := NewSpec(KindDecayMap, res[:1], nil)
	if err := Make(s, ".", filepath.Join(dir, "x.png")); !errors.Is(err, dataset.ErrNoVariable) {
		t.Errorf("decaymap of an attribution file: %v, want dataset.ErrNoVariable", err)
	}
}

// redrawSame draws side (read from out's sidecar) again and checks that it gives out's bytes.
func redrawSame(t *testing.T, side Spec, dir, out string) {
	t.Helper()
	again := filepath.Join(t.TempDir(), "again"+filepath.Ext(out))
	if err := Make(side, dir, again); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("%s from the sidecar differs from the original (%d vs %d bytes)", filepath.Ext(out), len(a), len(b))
	}
}

// TestFidelitySpec keeps the scores and curves in the sidecar (undefined scores as null) and
// draws the same figure from it.
func TestFidelitySpec(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "fid.json")
	if err := os.WriteFile(src, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := synthFidelity()
	s := Spec{Kind: KindFidelity, Inputs: []Input{{Path: src}}, Preset: "agu1", DPI: 100, Fidelity: &f}
	for _, ext := range []string{"png", "svg"} {
		out := filepath.Join(dir, "fid."+ext)
		if err := Make(s, ".", out); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(SidecarPath(out))
		if !bytes.Contains(raw, []byte(`"randomization_spearman_abs": [
          null,`)) {
			t.Errorf("undefined score not written as null:\n%.600s", raw)
		}
		side, err := ReadSpec(SidecarPath(out))
		if err != nil {
			t.Fatal(err)
		}
		if !math.IsNaN(float64(side.Fidelity.Rows[0].RandomAbs[0])) || side.Fidelity.Rows[3].SamplePearson[1] != f.Rows[3].SamplePearson[1] {
			t.Errorf("scores did not survive the sidecar: %v %v", side.Fidelity.Rows[0].RandomAbs, side.Fidelity.Rows[3].SamplePearson)
		}
		redrawSame(t, side, dir, out)
	}
}

func TestHighlighted(t *testing.T) {
	f := synthFidelity() // per-sample Pearson: ixg .95, ig .93, occlusion .8, smoothgrad .6, saliency .5
	h := f.highlighted()
	if len(h) != 4 || !h["ixg"] || !h["ig"] || !h["occlusion"] || !h["smoothgrad"] || h["truth"] || h["saliency"] {
		t.Errorf("highlighted %v", h)
	}
	f.Highlight = []string{"saliency"}
	if h := f.highlighted(); len(h) != 1 || !h["saliency"] {
		t.Errorf("explicit highlight %v", h)
	}
}

// TestNormalizeColumns: each lead's panels end up spanning [-1, 1] with their pattern kept
// (ratios unchanged), land (NaN) stays NaN and an all-zero lead stays zero.
func TestNormalizeColumns(t *testing.T) {
	nan := float32(math.NaN())
	panel := func(v ...float32) MapPanel { return MapPanel{Field: dataset.Field{Values: v}} }
	g := LeadsGrid{Panels: [][]MapPanel{
		{panel(0.2, -0.1, nan), panel(0.004, 0.001, nan), panel(0, 0, nan)},
		{panel(0.05, 0.1, nan), panel(-0.002, 0.0005, nan), panel(0, 0, nan)},
	}}
	g.normalizeColumns()
	want := [][][]float32{
		{{1, -0.5, nan}, {1, 0.25, nan}, {0, 0, nan}},
		{{0.25, 0.5, nan}, {-0.5, 0.125, nan}, {0, 0, nan}},
	}
	for r, row := range g.Panels {
		for c, p := range row {
			for i, v := range p.Field.Values {
				w := want[r][c][i]
				if math.IsNaN(float64(w)) != math.IsNaN(float64(v)) || (!math.IsNaN(float64(w)) && math.Abs(float64(v-w)) > 1e-6) {
					t.Errorf("panel (%d, %d) value %d = %g, want %g", r, c, i, v, w)
				}
			}
		}
	}
}

// TestMethodsGrid: kind methods lays out one forecast's result files by method, in the order
// given, each column divided by its own largest |value| (the methods' units differ by orders
// of magnitude), and the figure draws and redraws from its sidecar.
func TestMethodsGrid(t *testing.T) {
	dir := t.TempDir()
	g := naGrid()
	var paths []string
	for i, m := range []struct {
		name  string
		scale float32
	}{{"saliency", 0.2}, {"lrp-epsilon", 0.001}, {"ig", 30}} {
		a := &dataset.AttributionFile{Grid: g, Lags: []int{0, 1},
			Meta: dataset.AttributionMeta{Method: m.name, Target: "55,-35", Lead: 6}}
		for k := range 2 {
			for c := range g.Size() {
				a.Values = append(a.Values, m.scale*float32(math.Sin(float64(c+7*i+3*k))))
			}
		}
		p := filepath.Join(dir, m.name+".nc")
		if err := dataset.WriteAttribution(p, a); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	s, err := NewSpec(KindMethods, paths, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := s.load(".", false, true)
	if err != nil {
		t.Fatal(err)
	}
	grid, err := s.leadsGrid(ins, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(grid.ColLabels) != "[saliency lrp-epsilon ig]" || len(grid.Panels) != 2 {
		t.Fatalf("columns %v, %d rows", grid.ColLabels, len(grid.Panels))
	}
	for c := range grid.ColLabels {
		if m := finiteMaxAbs(grid.Panels[0][c].Field.Values, grid.Panels[1][c].Field.Values); math.Abs(m-1) > 1e-6 {
			t.Errorf("column %s: largest |value| %g, want 1", grid.ColLabels[c], m)
		}
	}
	out := filepath.Join(dir, "methods.png")
	s.DPI = 80
	if err := Make(s, ".", out); err != nil {
		t.Fatal(err)
	}
	side, err := ReadSpec(SidecarPath(out))
	if err != nil {
		t.Fatal(err)
	}
	redrawSame(t, side, dir, out)
	if err := CheckNormalize(KindMethods, "lead"); err == nil {
		t.Error("normalize lead accepted for kind methods, which always normalises")
	}
}

// TestDecayFitMaxLag: a decay figure fitted to the first lags draws another curve than the
// fit over every lag.
func TestDecayFitMaxLag(t *testing.T) {
	dir := t.TempDir()
	res := writeResults(t, dir)
	var pngs [][]byte
	for _, fit := range []int{0, 4} {
		s, err := NewSpec(KindDecay, res[:1], nil)
		if err != nil {
			t.Fatal(err)
		}
		s.DPI, s.FitMaxLag = 100, fit
		out := filepath.Join(dir, fmt.Sprintf("decay-fit%d.png", fit))
		if err := Make(s, ".", out); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		pngs = append(pngs, b)
	}
	if bytes.Equal(pngs[0], pngs[1]) {
		t.Error("the fit over lags 0..4 drew the same figure as the fit over every lag")
	}
}
