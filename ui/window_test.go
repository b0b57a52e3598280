package ui

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/dataset/synth"
	"climxai/inference"
	"climxai/plots"
)

// randomCard is the card over the random-weight 2° reference DenseNet (attribution tests').
var randomCard = filepath.Join("..", "attribution", "testdata", "random2deg.toml")

// synthFile writes 4 years of synthetic 2° SST to a temporary NetCDF file.
func synthFile(t *testing.T) string {
	t.Helper()
	res, err := synth.Generate(context.Background(), synth.Config{Years: 4, Grid: 2, Seed: 11}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sst.nc")
	if err := dataset.WriteSeries(path, res.SST, map[string]string{"title": "ui test"}); err != nil {
		t.Fatal(err)
	}
	return path
}

// testWindow is a main window on the headless test driver whose events arrive on a channel.
func testWindow(t *testing.T) (*Window, chan string) {
	t.Helper()
	a := test.NewTempApp(t)
	w := NewWindow(a, inference.Options{Device: inference.CPU, Threads: 2})
	events := make(chan string, 16)
	w.notify = func(e string) { events <- e }
	// The test driver runs fyne.Do's function on the worker goroutine: serialise it with the
	// test's own UI actions (onUI), as the real driver's one UI goroutine does.
	w.do = func(f func()) {
		uiMu.Lock()
		defer uiMu.Unlock()
		f()
	}
	w.Win.Resize(fyne.NewSize(1240, 760))
	w.Win.Show()
	t.Cleanup(func() { w.Win.Close() })
	return w, events
}

// openedWindow is testWindow with card opened on a fresh synthetic file (returned) and the
// default cell explained.
func openedWindow(t *testing.T, card string) (*Window, chan string, string) {
	t.Helper()
	w, events := testWindow(t)
	data := synthFile(t)
	onUI(func() { w.Open(card, []string{data}) })
	await(t, events, "opened", 20*time.Second)
	await(t, events, "explained", 20*time.Second)
	return w, events, data
}

// uiMu stands for the UI goroutine in tests: worker hand-offs (Window.do) and the test's
// actions while a job may run (onUI) hold it.
var uiMu sync.Mutex

// onUI runs f as if on the UI goroutine.
func onUI(f func()) {
	uiMu.Lock()
	defer uiMu.Unlock()
	f()
}

// await waits for the next event (which also orders the worker's UI changes before the test's
// reads) and checks it is want.
func await(t *testing.T, events chan string, want string, timeout time.Duration) {
	t.Helper()
	select {
	case e := <-events:
		if e != want {
			t.Fatalf("event %q, want %q", e, want)
		}
	case <-time.After(timeout):
		t.Fatalf("no %q within %v", want, timeout)
	}
}

// TestTapExplainsCell opens the random-weight 2° DenseNet on synthetic data, waits for the
// default cell's explanation, taps an ocean cell on the map and checks that it becomes the
// target, that its saliency lands on the map and in the lag chart, and logs the click-to-heatmap
// latency.
func TestTapExplainsCell(t *testing.T) {
	w, events, _ := openedWindow(t, randomCard) // the default cell explained; builds the backward graph
	if !strings.Contains(w.Win.Title(), "random weights") {
		t.Errorf("title %q", w.Win.Title())
	}
	if len(w.chart.Values()) != 36 {
		t.Fatalf("default explanation: %d bars", len(w.chart.Values()))
	}
	first := w.lastLatency
	if !hasColor(w.mapw.Image(), markerInner) {
		t.Error("the map does not mark the default cell")
	}

	// 39°N 50°W: row 17, col 25 of the 2° grid, open ocean.
	row, col := 17, 25
	if !w.ws.Prepared.Ocean[row*63+col] {
		t.Fatal("test cell is land")
	}
	pos := w.mapw.CellPosition(row, col)
	if c, ok := w.mapw.CellAt(pos); !ok || c.Row != row || c.Col != col {
		t.Fatalf("CellAt(CellPosition(%d, %d)) = %+v, %v", row, col, c, ok)
	}
	test.MoveMouse(w.Win.Canvas(), w.mapw.Position().Add(pos))
	w.mapw.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: pos}})
	if h := w.mapw.HoverText(); !strings.Contains(h, "39.0°N 50.0°W") {
		t.Errorf("hover %q, want 39.0°N 50.0°W", h)
	}

	var lat, paint, method []time.Duration
	for i := range 5 {
		r, c := row, col+i
		start := time.Now()
		onUI(func() { test.TapAt(w.mapw, w.mapw.CellPosition(r, c)) })
		await(t, events, "explained", 10*time.Second)
		lat = append(lat, time.Since(start))
		method = append(method, w.last.Result.Duration)
		img := w.Win.Canvas().Capture() // the frame the user would see, drawn by the software painter
		paint = append(paint, time.Since(start))
		sel := w.ws.Selection()
		if sel.Target.Row != r || sel.Target.Col != c {
			t.Fatalf("tap on (%d, %d) selected (%d, %d)", r, c, sel.Target.Row, sel.Target.Col)
		}
		if w.last.Selection.Target.Row != r || w.last.Selection.Target.Col != c {
			t.Fatalf("explanation of (%d, %d)", w.last.Selection.Target.Row, w.last.Selection.Target.Col)
		}
		if !nonBlank(img) {
			t.Error("captured window is blank")
		}
	}

	vals := w.chart.Values()
	var sum float64
	for _, v := range vals {
		sum += v
	}
	if len(vals) != 36 || math.Abs(sum-1) > 1e-6 {
		t.Fatalf("lag chart: %d bars summing to %g", len(vals), sum)
	}
	// The distance chart: shares of importance in rings around the target, summing to 1.
	var dsum float64
	for _, v := range w.dist.Values() {
		dsum += v
	}
	if len(w.dist.Values()) < 10 || math.Abs(dsum-1) > 1e-6 {
		t.Errorf("distance chart: %d bars summing to %g", len(w.dist.Values()), dsum)
	}
	f, ok := w.mapw.Field()
	if !ok || w.view.Selected != viewAttribution || !strings.Contains(f.Title, "saliency attribution") {
		t.Fatalf("map shows %q (view %s)", f.Title, w.view.Selected)
	}
	if maxAbs(f.Values) == 0 {
		t.Error("attribution map at lag 0 is all zero")
	}
	if !hasColor(w.mapw.Image(), markerInner) {
		t.Error("the map does not mark the clicked cell")
	}

	// The forecast views: the forecast, the observed month and their difference.
	fc := w.last.Forecast
	for _, v := range []struct{ view, title string }{{viewPrediction, "forecast of"}, {viewTruth, "Observed"}, {viewError, "RMS"}} {
		onUI(func() { w.view.SetSelected(v.view) })
		f, ok := w.mapw.Field()
		if !ok || !strings.Contains(f.Title, v.title) {
			t.Fatalf("%s view shows %q", v.view, f.Title)
		}
		want := map[string][]float32{viewPrediction: fc.Prediction, viewTruth: fc.Truth, viewError: fc.Error}[v.view]
		if &f.Values[0] != &want[0] || maxAbs(f.Values) == 0 {
			t.Errorf("%s view draws other values (max |v| %g)", v.view, maxAbs(f.Values))
		}
	}
	onUI(func() { w.view.SetSelected(viewAttribution) })

	// The lag slider moves the map and the chart's highlight.
	w.lag.SetValue(5)
	if f, _ := w.mapw.Field(); !strings.Contains(f.Title, "lag 5") {
		t.Errorf("after the slider: %q", f.Title)
	}
	// Play steps the lag; pressing it again stops.
	onUI(w.togglePlay)
	var lag int
	for deadline := time.Now().Add(5 * time.Second); lag < 7 && time.Now().Before(deadline); {
		time.Sleep(lagStep / 4)
		onUI(func() { lag = w.curLag })
	}
	onUI(func() { w.togglePlay(); lag = w.curLag })
	time.Sleep(lagStep * 3 / 2)
	var after int
	onUI(func() { after = w.curLag })
	if lag < 7 || w.chart.current != lag || after != lag {
		t.Errorf("play: lag %d (want >= 7 within 5 s), chart at %d, %d after stopping", lag, w.chart.current, after)
	}
	onUI(func() { w.lag.SetValue(5) })
	// A named box from the target selector, then a click back to a cell.
	onUI(func() { w.target.SetSelected("spg") })
	await(t, events, "explained", 10*time.Second)
	if w.last.Selection.Target.Name != "spg" || !strings.Contains(w.chart.title, "spg") {
		t.Errorf("after choosing spg: target %q, chart %q", w.last.Selection.Target.Name, w.chart.title)
	}
	onUI(func() { test.TapAt(w.mapw, w.mapw.CellPosition(row, col)) })
	await(t, events, "explained", 10*time.Second)
	if w.target.Selected != targetCell || w.last.Selection.Target.Name != "" {
		t.Errorf("after a click: selector %q, target %q", w.target.Selected, w.last.Selection.Target.Name)
	}

	// Save the figure of the last explanation: the figure, its result file and its sidecar.
	fig := filepath.Join(t.TempDir(), "fig.png")
	onUI(func() { w.SaveFigure(fig) })
	await(t, events, "saved", 20*time.Second)
	for _, p := range []string{fig, strings.TrimSuffix(fig, ".png") + ".nc", fig + ".json"} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("after SaveFigure: %v", err)
		}
	}

	t.Logf("saliency, random-weight 2° DenseNet, CPU, 2 threads: first explanation (builds the backward graph) %v; "+
		"per click: tap to heatmap set %v, of which in the method %v; tap to frame captured %v", first, lat, method, paint)
}

