package ui

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/plots"
)

// TestAnalysisViews runs the Aggregate, Decay map and Ablation tabs on the random-weight 2°
// DenseNet with small sample sets (buttons tapped as a user would), checks what they show, and
// cancels a long decay map.
func TestAnalysisViews(t *testing.T) {
	w, events, _ := openedWindow(t, randomCard)
	v := &w.an

	onUI(func() { w.tabs.SelectIndex(tabIndex("aggregate")); v.aggSamples.SetText("all:3"); test.Tap(v.aggRun) })
	await(t, events, "aggregated", 30*time.Second)
	f, ok := v.aggMap.Field()
	if !ok || !strings.Contains(f.Title, "3 samples") || len(v.aggChart.Values()) != 36 || !strings.Contains(v.aggNote.Text, "R90") {
		t.Errorf("aggregate view: map %q, %d bars, note %q", f.Title, len(v.aggChart.Values()), v.aggNote.Text)
	}
	if v.aggMap.Scale().Map.Name != "viridis" || !nonBlank(v.aggMap.Image()) {
		t.Error("aggregate map not drawn as importance")
	}
	// The fitted e-folding curve is drawn over the bars: exp(a + b·lag) at every lag fitted.
	if r := v.agg; r.DecayErr != nil {
		t.Errorf("no decay fit on three samples: %v", r.DecayErr)
	} else if c := v.aggChart.curve; len(c) != 36 || math.Abs(c[10]-math.Exp(r.Decay.Intercept+10*r.Decay.Slope)) > 1e-12*c[10] ||
		!strings.Contains(v.aggChart.title, "exponential fit") {
		t.Errorf("aggregate chart curve %v, title %q", c, v.aggChart.title)
	}
	// A fit over the first lags only refits without rerunning; the curve stops at the last lag
	// fitted, and a lag the fit cannot use is said in the status line and changes nothing.
	onUI(func() { v.aggFit.SetText("5") })
	if fit, err := attribution.FitDecay(v.agg.LagImportance, 5); err != nil {
		t.Error(err)
	} else if c := v.aggChart.curve; len(c) != 36 || math.Abs(c[3]-fit.At(3)) > 1e-12*c[3] || !math.IsNaN(c[6]) ||
		!strings.Contains(v.aggChart.title, "lags 0–5") || !strings.Contains(v.aggNote.Text, "over lags 0–5") {
		t.Errorf("fit to lag 5: curve %v, title %q, note %q", c, v.aggChart.title, v.aggNote.Text)
	}
	onUI(func() { v.aggFit.SetText("1") })
	if !strings.Contains(w.status.Text, "three lags") || !strings.Contains(v.aggChart.title, "lags 0–5") {
		t.Errorf("fit to lag 1: status %q, title %q", w.status.Text, v.aggChart.title)
	}
	onUI(func() { v.aggFit.SetText("11") })
	if !strings.Contains(w.status.Text, "over lags 0–11") {
		t.Errorf("fit to lag 11 after 1: status %q still complains", w.status.Text)
	}
	onUI(func() { v.aggFit.SetText("") })
	if strings.Contains(v.aggChart.title, "lags 0–") || !strings.Contains(v.aggChart.title, "all lags") {
		t.Errorf("fit over every lag again: title %q", v.aggChart.title)
	}
	// A bar tapped shows that lag's map; the signed mean on a diverging scale; All lags goes back.
	onUI(func() { v.aggChart.OnTapped(5) })
	if f, _ := v.aggMap.Field(); !strings.Contains(f.Title, "at lag 5") || v.aggAll.Disabled() || f.Values[0] != v.agg.Agg.MeanAbs[5*len(f.Values)] && f.Values[0] == f.Values[0] {
		t.Errorf("lag 5 tapped: map %q, All lags enabled %v", f.Title, !v.aggAll.Disabled())
	}
	onUI(func() { v.aggShow.SetSelected(aggSigned) })
	if f, _ := v.aggMap.Field(); !strings.HasPrefix(f.Title, "mean signed saliency at lag 5") || v.aggMap.Scale().Map.Name == "viridis" {
		t.Errorf("signed: map %q on %s", f.Title, v.aggMap.Scale().Map.Name)
	}
	onUI(func() { test.Tap(v.aggAll); v.aggShow.SetSelected(aggAbs) })
	if f, _ := v.aggMap.Field(); !strings.Contains(f.Title, "summed over lags") || !v.aggAll.Disabled() || v.aggMap.Scale().Map.Name != "viridis" {
		t.Errorf("all lags again: map %q", f.Title)
	}
	// Saved as climxai aggregate's file.
	if v.aggSave.Disabled() {
		t.Error("Save stays disabled after an aggregate")
	}
	var warning string
	onUI(func() { warning = w.closeWarning() })
	if !strings.Contains(warning, "Not saved: the aggregate of saliency") {
		t.Errorf("close warning before the aggregate is saved: %q", warning)
	}
	aggPath := filepath.Join(t.TempDir(), "agg") // .nc is added
	onUI(func() { w.SaveAggregate(aggPath) })
	await(t, events, "saved-aggregate", 20*time.Second)
	if sums, af, err := app.ReadAggregateSums(aggPath + ".nc"); err != nil || sums.Samples != 3 || af.Meta.Method != v.agg.Method {
		t.Errorf("saved aggregate: %v (%+v)", err, af)
	}
	onUI(func() { warning = w.closeWarning() })
	if warning != "" {
		t.Errorf("close warning after saving: %q", warning)
	}
	// Never over the data in use.
	data, _ := os.ReadFile(w.ws.DataPaths[0])
	onUI(func() { w.SaveAggregate(w.ws.DataPaths[0]) })
	await(t, events, "save-failed", 5*time.Second)
	if after, _ := os.ReadFile(w.ws.DataPaths[0]); !bytes.Equal(after, data) || !strings.Contains(w.status.Text, "data file in use") {
		t.Errorf("saving the aggregate over the data: status %q, data unchanged %v", w.status.Text, bytes.Equal(after, data))
	}
	onUI(func() { w.Win.Canvas().Overlays().Top().Hide() })

	onUI(func() {
		w.tabs.SelectIndex(tabIndex("decaymap"))
		v.dmSamples.SetText("all:2")
		v.dmStride.SetText("12")
		test.Tap(v.dmRun)
	})
	await(t, events, "decaymapped", 60*time.Second)
	onUI(func() { warning = w.closeWarning() })
	if !strings.Contains(warning, "the decay map of saliency") || strings.Contains(warning, "aggregate") {
		t.Errorf("close warning with an unsaved decay map: %q", warning)
	}
	if f, _ := v.dmMap.Field(); !strings.HasPrefix(f.Title, "e-folding") {
		t.Errorf("decay map shows %q first", f.Title)
	}
	// Random weights hardly decay with lag (the e-folding time is mostly infinite): R90 is
	// finite at every target, and fills each target's 12 x 12 block of ocean.
	onUI(func() { v.dmShow.SetSelected("R90 (km)") })
	f, _ = v.dmMap.Field()
	values := 0
	for _, x := range f.Values {
		if !math.IsNaN(float64(x)) {
			values++
		}
	}
	if values < 100 || v.dm.Stride != 12 || !strings.HasPrefix(f.Title, "R90") || !strings.Contains(v.dmNote.Text, "CV") {
		t.Errorf("decay map: %d cells with a value in %q, note %q", values, f.Title, v.dmNote.Text)
	}
	dmPath := filepath.Join(t.TempDir(), "map.nc")
	onUI(func() { w.SaveDecayMap(dmPath) })
	await(t, events, "saved-decaymap", 20*time.Second)
	if mf, err := dataset.ReadMapFile(dmPath); err != nil || mf.Map("r90") == nil || mf.Attrs["stride"] != "12" {
		t.Errorf("saved decay map: %v", err)
	}

	onUI(func() {
		w.tabs.SelectIndex(tabIndex("ablation"))
		v.abSamples.SetText("all:4")
		v.abRadii.SetText("0,1000,inf")
		v.abLags.SetText("1,36")
		test.Tap(v.abRun)
	})
	await(t, events, "ablated", 30*time.Second)
	if v.abRadius.Image == nil || v.abLag.Image == nil || !nonBlank(v.abRadius.Image) || !strings.Contains(v.abNote.Text, "persistence") {
		t.Errorf("ablation view: images %v %v, note %q", v.abRadius.Image != nil, v.abLag.Image != nil, v.abNote.Text)
	}
	// With every analysis shown, each tab fits the default window (1240 x 760).
	for _, name := range app.SessionTabs {
		var min fyne.Size
		onUI(func() { w.tabs.SelectIndex(tabIndex(name)); min = w.Win.Content().MinSize() })
		if min.Width > 1240 || min.Height > 760 {
			t.Errorf("tab %s needs %gx%g px, more than the default window", name, min.Width, min.Height)
		}
	}
	onUI(func() { w.tabs.SelectIndex(tabIndex("ablation")) })
	// The ablation's figure, with its result file beside it: that saves the result.
	if v.abFig.Disabled() {
		t.Error("Figure… stays disabled after an ablation")
	}
	figPath := filepath.Join(t.TempDir(), "abl.png")
	onUI(func() {
		w.ExportAnalysisFigure(figPath, v.ab, app.FigureOptions{Kind: app.KindAblationRadius, DPI: 100})
	})
	await(t, events, "saved-figure", 20*time.Second)
	for _, p := range []string{figPath, strings.TrimSuffix(figPath, ".png") + ".nc", plots.SidecarPath(figPath)} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("after the ablation figure: %v", err)
		}
	}
	if onUI(func() { warning = w.closeWarning() }); strings.Contains(warning, "ablation") {
		t.Errorf("the ablation counts as unsaved after its figure: %q", warning)
	}
	abPath := filepath.Join(t.TempDir(), "abl.nc")
	onUI(func() { w.SaveAblation(abPath) })
	await(t, events, "saved-ablation", 20*time.Second)
	if st, err := os.Stat(abPath); err != nil || st.Size() == 0 || v.abSave.Disabled() {
		t.Errorf("saved ablation: %v", err)
	}
	onUI(func() { v.abRadii.SetText("near") })
	onUI(func() { test.Tap(v.abRun) })
	if !strings.Contains(w.status.Text, "not a distance") {
		t.Errorf("bad radii: status %q", w.status.Text)
	}

	// A long decay map (stride 2, 24 samples: hundreds of targets) runs in the analysis lane:
	// an explanation asked for meanwhile (a click on the map) does not cancel it, closing the
	// window asks first, and its own Cancel stops it within a second.
	onUI(func() {
		w.tabs.SelectIndex(tabIndex("decaymap"))
		v.dmStride.SetText("2")
		v.dmSamples.SetText("all:24")
		test.Tap(v.dmRun)
	})
	time.Sleep(300 * time.Millisecond)
	var shown bool
	onUI(func() {
		w.tabs.SelectIndex(0)
		w.Explain()
		shown = w.bgRow.Visible()
	})
	await(t, events, "explained", 30*time.Second)
	var busy bool
	onUI(func() { busy, warning = w.bg.busy(), w.closeWarning() })
	if !busy || !shown {
		t.Fatalf("the decay map stopped when an explanation ran (busy %v, analysis row shown %v)", busy, shown)
	}
	if !strings.HasPrefix(warning, "Still running: mapping the decay of saliency") {
		t.Errorf("close warning while the decay map runs: %q", warning)
	}
	onUI(w.requestClose)
	await(t, events, "close-asked", time.Second)
	if onUI(func() { shown = w.Win.Canvas().Overlays().Top() != nil }); !shown {
		t.Error("closing with work running shows no dialog")
	}
	start := time.Now()
	onUI(func() { w.Win.Canvas().Overlays().Top().Hide(); test.Tap(w.bg.cancel) })
	await(t, events, "cancelled", 5*time.Second)
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancel took %v", took)
	}
	if onUI(func() { busy, shown = w.bg.busy(), w.bgRow.Visible() }); busy || shown {
		t.Errorf("after Cancel: analysis running %v, its row shown %v", busy, shown)
	}
}

