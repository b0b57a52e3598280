package ui

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
)

// TestMapZoomPanBox zooms with the wheel about the pointer, pans, shows the world and the
// domain, and drags a box on the map, which becomes the target and is explained.
func TestMapZoomPanBox(t *testing.T) {
	w, events, _ := openedWindow(t, randomCard)
	m := w.mapw
	dom := m.View()

	// The wheel zooms about the pointer: the cell under it stays under it.
	pos := m.CellPosition(17, 25)
	onUI(func() {
		m.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: pos}, Scrolled: fyne.NewDelta(0, 50)})
	})
	v := m.View()
	if got, want := v.E-v.W, (dom.E-dom.W)/1.5625; math.Abs(got-want) > 1e-6 {
		t.Errorf("two notches: %g° wide, want %g°", got, want)
	}
	if c, ok := m.CellAt(pos); !ok || c.Row != 17 || c.Col != 25 {
		t.Errorf("after zooming the pointer is over %+v, want row 17 col 25", c)
	}
	if _, zoomed := m.Zoom(); !zoomed {
		t.Error("Zoom does not report the zoom")
	}
	before := m.View()
	onUI(func() { m.Pan(0.25, 0) })
	if v := m.View(); math.Abs((v.W-before.W)-0.25*(before.E-before.W)) > 1e-6 {
		t.Errorf("pan east by a quarter: west %g -> %g", before.W, v.W)
	}
	onUI(m.ZoomToWorld)
	if v := m.View(); v.S != -90 || v.N != 90 || v.W != -180 || v.E != 180 {
		t.Errorf("world view %+v", v)
	}
	if !nonBlank(m.Image()) {
		t.Error("world map blank")
	}
	onUI(m.ZoomToDomain)
	if v, zoomed := m.Zoom(); zoomed || v != dom {
		t.Errorf("domain view %+v (zoomed %v), want %+v", v, zoomed, dom)
	}

	// A drag from 60°N 50°W to 50°N 30°W picks that box as the target.
	from, to := m.positionOf(-50, 60), m.positionOf(-30, 50)
	onUI(func() {
		m.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: from.Add(fyne.NewDelta(1, 1))}, Dragged: fyne.NewDelta(1, 1)})
		m.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: to}, Dragged: fyne.NewDelta(to.X-from.X, to.Y-from.Y)})
		m.DragEnd()
	})
	await(t, events, "explained", 20*time.Second)
	tg := w.last.Selection.Target
	if tg.Kind == attribution.TargetCell || tg.Cells < 20 || math.Abs(tg.Box.N-60) > 1.1 || math.Abs(tg.Box.W+50) > 1.1 {
		t.Errorf("dragged box target %s (%d cells, box %+v)", tg.Spec, tg.Cells, tg.Box)
	}
	// Snapped to the edges of the cells it holds: the grid's centres are at odd latitudes and
	// even longitudes, so the edges are at even latitudes and odd longitudes, and the target
	// names them exactly.
	for e, odd := range map[float64]float64{tg.Box.S: 0, tg.Box.N: 0, tg.Box.W: 1, tg.Box.E: 1} {
		if math.Mod(math.Abs(e), 2) != odd {
			t.Errorf("dragged box %+v: %g is not a cell edge", tg.Box, e)
		}
	}
	if want := fmt.Sprintf("box:%g,%g,%g,%g", tg.Box.S, tg.Box.N, tg.Box.W, tg.Box.E); tg.Spec != want {
		t.Errorf("dragged box target %q, want %q", tg.Spec, want)
	}
	if want := "box " + spanLabel(dataset.LatLabel(tg.Box.S), dataset.LatLabel(tg.Box.N)) + ", " + spanLabel(dataset.LonLabel(tg.Box.W), dataset.LonLabel(tg.Box.E)); !strings.Contains(w.chart.title, want) || !strings.Contains(want, "°N, ") {
		t.Errorf("chart %q, want it to name %q", w.chart.title, want)
	}
}

