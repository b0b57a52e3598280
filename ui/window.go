package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
)

// Views of the map: the input anomaly at the chosen lag, the last explanation's attribution at
// that lag, and its forecast field, the observed field of the target month and their
// difference.
const (
	viewInput       = "Input anomaly"
	viewAttribution = "Attribution"
	viewPrediction  = "Prediction"
	viewTruth       = "Truth"
	viewError       = "Error"
)

// mapViews are the map's views in the order of the radio buttons, with their session names.
var mapViews = []struct{ label, session string }{
	{viewInput, "input"}, {viewAttribution, "attribution"}, {viewPrediction, "prediction"}, {viewTruth, "truth"}, {viewError, "error"},
}

// OpenNote says how to open an emulator: shown while the window has none.
const OpenNote = "Open an emulator card (TOML beside its ONNX models) and a NetCDF file of monthly SST with " +
	"Open above, or start with: climxai gui --card CARD.toml --data SST.nc"

// Window is climxai's main window: the map (input anomaly or attribution at the chosen lag) on
// the left, the last explanation's importance per lag on the right, the controls above and the
// job's progress below. A click on the map selects the target cell and explains it on a worker
// goroutine; a new click cancels the job before. Every field is touched only on the UI goroutine.
type Window struct {
	Win  fyne.Window
	opts inference.Options

	ws       *app.Workspace
	mapw     *MapCanvas
	chart    *LagChart
	dist     *LagChart // importance against distance from the target
	lead     *widget.Select
	method   *widget.Select
	target   *widget.Select // "cell" (clicked on the map) or a named box
	init     *widget.Entry
	lag      *widget.Slider
	lagLabel *widget.Label
	view     *widget.Select
	// variable picks the input variable the maps show, for an emulator that reads several
	// (hidden otherwise); curVar is its index in the card's Variables.
	variable *widget.Select
	run      *widget.Button
	export   *widget.Button // pops up the export menu: figure, data, clipboard
	open     *widget.Button // pops up the File menu: open card, data, recent, sessions
	params   *widget.Button // the method's parameters
	boxes    *widget.Button // pops up the named boxes
	play     *widget.Button
	stopPlay context.CancelFunc // stops the lag animation, nil when it is not running

	tabs        *container.AppTabs
	an          analysisViews // the Aggregate, Decay map and Ablation tabs
	compareGrid *fyne.Container
	compareNote *widget.Label
	// compareEach puts each lead's map on its own colour scale (patterns) instead of one shared
	// scale (magnitudes; the default).
	compareEach *widget.Check
	compareMaps []*MapCanvas
	mv          methodsView        // the Compare methods tab
	leadsLast   []*app.Explanation // the last comparison of leads, in lead order
	device      *widget.Label
	status      *widget.Label

	prefs         prefs
	pending       *app.Session // restored once its workspace has opened
	pendingPath   string
	pendingView   string // the map view the next explanation shows ("" : attribution)
	lastExportDir string // folder of the last export: the next one starts there

	cardPath  string   // chosen in the open dialogs
	dataPaths []string // chosen in the open dialogs: Open data… sets the first, Add data file… the others
	updating  bool     // controls are being set by code: their callbacks do nothing
	curLag    int
	curVar    int
	// fg runs what the controls and the map ask for (explanations, comparisons, exports) with
	// the progress bar and Cancel at the bottom; bg runs the analysis tabs' jobs with the bar
	// and Cancel of the analysis row, shown while one runs.
	fg, bg      lane
	bgLabel     *widget.Label
	bgRow       *fyne.Container
	last        *app.Explanation
	lastLatency time.Duration // click to heatmap on screen of the last explanation
	opening     bool

	// notify, if set (tests), is called on the UI goroutine after an open or a job ends:
	// "opened", "open-failed", "explained", "explain-failed" or "cancelled".
	notify func(event string)
	log    io.Writer // Config.Log
	// do hands a function from a worker goroutine to the UI goroutine: fyne.Do. Fyne's test
	// driver runs fyne.Do's function at once on the worker, so tests put a lock around it.
	do func(func())
}

func (w *Window) event(e string) {
	if w.log != nil {
		line := e
		switch {
		case e == "opened":
			line += ": " + w.ws.CardPath + " " + w.ws.DataFile()
		case e == "explained" && w.last != nil:
			s := w.last.Selection
			line += fmt.Sprintf(": %s lead %d %s init %s, %v in the method, %v click to heatmap",
				w.last.Result.Method, s.Lead, targetLabel(s.Target), s.Init,
				w.last.Result.Duration.Round(time.Millisecond), w.lastLatency.Round(time.Millisecond))
		case strings.HasSuffix(e, "failed"):
			line += ": " + w.status.Text
		}
		fmt.Fprintln(w.log, "climxai gui:", line)
	}
	if w.notify != nil {
		w.notify(e)
	}
}