// TestBadFilesShowADialog checks that files that cannot be opened leave the window usable.
func TestBadFilesShowADialog(t *testing.T) {
	w, events := testWindow(t)
	onUI(func() { w.Open("no-such-card.toml", []string{"no-such.nc"}) })
	await(t, events, "open-failed", 10*time.Second)
	if w.ws != nil {
		t.Fatal("workspace set after a failed open")
	}
	if !strings.Contains(w.status.Text, "no-such-card.toml") {
		t.Errorf("status %q does not name the card", w.status.Text)
	}
	if len(w.Win.Canvas().Overlays().List()) == 0 {
		t.Error("no error dialog shown")
	}
	if p := w.mapw.placeholder; !strings.HasPrefix(p, "Could not open") || !strings.Contains(p, OpenNote) {
		t.Errorf("the empty map says %q", p)
	}
	onUI(func() { w.Open(randomCard, []string{randomCard}) }) // a card where the data should be
	await(t, events, "open-failed", 10*time.Second)
	if !strings.Contains(w.status.Text, "not a NetCDF file") {
		t.Errorf("status %q", w.status.Text)
	}
}

// TestMapCanvasImage checks the field image: north up, land grey, the marker drawn.
func TestMapCanvasImage(t *testing.T) {
	test.NewTempApp(t)
	g := dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	vals := make([]float32, g.NLat*g.NLon)
	for i := range vals {
		vals[i] = float32(i/g.NLon) - 17 // negative in the south, positive in the north
	}
	vals[0] = float32(math.NaN())
	m := NewMapCanvas("")
	m.SetField(MapField{Grid: g, Values: vals})
	img := m.Image()
	b := img.Bounds()
	top := img.At(b.Dx()/2, 1)
	bottom := img.At(b.Dx()/2, b.Dy()-2)
	if r, _, bl, _ := top.RGBA(); r <= bl {
		t.Errorf("north (top) colour %v is not red", top)
	}
	if r, _, bl, _ := bottom.RGBA(); r >= bl {
		t.Errorf("south (bottom) colour %v is not blue", bottom)
	}
	k := b.Dx() / g.NLon
	if c := img.At(k/2, b.Dy()-k/2); c != image.Image(img).At(k/2, b.Dy()-k/2) || !isGrey(c) {
		t.Errorf("land cell colour %v", c)
	}
	if !nonBlank(img) {
		t.Error("blank image")
	}
}