// TestSessionRestoresView saves the view of one window (tiny two-lead card: lead 6, ig with 8
// steps, an earlier init, a box target, lag 4, zoomed, the input view) and loads it into a new
// window, which must show the same.
func TestSessionRestoresView(t *testing.T) {
	card := filepath.Join("..", "inference", "testdata", "tiny.toml")
	w, events, _ := openedWindow(t, card)
	onUI(func() { w.lead.SetSelected("6") })
	await(t, events, "explained", 20*time.Second)
	init := w.ws.Inits(6)[2]
	onUI(func() {
		if err := w.ws.SetMethodParams("ig", map[string]string{"steps": "8"}); err != nil {
			t.Error(err)
		}
		if err := w.ws.SetInit(init); err != nil {
			t.Error(err)
		}
		w.syncControls()
		w.onMapBox(Box{S: 40, N: 50, W: -50, E: -30})
	})
	await(t, events, "explained", 20*time.Second)
	onUI(func() {
		w.lag.SetValue(4)
		w.view.SetSelected(viewInput)
		w.mapw.SetZoom(Box{S: 20, N: 60, W: -80, E: -20})
		w.compareEach.SetChecked(true)
		w.an.aggSamples.SetText("train:12")
		w.an.dmStride.SetText("6")
		w.an.dmMaxLag.SetText("11")
		w.an.aggFit.SetText("11")
		w.an.abRadii.SetText("0,500,near") // not valid: left out, the tab's default comes back
		w.an.abLags.SetText("3,12")
		w.mv.chosen = []string{"ixg", "lrp-epsilon"}
	})
	path := filepath.Join(t.TempDir(), "view"+app.SessionExt)
	onUI(func() { w.SaveSession(path) })
	await(t, events, "session-saved", 10*time.Second)
	want := w.sessionState()

	w2, events2 := testWindow(t)
	onUI(func() { w2.LoadSession(path) })
	await(t, events2, "opened", 20*time.Second)
	await(t, events2, "explained", 20*time.Second)
	got := w2.sessionState()
	abs, _ := filepath.Abs(card)
	if got.Card != abs || got.Lead != 6 || got.Method != "ig" || got.Params["steps"] != "8" || got.Init != init.String() ||
		got.Target != want.Target || got.Lag != 4 || got.View != "input" || got.Zoom == nil || *got.Zoom != *want.Zoom ||
		got.CompareScale != "lead" || !w2.compareEach.Checked {
		t.Errorf("restored %+v\nwant %+v", got, want)
	}
	if !slices.Equal(w2.mv.chosen, []string{"ixg", "lrp-epsilon"}) || !slices.Equal(got.CompareMethods, w2.mv.chosen) {
		t.Errorf("methods to compare restored: %v (session %v)", w2.mv.chosen, got.CompareMethods)
	}
	if a := w2.an; a.aggSamples.Text != "train:12" || a.dmStride.Text != "6" || a.dmMaxLag.Text != "11" || a.aggFit.Text != "11" ||
		a.abLags.Text != "3,12" || a.abRadii.Text != "0,250,500,1000,2000,inf" || a.dmSamples.Text != "test:6" {
		t.Errorf("analysis settings restored: aggregate %q, decay map %q stride %q max lag %q, ablation radii %q lags %q",
			a.aggSamples.Text, a.dmSamples.Text, a.dmStride.Text, a.dmMaxLag.Text, a.abRadii.Text, a.abLags.Text)
	}
	if w2.lead.Selected != "6" || w2.method.Selected != "ig" || w2.init.Text != init.String() || w2.curLag != 4 ||
		w2.view.Selected != viewInput || w2.params.Disabled() {
		t.Errorf("controls: lead %s method %s init %s lag %d view %s", w2.lead.Selected, w2.method.Selected, w2.init.Text, w2.curLag, w2.view.Selected)
	}
	if r := w2.last.Result; r.Method != "ig" || !strings.Contains(r.Params.String(), "steps=8") {
		t.Errorf("explained %s %s", r.Method, r.Params)
	}
	if c := w2.last.Result.Completeness; !strings.Contains(w2.status.Text, fmt.Sprintf("Σ attribution %.4g, expected %.4g", c.Sum, c.Expected)) ||
		c.Relative <= 0.01 && strings.Contains(w2.status.Text, "raise steps") {
		t.Errorf("status %q does not report IG's completeness (%+v)", w2.status.Text, *c)
	}
	if len(w2.prefs.recentSessions()) == 0 || w2.prefs.recentSessions()[0] != path {
		t.Errorf("recent sessions %v", w2.prefs.recentSessions())
	}

	// A session for another grid's data: the window says what is wrong and stays as it was.
	bad := filepath.Join(t.TempDir(), "bad"+app.SessionExt)
	b, _ := os.ReadFile(path)
	os.WriteFile(bad, []byte(strings.Replace(string(b), `"lag": 4`, `"lag": 99`, 1)), 0o644)
	onUI(func() { w2.LoadSession(bad) })
	await(t, events2, "session-failed", 10*time.Second)
	if !strings.Contains(w2.status.Text, "lag") || w2.curLag != 4 {
		t.Errorf("bad session: status %q, lag %d", w2.status.Text, w2.curLag)
	}
	os.WriteFile(bad, []byte("not json"), 0o644)
	onUI(func() { w2.LoadSession(bad) })
	await(t, events2, "session-failed", 10*time.Second)
	if !strings.Contains(w2.status.Text, "not a climxai session") || len(w2.Win.Canvas().Overlays().List()) == 0 {
		t.Errorf("garbage session: status %q", w2.status.Text)
	}
}

// TestPreferences sets the colour scale (the maps follow at once) and the threads (the
// workspace is reopened with them, keeping the view), and checks the recent-files menu.
func TestPreferences(t *testing.T) {
	w, events, data := openedWindow(t, randomCard)
	onUI(func() { test.TapAt(w.mapw, w.mapw.CellPosition(17, 25)) })
	await(t, events, "explained", 20*time.Second)
	onUI(func() { w.SetPreferences(inference.Options{Device: inference.CPU, Threads: 1}, "sequential") })
	await(t, events, "preferences", time.Second)
	var scale, stored string
	onUI(func() { scale, stored = w.mapw.Scale().Map.Name, w.prefs.scale() }) // the reopening runs meanwhile
	if scale != "viridis" || stored != "sequential" {
		t.Errorf("scale %q, stored %q", scale, stored)
	}
	await(t, events, "opened", 20*time.Second)
	await(t, events, "explained", 20*time.Second)
	if w.ws.Options.Threads != 1 || w.prefs.options().Threads != 1 {
		t.Errorf("threads: workspace %d, stored %d", w.ws.Options.Threads, w.prefs.options().Threads)
	}
	if s := w.last.Selection.Target; s.Row != 17 || s.Col != 25 {
		t.Errorf("after reopening the target is (%d, %d)", s.Row, s.Col)
	}
	r := w.prefs.recent()
	if len(r) != 1 || !slices.Equal(r[0].Data, []string{data}) {
		t.Errorf("recent %v", r)
	}
	menu := w.Win.MainMenu().Items[0]
	found := false
	for _, it := range menu.Items {
		if it.Label == "Open recent" && it.ChildMenu != nil && len(it.ChildMenu.Items) == 1 && strings.Contains(it.ChildMenu.Items[0].Label, "sst.nc") {
			found = true
		}
	}
	if !found {
		t.Error("no recent entry in File > Open recent")
	}
}