// NewWindow builds the main window of a (it does not show it). opts say where models run.
func NewWindow(a fyne.App, opts inference.Options) *Window {
	w := &Window{Win: a.NewWindow("climxai"), opts: opts, do: fyne.Do, prefs: prefs{a.Preferences()}}
	w.mapw = NewMapCanvas(OpenNote)
	w.mapw.OnTapped = w.onMapTapped
	w.mapw.OnBox = w.onMapBox
	w.mapw.OnStep = w.onMapStep
	w.mapw.SetScale(w.prefs.scale())
	w.chart = NewLagChart("Click a cell on the map: the bars show how much each input month matters to its forecast.")
	w.chart.OnTapped = func(lag int) { w.lag.SetValue(float64(lag)) }
	w.dist = NewLagChart(distNote)
	w.dist.SetBlankTitle("Importance by distance")
	w.dist.SetAxis("km from the target", "", -1)

	w.lead = widget.NewSelect(nil, w.onLead)
	w.lead.PlaceHolder = "lead"
	w.method = widget.NewSelect(app.MethodNames(), w.onMethod)
	w.method.PlaceHolder = "method"
	w.params = widget.NewButtonWithIcon("", theme.SettingsIcon(), w.showParams)
	w.params.Disable()
	targets := []string{targetCell}
	for _, b := range attribution.NamedBoxes() {
		targets = append(targets, b.Name)
	}
	w.target = widget.NewSelect(targets, w.onTarget)
	w.target.Selected = targetCell
	w.init = widget.NewEntry()
	w.init.SetPlaceHolder("YYYY-MM")
	w.init.OnSubmitted = w.onInit
	w.lag = widget.NewSlider(0, 35)
	w.lag.Step = 1
	w.lag.OnChanged = w.onLag
	w.lagLabel = widget.NewLabel("lag 0")
	labels := make([]string, len(mapViews))
	for i, v := range mapViews {
		labels[i] = v.label
	}
	w.view = widget.NewSelect(labels, func(string) {
		if !w.updating {
			w.showMap()
		}
	})
	w.view.Selected = viewInput
	w.variable = widget.NewSelect(nil, func(string) {
		w.curVar = max(0, w.variable.SelectedIndex())
		if !w.updating {
			w.showMap()
		}
	})
	w.variable.Hide()
	w.run = widget.NewButton("Run", w.Explain)
	w.run.Importance = widget.HighImportance
	w.fg = lane{progress: widget.NewProgressBar(), cancel: widget.NewButton("Cancel", w.Cancel)}
	w.fg.cancel.Disable()
	w.bg = lane{progress: widget.NewProgressBar(), cancel: widget.NewButton("Cancel", w.CancelAnalysis)}
	w.bgLabel = widget.NewLabel("")
	w.bgRow = container.NewBorder(nil, nil, w.bgLabel, w.bg.cancel, w.bg.progress)
	w.bgRow.Hide()
	w.bg.running = func(on bool) {
		if on {
			w.bgRow.Show()
		} else {
			w.bgRow.Hide()
		}
	}
	w.device = widget.NewLabel("device: " + opts.Device.String())
	w.status = widget.NewLabel("")
	w.status.Truncation = fyne.TextTruncateEllipsis

	w.export = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), w.showExportMenu)
	w.export.Disable()
	w.open = widget.NewButtonWithIcon("Open", theme.FolderOpenIcon(), w.showOpenMenu)
	entrySize := fyne.NewSize(110, w.init.MinSize().Height)
	controls := container.NewHBox(w.open, widget.NewSeparator(),
		widget.NewLabel("Lead"), w.lead, widget.NewLabel("Method"), w.method, w.params,
		widget.NewLabel("Target"), w.target, widget.NewLabel("Init"), container.NewGridWrap(entrySize, w.init),
		w.run, w.fg.cancel, w.export, w.device)
	w.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), w.togglePlay)
	lagRow := container.NewBorder(nil, nil,
		container.NewHBox(w.play, container.NewGridWrap(fyne.NewSize(130, w.lagLabel.MinSize().Height), w.lagLabel)),
		container.NewHBox(widget.NewLabel("Show"), w.view, w.variable), w.lag)
	w.compareGrid = container.NewGridWithColumns(1)
	w.compareNote = widget.NewLabel("Explains the selected cell at every lead of the card from the same init month, on one colour scale.")
	w.compareNote.Wrapping = fyne.TextWrapWord
	w.compareEach = widget.NewCheck("each lead on its own scale", func(bool) { w.showCompare() })
	w.boxes = widget.NewButton("Named boxes", w.showBoxes)
	mapTools := container.NewHBox(
		widget.NewButtonWithIcon("", theme.ZoomInIcon(), func() { w.mapw.ZoomBy(1 / 1.5) }),
		widget.NewButtonWithIcon("", theme.ZoomOutIcon(), func() { w.mapw.ZoomBy(1.5) }),
		widget.NewButton("Domain", w.mapw.ZoomToDomain),
		widget.NewButton("World", w.mapw.ZoomToWorld),
		widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { w.mapw.Pan(-0.25, 0) }),
		widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { w.mapw.Pan(0, 0.25) }),
		widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { w.mapw.Pan(0, -0.25) }),
		widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { w.mapw.Pan(0.25, 0) }),
		w.boxes)
	w.tabs = container.NewAppTabs(
		container.NewTabItem("Map", container.NewBorder(mapTools, nil, nil, nil, w.mapw)),
		container.NewTabItem("Compare leads", container.NewBorder(container.NewBorder(nil, nil, nil, w.compareEach, w.compareNote), nil, nil, nil, w.compareGrid)),
		w.methodsTab())
	for _, t := range w.analysisTabs() {
		w.tabs.Append(t)
	}
	w.tabs.OnSelected = func(*container.TabItem) {
		if w.ws != nil && (w.comparing() && !w.compareCurrent() || w.comparingMethods() && !w.methodsCurrent()) {
			w.Explain()
		}
	}
	left := container.NewBorder(nil, lagRow, nil, nil, w.tabs)
	charts := container.NewVSplit(w.chart, w.dist)
	charts.Offset = 0.6
	split := container.NewHSplit(left, charts)
	split.Offset = 0.68
	bottom := container.NewVBox(w.fg.progress, w.bgRow, w.status)
	w.Win.SetContent(container.NewBorder(controls, bottom, nil, nil, split))
	w.Win.Resize(fyne.NewSize(1240, 760))
	w.Win.SetOnClosed(func() {
		if w.stopPlay != nil {
			w.stopPlay()
		}
		w.Cancel()
		w.CancelAnalysis()
		if w.ws != nil {
			w.ws.Close()
		}
	})
	// The window manager's close button and File > Quit come here first.
	w.Win.SetCloseIntercept(w.requestClose)
	w.setEnabled(false)
	w.setAnalysesEnabled(false)
	w.buildMenu()
	return w
}

