package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/plots"
)

// Figure kinds as the export dialog names them, with the plots kind each draws.
var figureChoices = []struct{ label, kind, lags string }{
	{"Map at the chosen lags", plots.KindMap, "current"},
	{"Map summed over all lags", plots.KindMap, "all"},
	{"Leads side by side (rows: chosen lags)", plots.KindLeads, "current"},
	{"Methods side by side (rows: chosen lags)", plots.KindMethods, "current"},
	{"Importance against lag, every lead (decay)", plots.KindDecay, ""},
	{"Cumulative importance against distance, every lead", plots.KindDistance, ""},
	{"Lag against latitude", plots.KindLagLat, ""},
}

var figureFormats = []string{"PDF", "PNG", "SVG", "EPS"}

// presetLabels are the journal presets as the dialog lists them ("agu1 — AGU single column, 95 mm").
func presetLabels() []string {
	var out []string
	for _, n := range []string{"agu1", "agu2", "ams1", "ams2"} {
		p, _ := plots.LookupPreset(n)
		out = append(out, p.Name+" — "+p.About)
	}
	return out
}

// figureName is a file name for the figure of the last explanation in format ext.
func (w *Window) figureName(kind, ext string) string {
	s := w.last.Selection
	target := strings.NewReplacer(" ", "", "°", "", ".", "p", ",", "_", ":", "").Replace(targetLabel(s.Target))
	var name string
	switch kind {
	case plots.KindLeads, plots.KindDecay, plots.KindDistance: // every lead
		name = fmt.Sprintf("climxai-%s-%s-%s", kind, w.last.Result.Method, target)
	case plots.KindMethods: // every method
		name = fmt.Sprintf("climxai-methods-lead%d-%s", s.Lead, target)
	default:
		name = fmt.Sprintf("climxai-%s-%s-lead%d-%s", kind, w.last.Result.Method, s.Lead, target)
	}
	return name + "." + ext
}

// showExportMenu pops up the export choices under the Export button.
func (w *Window) showExportMenu() {
	m := fyne.NewMenu("",
		fyne.NewMenuItem("Figure (PDF, PNG, SVG, EPS)…", w.showExportDialog),
		fyne.NewMenuItem("Data as NetCDF…", w.chooseExportData),
		fyne.NewMenuItem("Copy figure to clipboard", w.CopyFigure))
	c := fyne.CurrentApp().Driver().CanvasForObject(w.export)
	if c == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(w.export).Add(fyne.NewPos(0, w.export.Size().Height))
	widget.ShowPopUpMenuAtPosition(m, c, pos)
}

