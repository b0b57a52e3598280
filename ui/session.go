package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/attribution"
	"climxai/inference"
)

// Tab names as sessions store them, in the order of the window's tabs.
var tabNames = app.SessionTabs

// buildMenu sets the window's main menu: File (open, recent files, sessions, preferences) and
// Export. It is rebuilt when the recent lists change.
func (w *Window) buildMenu() {
	recent := fyne.NewMenuItem("Open recent", nil)
	var items []*fyne.MenuItem
	for _, r := range w.prefs.recent() {
		label := filepath.Base(r.Card) + " + " + filepath.Base(r.Data[0])
		if n := len(r.Data) - 1; n > 0 { // CMIP's files of one variable or period each: keep it short
			label += fmt.Sprintf(" and %d more data file%s", n, map[bool]string{true: "s"}[n > 1])
		}
		items = append(items, fyne.NewMenuItem(label, func() { w.Open(r.Card, r.Data) }))
	}
	for _, s := range w.prefs.recentSessions() {
		items = append(items, fyne.NewMenuItem("session "+filepath.Base(s), func() { w.LoadSession(s) }))
	}
	if len(items) == 0 {
		none := fyne.NewMenuItem("(nothing opened yet)", nil)
		none.Disabled = true
		items = append(items, none)
	}
	recent.ChildMenu = fyne.NewMenu("", items...)
	file := fyne.NewMenu("File",
		fyne.NewMenuItem("Open card…", w.chooseCard),
		fyne.NewMenuItem("Open data…", w.chooseData),
		fyne.NewMenuItem("Add data file…", w.chooseMoreData),
		fyne.NewMenuItem("Add data files matching…", w.chooseDataPattern),
		fyne.NewMenuItem("About the open data…", w.showDataReport),
		recent,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Open session…", w.chooseSessionToLoad),
		fyne.NewMenuItem("Save session…", w.chooseSessionToSave),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Preferences…", w.showPreferences))
	figure := fyne.NewMenuItem("Figure (PDF, PNG, SVG, EPS)…", w.showExportDialog)
	copyFig := fyne.NewMenuItem("Copy figure to clipboard", w.CopyFigure)
	figure.Shortcut, copyFig.Shortcut = exportShortcut, copyShortcut
	export := fyne.NewMenu("Export", figure, fyne.NewMenuItem("Data as NetCDF…", w.chooseExportData), copyFig)
	w.Win.SetMainMenu(fyne.NewMainMenu(file, export))
	// The menu shows the shortcuts; the canvas makes them work whatever has the focus.
	w.Win.Canvas().AddShortcut(exportShortcut, func(fyne.Shortcut) { w.showExportDialog() })
	w.Win.Canvas().AddShortcut(copyShortcut, func(fyne.Shortcut) { w.CopyFigure() })
}

// Keyboard shortcuts: Ctrl+E exports the figure, Ctrl+Shift+C copies it (Ctrl+C stays the text
// fields' copy).
var (
	exportShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}
	copyShortcut   = &desktop.CustomShortcut{KeyName: fyne.KeyC, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
)

// showOpenMenu pops up the open choices (with the recent files) under the Open button.
func (w *Window) showOpenMenu() {
	m := w.Win.MainMenu()
	if m == nil || len(m.Items) == 0 {
		return
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(w.open)
	if c == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(w.open).Add(fyne.NewPos(0, w.open.Size().Height))
	widget.ShowPopUpMenuAtPosition(m.Items[0], c, pos)
}

// sessionState is the whole view as a session.
func (w *Window) sessionState() app.Session {
	s := w.ws.Session()
	s.Lag = w.curLag
	s.View = "input"
	for _, v := range mapViews {
		if w.view.Selected == v.label {
			s.View = v.session
		}
	}
	s.Tab = tabNames[max(0, w.tabs.SelectedIndex())]
	if v, ok := w.mapw.Zoom(); ok {
		s.Zoom = &app.Extent{S: v.S, N: v.N, W: v.W, E: v.E}
	}
	s.CompareScale = "shared"
	if w.compareEach.Checked {
		s.CompareScale = "lead"
	}
	s.CompareMethods = slices.Clone(w.mv.chosen)
	if vars := w.ws.Card.Variables(); len(vars) > 1 {
		s.Variable = vars[min(w.curVar, len(vars)-1)]
	}
	v := &w.an
	num := func(e *widget.Entry) int {
		n, _ := strconv.Atoi(strings.TrimSpace(e.Text))
		return n
	}
	a := app.SessionAnalyses{
		AggregateSamples: strings.TrimSpace(v.aggSamples.Text), AggregateFitLag: num(v.aggFit),
		DecayMapSamples: strings.TrimSpace(v.dmSamples.Text), DecayMapStride: num(v.dmStride), DecayMapMaxLag: num(v.dmMaxLag),
		AblationSamples: strings.TrimSpace(v.abSamples.Text), AblationRadii: strings.TrimSpace(v.abRadii.Text), AblationLags: strings.TrimSpace(v.abLags.Text),
	}.Valid() // what is typed but not valid is left out: the session must read back
	s.Analyses = &a
	return s
}

func (w *Window) chooseSessionToSave() {
	if w.ws == nil {
		dialog.ShowInformation("Save session", "Open an emulator card and its data first: a session records them and the view.", w.Win)
		return
	}
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		wc.Close()
		p := wc.URI().Path()
		if !strings.HasSuffix(p, app.SessionExt) {
			os.Remove(p)
			p = strings.TrimSuffix(p, ".json") + app.SessionExt
		}
		w.SaveSession(p)
	}, w.Win)
	d.SetFileName("view" + app.SessionExt)
	d.Show()
}