// setEnabled enables the controls that need a workspace.
func (w *Window) setEnabled(on bool) {
	for _, d := range []fyne.Disableable{w.lead, w.method, w.target, w.init, w.lag, w.run, w.view, w.play, w.boxes} {
		if on {
			d.Enable()
		} else {
			d.Disable()
		}
	}
}

// Prompt shows text where the map goes (no workspace open).
func (w *Window) Prompt(text string) {
	w.mapw.SetPlaceholder(text)
	w.status.SetText("Open an emulator card and its SST data to begin.")
}

// chooseFile shows the open dialog for files with one of exts, in the folder of near when it is
// a file's path (the open data, say: a further variable's file usually lies beside it), and
// passes the chosen path to then; cancelling does nothing.
func (w *Window) chooseFile(exts []string, near string, then func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			dialog.ShowError(err, w.Win)
			return
		}
		if r == nil {
			return
		}
		r.Close()
		then(r.URI().Path())
	}, w.Win)
	d.SetFilter(storage.NewExtensionFileFilter(exts))
	if near != "" {
		if dir, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(near))); err == nil {
			d.SetLocation(dir)
		}
	}
	d.Show()
}

// firstOf is the first of paths, or "".
func firstOf(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return paths[0]
}

// dataExts are the extensions the data dialogs offer.
var dataExts = []string{".nc", ".nc4", ".cdf"}

func (w *Window) chooseCard() {
	w.chooseFile([]string{".toml"}, w.cardPath, func(path string) {
		w.cardPath = path
		w.openChosen()
	})
}

func (w *Window) chooseData() {
	w.chooseFile(dataExts, cmp.Or(firstOf(w.dataPaths), w.cardPath), func(path string) {
		w.dataPaths = []string{path}
		w.openChosen()
	})
}

// chooseMoreData adds a data file to those chosen (a variable or a period stored in a file of
// its own) and opens them again.
func (w *Window) chooseMoreData() {
	if len(w.dataPaths) == 0 {
		w.chooseData()
		return
	}
	w.chooseFile(dataExts, w.dataPaths[0], func(p string) { w.AddData(p) })
}

// AddData adds paths to the data files (those not among them already) and opens the card with
// them all: how a further input variable, or more months of one, stored in files of their own
// join the workspace.
func (w *Window) AddData(paths ...string) {
	var add []string
	for _, p := range paths {
		if !slices.ContainsFunc(w.dataPaths, func(d string) bool { return samePath(d, p) }) &&
			!slices.ContainsFunc(add, func(d string) bool { return samePath(d, p) }) {
			add = append(add, p)
		}
	}
	if len(add) == 0 {
		if len(paths) == 1 {
			w.status.SetText(paths[0] + " is open already")
		} else {
			w.status.SetText(fmt.Sprintf("the %d files are open already", len(paths)))
		}
		return
	}
	w.dataPaths = append(slices.Clip(w.dataPaths), add...)
	w.openChosen()
}

// chooseDataPattern adds the data files a pattern matches (a variable split into files by
// period: tsub_Omon_*.nc), which the open dialog, one file at a time, makes tedious. The dialog
// starts with every NetCDF file beside the open data and says as the pattern is typed how many
// files it matches and which.
func (w *Window) chooseDataPattern() {
	near := cmp.Or(firstOf(w.dataPaths), w.cardPath)
	dir, err := filepath.Abs(filepath.Dir(cmp.Or(near, ".")))
	if err != nil {
		dir = filepath.Dir(near)
	}
	entry := widget.NewEntry()
	matched := widget.NewLabel("")
	matched.Wrapping = fyne.TextWrapWord
	var files []string
	update := func(pattern string) {
		files, matched.Text = matchData(pattern, w.dataPaths)
		matched.Refresh()
	}
	entry.OnChanged = update
	entry.SetText(filepath.Join(dir, "*.nc"))
	update(entry.Text)
	body := container.NewVBox(widget.NewLabel("Files matching (* any characters, ? one, [abc] one of them):"), entry, matched)
	d := dialog.NewCustomConfirm("Add data files matching a pattern", "Add", "Cancel", body, func(ok bool) {
		if ok && len(files) > 0 {
			w.AddData(files...)
		}
	}, w.Win)
	d.Resize(fyne.NewSize(720, 260))
	d.Show()
	w.event("pattern-dialog")
}

// showDataReport shows how the open data were read (app.Workspace.DataReport): each variable's
// months and files and every note on the way, which the status line, overwritten by the next
// explanation, cannot keep.
func (w *Window) showDataReport() {
	if w.ws == nil {
		w.status.SetText("open an emulator card and its data first")
		return
	}
	text := widget.NewLabel(strings.Join(w.ws.DataReport(), "\n\n"))
	text.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(text)
	d := dialog.NewCustom("The open data", "Close", scroll, w.Win)
	d.Resize(fyne.NewSize(760, 460))
	d.Show()
	w.event("data-report")
}

// matchData returns the data files pattern matches and a line saying so: how many, the first
// and last, and how many are open already; an error's text when it matches none.
func matchData(pattern string, open []string) ([]string, string) {
	m, err := dataset.Glob(pattern)
	if err != nil {
		return nil, err.Error()
	}
	already := 0
	for _, p := range m {
		if slices.ContainsFunc(open, func(d string) bool { return samePath(d, p) }) {
			already++
		}
	}
	text := fmt.Sprintf("%d files: %s", len(m), filepath.Base(m[0]))
	switch {
	case len(m) == 1:
		text = "1 file: " + filepath.Base(m[0])
	case len(m) == 2:
		text += ", " + filepath.Base(m[1])
	default:
		text += " … " + filepath.Base(m[len(m)-1])
	}
	if already > 0 {
		text += fmt.Sprintf(" (%d open already)", already)
	}
	return m, text
}