// showExportDialog asks for the figure's kind, format, journal preset, resolution, colour scale
// and file, then exports it as the command line's --figure would.
func (w *Window) showExportDialog() {
	if w.last == nil || w.ws == nil {
		dialog.ShowInformation("Export figure", "Nothing to export yet: click a cell on the map to explain its forecast first.", w.Win)
		return
	}
	kinds := make([]string, len(figureChoices))
	for i, c := range figureChoices {
		kinds[i] = c.label
	}
	kind := widget.NewSelect(kinds, nil)
	var rename func()
	ff := newFigureFields(w.prefs.scale(), func() { rename() })
	lags := widget.NewEntry()
	lags.SetText(strconv.Itoa(w.curLag))
	lags.Validator = func(s string) error {
		ls, err := app.ParseLags(s)
		if err != nil {
			return err
		}
		for _, k := range ls {
			if k >= w.ws.Card.InputMonths {
				return fmt.Errorf("lags are 0..%d", w.ws.Card.InputMonths-1)
			}
		}
		return nil
	}
	dir := w.exportDir()
	file, fileRow := w.newFigureFileEntry(filepath.Join(dir, w.figureName(plots.KindMap, "pdf")))
	ext := func() string { return strings.ToLower(ff.format.Selected) }
	rename = func() {
		if ff.format.Selected == "" || kind.SelectedIndex() < 0 {
			return
		}
		cur := file.Text
		d := filepath.Dir(cur)
		if cur == "" {
			d = dir
		}
		file.SetText(filepath.Join(d, w.figureName(figureChoices[kind.SelectedIndex()].kind, ext())))
	}
	kind.OnChanged = func(string) {
		c := figureChoices[kind.SelectedIndex()]
		switch c.lags {
		case "all":
			lags.SetText(fmt.Sprintf("0-%d", w.ws.Card.InputMonths-1))
		case "current":
			lags.SetText(strconv.Itoa(w.curLag))
		default:
			lags.SetText("")
		}
		if c.lags == "" && c.kind != plots.KindDistance {
			lags.Disable()
		} else {
			lags.Enable()
		}
		// More than three maps side by side need the double column (agu2).
		if c.kind == plots.KindMethods && len(w.methodsToCompare(w.last.Selection)) > 3 ||
			c.kind == plots.KindLeads && len(w.ws.Leads()) > 3 {
			ff.preset.SetSelectedIndex(1)
		}
		rename()
	}
	kind.SetSelectedIndex(0)
	for i, c := range figureChoices {
		if w.comparing() && c.kind == plots.KindLeads || w.comparingMethods() && c.kind == plots.KindMethods {
			kind.SetSelectedIndex(i)
		}
	}
	ff.format.SetSelected("PDF")
	items := append([]*widget.FormItem{
		{Text: "Figure", Widget: kind},
		{Text: "Lags", Widget: lags, HintText: "e.g. 0, 0-11 or 0,6,12 (map: summed; leads: one row each; distance: summed, empty = all)"},
	}, ff.items("")...)
	items = append(items, &widget.FormItem{Text: "File", Widget: fileRow, HintText: "the result files (.nc) and the sidecar (.json) are written beside it"})
	d := dialog.NewForm("Export figure", "Export", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		o := app.FigureOptions{Kind: figureChoices[kind.SelectedIndex()].kind}
		ff.apply(&o)
		o.Lags, _ = app.ParseLags(lags.Text)
		if o.Kind == plots.KindLeads && w.compareEach.Checked {
			o.Normalize = "lead" // as the comparison on screen
		}
		if o.Kind == plots.KindDecay || o.Kind == plots.KindLagLat {
			o.Lags = nil
		}
		w.ExportFigure(file.Text, o)
	}, w.Win)
	d.Resize(fyne.NewSize(720, 520))
	d.Show()
}

// figureFields are the export dialogs' format, journal preset, resolution (PNG only) and colour
// scale.
type figureFields struct {
	format, preset, scale *widget.Select
	dpi                   *widget.Entry
}

// newFigureFields makes the fields, the colour scale at scale; onFormat runs when the format
// changes (the dialog renames its file). The caller selects the first format.
func newFigureFields(scale string, onFormat func()) figureFields {
	f := figureFields{format: widget.NewSelect(figureFormats, nil), preset: widget.NewSelect(presetLabels(), nil),
		scale: widget.NewSelect([]string{"auto", "diverging", "sequential"}, nil), dpi: newDPIEntry()}
	f.preset.SetSelectedIndex(0)
	f.scale.SetSelected(scale)
	f.format.OnChanged = func(format string) {
		enableDPI(f.dpi, format)
		onFormat()
	}
	return f
}

// items are the fields' form rows; scaleHint, if any, explains the colour scale.
func (f figureFields) items(scaleHint string) []*widget.FormItem {
	return []*widget.FormItem{
		{Text: "Format", Widget: f.format},
		{Text: "Journal preset", Widget: f.preset, HintText: "sets the printed width; text is never below 7 pt"},
		{Text: "Resolution (dpi)", Widget: f.dpi, HintText: "PNG only"},
		{Text: "Colour scale", Widget: f.scale, HintText: scaleHint},
	}
}