// SaveSession writes the whole view to path (a .climxai.json file), atomically, on a worker.
func (w *Window) SaveSession(path string) {
	if w.ws == nil {
		return
	}
	s := w.sessionState()
	go func() {
		err := app.WriteSession(path, s)
		w.do(func() {
			if err != nil {
				w.status.SetText("saving the session failed: " + firstLine(err.Error()))
				dialog.ShowError(err, w.Win)
				w.event("session-failed")
				return
			}
			w.prefs.addRecentSession(path)
			w.buildMenu()
			w.status.SetText("saved the session " + path + " (File > Open session… restores this view)")
			w.event("session-saved")
		})
	}()
}

func (w *Window) chooseSessionToLoad() {
	w.chooseFile([]string{".json"}, firstOf(w.prefs.recentSessions()), w.LoadSession)
}

// LoadSession reads a session file on a worker and restores its view: it opens the session's
// card and data unless they are open already, then selects, shows and explains what the
// session says. A bad file gives a dialog saying what is wrong, and the window stays as it was.
func (w *Window) LoadSession(path string) {
	w.status.SetText("reading the session " + path + " …")
	go func() {
		s, err := app.ReadSession(path)
		w.do(func() {
			if err != nil {
				w.status.SetText(firstLine(err.Error()))
				dialog.ShowError(err, w.Win)
				w.event("session-failed")
				return
			}
			w.prefs.addRecentSession(path)
			w.buildMenu()
			if w.ws != nil && samePath(w.ws.CardPath, s.Card) && slices.EqualFunc(w.ws.DataPaths, s.DataPaths(), samePath) {
				w.applySession(s, path)
				return
			}
			w.pending, w.pendingPath = s, path
			w.Open(s.Card, s.DataPaths())
		})
	}()
}

func samePath(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && x == y
}

// applySession restores s on the open workspace: selection, controls, lag, view, zoom and tab,
// then explains. A session the data refuse (an init month outside them, a target on land)
// gives a dialog and leaves the selection as it was.
func (w *Window) applySession(s *app.Session, path string) {
	if err := w.ws.ApplySession(s, path); err != nil {
		w.status.SetText(firstLine(err.Error()))
		dialog.ShowError(fmt.Errorf("%w\n\nThe session does not fit %s: the view was left as it was.", err, w.ws.DataFile()), w.Win)
		w.event("session-failed")
		return
	}
	w.syncControls()
	w.updating = true
	w.lag.SetValue(float64(s.Lag))
	if vars := w.ws.Card.Variables(); len(vars) > 1 { // s.Variable is checked by ApplySession; "" is the first
		w.curVar = max(0, slices.Index(vars, s.Variable))
		w.variable.SetSelectedIndex(w.curVar)
	}
	w.updating = false
	w.onLag(float64(s.Lag))
	w.pendingView = viewInput
	for _, v := range mapViews {
		if s.View == v.session {
			w.pendingView = v.label
		}
	}
	w.compareEach.SetChecked(s.CompareScale == "lead")
	if len(s.CompareMethods) > 0 {
		w.mv.chosen = slices.Clone(s.CompareMethods) // checked by the reader
	}
	if a := s.Analyses; a != nil {
		v := &w.an
		for _, f := range []struct {
			e    *widget.Entry
			text string
		}{
			{v.aggSamples, a.AggregateSamples}, {v.dmSamples, a.DecayMapSamples}, {v.abSamples, a.AblationSamples},
			{v.abRadii, a.AblationRadii}, {v.abLags, a.AblationLags},
		} {
			if f.text != "" {
				f.e.SetText(f.text)
			}
		}
		if a.DecayMapStride > 0 {
			v.dmStride.SetText(strconv.Itoa(a.DecayMapStride))
		}
		v.dmMaxLag.SetText("") // 0: all lags
		if a.DecayMapMaxLag > 0 {
			v.dmMaxLag.SetText(strconv.Itoa(a.DecayMapMaxLag))
		}
		v.aggFit.SetText("") // 0: all lags
		if a.AggregateFitLag > 0 {
			v.aggFit.SetText(strconv.Itoa(a.AggregateFitLag))
		}
	}
	if s.Zoom != nil {
		w.mapw.SetZoom(Box{S: s.Zoom.S, N: s.Zoom.N, W: s.Zoom.W, E: s.Zoom.E})
	} else {
		w.mapw.ZoomToDomain()
	}
	w.status.SetText("restored the session " + path)
	i := max(0, slices.Index(tabNames, s.Tab))
	if i != w.tabs.SelectedIndex() && i < len(w.tabs.Items) {
		w.tabs.SelectIndex(i) // the tab's own handler runs what it shows
		if tabNames[i] == "compare" || tabNames[i] == "methods" {
			return
		}
	}
	w.Explain()
}