func isGrey(c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r, g, b, _ := c.RGBA()
	return r == g && g == b
}

// hasColor reports whether some pixel of img is c.
func hasColor(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)) == c {
				return true
			}
		}
	}
	return false
}

// nonBlank reports whether img has more than one colour.
func nonBlank(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if img.At(x, y) != first {
				return true
			}
		}
	}
	return false
}

func TestMain(m *testing.M) {
	// Fyne logs a locale error under LANG=C (DESIGN.md's pitfalls).
	if os.Getenv("LANG") == "" || os.Getenv("LANG") == "C" {
		os.Setenv("LANG", "en_US.UTF-8")
	}
	os.Exit(m.Run())
}

// TestCancelStopsIG starts integrated gradients (4096 steps) and cancels it: the window must say
// so within a second and keep the last saliency result.
func TestCancelStopsIG(t *testing.T) {
	w, events, _ := openedWindow(t, randomCard)
	before := w.last

	var running bool
	onUI(func() {
		// IG with 4096 steps, seconds long however fast the engine gets, so that the job is
		// still running when Cancel comes.
		w.updating = true
		w.method.SetSelected("ig")
		w.updating = false
		if err := w.ws.SetMethodParams("ig", map[string]string{"steps": "4096"}); err != nil {
			t.Error(err)
		}
		w.Explain() // starts the job
		running = w.fg.busy()
	})
	if w.ws.Selection().Method != "ig" || !running {
		t.Fatalf("method %q, job running %v", w.ws.Selection().Method, running)
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	onUI(w.Cancel)
	select {
	case e := <-events:
		took := time.Since(start)
		if e != "cancelled" {
			t.Fatalf("event %q after Cancel, want cancelled (IG finished within 300 ms?)", e)
		}
		t.Logf("IG cancelled after %v", took)
		if took > time.Second {
			t.Errorf("cancel took %v, want < 1 s", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("IG not cancelled within 5 s")
	}
	if w.last != before || w.status.Text != "cancelled" {
		t.Errorf("after cancel: status %q, last explanation replaced %v", w.status.Text, w.last != before)
	}
}

// TestLeadSelector switches the tiny two-lead card (inference/testdata/tiny.toml) from lead 1
// to lead 6 and checks the explanation follows.
func TestLeadSelector(t *testing.T) {
	w, events, _ := openedWindow(t, filepath.Join("..", "inference", "testdata", "tiny.toml"))
	if got := w.lead.Options; len(got) != 2 || got[0] != "1" || got[1] != "6" || w.last.Selection.Lead != 1 {
		t.Fatalf("lead options %v, first explanation at lead %d", got, w.last.Selection.Lead)
	}
	onUI(func() { w.lead.SetSelected("6") })
	await(t, events, "explained", 20*time.Second)
	if w.last.Selection.Lead != 6 || !strings.Contains(w.chart.title, "lead\u00a06") {
		t.Errorf("after choosing lead 6: explanation at lead %d, chart %q", w.last.Selection.Lead, w.chart.title)
	}
	inits := w.ws.Inits(6)
	if w.init.Text != inits[len(inits)-1].String() {
		t.Errorf("init entry %q, want the latest init at lead 6 %s", w.init.Text, inits[len(inits)-1])
	}

	// The init entry: a month the data do not allow is refused with a message, a valid one runs.
	onUI(func() { w.init.SetText("0001-01"); w.init.OnSubmitted(w.init.Text) })
	if !strings.Contains(w.status.Text, "init") || w.ws.Selection().Init == mustMonth(t, "0001-01") {
		t.Errorf("bad init accepted: status %q", w.status.Text)
	}
	onUI(func() { w.init.SetText(inits[0].String()); w.init.OnSubmitted(w.init.Text) })
	await(t, events, "explained", 20*time.Second)
	if w.last.Selection.Init != inits[0] {
		t.Errorf("explanation from init %s, want %s", w.last.Selection.Init, inits[0])
	}

	// Compare leads: opening the tab explains the selection at leads 1 and 6, one colour scale.
	onUI(func() { w.tabs.SelectIndex(tabIndex("compare")) })
	await(t, events, "explained", 20*time.Second)
	if len(w.leadsLast) != 2 || len(w.compareMaps) != 2 {
		t.Fatalf("%d explanations, %d maps", len(w.leadsLast), len(w.compareMaps))
	}
	f1, ok1 := w.compareMaps[0].Field()
	f6, ok6 := w.compareMaps[1].Field()
	if !ok1 || !ok6 || f1.Limit != f6.Limit || f1.Limit <= 0 || !strings.Contains(f6.Title, "lead 6") {
		t.Errorf("compare maps: %q limit %g, %q limit %g", f1.Title, f1.Limit, f6.Title, f6.Limit)
	}
	// Each lead on its own scale: every map's limit is its own explanation's largest |value|.
	onUI(func() { w.compareEach.SetChecked(true) })
	for i, m := range w.compareMaps {
		f, _ := m.Field()
		if want := maxAbs(w.leadsLast[i].Result.Values); f.Limit != want {
			t.Errorf("own scale: lead %d map limit %g, want %g", w.leadsLast[i].Selection.Lead, f.Limit, want)
		}
	}
	onUI(func() { w.compareEach.SetChecked(false) })
	// A click in the comparison explains the new cell at both leads.
	onUI(func() { test.TapAt(w.compareMaps[1], w.compareMaps[1].CellPosition(17, 25)) })
	await(t, events, "explained", 20*time.Second)
	for _, ex := range w.leadsLast {
		if ex.Selection.Target.Row != 17 || ex.Selection.Target.Col != 25 {
			t.Errorf("lead %d explained (%d, %d)", ex.Selection.Lead, ex.Selection.Target.Row, ex.Selection.Target.Col)
		}
	}
}

func mustMonth(t *testing.T, s string) dataset.Month {
	t.Helper()
	m, err := dataset.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// findButton returns the first button labelled text under o (nil if there is none).
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return b
	}
	var kids []fyne.CanvasObject
	switch c := o.(type) {
	case *fyne.Container:
		kids = c.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(c).Objects()
	}
	for _, k := range kids {
		if b := findButton(k, text); b != nil {
			return b
		}
	}
	return nil
}

// TestExport exports from the tiny two-lead card: the export dialog's defaults (a PDF map with
// result file and sidecar), a PDF of leads side by side (which runs the comparison first), the
// data as NetCDF, and the figure to the clipboard (the text fallback: the PNG's path).
func TestExport(t *testing.T) {
	w, events, _ := openedWindow(t, filepath.Join("..", "inference", "testdata", "tiny.toml"))
	dir := t.TempDir()
	w.lastExportDir = dir

	// The dialog with its defaults: a PDF of the map at the current lag.
	onUI(func() { w.lag.SetValue(3); w.showExportDialog() })
	overlay := w.Win.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("no export dialog")
	}
	exp := findButton(overlay, "Export")
	if exp == nil || exp.Disabled() {
		t.Fatalf("export button %v", exp)
	}
	onUI(func() { test.Tap(exp) })
	await(t, events, "saved", 20*time.Second)
	pdfs, _ := filepath.Glob(filepath.Join(dir, "climxai-map-*.pdf"))
	if len(pdfs) != 1 {
		t.Fatalf("exported %v", pdfs)
	}
	s, err := plots.ReadSpec(plots.SidecarPath(pdfs[0]))
	if err != nil || s.Kind != plots.KindMap || len(s.Lags) != 1 || s.Lags[0] != 3 || s.Preset != "agu1" {
		t.Errorf("sidecar %+v, %v", s, err)
	}

	// Leads side by side: the comparison runs first, then the figure over both leads.
	leads := filepath.Join(dir, "leads.pdf")
	onUI(func() {
		w.ExportFigure(leads, app.FigureOptions{Kind: plots.KindLeads, Lags: []int{0, 6}, Preset: "ams2"})
	})
	await(t, events, "saved", 30*time.Second)
	if len(w.leadsLast) != 2 {
		t.Errorf("comparison of %d leads kept", len(w.leadsLast))
	}
	for _, p := range []string{leads, plots.SidecarPath(leads), filepath.Join(dir, "leads-lead01.nc"), filepath.Join(dir, "leads-lead06.nc")} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("leads export: %v", err)
		}
	}

	// Data as NetCDF: the last explanation, read back.
	nc := filepath.Join(dir, "result.nc")
	onUI(func() { w.ExportData(nc) })
	await(t, events, "saved", 20*time.Second)
	af, err := dataset.ReadAttribution(nc)
	if err != nil {
		t.Fatal(err)
	}
	if af.Meta.Method != w.last.Result.Method || af.Meta.Lead != w.last.Selection.Lead || len(af.Values) != len(w.last.Result.Values) {
		t.Errorf("exported %s lead %d, %d values", af.Meta.Method, af.Meta.Lead, len(af.Values))
	}

	// The clipboard: without xclip or wl-copy, the PNG's path as text.
	t.Setenv("CLIMXAI_NO_CLIPBOARD_TOOLS", "1")
	onUI(w.CopyFigure)
	await(t, events, "copied", 20*time.Second)
	path := fyne.CurrentApp().Clipboard().Content()
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "\x89PNG") || !strings.Contains(w.status.Text, "text only") {
		t.Errorf("clipboard %q (%v), status %q", path, err, w.status.Text)
	}
	os.RemoveAll(filepath.Dir(path))
}

