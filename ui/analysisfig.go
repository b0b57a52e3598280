package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/plots"
)

// showAnalysisFigureDialog asks which figure of an analysis result (the aggregate, decay map or
// ablation shown on its tab) to draw, in which format, journal preset and resolution, and where;
// then draws it as the verb's --figure would, with the result's NetCDF file and the sidecar
// beside it. name is the suggested file name without extension; base carries what the tab
// shows (the aggregate's lag and variable), which its map figure follows.
func (w *Window) showAnalysisFigureDialog(result app.AnalysisResult, name string, base app.FigureOptions) {
	figs := result.Figures()
	if w.ws == nil || len(figs) == 0 {
		return
	}
	labels := make([]string, len(figs))
	for i, f := range figs {
		labels[i] = f.Label
	}
	kind := widget.NewSelect(labels, nil)
	var rename func()
	ff := newFigureFields("auto", func() { rename() })
	file, fileRow := w.newFigureFileEntry(filepath.Join(w.exportDir(), name+".pdf"))
	rename = func() {
		if ff.format.Selected == "" || kind.SelectedIndex() < 0 {
			return
		}
		suffix := ""
		if len(figs) > 1 {
			suffix = "-" + strings.ReplaceAll(figs[kind.SelectedIndex()].Kind, ":", "-")
		}
		file.SetText(filepath.Join(filepath.Dir(file.Text), name+suffix+"."+strings.ToLower(ff.format.Selected)))
	}
	kind.OnChanged = func(string) { rename() }
	kind.SetSelectedIndex(0)
	ff.format.SetSelected("PDF")
	items := append([]*widget.FormItem{{Text: "Figure", Widget: kind}}, ff.items("maps only; auto: sequential for importance")...)
	items = append(items, &widget.FormItem{Text: "File", Widget: fileRow, HintText: "the result (.nc) and the sidecar (.json) are written beside it"})
	d := dialog.NewForm("Analysis figure", "Export", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		o := base
		o.Kind = figs[kind.SelectedIndex()].Kind
		ff.apply(&o)
		w.ExportAnalysisFigure(file.Text, result, o)
	}, w.Win)
	d.Resize(fyne.NewSize(680, 440))
	d.Show()
}

// ExportAnalysisFigure draws figure o of an analysis result at path on a worker
// (app.Workspace.WriteAnalysisFigure); the result's NetCDF file written beside it counts as
// saving the result.
func (w *Window) ExportAnalysisFigure(path string, result app.AnalysisResult, o app.FigureOptions) {
	if w.ws == nil {
		return
	}
	ws := w.ws
	w.lastExportDir = filepath.Dir(path)
	id, _, _ := w.startJob("exporting " + path + " …")
	go func() {
		var nc string
		err := func() (err error) {
			defer recovered("exporting "+path, &err)
			nc, err = ws.WriteAnalysisFigure(path, result, o)
			return err
		}()
		w.do(func() {
			if !w.endJob(id) {
				return
			}
			if err != nil {
				w.jobFailed(&w.fg, fmt.Errorf("exporting the figure: %w", err), "save-failed")
				return
			}
			w.an.markSaved(result)
			w.fg.progress.SetValue(1)
			w.status.SetText(fmt.Sprintf("saved %s (drawn from %s; sidecar %s)", path, nc, plots.SidecarPath(path)))
			w.event("saved-figure")
		})
	}()
}