// apply writes the chosen preset, colour scale and (PNG only) resolution into o.
func (f figureFields) apply(o *app.FigureOptions) {
	o.Scale, o.Preset = f.scale.Selected, strings.Fields(f.preset.Selected)[0]
	if f.format.Selected == "PNG" {
		o.DPI, _ = strconv.Atoi(strings.TrimSpace(f.dpi.Text))
	}
}

// newDPIEntry is the export dialogs' resolution field (PNG only), at the default resolution.
func newDPIEntry() *widget.Entry {
	dpi := widget.NewEntry()
	dpi.SetText(strconv.Itoa(plots.DefaultDPI))
	dpi.Validator = func(s string) error {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 50 || v > 2400 {
			return errors.New("a resolution from 50 to 2400 dpi")
		}
		return nil
	}
	return dpi
}

// enableDPI enables the resolution field for the PNG format only.
func enableDPI(dpi *widget.Entry, format string) {
	if format == "PNG" {
		dpi.Enable()
	} else {
		dpi.Disable()
	}
}

// newFigureFileEntry is the export dialogs' file field, starting at path, that wants a figure
// extension and an existing folder, with a Browse… button beside it (the row).
func (w *Window) newFigureFileEntry(path string) (*widget.Entry, fyne.CanvasObject) {
	file := widget.NewEntry()
	file.SetText(path)
	file.Validator = func(s string) error {
		if _, err := plots.Format(s); err != nil {
			return errors.New("name the file .pdf, .png, .svg or .eps")
		}
		if st, err := os.Stat(filepath.Dir(s)); err != nil || !st.IsDir() {
			return errors.New("the folder does not exist")
		}
		return nil
	}
	browse := widget.NewButton("Browse…", func() {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil || wc == nil {
				return
			}
			wc.Close() // plots writes the file itself, atomically
			os.Remove(wc.URI().Path())
			file.SetText(wc.URI().Path())
		}, w.Win)
		d.SetFileName(filepath.Base(file.Text))
		if l, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(file.Text))); err == nil {
			d.SetLocation(l)
		}
		d.Show()
	})
	return file, container.NewBorder(nil, nil, nil, browse, file)
}

// exportDir is where exports go by default: the folder of the last export, else the working
// directory.
func (w *Window) exportDir() string {
	if w.lastExportDir != "" {
		return w.lastExportDir
	}
	if d, err := os.Getwd(); err == nil {
		return d
	}
	return os.TempDir()
}

// needsLeads reports whether a figure kind shows every lead of the card.
func needsLeads(kind string) bool {
	return kind == plots.KindLeads || kind == plots.KindDecay || kind == plots.KindDistance
}

// ExportFigure writes the figure o of the last explanation (kinds over leads or methods: of the
// comparison, which is run first when it is not of the current selection) to path with its
// result files and sidecar, on a worker goroutine (app.Workspace.WriteFigure, as --figure).
func (w *Window) ExportFigure(path string, o app.FigureOptions) {
	if w.last == nil || w.ws == nil {
		return
	}
	ws, last := w.ws, w.last
	var (
		exs []*app.Explanation
		c   comparison // what to run first, if anything
	)
	switch {
	case o.Kind == plots.KindMethods && w.methodsCurrent():
		exs = w.mv.last
	case o.Kind == plots.KindMethods:
		c.methods = w.methodsToCompare(last.Selection)
	case !needsLeads(o.Kind):
		exs = []*app.Explanation{last}
	case w.leadsOf(last.Selection):
		exs = w.leadsLast
	default:
		c.leads = true
	}
	w.lastExportDir = filepath.Dir(path)
	id, ctx, progress := w.startJob("exporting " + path + " …")
	go func() {
		ncs, ran, agree, err := exportFigure(ctx, ws, last.Selection, c, exs, path, o, progress)
		w.do(func() {
			if !w.endJob(id) {
				return
			}
			if err != nil {
				w.jobFailed(&w.fg, fmt.Errorf("exporting the figure: %w", err), "save-failed")
				return
			}
			w.keepComparison(c, ran, agree)
			w.fg.progress.SetValue(1)
			w.status.SetText(fmt.Sprintf("saved %s (drawn from %s; sidecar %s)", path, strings.Join(ncs, ", "), plots.SidecarPath(path)))
			w.event("saved")
		})
	}()
}