// openChosen opens the chosen files once both are known, or says which one is missing.
func (w *Window) openChosen() {
	switch {
	case w.cardPath == "":
		w.status.SetText("data: " + dataset.PathList(w.dataPaths) + " — now open the emulator card (Open card…)")
	case len(w.dataPaths) == 0:
		w.status.SetText("card: " + w.cardPath + " — now open the SST data (Open data…)")
	default:
		w.Open(w.cardPath, w.dataPaths)
	}
}

// Open opens card and data on a worker goroutine; a failure shows a dialog saying what is wrong.
// On success the window shows the data and explains the default cell. When that would discard
// work (an analysis running, or a result not saved: closeWarning), it asks first.
func (w *Window) Open(cardPath string, dataPaths []string) {
	if w.opening {
		return
	}
	msg := ""
	if w.ws != nil {
		msg = w.closeWarning()
	}
	if msg == "" {
		w.openNow(cardPath, dataPaths)
		return
	}
	w.confirm("Open "+filepath.Base(cardPath)+"?", "Opening "+cardPath+" and "+dataset.PathList(dataPaths)+" replaces the workspace.\n"+msg, "Open",
		func() { w.openNow(cardPath, dataPaths) },
		func() {
			if w.pendingPath == "(preferences)" {
				w.status.SetText("kept the open workspace: the new device and threads apply when it is opened again")
			}
			w.pending, w.pendingPath = nil, ""
		})
	w.event("open-asked")
}

// openNow is Open without the question.
func (w *Window) openNow(cardPath string, dataPaths []string) {
	if w.opening {
		return
	}
	w.opening = true
	w.cardPath, w.dataPaths = cardPath, slices.Clone(dataPaths)
	dataPath := dataset.PathList(dataPaths)
	w.status.SetText("opening " + cardPath + " and " + dataPath + " …")
	if w.ws == nil {
		w.mapw.SetPlaceholder("Opening " + cardPath + " and " + dataPath + " …")
	}
	w.fg.progress.SetValue(0)
	opts := w.opts
	go func() {
		ws, err := safeOpen(cardPath, dataPaths, opts)
		w.do(func() {
			w.opening = false
			if err != nil {
				w.status.SetText(firstLine(err.Error()))
				if w.ws == nil {
					w.mapw.SetPlaceholder("Could not open the emulator or its data: " + firstLine(err.Error()) + "\n\n" + OpenNote)
				}
				switch {
				case errors.Is(err, dataset.ErrNoVariable):
					err = fmt.Errorf("%w\n\nA variable stored in a file of its own joins with File > Add data file…", err)
				case (errors.Is(err, dataset.ErrMonthOutOfData) || errors.Is(err, dataset.ErrTooShort)) && len(dataPaths) > 1:
					err = fmt.Errorf("%w\n\nA variable split into files by period needs them all: add them with File > Add data files matching…, "+
						"or give them as a pattern: climxai gui --card CARD --data 'sst_*.nc' --data 'tsub_*.nc'", err)
				}
				dialog.ShowError(err, w.Win)
				w.event("open-failed")
				return
			}
			w.setWorkspace(ws)
			w.event("opened")
		})
	}()
}

// safeOpen is app.Open with panics turned into errors: bad files never take the window down.
func safeOpen(cardPath string, dataPaths []string, opts inference.Options) (ws *app.Workspace, err error) {
	defer func() {
		if p := recover(); p != nil {
			ws, err = nil, fmt.Errorf("opening %s and %s failed unexpectedly: %v", cardPath, dataset.PathList(dataPaths), p)
		}
	}()
	return app.Open(cardPath, dataPaths, opts)
}

// setWorkspace shows ws (closing the previous workspace once its job has stopped) and explains
// its default selection.
func (w *Window) setWorkspace(ws *app.Workspace) {
	w.Cancel()
	w.CancelAnalysis()
	if old := w.ws; old != nil {
		go old.Close()
	}
	w.ws, w.last, w.leadsLast = ws, nil, nil
	w.an.clear()
	w.compareMaps, w.compareGrid.Objects = nil, nil
	w.compareGrid.Refresh()
	w.mv.last, w.mv.maps, w.mv.grid.Objects = nil, nil, nil
	w.mv.grid.Refresh()
	w.mv.agree.SetText("")
	w.export.Disable()
	sel := ws.Selection()
	w.Win.SetTitle("climxai — " + ws.Card.Name)

	w.updating = true
	leads := make([]string, 0)
	for _, l := range ws.Leads() {
		leads = append(leads, strconv.Itoa(l))
	}
	w.lead.SetOptions(leads)
	w.lead.SetSelected(strconv.Itoa(sel.Lead))
	w.method.SetSelected(sel.Method)
	if sel.Target.Name != "" {
		w.target.SetSelected(sel.Target.Name) // an index emulator's region
	} else {
		w.target.SetSelected(targetCell)
	}
	w.init.SetText(sel.Init.String())
	w.lag.Max = float64(ws.Card.InputMonths - 1)
	w.lag.SetValue(0)
	w.curLag = 0
	w.lagLabel.SetText(fmt.Sprintf("lag %2d (%s)", 0, sel.Init))
	w.view.SetSelected(viewInput)
	w.curVar = 0
	if vars := ws.Card.Variables(); len(vars) > 1 {
		w.variable.SetOptions(vars)
		w.variable.SetSelectedIndex(0)
		w.variable.Show()
	} else {
		w.variable.Hide()
	}
	w.updating = false

	w.setEnabled(true)
	w.setAnalysesEnabled(true)
	w.updateParamsButton()
	w.chart.Clear("Click a cell on the map: the bars show how much each input month matters to its forecast.")
	w.dist.Clear(distNote)
	w.showMap()
	w.showTarget(sel.Target) // an index emulator starts on its region
	w.mapw.Hint = ""
	if c := ws.Card; c.Index != "" {
		w.mapw.Hint = fmt.Sprintf("this emulator forecasts the %s index: its targets lie in the box · scroll: zoom · Shift-drag: pan", c.Index)
	}

	w.prefs.addRecent(ws.CardPath, ws.DataPaths)
	w.buildMenu()
	if s := w.pending; s != nil {
		w.pending = nil
		w.applySession(s, w.pendingPath)
		return
	}
	w.Explain()
}

