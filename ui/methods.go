package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/dataset"
)

// methodsView is the Compare methods tab: the selected forecast explained by several methods
// side by side, each map on its own colour scale (gradients and relevances have different
// units), with the rank agreement of every pair beneath: where methods disagree, a finding that
// rests on one of them needs care.
type methodsView struct {
	chosen []string // the methods compared, in the registry's order
	choose *widget.Button
	note   *widget.Label
	grid   *fyne.Container
	maps   []*MapCanvas
	agree  *widget.Label // the agreement matrix, monospace
	last   []*app.Explanation
}

// methodsTab builds the Compare methods tab.
func (w *Window) methodsTab() *container.TabItem {
	v := &w.mv
	v.chosen = slices.Clone(app.CompareMethodsDefault)
	v.choose = widget.NewButton("Methods…", w.chooseMethods)
	v.note = widget.NewLabel("Explains the selected forecast with each method chosen, each map on its own colour scale; " +
		"beneath, how alike they rank the inputs.")
	v.note.Wrapping = fyne.TextWrapWord
	v.grid = container.NewGridWithColumns(1)
	v.agree = widget.NewLabel("")
	v.agree.TextStyle = fyne.TextStyle{Monospace: true}
	// The maps and the table scroll when they need more height than the window has: two rows
	// of maps and the table for five methods made the window 910 px tall, off a laptop screen.
	return container.NewTabItem("Compare methods", container.NewBorder(
		container.NewBorder(nil, nil, nil, v.choose, v.note), nil, nil, nil,
		container.NewVScroll(container.NewBorder(nil, v.agree, nil, nil, v.grid))))
}

// comparingMethods reports whether the Compare methods tab is showing.
func (w *Window) comparingMethods() bool {
	return w.tabs != nil && w.tabs.SelectedIndex() == tabIndex("methods")
}

// methodsToCompare are the chosen methods, the selection's own first when it is not among them.
func (w *Window) methodsToCompare(sel app.Selection) []string {
	if slices.Contains(w.mv.chosen, sel.Method) {
		return w.mv.chosen
	}
	return append([]string{sel.Method}, w.mv.chosen...)
}

// methodsCurrent reports whether the last comparison of methods is of the current selection.
func (w *Window) methodsCurrent() bool {
	if len(w.mv.last) == 0 || w.ws == nil {
		return false
	}
	a, b := w.mv.last[0].Selection, w.ws.Selection()
	var ran []string
	for _, ex := range w.mv.last {
		ran = append(ran, ex.Result.Method)
	}
	return a.Init == b.Init && a.Lead == b.Lead && a.Target.Spec == b.Target.Spec && slices.Equal(ran, w.methodsToCompare(b))
}

// chooseMethods asks which methods to compare and compares them.
func (w *Window) chooseMethods() {
	names := app.MethodNames()
	group := widget.NewCheckGroup(names, nil)
	group.SetSelected(w.mv.chosen)
	d := dialog.NewForm("Methods to compare", "Compare", "Cancel", []*widget.FormItem{{Text: "", Widget: group}}, func(ok bool) {
		if !ok {
			return
		}
		if err := w.SetCompareMethods(group.Selected); err != nil {
			dialog.ShowError(err, w.Win)
		}
	}, w.Win)
	d.Resize(fyne.NewSize(360, 0))
	d.Show()
}

// SetCompareMethods chooses the methods compared (known names, kept in the registry's order)
// and, when the tab shows, compares them.
func (w *Window) SetCompareMethods(methods []string) error {
	names := app.MethodNames()
	var chosen []string
	for _, n := range names {
		if slices.Contains(methods, n) {
			chosen = append(chosen, n)
		}
	}
	for _, m := range methods {
		if !slices.Contains(names, m) {
			return fmt.Errorf("unknown method %q; methods: %s", m, strings.Join(names, ", "))
		}
	}
	if len(chosen) == 0 {
		return fmt.Errorf("choose at least one method to compare")
	}
	w.mv.chosen = chosen
	if w.comparingMethods() && w.ws != nil {
		w.Explain()
	}
	return nil
}

// showMethods draws the last comparison of methods at the current lag.
func (w *Window) showMethods() {
	v := &w.mv
	exs := v.last
	if len(exs) == 0 || w.ws == nil {
		return
	}
	cols := len(exs)
	if cols > 3 {
		cols = (cols + 1) / 2
	}
	v.maps = w.sideBySide(v.grid, v.maps, len(exs), cols, "diverging")
	g := w.ws.Card.Grid
	k := w.curLag
	for i, ex := range exs {
		s := ex.Selection
		v.maps[i].SetField(MapField{Grid: g, Values: w.slab(ex.Result, k), Limit: w.limit(ex.Result),
			Title: fmt.Sprintf("%s · %slag %d (%s)", ex.Result.Method, w.varLabel(ex.Result), k, s.Init-dataset.Month(k))})
		w.markOn(v.maps[i], s.Target)
	}
	s := exs[0].Selection
	v.note.SetText(fmt.Sprintf("The lead-%d forecast of %s from init %s, explained by %d methods; each map on its own colour scale (its largest |attribution| over all lags).",
		s.Lead, targetLabel(s.Target), s.Init, len(exs)))
}

// agreementText is the tab's agreement matrix under its heading.
func agreementText(exs []*app.Explanation, a [][]float64) string {
	return "Spearman ρ of |attribution| over every lag and ocean cell (1: the same ranking)\n" +
		strings.TrimSuffix(app.AgreementTable(exs, a), "\n")
}