// exportFigure runs on a worker: the comparison c when exs is nil, then the figure. It returns
// the result files and the comparison run (nil when none was), with the methods' agreement.
func exportFigure(ctx context.Context, ws *app.Workspace, sel app.Selection, c comparison, exs []*app.Explanation, path string,
	o app.FigureOptions, progress func(int, int)) (ncs []string, ran []*app.Explanation, agree [][]float64, err error) {
	defer recovered("exporting "+path, &err)
	if exs == nil {
		if ran, agree, err = safeExplain(ctx, ws, sel, c, progress); err != nil {
			return nil, nil, nil, err
		}
		exs = ran
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	ncs, err = ws.WriteFigure(path, exs, o)
	return ncs, ran, agree, err
}

// leadsOf reports whether the last comparison of leads is of selection sel (all but the lead).
func (w *Window) leadsOf(sel app.Selection) bool {
	if len(w.leadsLast) == 0 {
		return false
	}
	a := w.leadsLast[0].Selection
	return a.Init == sel.Init && a.Method == sel.Method && a.Target.Spec == sel.Target.Spec && sameParams(a.Params, sel.Params)
}

func sameParams(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// SaveFigure writes the map figure of the last explanation at the current lag to path (.pdf,
// .png, .svg or .eps) with its result file and sidecar: the export dialog's defaults.
func (w *Window) SaveFigure(path string) {
	w.ExportFigure(path, app.FigureOptions{Kind: plots.KindMap, Lags: []int{w.curLag}, Scale: w.prefs.scale()})
}

// chooseExportData asks where to write the last explanation as a result file.
func (w *Window) chooseExportData() {
	if w.last == nil {
		dialog.ShowInformation("Export data", "Nothing to export yet: click a cell on the map to explain its forecast first.", w.Win)
		return
	}
	w.chooseNetCDF(w.figureName(plots.KindMap, "nc"), w.ExportData)
}

// ExportData writes the last explanation as the contract's result file (attribution(lag, lat,
// lon) with explain's provenance) at path, on a worker goroutine.
func (w *Window) ExportData(path string) {
	if w.last == nil || w.ws == nil {
		return
	}
	ws, ex := w.ws, w.last
	w.saveNetCDF(path, "(attribution(lag, lat, lon) with its provenance; climxai figure draws it)", "saved",
		func(path string) error { return ws.WriteResult(path, ex) }, nil)
}

// chooseNetCDF asks for a .nc file to write (starting in the last export folder, suggesting
// name) and passes its path to save.
func (w *Window) chooseNetCDF(name string, save func(path string)) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			dialog.ShowError(err, w.Win)
			return
		}
		if wc == nil {
			return
		}
		wc.Close() // written again atomically by the workspace
		save(wc.URI().Path())
	}, w.Win)
	d.SetFileName(name)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".nc"}))
	if l, err := storage.ListerForURI(storage.NewFileURI(w.exportDir())); err == nil {
		d.SetLocation(l)
	}
	d.Show()
}

