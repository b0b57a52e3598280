// Package ui is climxai's desktop application in Fyne: the map canvas widget (a field on the
// emulator's grid with coastlines, a colour bar, hover read-out and click-to-select), the
// lag-importance chart, and the main window that ties them to an app.Workspace.
//
// ui is the only package of climxai that imports Fyne. It holds no science: opening card and
// data, selections, explanations and result files are app.Workspace's; colours and figures are
// plots'. Long work runs on worker goroutines with a context (a new click cancels the previous
// job) and reaches the widgets only through Window.do (fyne.Do), since every Fyne callback runs
// on the one UI goroutine.
//
// What lives where: mapcanvas.go (MapCanvas: the field on a zoomable world map with coastlines,
// the domain outlined, cell and box markers, drag to pick a box), lagchart.go (LagChart),
// window.go (Window: controls, the Map and Compare leads tabs, explanations, lag animation),
// jobs.go (one job at a time: context, progress, cancel), export.go (the export dialog, data as
// NetCDF, the clipboard), session.go (menus, sessions, method parameters, preferences),
// prefs.go (the preferences store and recent files), analysis.go (the Aggregate, Decay map and
// Ablation tabs), run.go (Run, the entry point of `climxai gui`). Tests run on Fyne's headless
// driver; scripts/gui-smoke.sh drives the real binary under Xvfb.
package ui