// TestCompletenessNote: the status line reports the completeness check of the methods that have
// one and tells what to do only when IG misses 1%.
func TestCompletenessNote(t *testing.T) {
	for _, tc := range []struct {
		method   string
		c        *attribution.Completeness
		say, not string
	}{
		{"saliency", nil, "", "Σ"},
		{"ig", &attribution.Completeness{Sum: 1.004, Expected: 1, Delta: 0.004, Relative: 0.004}, "(0.4% off)", "raise steps"},
		{"ig", &attribution.Completeness{Sum: 0.97, Expected: 1, Delta: -0.03, Relative: 0.03}, "(3% off): more than 1%, raise steps", ""},
		{"lrp-epsilon", &attribution.Completeness{Sum: 0.8, Expected: 1, Delta: -0.2, Relative: 0.2}, "expected 1 (20% off)", "raise steps"},
	} {
		got := completenessNote(&attribution.Result{Method: tc.method, Completeness: tc.c})
		if !strings.Contains(got, tc.say) || tc.not != "" && strings.Contains(got, tc.not) || tc.c == nil && got != "" {
			t.Errorf("%s %+v: %q", tc.method, tc.c, got)
		}
	}
}

// TestArrowKeysStepTheTarget: with the map focused, an arrow key explains the next ocean cell
// that way.
func TestArrowKeysStepTheTarget(t *testing.T) {
	w, events, _ := openedWindow(t, randomCard)
	before := w.last.Selection.Target
	onUI(func() { w.mapw.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp}) })
	await(t, events, "explained", 20*time.Second)
	if got := w.last.Selection.Target; got.Row <= before.Row || got.Col != before.Col {
		t.Errorf("up from row %d col %d: row %d col %d", before.Row, before.Col, got.Row, got.Col)
	}
	onUI(func() { w.mapw.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight}) })
	await(t, events, "explained", 20*time.Second)
	if got := w.last.Selection.Target; got.Col <= before.Col {
		t.Errorf("right: col %d, started at %d", got.Col, before.Col)
	}
	if m := w.mapw.marker; m.Row != w.last.Selection.Target.Row || m.Col != w.last.Selection.Target.Col {
		t.Errorf("marker at (%d, %d), target (%d, %d)", m.Row, m.Col, w.last.Selection.Target.Row, w.last.Selection.Target.Col)
	}
}