// onMapBox makes a box dragged on the map the target (the area-weighted mean of its ocean
// cells) and explains it.
func (w *Window) onMapBox(b Box) {
	if w.ws == nil {
		return
	}
	tg, err := w.ws.SetTarget(fmt.Sprintf("box:%g,%g,%g,%g", b.S, b.N, b.W, b.E))
	if err != nil {
		w.status.SetText(firstLine(err.Error()))
		dialog.ShowError(err, w.Win)
		return
	}
	w.updating = true
	w.target.SetSelected(targetCell)
	w.updating = false
	w.showTarget(tg)
	w.Explain()
}

// showBoxes pops up the named boxes (attribution's named targets) under the button; choosing
// one makes it the target.
func (w *Window) showBoxes() {
	var items []*fyne.MenuItem
	for _, b := range attribution.NamedBoxes() {
		name := b.Name
		items = append(items, fyne.NewMenuItem(b.Name+" — "+b.Description, func() { w.target.SetSelected(name) }))
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(w.boxes)
	if c == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(w.boxes).Add(fyne.NewPos(0, w.boxes.Size().Height))
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, pos)
}

func (w *Window) onMapTapped(c Cell) {
	if w.ws == nil {
		return
	}
	tg, err := w.ws.SelectCell(c.Row, c.Col)
	if err != nil {
		w.status.SetText(err.Error())
		return
	}
	w.mapw.SetMarker(Cell{Row: tg.Row, Col: tg.Col, Lat: tg.Lat, Lon: tg.Lon})
	w.updating = true
	w.target.SetSelected(targetCell)
	w.updating = false
	w.Explain()
}

// onMapStep moves the target to the next ocean cell that way (arrow keys on the map) and
// explains it.
func (w *Window) onMapStep(north, east int) {
	if w.ws == nil {
		return
	}
	tg, err := w.ws.StepCell(north, east)
	if err != nil {
		w.status.SetText(err.Error())
		return
	}
	w.onMapTapped(Cell{Row: tg.Row, Col: tg.Col})
}

// targetCell is the target selector's entry for a cell clicked, or a box dragged, on the map.
const targetCell = "on the map"

func (w *Window) onTarget(name string) {
	if w.updating || w.ws == nil || name == targetCell {
		return
	}
	tg, err := w.ws.SetTarget(name)
	if err != nil {
		w.status.SetText(firstLine(err.Error()))
		dialog.ShowError(err, w.Win)
		return
	}
	w.showTarget(tg)
	w.Explain()
}

func (w *Window) onLead(s string) {
	if w.updating || w.ws == nil {
		return
	}
	l, _ := strconv.Atoi(s)
	if err := w.ws.SetLead(l); err != nil {
		w.status.SetText(err.Error())
		return
	}
	w.updating = true
	w.init.SetText(w.ws.Selection().Init.String())
	w.updating = false
	w.Explain()
}

func (w *Window) onMethod(s string) {
	if w.updating || w.ws == nil {
		return
	}
	if err := w.ws.SetMethod(s); err != nil {
		w.status.SetText(err.Error())
		return
	}
	w.updateParamsButton()
	w.Explain()
}

func (w *Window) onInit(s string) {
	if w.updating || w.ws == nil {
		return
	}
	m, err := dataset.ParseMonth(strings.TrimSpace(s))
	if err == nil {
		err = w.ws.SetInit(m)
	}
	if err != nil {
		w.status.SetText("init: " + err.Error())
		return
	}
	w.showMap()
	w.Explain()
}

func (w *Window) onLag(v float64) {
	w.curLag = int(math.Round(v))
	if w.ws != nil {
		init := w.ws.Selection().Init
		if w.last != nil && w.view.Selected == viewAttribution {
			init = w.last.Selection.Init
		}
		w.lagLabel.SetText(fmt.Sprintf("lag %2d (%s)", w.curLag, init-dataset.Month(w.curLag)))
	}
	w.chart.SetCurrent(w.curLag)
	if !w.updating {
		w.showMap()
	}
}

// showCompare draws the last comparison of leads at the current lag, one column per lead on
// the comparison's largest |attribution|.
func (w *Window) showCompare() {
	exs := w.leadsLast
	if len(exs) == 0 || w.ws == nil {
		return
	}
	w.compareMaps = w.sideBySide(w.compareGrid, w.compareMaps, len(exs), len(exs), w.prefs.scale())
	lims := make([]float64, len(exs)) // each lead's own scale
	var limit float64                 // the shared one
	for i, ex := range exs {
		lims[i] = w.limit(ex.Result)
		limit = max(limit, lims[i])
	}
	each := w.compareEach.Checked
	g := w.ws.Card.Grid
	k := w.curLag
	for i, ex := range exs {
		s := ex.Selection
		lim := limit
		if each {
			lim = lims[i]
		}
		w.compareMaps[i].SetField(MapField{Grid: g, Values: w.slab(ex.Result, k), Limit: lim,
			Title: fmt.Sprintf("lead %d · %slag %d (%s)", s.Lead, w.varLabel(ex.Result), k, s.Init-dataset.Month(k))})
		w.markOn(w.compareMaps[i], s.Target)
	}
	s := exs[0].Selection
	scale := fmt.Sprintf("one colour scale (±%.3g)", limit)
	if each {
		scale = "each on its own colour scale (its largest |attribution| over all lags)"
	}
	w.compareNote.SetText(fmt.Sprintf("%s of the forecasts of %s from init %s at leads %s, %s",
		exs[0].Result.Method, targetLabel(s.Target), s.Init, leadList(w.ws.Leads()), scale))
}