// TestOpenAsksBeforeDiscarding: opening other files (or the same again) while an analysis
// result is unsaved asks first, and "Keep working" keeps the workspace and the result.
func TestOpenAsksBeforeDiscarding(t *testing.T) {
	w, events, _ := openedWindow(t, randomCard)
	v := &w.an
	onUI(func() { w.tabs.SelectIndex(tabIndex("aggregate")); v.aggSamples.SetText("all:2"); test.Tap(v.aggRun) })
	await(t, events, "aggregated", 30*time.Second)
	ws, agg := w.ws, v.agg
	onUI(func() { w.Open(ws.CardPath, ws.DataPaths) })
	await(t, events, "open-asked", time.Second)
	var top fyne.CanvasObject
	onUI(func() { top = w.Win.Canvas().Overlays().Top() })
	if top == nil {
		t.Fatal("no question")
	}
	// Keep working: the dialog's second button.
	var keep *widget.Button
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Keep working" {
			keep = b
		}
	}
	if keep == nil {
		t.Fatal("no Keep working button")
	}
	onUI(func() { test.Tap(keep) })
	time.Sleep(200 * time.Millisecond)
	if w.ws != ws || v.agg != agg || w.opening {
		t.Errorf("after Keep working: workspace replaced %v, aggregate kept %v, opening %v", w.ws != ws, v.agg == agg, w.opening)
	}
}