// saveNetCDF runs write(path) (path ending in .nc) on a worker with the window's progress,
// then reports it in the status line (with note) and as event.
func (w *Window) saveNetCDF(path, note, event string, write func(path string) error, saved func()) {
	if !strings.HasSuffix(strings.ToLower(path), ".nc") {
		path += ".nc"
	}
	if w.ws != nil && w.ws.IsDataFile(path) {
		err := fmt.Errorf("%s is a data file in use: writing there would replace the data; choose another file", path)
		w.status.SetText(err.Error())
		dialog.ShowError(err, w.Win)
		w.event("save-failed")
		return
	}
	w.lastExportDir = filepath.Dir(path)
	id, _, _ := w.startJob("writing " + path + " …")
	go func() {
		err := func() (err error) {
			defer recovered("writing "+path, &err)
			return write(path)
		}()
		w.do(func() {
			if !w.endJob(id) {
				return
			}
			if err != nil {
				w.jobFailed(&w.fg, fmt.Errorf("writing %s: %w", path, err), "save-failed")
				return
			}
			if saved != nil {
				saved()
			}
			w.fg.progress.SetValue(1)
			w.status.SetText("saved " + path + " " + note)
			w.event(event)
		})
	}()
}

// clipboardTools copy a PNG image to the system clipboard. Fyne's clipboard (2.7) holds text
// only, so an image goes through one of these when it is installed.
var clipboardTools = [][]string{
	{"wl-copy", "--type", "image/png"},
	{"xclip", "-selection", "clipboard", "-t", "image/png", "-i"},
}

// CopyFigure draws the map figure at the current lag as a PNG (agu1 width, 200 dpi) into a
// temporary folder and puts it on the clipboard: as an image when wl-copy or xclip is
// installed, otherwise (Fyne's clipboard is text-only) as the PNG file's path, which the status
// line says.
func (w *Window) CopyFigure() {
	if w.last == nil || w.ws == nil {
		return
	}
	ws, ex := w.ws, w.last
	o := app.FigureOptions{Kind: plots.KindMap, Lags: []int{w.curLag}, DPI: 200, Scale: w.prefs.scale()}
	id, ctx, _ := w.startJob("drawing the figure for the clipboard …")
	go func() {
		png, tool, err := copyFigure(ctx, ws, ex, o)
		w.do(func() {
			if !w.endJob(id) {
				return
			}
			if err != nil {
				w.jobFailed(&w.fg, fmt.Errorf("copying the figure: %w", err), "copy-failed")
				return
			}
			w.fg.progress.SetValue(1)
			if tool != "" {
				w.status.SetText("copied the figure to the clipboard as a PNG image (with " + tool + "; file " + png + ")")
			} else {
				fyne.CurrentApp().Clipboard().SetContent(png)
				w.status.SetText("copied the figure's path to the clipboard: " + png +
					" (the clipboard takes text only here; install xclip or wl-clipboard to copy the image itself)")
			}
			w.event("copied")
		})
	}()
}

// copyFigure writes the PNG and tries the clipboard tools; tool is the one that took the image
// ("" when none is installed or none worked).
func copyFigure(ctx context.Context, ws *app.Workspace, ex *app.Explanation, o app.FigureOptions) (png, tool string, err error) {
	defer recovered("copying the figure", &err)
	dir, err := os.MkdirTemp("", "climxai-clipboard-")
	if err != nil {
		return "", "", err
	}
	png = filepath.Join(dir, "climxai-figure.png")
	if _, err := ws.WriteFigure(png, []*app.Explanation{ex}, o); err != nil {
		return "", "", err
	}
	if os.Getenv("CLIMXAI_NO_CLIPBOARD_TOOLS") != "" { // tests: the text fallback
		return png, "", nil
	}
	for _, t := range clipboardTools {
		if _, err := exec.LookPath(t[0]); err != nil {
			continue
		}
		if t[0] == "wl-copy" && os.Getenv("WAYLAND_DISPLAY") == "" {
			continue
		}
		f, err := os.Open(png)
		if err != nil {
			return "", "", err
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cmd := exec.CommandContext(cctx, t[0], t[1:]...)
		cmd.Stdin = f
		err = cmd.Run() // both tools fork a process that serves the clipboard and return
		cancel()
		f.Close()
		if err == nil {
			return png, t[0], nil
		}
	}
	return png, "", nil
}