// showMap draws the input anomaly or the last attribution at the current lag.
func (w *Window) showMap() {
	if w.ws == nil {
		return
	}
	w.showCompare()
	w.showMethods()
	g := w.ws.Card.Grid
	k := w.curLag
	if w.view.Selected == viewAttribution && w.last != nil {
		r := w.last.Result
		s := w.last.Selection
		w.mapw.SetField(MapField{Grid: g, Values: w.slab(r, k), Limit: w.limit(r),
			Title: fmt.Sprintf("%s attribution, %slag %d (%s) · lead %d forecast of %s from init %s",
				r.Method, w.varLabel(r), k, s.Init-dataset.Month(k), s.Lead, targetLabel(s.Target), s.Init)})
		return
	}
	if v := w.view.Selected; v == viewPrediction || v == viewTruth || v == viewError {
		w.showForecast(v)
		return
	}
	init := w.ws.Selection().Init
	vals, err := w.ws.InputOf(init, k, w.curVar)
	if err != nil {
		w.status.SetText(err.Error())
		return
	}
	w.mapw.SetField(MapField{Grid: g, Values: vals,
		Title: fmt.Sprintf("Input %s anomaly (model units), lag %d = %s, init %s", w.ws.Card.Variables()[w.curVar], k, init-dataset.Month(k), init)})
}

// shown is the block of r (its input variable) the maps show.
func (w *Window) shown(r *attribution.Result) int {
	if len(r.Vars) > 1 {
		return min(w.curVar, len(r.Vars)-1)
	}
	return 0
}

// slab returns the values of r at lag k of the input variable the maps show.
func (w *Window) slab(r *attribution.Result, k int) []float32 {
	n := r.NLat * r.NLon
	return r.Block(w.shown(r))[k*n : (k+1)*n]
}

// limit is the colour scale of r's maps: the largest |attribution| over every lag of the
// variable shown. Each variable has its own scale, so that a variable with a small share still
// shows its pattern; the titles give each variable's share.
func (w *Window) limit(r *attribution.Result) float64 { return maxAbs(r.Block(w.shown(r))) }

// varLabel names the input variable the maps show and its share of Σ|attribution| ("tsub 61%,
// ") for an emulator that reads several.
func (w *Window) varLabel(r *attribution.Result) string {
	if len(r.Vars) < 2 {
		return ""
	}
	shares, v := r.VarShares(), w.shown(r)
	if !slices.ContainsFunc(shares, func(s float64) bool { return s > 0 }) {
		return r.Vars[v] + ", " // nothing attributed: no shares
	}
	return fmt.Sprintf("%s (%.0f%% of Σ|attribution|), ", r.Vars[v], 100*shares[v])
}

// showForecast draws the last explanation's forecast field, the observed field of its target
// month, or their difference, in °C of anomaly on one colour scale for forecast and truth.
func (w *Window) showForecast(view string) {
	g := w.ws.Card.Grid
	if w.last == nil || w.last.Forecast == nil {
		w.mapw.SetPlaceholder("Click a cell or press Run: the forecast is made with the explanation.")
		return
	}
	f, s := w.last.Forecast, w.last.Selection
	if f.Truth == nil && view != viewPrediction {
		w.mapw.SetPlaceholder(fmt.Sprintf("The data end before %s, the month this forecast is for: nothing observed to compare.", f.Month))
		return
	}
	limit := max(maxAbs(f.Prediction), maxAbs(f.Truth))
	var vals []float32
	var title string
	switch view {
	case viewPrediction:
		vals = f.Prediction
		title = fmt.Sprintf("Lead-%d forecast of %s from init %s (°C anomaly)", s.Lead, f.Month, s.Init)
	case viewTruth:
		vals = f.Truth
		title = fmt.Sprintf("Observed %s (°C anomaly, filtered as the card says)", f.Month)
	default:
		vals, limit = f.Error, maxAbs(f.Error)
		var ss float64
		cells := 0
		for _, v := range f.Error {
			if v == v {
				ss += float64(v) * float64(v)
				cells++
			}
		}
		title = fmt.Sprintf("Forecast − observed, %s (lead %d, °C); RMS %.3g °C over %d ocean cells", f.Month, s.Lead, math.Sqrt(ss/float64(max(cells, 1))), cells)
	}
	w.mapw.SetField(MapField{Grid: g, Values: vals, Limit: limit, Title: title})
}

// distNote is what the distance chart shows before an explanation.
const distNote = "The share of importance (all lags) at each distance from the target appears here, with R50 and R90."

// distBinKm is the width of the distance chart's bars.
const distBinKm = 250

// showDistance draws the share of ex's importance (|attribution| over all lags) in 250 km
// rings around the target, with the radii holding 50% and 90% of it.
func (w *Window) showDistance(ex *app.Explanation) {
	g := w.ws.Card.Grid.Grid()
	t := ex.Selection.Target
	// Over every lag of every input variable: the slabs of all variables.
	e := attribution.SpatialExtent(ex.Result.Values, len(ex.Result.Values)/(g.NLat()*g.NLon()), g.Lat, g.Lon, t.Lat, t.Lon, distBinKm)
	if !(e.Total > 0) {
		w.dist.Clear("The attribution is zero everywhere: no distances to show.")
		return
	}
	w.dist.SetAxis(fmt.Sprintf("km from the target (%d km bins)", distBinKm), fmt.Sprintf("%d", len(e.Share)*distBinKm), -1)
	w.dist.SetValues(fmt.Sprintf("By distance: R50 %.0f\u00a0km, R90 %.0f\u00a0km", e.R50, e.R90), e.Share)
}