// syncControls sets the controls and the map's marker from the workspace's selection.
func (w *Window) syncControls() {
	sel := w.ws.Selection()
	w.updating = true
	w.lead.SetSelected(strconv.Itoa(sel.Lead))
	w.method.SetSelected(sel.Method)
	w.init.SetText(sel.Init.String())
	if sel.Target.Name != "" {
		w.target.SetSelected(sel.Target.Name)
	} else {
		w.target.SetSelected(targetCell)
	}
	w.updating = false
	w.updateParamsButton()
	w.showTarget(sel.Target)
}

// showTarget marks the target on the main map: a cell, or a box's outline.
func (w *Window) showTarget(t attribution.Target) { w.markOn(w.mapw, t) }

// updateParamsButton enables the parameters button for methods that have parameters.
func (w *Window) updateParamsButton() {
	if w.ws != nil && len(app.MethodParams(w.method.Selected)) > 0 {
		w.params.Enable()
	} else {
		w.params.Disable()
	}
}

// showParams asks for the selected method's parameters (defaults filled in) and explains with
// them.
func (w *Window) showParams() {
	if w.ws == nil {
		return
	}
	sel := w.ws.Selection()
	names := app.MethodParams(sel.Method)
	if len(names) == 0 {
		return
	}
	cur := app.DefaultParams(sel.Method)
	for k, v := range sel.Params {
		cur[k] = v
	}
	entries := map[string]*widget.Entry{}
	var items []*widget.FormItem
	for _, n := range names {
		// Parameters with usual values (baseline, quadrature, occlude) list them; any value the
		// method accepts can still be typed.
		var (
			e     *widget.Entry
			field fyne.CanvasObject
		)
		if choices := app.ParamChoices(n); choices != nil {
			se := widget.NewSelectEntry(choices)
			e, field = &se.Entry, se
		} else {
			e = widget.NewEntry()
			field = e
		}
		e.SetText(cur[n])
		name := n
		e.Validator = func(s string) error {
			_, err := app.MethodSettings(sel.Method, map[string]string{name: strings.TrimSpace(s)})
			return err
		}
		entries[n] = e
		items = append(items, widget.NewFormItem(n, field))
	}
	d := dialog.NewForm(sel.Method+" parameters", "Explain", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		p := map[string]string{}
		for n, e := range entries {
			p[n] = strings.TrimSpace(e.Text)
		}
		if err := w.ws.SetMethodParams(sel.Method, p); err != nil {
			dialog.ShowError(err, w.Win)
			return
		}
		w.Explain()
	}, w.Win)
	d.Resize(fyne.NewSize(420, 0))
	d.Show()
}

// showPreferences edits the preferences: device and threads (the workspace is reopened with
// them, keeping the view) and the colour scale of maps and figures.
func (w *Window) showPreferences() {
	o := w.opts
	device := widget.NewSelectEntry([]string{"auto", "cpu", "cuda", "cuda:1"})
	device.SetText(o.Device.String())
	device.Validator = func(s string) error {
		_, err := inference.ParseDevice(strings.TrimSpace(s))
		return err
	}
	threads := widget.NewEntry()
	threads.SetText(strconv.Itoa(o.Threads))
	threads.Validator = func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 1024 {
			return errors.New("0 (one per core) or a number of threads")
		}
		return nil
	}
	scale := widget.NewSelect(scales, nil)
	scale.SetSelected(w.prefs.scale())
	items := []*widget.FormItem{
		{Text: "Device", Widget: device, HintText: "auto uses CUDA when ONNX Runtime has it and a GPU answers"},
		{Text: "Threads", Widget: threads, HintText: "intra-op threads; 0 = one per core"},
		{Text: "Colour scale", Widget: scale, HintText: "maps and exported figures: auto = diverging for signed fields"},
	}
	dialog.ShowForm("Preferences", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		d, _ := inference.ParseDevice(strings.TrimSpace(device.Text))
		n, _ := strconv.Atoi(strings.TrimSpace(threads.Text))
		w.SetPreferences(inference.Options{Device: d, Threads: n}, scale.Selected)
	}, w.Win)
}

// SetPreferences stores device, threads and colour scale, redraws the maps and, when device or
// threads changed, reopens the workspace with them and the current view.
func (w *Window) SetPreferences(o inference.Options, scale string) {
	changed := o != w.opts
	w.prefs.setOptions(o, scale)
	w.opts = o
	w.device.SetText("device: " + o.Device.String())
	w.mapw.SetScale(scale)
	for _, m := range w.compareMaps {
		m.SetScale(scale)
	}
	if changed && w.ws != nil {
		s := w.sessionState()
		w.pending, w.pendingPath = &s, "(preferences)"
		w.Open(w.ws.CardPath, w.ws.DataPaths)
	}
	w.event("preferences")
}