// TestIndexEmulatorWindow opens an index emulator (resources/emulators/index, its card's
// anomaly period set to the test data's years): the window starts on the region, outlined and
// named in the target selector, the hint under the map says what it forecasts, and a tap outside
// the region says why nothing is explained.
func TestIndexEmulatorWindow(t *testing.T) {
	dir := filepath.Join("..", "resources", "emulators", "index")
	text, err := os.ReadFile(filepath.Join(dir, "card.toml"))
	if err != nil {
		t.Fatal(err)
	}
	model, _ := filepath.Abs(filepath.Join(dir, "lead06.onnx"))
	card := filepath.Join(t.TempDir(), "card.toml")
	edited := strings.NewReplacer(`"0001-01/0800-12"`, `"0001-01/0004-12"`, `file = "lead06.onnx"`, fmt.Sprintf("file = %q", model)).Replace(string(text))
	if err := os.WriteFile(card, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	w, events, _ := openedWindow(t, card)
	onUI(func() {
		if w.target.Selected != "spg" || w.mapw.box == nil {
			t.Errorf("target selector %q, box outlined %v; want the spg region", w.target.Selected, w.mapw.box != nil)
		}
		if !strings.Contains(w.mapw.Hint, "forecasts the spg index") {
			t.Errorf("hint %q", w.mapw.Hint)
		}
		test.TapAt(w.mapw, w.mapw.CellPosition(17, 25)) // 39°N 50°W, south of the region
		if s := w.status.Text; !strings.Contains(s, "outside the spg region") {
			t.Errorf("status after a tap outside the region: %q", s)
		}
	})
	select {
	case e := <-events:
		t.Errorf("a tap outside the region started %q", e)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestMultiVarWindow opens the emulator of SST and subsurface temperature: a variable selector
// appears beside Show, the attribution and input maps follow it, and the lag chart holds every
// variable's importance.
func TestMultiVarWindow(t *testing.T) {
	card, data := multivarFixture(t, t.TempDir())
	w, events := testWindow(t)
	onUI(func() { w.Open(card, []string{data}) })
	await(t, events, "opened", 20*time.Second)
	await(t, events, "explained", 20*time.Second)
	onUI(func() {
		if !w.variable.Visible() || strings.Join(w.variable.Options, ",") != "sst,tsub" || w.variable.Selected != "sst" {
			t.Fatalf("variable selector visible %v, options %v, selected %q", w.variable.Visible(), w.variable.Options, w.variable.Selected)
		}
		r := w.last.Result
		n := 35 * 63
		var want []float64
		for k := range r.Lags {
			var s float64
			for v := range 2 {
				for _, x := range r.Block(v)[k*n : (k+1)*n] {
					if x == x {
						s += math.Abs(float64(x))
					}
				}
			}
			want = append(want, s)
		}
		var tot float64
		for _, s := range want {
			tot += s
		}
		for k, got := range w.last.LagImportance {
			if math.Abs(got-want[k]/tot) > 1e-9 {
				t.Fatalf("lag chart at lag %d: %g, want %g (both variables)", k, got, want[k]/tot)
			}
		}
		if !strings.Contains(w.chart.title, "Importance per lag of sst\u00a0+\u00a0tsub") {
			t.Errorf("lag chart title %q does not say it sums both variables", w.chart.title)
		}
		w.view.SetSelected(viewAttribution)
		w.variable.SetSelected("tsub")
		f, ok := w.mapw.Field()
		if !ok || !strings.Contains(f.Title, "tsub (") || !strings.Contains(f.Title, "% of Σ|attribution|), lag 0") ||
			&f.Values[0] != &r.Block(1)[0] || f.Limit != maxAbs(r.Block(1)) {
			t.Errorf("attribution map after choosing tsub: %q", f.Title)
		}
		w.view.SetSelected(viewInput)
		f, _ = w.mapw.Field()
		in, err := w.ws.InputOf(w.ws.Selection().Init, 0, 1)
		if err != nil || !strings.Contains(f.Title, "Input tsub anomaly") || f.Values[100] != in[100] {
			t.Errorf("input map after choosing tsub: %q, %v", f.Title, err)
		}
		sst, _ := w.ws.Input(w.ws.Selection().Init, 0)
		if sst[100] == in[100] {
			t.Errorf("the tsub input equals the sst input at a cell: %g", in[100])
		}
	})
}

// multivarFixture writes into dir the several-variable fixture's card (its anomaly period cut
// to the 4 synthetic years of the window tests) and 4 years of synthetic sst and tsub in one
// file.
func multivarFixture(t *testing.T, dir string) (card, data string) {
	t.Helper()
	fixture := filepath.Join("..", "resources", "emulators", "multivar")
	text, err := os.ReadFile(filepath.Join(fixture, "card.toml"))
	if err != nil {
		t.Fatal(err)
	}
	model, _ := filepath.Abs(filepath.Join(fixture, "lead09.onnx"))
	card = filepath.Join(dir, "card.toml")
	edited := strings.NewReplacer(`"0001-01/0800-12"`, `"0001-01/0004-12"`, `file = "lead09.onnx"`, fmt.Sprintf("file = %q", model)).Replace(string(text))
	if err := os.WriteFile(card, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := synth.Generate(context.Background(), synth.Config{Years: 4, Grid: 2, Seed: 11, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "sst_tsub.nc")
	if err := res.WriteNetCDF(data, nil); err != nil {
		t.Fatal(err)
	}
	return card, data
}

// TestSeparateDataFiles opens the several-variable emulator on sst and tsub stored in files of
// their own: the sst file alone says how to add tsub, Add data file… adds it (the workspace then
// holds what one file of both gives), and a saved session restores both files and the variable
// the map shows.
func TestSeparateDataFiles(t *testing.T) {
	tmp := t.TempDir()
	card, both := multivarFixture(t, tmp)
	var paths []string
	for _, v := range []string{"sst", "tsub"} {
		s, err := dataset.Open(both, dataset.OpenOptions{Var: v, Raw: v != "sst"})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(tmp, v+".nc"))
		if err := dataset.WriteSeries(paths[len(paths)-1], s, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, events := testWindow(t)
	onUI(func() { w.Open(card, paths[:1]) })
	await(t, events, "open-failed", 20*time.Second)
	var top fyne.CanvasObject
	onUI(func() { top = w.Win.Canvas().Overlays().Top() })
	said := ""
	for _, o := range test.LaidOutObjects(top) {
		if l, ok := o.(*widget.Label); ok {
			said += l.Text
		}
	}
	if !strings.Contains(w.status.Text, `"tsub"`) || !strings.Contains(said, "File > Add data file") {
		t.Errorf("the sst file alone: status %q, dialog %q", w.status.Text, said)
	}
	onUI(func() { top.Hide(); w.AddData(paths[1]) })
	await(t, events, "opened", 20*time.Second)
	await(t, events, "explained", 20*time.Second)
	c, err := inference.LoadCard(card)
	if err != nil {
		t.Fatal(err)
	}
	one, err := c.Prepare(both)
	if err != nil {
		t.Fatal(err)
	}
	p := w.ws.Prepared
	same := func(a, b []float32) bool { // NaN on land
		return slices.EqualFunc(a, b, func(x, y float32) bool { return x == y || x != x && y != y })
	}
	if !slices.Equal(w.ws.DataPaths, paths) || len(p.Extra) != 1 || !same(p.Series.Values, one.Series.Values) ||
		!same(p.Extra[0].Series.Values, one.Extra[0].Series.Values) {
		t.Fatalf("data %v: the two files' inputs differ from one file's", w.ws.DataPaths)
	}
	onUI(func() { w.AddData(paths[1]) })
	if !strings.Contains(w.status.Text, "is open already") || w.opening {
		t.Errorf("adding an open file again: %q", w.status.Text)
	}

	onUI(func() { w.variable.SetSelected("tsub") })
	session := filepath.Join(tmp, "view"+app.SessionExt)
	onUI(func() { w.SaveSession(session) })
	await(t, events, "session-saved", 10*time.Second)
	b, _ := os.ReadFile(session)
	for _, want := range []string{`"version": 2`, `"data": "sst.nc"`, `"data_more": [` + "\n" + `    "tsub.nc"`, `"variable": "tsub"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("session file lacks %s:\n%s", want, b)
		}
	}
	w2, events2 := testWindow(t)
	onUI(func() { w2.LoadSession(session) })
	await(t, events2, "opened", 20*time.Second)
	await(t, events2, "explained", 20*time.Second)
	onUI(func() {
		if !slices.Equal(w2.ws.DataPaths, paths) || w2.variable.Selected != "tsub" || w2.curVar != 1 {
			t.Errorf("restored data %v, variable %q (%d)", w2.ws.DataPaths, w2.variable.Selected, w2.curVar)
		}
		if f, ok := w2.mapw.Field(); !ok || !strings.Contains(f.Title, "tsub") {
			t.Errorf("restored map %q", f.Title)
		}
	})
	if r := w2.prefs.recent(); len(r) == 0 || !slices.Equal(r[0].Data, paths) {
		t.Errorf("recent %v", r)
	}
	label := ""
	onUI(func() {
		for _, it := range w2.Win.MainMenu().Items[0].Items {
			if it.Label == "Open recent" && it.ChildMenu != nil && len(it.ChildMenu.Items) > 0 {
				label = it.ChildMenu.Items[0].Label
			}
		}
	})
	if label != "card.toml + sst.nc and 1 more data file" {
		t.Errorf("File > Open recent shows %q", label)
	}
	// A session of the same files showing sst, opened where tsub is shown, brings sst back.
	onUI(func() { w.variable.SetSelected("sst") })
	first := filepath.Join(tmp, "first"+app.SessionExt)
	onUI(func() { w.SaveSession(first) })
	await(t, events, "session-saved", 10*time.Second)
	onUI(func() { w2.LoadSession(first) })
	await(t, events2, "explained", 20*time.Second)
	onUI(func() {
		if w2.variable.Selected != "sst" || w2.curVar != 0 {
			t.Errorf("after a session showing sst: variable %q (%d)", w2.variable.Selected, w2.curVar)
		}
	})

	// tsub split into two files of two years: the second alone is too short for a window, and
	// the dialog says to add the other.
	ts, err := dataset.Open(paths[1], dataset.OpenOptions{Var: "tsub", Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	var halves []string
	for k := range 2 {
		h := *ts
		h.Start, h.N = ts.Start+dataset.Month(24*k), 24
		h.Values = ts.Values[24*k*ts.Grid.Size() : 24*(k+1)*ts.Grid.Size()]
		halves = append(halves, filepath.Join(tmp, fmt.Sprintf("tsub_%d.nc", k)))
		if err := dataset.WriteSeries(halves[k], &h, nil); err != nil {
			t.Fatal(err)
		}
	}
	w3, events3 := testWindow(t)
	onUI(func() { w3.Open(card, []string{paths[0], halves[1]}) })
	await(t, events3, "open-failed", 20*time.Second)
	said = ""
	onUI(func() { top = w3.Win.Canvas().Overlays().Top() })
	for _, o := range test.LaidOutObjects(top) {
		if l, ok := o.(*widget.Label); ok {
			said += l.Text
		}
	}
	if !strings.Contains(said, "too few months") || !strings.Contains(said, "needs them all") {
		t.Errorf("half of tsub: dialog %q", said)
	}
	// File > Add data files matching… with the pattern of both halves adds the missing one.
	onUI(func() { top.Hide(); w3.chooseDataPattern() })
	await(t, events3, "pattern-dialog", 10*time.Second)
	var add *widget.Button
	said = ""
	onUI(func() {
		top = w3.Win.Canvas().Overlays().Top()
		for _, o := range test.LaidOutObjects(top) {
			if e, ok := o.(*widget.Entry); ok {
				if !strings.HasSuffix(e.Text, "*.nc") {
					t.Errorf("the pattern starts as %q, want every .nc file beside the data", e.Text)
				}
				e.SetText(filepath.Join(tmp, "tsub_*.nc"))
			}
		}
		for _, o := range test.LaidOutObjects(top) {
			switch o := o.(type) {
			case *widget.Label:
				said += o.Text + "|"
			case *widget.Button:
				if o.Text == "Add" {
					add = o
				}
			}
		}
	})
	if !strings.Contains(said, "2 files: tsub_0.nc, tsub_1.nc (1 open already)") || add == nil {
		t.Fatalf("pattern dialog says %q (Add button found: %v)", said, add != nil)
	}
	onUI(func() { test.Tap(add) })
	await(t, events3, "opened", 20*time.Second)
	await(t, events3, "explained", 20*time.Second)
	if e := w3.ws.Prepared.Extra[0].Series; !same(e.Values, one.Extra[0].Series.Values) {
		t.Errorf("tsub joined from two halves differs from one file's")
	}
	if want := []string{paths[0], halves[1], halves[0]}; !slices.Equal(w3.ws.DataPaths, want) {
		t.Errorf("data after the pattern %q, want %q", w3.ws.DataPaths, want)
	}
	if files, text := matchData(filepath.Join(tmp, "nothing_*.nc"), nil); files != nil || !strings.Contains(text, "no file matches") {
		t.Errorf("a pattern matching nothing: %q %q", files, text)
	}
	// File > About the open data… says where each variable came from and how it was joined.
	onUI(func() { w3.showDataReport() })
	await(t, events3, "data-report", 10*time.Second)
	said = ""
	onUI(func() {
		for _, o := range test.LaidOutObjects(w3.Win.Canvas().Overlays().Top()) {
			if l, ok := o.(*widget.Label); ok {
				said += l.Text
			}
		}
	})
	for _, want := range []string{"card: " + card, "sst: 0001-01 to 0004-12 (48 months) from " + paths[0],
		"tsub: 0001-01 to 0004-12 (48 months) from " + halves[0] + " + " + halves[1], "note: tsub joined from 2 files: 0001-01 to 0004-12",
		"ocean cells: "} {
		if !strings.Contains(said, want) {
			t.Errorf("the data report lacks %q:\n%s", want, said)
		}
	}
}