// sideBySide keeps grid's side-by-side maps (maps) at n, laid out in cols columns: when the
// count changed it builds them anew, clickable like the main map, on colour scale scale.
func (w *Window) sideBySide(grid *fyne.Container, maps []*MapCanvas, n, cols int, scale string) []*MapCanvas {
	if len(maps) == n {
		return maps
	}
	maps = maps[:0]
	objs := make([]fyne.CanvasObject, n)
	for i := range n {
		m := NewMapCanvas("")
		m.NoHint = true
		m.OnTapped = w.onMapTapped
		m.OnBox = w.onMapBox
		m.SetScale(scale)
		maps = append(maps, m)
		objs[i] = m
	}
	grid.Layout = layout.NewGridLayoutWithColumns(cols)
	grid.Objects = objs
	grid.Refresh()
	return maps
}

// keepComparison keeps a comparison just run, as c says which: of leads for Compare leads, of
// methods (with their agreement) for Compare methods.
func (w *Window) keepComparison(c comparison, exs []*app.Explanation, agree [][]float64) {
	switch {
	case c.leads:
		w.leadsLast = exs
	case len(c.methods) > 0:
		w.mv.last = exs
		w.mv.agree.SetText(agreementText(exs, agree))
	}
}

// comparison is what an explanation job explains besides the selection itself.
type comparison struct {
	leads   bool     // every lead of the card (Compare leads)
	methods []string // these methods (Compare methods)
}

// Explain explains the current selection on a worker goroutine, cancelling the job before: at
// every lead when Compare leads shows, with every chosen method when Compare methods does.
func (w *Window) Explain() {
	if w.ws == nil {
		return
	}
	ws, sel := w.ws, w.ws.Selection()
	var c comparison
	status := fmt.Sprintf("explaining %s (lead %d, init %s) with %s …", targetLabel(sel.Target), sel.Lead, sel.Init, sel.Method)
	switch {
	case w.comparing():
		c.leads = true
		status = fmt.Sprintf("explaining %s at leads %s (init %s) with %s …", targetLabel(sel.Target), leadList(ws.Leads()), sel.Init, sel.Method)
	case w.comparingMethods():
		c.methods = w.methodsToCompare(sel)
		status = fmt.Sprintf("explaining %s (lead %d, init %s) with %s …", targetLabel(sel.Target), sel.Lead, sel.Init, strings.Join(c.methods, ", "))
	}
	id, ctx, progress := w.startJob(status)
	go func() {
		exs, agree, err := safeExplain(ctx, ws, sel, c, progress)
		w.do(func() { w.finish(id, sel, c, exs, agree, err) })
	}()
}

// safeExplain explains sel and what c compares it with, with panics turned into errors; for
// methods it also ranks their agreement (app.MethodAgreement).
func safeExplain(ctx context.Context, ws *app.Workspace, sel app.Selection, c comparison, progress func(int, int)) (exs []*app.Explanation, agree [][]float64, err error) {
	defer func() {
		if p := recover(); p != nil {
			exs, agree, err = nil, nil, fmt.Errorf("the explanation failed unexpectedly: %v", p)
		}
	}()
	switch {
	case c.leads:
		exs, err = ws.ExplainLeads(ctx, sel, progress)
		return exs, nil, err
	case len(c.methods) > 0:
		if exs, err = ws.ExplainMethods(ctx, sel, c.methods, progress); err != nil {
			return nil, nil, err
		}
		return exs, app.MethodAgreement(exs), nil
	}
	ex, err := ws.ExplainSelection(ctx, sel, progress)
	if err != nil {
		return nil, nil, err
	}
	return []*app.Explanation{ex}, nil, nil
}

// comparing reports whether the Compare leads tab is showing.
func (w *Window) comparing() bool {
	return w.tabs != nil && w.tabs.SelectedIndex() == tabIndex("compare")
}

// tabIndex is the index of the tab a session names name (tabNames, in the tabs' order).
func tabIndex(name string) int { return slices.Index(tabNames, name) }

// compareCurrent reports whether the last comparison is of the current selection.
func (w *Window) compareCurrent() bool {
	if len(w.leadsLast) == 0 || w.ws == nil {
		return false
	}
	a, b := w.leadsLast[0].Selection, w.ws.Selection()
	return a.Init == b.Init && a.Method == b.Method && a.Target.Spec == b.Target.Spec
}

