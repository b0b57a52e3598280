package app

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/dataset"
	"climxai/dataset/netcdf"
	"climxai/plots"
)

// TestAnalyses runs the three analyses of the GUI's views on the random-weight 2° DenseNet and
// checks their shapes and invariants; a cancelled context stops them.
func TestAnalyses(t *testing.T) {
	w := openTestWorkspace(t)
	sel := w.Selection()
	var last [2]int
	agg, err := w.Aggregate(context.Background(), sel, "all:3", func(d, n int) { last = [2]int{d, n} })
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, v := range agg.Importance {
		if !math.IsNaN(float64(v)) {
			sum += float64(v)
		}
	}
	if agg.Agg.Samples != 3 || math.Abs(sum-1) > 1e-4 || len(agg.LagImportance) != 36 || last != [2]int{3, 3} {
		t.Errorf("aggregate: %d samples, importance sums to %g, %d lags, last progress %v", agg.Agg.Samples, sum, len(agg.LagImportance), last)
	}
	if !(agg.Extent.R90 >= agg.Extent.R50) {
		t.Errorf("R50 %g R90 %g", agg.Extent.R50, agg.Extent.R90)
	}
	// Field: one lag, or every lag summed; the signed mean never exceeds the mean of |a|.
	n := agg.Agg.NLat * agg.Agg.NLon
	all, allSigned := agg.Field(-1, false), agg.Field(-1, true)
	sumSigned := make([]float64, n)
	for k := range agg.Agg.Lags {
		abs, signed := agg.Field(k, false), agg.Field(k, true)
		for i := range n {
			if abs[i] != agg.Agg.MeanAbs[k*n+i] && !math.IsNaN(float64(abs[i])) {
				t.Fatalf("Field(%d) at %d: %g, MeanAbs %g", k, i, abs[i], agg.Agg.MeanAbs[k*n+i])
			}
			if math.Abs(float64(signed[i])) > float64(abs[i])*(1+1e-6) {
				t.Fatalf("lag %d cell %d: signed %g beyond |a| %g", k, i, signed[i], abs[i])
			}
			sumSigned[i] += float64(signed[i])
		}
	}
	for i := range n {
		if all[i] != agg.Importance[i] && !math.IsNaN(float64(all[i])) ||
			math.Abs(float64(allSigned[i])-sumSigned[i]) > 1e-6 && !math.IsNaN(sumSigned[i]) {
			t.Fatalf("cell %d: Field(-1) %g (Importance %g), signed %g (sum %g)", i, all[i], agg.Importance[i], allSigned[i], sumSigned[i])
		}
	}
	// Saved as climxai aggregate saves it: the running sums come back, with the provenance.
	path := filepath.Join(t.TempDir(), "agg.nc")
	if err := w.WriteAggregateResult(path, agg); err != nil {
		t.Fatal(err)
	}
	sums, af, err := ReadAggregateSums(path)
	if err != nil {
		t.Fatal(err)
	}
	if sums.Samples != 3 || af.Meta.Method != agg.Method || af.Meta.Lead != agg.Lead || af.Meta.Target != sel.Target.Spec ||
		len(af.Meta.ModelSHA256) != 64 || af.Meta.Other["sample_set"] != agg.SampleSet {
		t.Errorf("saved aggregate: %d samples, meta %+v", sums.Samples, af.Meta)
	}
	for i, v := range agg.Sums.Abs {
		if math.Abs(sums.Abs[i]-v) > 1e-12*max(1, math.Abs(v)) {
			t.Fatalf("sum_abs[%d] = %g, computed %g", i, sums.Abs[i], v)
		}
	}
	if err := w.WriteAggregateResult(path, nil); err == nil {
		t.Error("saving no aggregate succeeded")
	}

	dm, err := w.DecayMap(context.Background(), sel, "all:2", 12, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	mapped := 0
	for i, v := range dm.Maps.R90 {
		if !math.IsNaN(float64(v)) {
			mapped++
			if r, c := i/63, i%63; r%12 != 0 || c%12 != 0 || !w.Prepared.Ocean[i] {
				t.Errorf("value at (%d, %d), not a stride-12 ocean cell", r, c)
			}
		}
	}
	if mapped != dm.Targets || dm.Targets < 3 || dm.Samples != 2 || math.IsNaN(dm.R90Median) {
		t.Errorf("decay map: %d targets, %d mapped, %d samples, R90 median %g", dm.Targets, mapped, dm.Samples, dm.R90Median)
	}
	// Saved as climxai decaymap saves it: dataset.ReadMapFile (what figure --kind decaymap reads)
	// gets the same R90 map and the statistics.
	dmPath := filepath.Join(t.TempDir(), "map.nc")
	if err := w.WriteDecayMapResult(dmPath, dm); err != nil {
		t.Fatal(err)
	}
	mf, err := dataset.ReadMapFile(dmPath)
	if err != nil {
		t.Fatal(err)
	}
	r90 := mf.Map("r90").Values
	for i, v := range dm.Maps.R90 {
		if g := r90[i]; g != v && !(math.IsNaN(float64(g)) && math.IsNaN(float64(v))) {
			t.Fatalf("saved r90[%d] = %g, computed %g", i, g, v)
		}
	}
	if med, ok := mf.Float("r90_median"); !ok || math.Abs(med-dm.R90Median) > 1e-9*dm.R90Median {
		t.Errorf("saved r90_median %g (%v), computed %g", med, ok, dm.R90Median)
	}

	ab, err := w.Ablate(context.Background(), sel, "all:4", []float64{0, 1000, math.Inf(1)}, []int{1, 36}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := ab.Result
	if len(r.Radius) != 3 || len(r.Lag) != 2 || r.Samples != 4 {
		t.Fatalf("ablation: %d radii, %d lags, %d samples", len(r.Radius), len(r.Lag), r.Samples)
	}
	// Keeping everything is the full input.
	if math.Abs(r.Radius[2].Corr-r.Full.Corr) > 1e-9 || math.Abs(r.Lag[1].Corr-r.Full.Corr) > 1e-9 {
		t.Errorf("inf radius %g, 36 months %g, full %g", r.Radius[2].Corr, r.Lag[1].Corr, r.Full.Corr)
	}
	if l := AblationLines(ab.RadiiKm, ab.Lags, r, ab.Full, ab.Pers); len(l.Series) != 1 || len(l.Series[0].X) != 2 {
		t.Errorf("lines %+v", l)
	}
	// Saved as climxai ablate saves it.
	ablPath := filepath.Join(t.TempDir(), "abl.nc")
	if err := w.WriteAblationOutcome(ablPath, ab); err != nil {
		t.Fatal(err)
	}
	f, err := netcdf.Open(ablPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, want := range map[string][]float64{"radius": {0, 1000, RadiusInfKm}, "corr_radius": {r.Radius[0].Corr, r.Radius[1].Corr, r.Radius[2].Corr},
		"corr_lag": {r.Lag[0].Corr, r.Lag[1].Corr}, "full_rmse": {ab.Full.RMSE}} {
		v, err := f.Var(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.ReadFloat64(nil, nil)
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: %v %v", name, got, err)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12*max(1, math.Abs(want[i])) {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[i], want[i])
			}
		}
	}
	if a, err := f.Attr("model_sha256"); err != nil || len(a.Text) != 64 {
		t.Errorf("model_sha256 %+v %v", a, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.DecayMap(ctx, sel, "all:2", 12, -1, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled decay map: %v", err)
	}
	if _, err := w.Ablate(context.Background(), sel, "all:4", nil, nil, nil); !errors.Is(err, ErrSelection) {
		t.Errorf("nothing to ablate: %v", err)
	}
}

// TestWriteAnalysisFigure draws every figure of each analysis result: the result file and the
// sidecar land beside the figure, the sidecar draws the same PNG again, and a kind the result
// has not is an ErrFigure error that lists the ones it has.
func TestWriteAnalysisFigure(t *testing.T) {
	w := openTestWorkspace(t)
	sel := w.Selection()
	ctx := context.Background()
	agg, err := w.Aggregate(ctx, sel, "all:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := w.DecayMap(ctx, sel, "all:1", 16, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := w.Ablate(ctx, sel, "all:4", []float64{0, 1000, math.Inf(1)}, []int{1, 36}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	drawn := 0
	for _, result := range []AnalysisResult{agg, dm, ab} {
		for _, f := range result.Figures() {
			path := filepath.Join(dir, strings.ReplaceAll(f.Kind, ":", "-")+".png")
			nc, err := w.WriteAnalysisFigure(path, result, FigureOptions{Kind: f.Kind, DPI: 100})
			if err != nil {
				t.Fatalf("%s: %v", f.Label, err)
			}
			first, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(first)); err != nil {
				t.Fatalf("%s: %v", f.Label, err)
			}
			if st, err := os.Stat(nc); err != nil || st.Size() == 0 || nc != strings.TrimSuffix(path, ".png")+".nc" {
				t.Errorf("%s: result file %s: %v", f.Label, nc, err)
			}
			spec, err := plots.ReadSpec(plots.SidecarPath(path))
			if err != nil {
				t.Fatalf("%s: %v", f.Label, err)
			}
			again := filepath.Join(dir, "again.png")
			if err := plots.Make(spec, dir, again); err != nil {
				t.Fatalf("%s: redraw: %v", f.Label, err)
			}
			if b, _ := os.ReadFile(again); !bytes.Equal(b, first) {
				t.Errorf("%s: the sidecar draws another figure", f.Label)
			}
			drawn++
		}
	}
	if drawn != 4+1+2 {
		t.Errorf("%d figures drawn, want 7", drawn)
	}
	// The aggregate's map at one lag (the lag shown on the tab); with no lags, every lag.
	lag3 := filepath.Join(dir, "lag3.png")
	if _, err := w.WriteAnalysisFigure(lag3, agg, FigureOptions{Kind: plots.KindMap, Lags: []int{3}}); err != nil {
		t.Fatal(err)
	}
	if spec, err := plots.ReadSpec(plots.SidecarPath(lag3)); err != nil || !slices.Equal(spec.Lags, []int{3}) {
		t.Errorf("map at lag 3: lags %v (%v)", spec.Lags, err)
	}
	// The signed mean, as the tab shows it; the curves stay of the mean |attribution|.
	signed := filepath.Join(dir, "signed.png")
	if _, err := w.WriteAnalysisFigure(signed, agg, FigureOptions{Kind: plots.KindMap, Lags: []int{3}, Variable: "signed_mean"}); err != nil {
		t.Fatal(err)
	}
	decay := filepath.Join(dir, "decay-signed.png")
	if _, err := w.WriteAnalysisFigure(decay, agg, FigureOptions{Kind: plots.KindDecay, Variable: "signed_mean"}); err != nil {
		t.Fatal(err)
	}
	if s1, _ := plots.ReadSpec(plots.SidecarPath(signed)); s1.Variable != "signed_mean" {
		t.Errorf("signed map: variable %q", s1.Variable)
	}
	if s2, _ := plots.ReadSpec(plots.SidecarPath(decay)); s2.Variable != "" {
		t.Errorf("decay curve: variable %q", s2.Variable)
	}
	// The fit over the first lags, as the tab shows it, reaches the decay figure only.
	first := filepath.Join(dir, "decay-fit11.png")
	if _, err := w.WriteAnalysisFigure(first, agg, FigureOptions{Kind: plots.KindDecay, FitMaxLag: 11}); err != nil {
		t.Fatal(err)
	}
	if s3, _ := plots.ReadSpec(plots.SidecarPath(first)); s3.FitMaxLag != 11 {
		t.Errorf("decay curve fitted to lag 11: sidecar fit_max_lag %d", s3.FitMaxLag)
	}
	fitMap := filepath.Join(dir, "map-fit11.png")
	if _, err := w.WriteAnalysisFigure(fitMap, agg, FigureOptions{Kind: plots.KindMap, FitMaxLag: 11}); err != nil {
		t.Errorf("map with the tab's fit setting: %v", err)
	}
	if a, b := readBytes(t, signed), readBytes(t, lag3); bytes.Equal(a, b) {
		t.Error("the signed map is the map of the mean |attribution|")
	}
	if spec, err := plots.ReadSpec(plots.SidecarPath(filepath.Join(dir, "map.png"))); err != nil || len(spec.Lags) != 36 {
		t.Errorf("map over all lags: lags %v (%v)", spec.Lags, err)
	}
	_, err = w.WriteAnalysisFigure(filepath.Join(dir, "x.png"), dm, FigureOptions{Kind: plots.KindMap})
	if !errors.Is(err, ErrFigure) || !strings.Contains(err.Error(), plots.KindDecayMap) {
		t.Errorf("a map of a decay map: %v", err)
	}
	if _, err := w.WriteAnalysisFigure(filepath.Join(dir, "x.gif"), agg, FigureOptions{Kind: plots.KindMap}); err == nil {
		t.Error("a .gif figure was accepted")
	}

	// The result file goes beside the figure under its name: it may replace an earlier climxai
	// result, never another file, and never the data in use.
	if _, err := w.WriteAnalysisFigure(filepath.Join(dir, "map.pdf"), agg, FigureOptions{Kind: plots.KindMap}); err != nil {
		t.Errorf("a figure over an earlier climxai result: %v", err)
	}
	notes := filepath.Join(dir, "notes.nc")
	os.WriteFile(notes, []byte("my notes"), 0o644)
	if _, err := w.WriteAnalysisFigure(filepath.Join(dir, "notes.png"), agg, FigureOptions{Kind: plots.KindMap}); !errors.Is(err, ErrFigure) ||
		!strings.Contains(err.Error(), "not a NetCDF file") {
		t.Errorf("a figure whose result file would replace a text file: %v", err)
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes" {
		t.Error("the text file was replaced")
	}
	other := filepath.Join(dir, "other.nc")
	if b, err := os.ReadFile(w.DataPaths[0]); err != nil || os.WriteFile(other, b, 0o644) != nil {
		t.Fatal("copying the data file", err)
	}
	if _, err := w.WriteAnalysisFigure(filepath.Join(dir, "other.svg"), dm, FigureOptions{Kind: plots.KindDecayMap}); !errors.Is(err, ErrFigure) ||
		!strings.Contains(err.Error(), "not written by climxai") {
		t.Errorf("a figure whose result file would replace another NetCDF file: %v", err)
	}
	data := strings.TrimSuffix(w.DataPaths[0], filepath.Ext(w.DataPaths[0])) + ".png"
	if _, err := w.WriteAnalysisFigure(data, agg, FigureOptions{Kind: plots.KindMap}); !errors.Is(err, ErrFigure) ||
		!strings.Contains(err.Error(), "data file in use") {
		t.Errorf("a figure whose result file would replace the data: %v", err)
	}
	if _, err := os.Stat(data); err == nil {
		t.Error("a figure was drawn though its result file could not be written")
	}
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