// TestCompareMethods: the Compare methods tab explains the selected forecast with the chosen
// methods, one map each, with their agreement beneath; choosing others compares those.
func TestCompareMethods(t *testing.T) {
	w, events, _ := openedWindow(t, randomCard)
	onUI(func() { w.tabs.SelectIndex(tabIndex("methods")) })
	await(t, events, "explained", 60*time.Second)
	v := &w.mv
	if len(v.last) != len(app.CompareMethodsDefault) || len(v.maps) != len(v.last) || !strings.Contains(v.agree.Text, "Spearman") ||
		!strings.Contains(v.agree.Text, "deeplift") || w.last.Result.Method != "saliency" {
		t.Fatalf("%d explanations, %d maps, agreement %q, main view %s", len(v.last), len(v.maps), v.agree.Text, w.last.Result.Method)
	}
	for i, m := range v.maps {
		f, _ := m.Field()
		if !strings.HasPrefix(f.Title, v.last[i].Result.Method+" · lag 0") || !nonBlank(m.Image()) {
			t.Errorf("map %d: %q", i, f.Title)
		}
	}
	if !w.methodsCurrent() {
		t.Error("the comparison is not of the current selection")
	}
	// Five maps and the table fit the default window (1240 x 760): they scroll rather than
	// make the window taller than a laptop's screen (it grew to 910 px).
	if h := w.Win.Content().MinSize().Height; h > 760 {
		t.Errorf("with five methods compared the window needs %g px of height, more than the default 760", h)
	}
	// The export dialog offers the methods side by side, at double column width for five maps.
	var kind, preset string
	onUI(func() {
		w.showExportDialog()
		for _, o := range test.LaidOutObjects(w.Win.Canvas().Overlays().Top()) {
			if sel, ok := o.(*widget.Select); ok && strings.HasPrefix(sel.Selected, "agu") {
				preset = sel.Selected
			} else if ok && strings.HasPrefix(sel.Selected, "Methods") {
				kind = sel.Selected
			}
		}
		w.Win.Canvas().Overlays().Top().Hide()
	})
	if !strings.HasPrefix(kind, "Methods side by side") || !strings.HasPrefix(preset, "agu2") {
		t.Errorf("export dialog: figure %q, preset %q", kind, preset)
	}
	// Exported side by side: one result file per method beside the figure.
	fig := filepath.Join(t.TempDir(), "methods.png")
	onUI(func() { w.ExportFigure(fig, app.FigureOptions{Kind: plots.KindMethods, Lags: []int{0, 1}, DPI: 80}) })
	await(t, events, "saved", 30*time.Second)
	for _, ex := range v.last {
		if st, err := os.Stat(strings.TrimSuffix(fig, ".png") + "-" + ex.Result.Method + ".nc"); err != nil || st.Size() == 0 {
			t.Errorf("%s's result file: %v", ex.Result.Method, err)
		}
	}
	if spec, err := plots.ReadSpec(plots.SidecarPath(fig)); err != nil || spec.Kind != plots.KindMethods || len(spec.Inputs) != len(v.last) {
		t.Errorf("sidecar: %+v (%v)", spec, err)
	}
	var err error
	onUI(func() { err = w.SetCompareMethods([]string{"ig", "saliency"}) })
	if err != nil {
		t.Fatal(err)
	}
	await(t, events, "explained", 60*time.Second)
	if len(v.last) != 2 || v.last[0].Result.Method != "saliency" || v.last[1].Result.Method != "ig" || len(v.maps) != 2 {
		t.Errorf("after choosing ig and saliency: %d explanations, %d maps", len(v.last), len(v.maps))
	}
	onUI(func() { err = w.SetCompareMethods([]string{"gradcam"}) })
	if err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("an unknown method: %v", err)
	}
}