// finish shows the outcome of job id (explanations of sel: one, one per lead or one per
// method, as c says, with the methods' agreement), unless a newer job has replaced it.
func (w *Window) finish(id int, sel app.Selection, c comparison, exs []*app.Explanation, agree [][]float64, err error) {
	if !w.endJob(id) {
		return
	}
	var ex *app.Explanation
	if err == nil {
		ex = exs[0]
		for _, e := range exs {
			if e.Selection.Lead == sel.Lead && e.Result.Method == sel.Method {
				ex = e
			}
		}
		w.keepComparison(c, exs, agree)
	}
	if err != nil {
		w.jobFailed(&w.fg, err, "explain-failed")
		return
	}
	w.last = ex
	w.export.Enable()
	w.fg.progress.SetValue(1)
	s := ex.Selection
	of := ""
	if vars := ex.Result.Vars; len(vars) > 1 {
		of = " of " + strings.Join(vars, "\u00a0+\u00a0")
	}
	w.chart.SetValues(fmt.Sprintf("Importance per lag%s · %s, lead\u00a0%d, %s", of, ex.Result.Method, s.Lead,
		targetLabel(s.Target)), ex.LagImportance)
	w.chart.SetCurrent(w.curLag)
	w.showDistance(ex)
	w.updating = true
	view := viewAttribution
	if v := w.view.Selected; v == viewPrediction || v == viewTruth || v == viewError {
		view = v // the forecast views stay: they show the new forecast
	}
	if w.pendingView != "" {
		view, w.pendingView = w.pendingView, ""
	}
	w.view.SetSelected(view)
	w.updating = false
	w.showMap()
	w.lastLatency = time.Since(w.fg.started)
	dev := ex.Result.Device // e.g. "CPU (why not CUDA)": the reason goes to the status line
	if i := strings.Index(dev, " ("); i > 0 {
		dev = dev[:i]
	}
	w.device.SetText("device: " + dev)
	w.status.SetText(fmt.Sprintf("%s of the lead-%d forecast of %s from init %s: f(x) = %.4g%s · %v in the method, %v click to heatmap",
		ex.Result.Method, s.Lead, targetLabel(s.Target), s.Init, ex.Result.Output, completenessNote(ex.Result),
		ex.Result.Duration.Round(time.Millisecond), w.lastLatency.Round(time.Millisecond)))
	if dev != ex.Result.Device {
		w.status.SetText(w.status.Text + " · " + ex.Result.Device)
	}
	w.event("explained")
}

// Cancel stops the running job of the foreground lane (explanation, comparison, export), if
// any; an analysis goes on (CancelAnalysis).
func (w *Window) Cancel() { w.fg.halt() }

// CancelAnalysis stops the running aggregate, decay map or ablation, if any.
func (w *Window) CancelAnalysis() { w.bg.halt() }

// requestClose closes the window, asking first when that would lose work: a running analysis,
// or an analysis result not saved.
func (w *Window) requestClose() {
	msg := w.closeWarning()
	if msg == "" {
		w.Win.Close()
		return
	}
	w.confirm("Quit climxai?", msg, "Quit", w.Win.Close, nil)
	w.event("close-asked")
}

// confirm asks whether to go on with what would discard work (msg says what): yes runs on the
// confirming button (label), no (if set) on "Keep working".
func (w *Window) confirm(title, msg, label string, yes, no func()) {
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm(title, label, "Keep working", text, func(ok bool) {
		switch {
		case ok:
			yes()
		case no != nil:
			no()
		}
	}, w.Win)
	d.Resize(fyne.NewSize(480, 0))
	d.Show()
}

// closeWarning says what closing the window now would lose, "" when nothing.
func (w *Window) closeWarning() string {
	var parts []string
	if w.bg.busy() {
		parts = append(parts, fmt.Sprintf("Still running: %s (%.0f%% done); quitting cancels it.", w.bgLabel.Text, 100*w.bg.progress.Value))
	}
	if u := w.an.unsaved(); len(u) > 0 {
		parts = append(parts, "Not saved: "+strings.Join(u, "; ")+". Save… on its tab writes it as NetCDF.")
	}
	return strings.Join(parts, "\n")
}

// completenessNote is the status line's report of r's completeness check (IG, DeepLIFT, LRP):
// how far Σ attribution is from what it should equal, with what to do when IG misses 1%
// (README, "IG completeness"); "" for methods without the check.
func completenessNote(r *attribution.Result) string {
	c := r.Completeness
	if c == nil {
		return ""
	}
	note := fmt.Sprintf(" · Σ attribution %.4g, expected %.4g (%.2g%% off)", c.Sum, c.Expected, 100*c.Relative)
	if r.Method == "ig" && c.Relative > 0.01 {
		note += ": more than 1%, raise steps (gear button; 256 or more)"
	}
	return note
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// targetLabel names a target for people: "39.0°N 50.0°W" for a cell, the name of a named box,
// "box 42.0–54.0°N, 56.0–32.0°W" for a box.
func targetLabel(t attribution.Target) string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Kind == attribution.TargetCell:
		return dataset.LatLabel(t.Lat) + " " + dataset.LonLabel(t.Lon)
	default:
		b := t.Box
		return "box " + spanLabel(dataset.LatLabel(b.S), dataset.LatLabel(b.N)) + ", " + spanLabel(dataset.LonLabel(b.W), dataset.LonLabel(b.E))
	}
}

// leadList reads leads out as people write them: "1, 6 and 9" (Go's %v printed "[1 6 9]").
func leadList(leads []int) string {
	s := make([]string, len(leads))
	for i, l := range leads {
		s[i] = strconv.Itoa(l)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// spanLabel joins the labels of a span's ends, naming a hemisphere they share once:
// "42.0–54.0°N", but "10.0°S–10.0°N".
func spanLabel(lo, hi string) string {
	for _, h := range []string{"°N", "°S", "°E", "°W"} {
		if strings.HasSuffix(lo, h) && strings.HasSuffix(hi, h) {
			return strings.TrimSuffix(lo, h) + "–" + hi
		}
	}
	return lo + "–" + hi
}

// lagStep is the lag animation's time per frame.
const lagStep = 400 * time.Millisecond

// togglePlay starts or stops stepping the lag slider from the current lag to the oldest month
// (and round again), one lag per lagStep, from a ticker goroutine through w.do.
func (w *Window) togglePlay() {
	if w.stopPlay != nil {
		w.stopPlay()
		w.stopPlay = nil
		w.play.SetIcon(theme.MediaPlayIcon())
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	w.stopPlay = stop
	w.play.SetIcon(theme.MediaPauseIcon())
	go func() {
		t := time.NewTicker(lagStep)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.do(func() {
					if ctx.Err() != nil {
						return
					}
					next := w.curLag + 1
					if next > int(w.lag.Max) {
						next = 0
					}
					w.lag.SetValue(float64(next))
				})
			}
		}
	}()
}
