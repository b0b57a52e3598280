package ui

import (
	"context"
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"climxai/app"
	"climxai/attribution"
)

// analysisViews are the Aggregate, Decay map and Ablation tabs: each runs one of the study's
// analyses (app.Workspace.Aggregate, DecayMap, Ablate: the verbs' code) for the selection in
// the bar above (lead, method with its parameters, target) on a worker goroutine, with the
// window's progress bar and Cancel, and shows the result as maps and curves.
type analysisViews struct {
	aggSamples *widget.Entry
	aggRun     *widget.Button
	aggSave    *widget.Button
	aggFig     *widget.Button
	aggMap     *MapCanvas
	aggChart   *LagChart
	aggNote    *widget.Label
	agg        *app.AggregateResult
	// aggShow picks mean |attribution| or the mean signed attribution; aggLag is the lag the map
	// shows (a bar tapped), -1 for the sum over every lag (aggAll).
	aggShow *widget.Select
	aggAll  *widget.Button
	aggLag  int
	// aggFit is the last lag the e-folding curve is fitted to ("" or "all": every lag), e.g. 11
	// for the first year, as climxai decay --max-lag; changing it refits without rerunning.
	aggFit *widget.Entry

	dmSamples, dmStride, dmMaxLag *widget.Entry
	dmRun, dmSave, dmFig          *widget.Button
	dmShow                        *widget.RadioGroup
	dmMap                         *MapCanvas
	dmNote                        *widget.Label
	dm                            *app.DecayMapResult

	abSamples, abRadii, abLags *widget.Entry
	abRun, abSave, abFig       *widget.Button
	abRadius, abLag            *canvas.Image
	abNote                     *widget.Label
	ab                         *app.AblationOutcome

	// aggSaved, dmSaved and abSaved say whether the shown result has been saved as NetCDF: an
	// unsaved one is minutes of work that closing the window would lose, so it asks first.
	aggSaved, dmSaved, abSaved bool
}

// What each analysis takes from the controls above the tabs, and how samples are given.
const (
	samplesHint  = " Samples: test, train, all, N or SET:N (e.g. test:24)."
	analysisHint = "Uses the lead, method (with its parameters) and target chosen above." + samplesHint
	decayMapHint = "Uses the lead and method (with its parameters) chosen above; every stride-th ocean cell is the target in turn." + samplesHint
	ablationHint = "The forecast's skill when inputs farther than a radius from the target, or older than the k most recent months, " +
		"are set to climatology, against the full input and persistence (climxai ablate). Uses the lead and target chosen above; " +
		"no attribution method: it measures the emulator's forecasts themselves." + samplesHint
)

// analysisTabs builds the three tabs.
func (w *Window) analysisTabs() []*container.TabItem {
	v := &w.an
	entry := func(text string, width float32) (*widget.Entry, fyne.CanvasObject) {
		e := widget.NewEntry()
		e.SetText(text)
		return e, container.NewGridWrap(fyne.NewSize(width, e.MinSize().Height), e)
	}
	note := func(text string) *widget.Label {
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		return l
	}

	var aggBox, aggF, dmS, dmK, dmL, abS, abR, abL fyne.CanvasObject
	v.aggSamples, aggBox = entry("test:24", 110)
	v.aggFit, aggF = entry("", 50)
	v.aggFit.SetPlaceHolder("all")
	v.aggFit.OnChanged = func(string) { w.showAggregateFit() }
	v.aggRun = widget.NewButton("Aggregate", w.RunAggregate)
	v.aggRun.Importance = widget.HighImportance
	v.aggSave = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), w.chooseSaveAggregate)
	v.aggSave.Disable()
	v.aggFig = widget.NewButtonWithIcon("Figure…", theme.FileImageIcon(), func() {
		if r := v.agg; r != nil {
			var o app.FigureOptions
			name := fmt.Sprintf("climxai-aggregate-%s-lead%02d", r.Method, r.Lead)
			if v.aggLag >= 0 {
				o.Lags, name = []int{v.aggLag}, fmt.Sprintf("%s-lag%02d", name, v.aggLag)
			}
			if v.aggShow.Selected == aggSigned {
				o.Variable, name = "signed_mean", name+"-signed"
			}
			if k, err := v.fitMaxLag(); err == nil && k >= 0 {
				o.FitMaxLag = k
			}
			w.showAnalysisFigureDialog(r, name, o)
		}
	})
	v.aggFig.Disable()
	v.aggMap = NewMapCanvas("Aggregate the attribution of the target's forecast over many samples: each sample normalised to sum 1, then averaged (climxai aggregate).")
	v.aggMap.SetScale("sequential")
	v.aggMap.OnTapped = w.onMapTapped
	v.aggChart = NewLagChart("The mean importance per lag, with the fitted e-folding time, appears here.")
	v.aggChart.SetBlankTitle("Mean importance per lag")
	v.aggLag = -1
	v.aggChart.OnTapped = func(lag int) {
		v.aggLag = lag
		w.showAggregate()
	}
	v.aggShow = widget.NewSelect([]string{aggAbs, aggSigned}, func(string) { w.showAggregate() })
	v.aggShow.Selected = aggAbs
	v.aggAll = widget.NewButton("All lags", func() {
		v.aggLag = -1
		w.showAggregate()
	})
	v.aggAll.Disable()
	v.aggNote = note(analysisHint)
	agg := container.NewBorder(
		container.NewVBox(container.NewHBox(widget.NewLabel("Samples"), aggBox, v.aggRun, v.aggSave, v.aggFig,
			container.NewGridWrap(fyne.NewSize(230, v.aggShow.MinSize().Height), v.aggShow), v.aggAll,
			widget.NewLabel("fit to lag"), aggF), v.aggNote), nil, nil, nil,
		container.NewHSplit(v.aggMap, v.aggChart))

	v.dmSamples, dmS = entry("test:6", 110)
	v.dmStride, dmK = entry("8", 60)
	v.dmMaxLag, dmL = entry("", 60)
	v.dmMaxLag.SetPlaceHolder("all")
	v.dmRun = widget.NewButton("Map decay", w.RunDecayMap)
	v.dmRun.Importance = widget.HighImportance
	v.dmSave = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), w.chooseSaveDecayMap)
	v.dmSave.Disable()
	v.dmFig = widget.NewButtonWithIcon("Figure…", theme.FileImageIcon(), func() {
		if r := v.dm; r != nil {
			w.showAnalysisFigureDialog(r, fmt.Sprintf("climxai-decaymap-%s-lead%02d", r.Method, r.Lead), app.FigureOptions{})
		}
	})
	v.dmFig.Disable()
	v.dmShow = widget.NewRadioGroup([]string{"e-folding time (months)", "R90 (km)"}, func(string) { w.showDecayMap() })
	v.dmShow.Horizontal = true
	v.dmShow.Selected = "e-folding time (months)"
	v.dmMap = NewMapCanvas("Every stride-th ocean cell becomes the target in turn: its aggregate's e-folding time and R90 are mapped (climxai decaymap). Cost: targets × samples backward passes.")
	v.dmMap.SetScale("sequential")
	v.dmNote = note(decayMapHint)
	dm := container.NewBorder(
		container.NewVBox(container.NewHBox(widget.NewLabel("Samples"), dmS, widget.NewLabel("Stride"), dmK,
			widget.NewLabel("Max lag"), dmL, v.dmRun, v.dmSave, v.dmFig), container.NewHBox(widget.NewLabel("Show"), v.dmShow), v.dmNote), nil, nil, nil, v.dmMap)

	v.abSamples, abS = entry("test", 90)
	v.abRadii, abR = entry("0,250,500,1000,2000,inf", 210)
	v.abLags, abL = entry("1,3,6,12,24,36", 150)
	v.abRun = widget.NewButton("Ablate", w.RunAblation)
	v.abRun.Importance = widget.HighImportance
	v.abSave = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), w.chooseSaveAblation)
	v.abSave.Disable()
	v.abFig = widget.NewButtonWithIcon("Figure…", theme.FileImageIcon(), func() {
		if o := v.ab; o != nil {
			w.showAnalysisFigureDialog(o, fmt.Sprintf("climxai-ablation-lead%02d", o.Lead), app.FigureOptions{})
		}
	})
	v.abFig.Disable()
	v.abRadius, v.abLag = canvas.NewImageFromImage(nil), canvas.NewImageFromImage(nil)
	for _, im := range []*canvas.Image{v.abRadius, v.abLag} {
		im.FillMode = canvas.ImageFillContain
		im.ScaleMode = canvas.ImageScaleSmooth
	}
	v.abNote = note(ablationHint)
	ab := container.NewBorder(
		container.NewVBox(container.NewHBox(widget.NewLabel("Samples"), abS, widget.NewLabel("Radii (km)"), abR,
			widget.NewLabel("Months kept"), abL, v.abRun, v.abSave, v.abFig), v.abNote), nil, nil, nil,
		container.NewGridWithColumns(2, v.abRadius, v.abLag))

	return []*container.TabItem{
		container.NewTabItem("Aggregate", agg),
		container.NewTabItem("Decay map", dm),
		container.NewTabItem("Ablation", ab),
	}
}

// clear forgets the results of another workspace.
func (v *analysisViews) clear() {
	v.agg, v.dm, v.ab = nil, nil, nil
	v.aggLag = -1
	v.aggAll.Disable()
	for _, b := range []*widget.Button{v.aggSave, v.aggFig, v.dmSave, v.dmFig, v.abSave, v.abFig} {
		b.Disable()
	}
	v.aggMap.SetPlaceholder("Press Aggregate to average the attribution of the target's forecast over the samples.")
	v.aggChart.Clear("The mean importance per lag appears here.")
	v.dmMap.SetPlaceholder("Press Map decay: every stride-th ocean cell becomes the target in turn.")
	v.abRadius.Image, v.abLag.Image = nil, nil
	v.abRadius.Refresh()
	v.abLag.Refresh()
	v.aggNote.SetText(analysisHint)
	v.dmNote.SetText(decayMapHint)
	v.abNote.SetText(ablationHint)
}

// markSaved records that result, if it is still the one shown on its tab, has been written
// as NetCDF.
func (v *analysisViews) markSaved(result app.AnalysisResult) {
	switch r := result.(type) {
	case *app.AggregateResult:
		v.aggSaved = v.aggSaved || r == v.agg
	case *app.DecayMapResult:
		v.dmSaved = v.dmSaved || r == v.dm
	case *app.AblationOutcome:
		v.abSaved = v.abSaved || r == v.ab
	}
}

// unsaved names the analysis results shown but not saved as NetCDF.
func (v *analysisViews) unsaved() []string {
	var out []string
	if r := v.agg; r != nil && !v.aggSaved {
		out = append(out, fmt.Sprintf("the aggregate of %s (lead %d, %d samples)", r.Method, r.Lead, r.Agg.Samples))
	}
	if r := v.dm; r != nil && !v.dmSaved {
		out = append(out, fmt.Sprintf("the decay map of %s (lead %d)", r.Method, r.Lead))
	}
	if o := v.ab; o != nil && !v.abSaved {
		out = append(out, fmt.Sprintf("the ablation of the lead-%d forecast of %s", o.Lead, targetLabel(o.Target)))
	}
	return out
}

// setAnalysesEnabled enables the analysis buttons when a workspace is open.
func (w *Window) setAnalysesEnabled(on bool) {
	for _, b := range []*widget.Button{w.an.aggRun, w.an.dmRun, w.an.abRun} {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// runAnalysis starts job on a worker in the analysis lane (its own progress bar and Cancel, so
// that explanations asked for meanwhile do not cancel it); show runs on the UI goroutine with
// its outcome unless a newer analysis has replaced it.
func runAnalysis[T any](w *Window, status, event string, job func(ctx context.Context, progress func(int, int)) (T, error), show func(T)) {
	if w.ws == nil {
		return
	}
	id, ctx, progress := w.start(&w.bg, status)
	w.bgLabel.SetText(strings.TrimSuffix(status, " …"))
	go func() {
		var res T
		err := func() (err error) {
			defer recovered(event, &err)
			res, err = job(ctx, progress)
			return err
		}()
		w.do(func() {
			if !w.bg.end(id) {
				return
			}
			if err != nil {
				w.jobFailed(&w.bg, err, event+"-failed")
				return
			}
			w.bg.progress.SetValue(1)
			show(res)
			w.event(event)
		})
	}()
}

// RunAggregate aggregates the selection over the samples in the Aggregate tab.
func (w *Window) RunAggregate() {
	if w.ws == nil {
		return
	}
	ws, sel, set := w.ws, w.ws.Selection(), strings.TrimSpace(w.an.aggSamples.Text)
	runAnalysis(w, fmt.Sprintf("aggregating %s of %s (lead %d) over %s …", sel.Method, targetLabel(sel.Target), sel.Lead, set), "aggregated",
		func(ctx context.Context, p func(int, int)) (*app.AggregateResult, error) {
			return ws.Aggregate(ctx, sel, set, p)
		},
		func(r *app.AggregateResult) {
			w.an.agg = r
			w.an.aggSaved = false
			w.an.aggSave.Enable()
			w.an.aggFig.Enable()
			v := &w.an
			v.aggLag = -1
			w.showAggregateFit()
			w.showAggregate()
			w.status.SetText("aggregated: " + w.an.aggNote.Text)
		})
}

// fitMaxLag reads the Aggregate tab's last lag fitted: -1 for every lag ("" or "all").
func (v *analysisViews) fitMaxLag() (int, error) {
	t := strings.TrimSpace(v.aggFit.Text)
	if t == "" || t == "all" {
		return -1, nil
	}
	k, err := strconv.Atoi(t)
	if err != nil || k < 2 {
		return 0, fmt.Errorf("fit to lag %q: give the last lag fitted, 2 or more (the fit needs three lags), or leave it empty for every lag", t)
	}
	return k, nil
}

// showAggregateFit fits the e-folding time of the last aggregate over the lags chosen and shows
// the bars, the fitted curve and the summary.
func (w *Window) showAggregateFit() {
	v, r := &w.an, w.an.agg
	if r == nil {
		return
	}
	maxLag, err := v.fitMaxLag()
	if err != nil {
		w.status.SetText(err.Error())
		return
	}
	fit, fitErr := attribution.FitDecay(r.LagImportance, maxLag)
	lags := "all lags"
	if maxLag >= 0 && maxLag < len(r.LagImportance)-1 {
		lags = fmt.Sprintf("lags 0–%d", maxLag)
	}
	title := fmt.Sprintf("Mean importance per lag · %s, lead %d", r.Method, r.Lead)
	tau := "no e-folding time (" + errText(fitErr) + ")"
	if fitErr == nil {
		tau = fmt.Sprintf("e-folding time %s months [95%%: %s, %s] over %s", num(fit.Tau), num(fit.TauLo), num(fit.TauHi), lags)
		title += fmt.Sprintf(" · line: exponential fit over %s, τ %s\u00a0months", lags, num(fit.Tau))
	}
	v.aggChart.SetValues(title, r.LagImportance)
	if fitErr == nil {
		v.aggChart.SetCurve(decayCurve(fit, len(r.LagImportance)))
	}
	v.aggChart.SetCurrent(v.aggLag)
	w.status.SetText("aggregate: " + tau) // replaces a complaint about a half-typed lag
	v.aggNote.SetText(fmt.Sprintf("%d samples (%s), %d skipped · %s · R50 %.0f km, R90 %.0f km · %s, %v",
		r.Agg.Samples, r.SampleSet, r.Agg.Skipped, tau, r.Extent.R50, r.Extent.R90, r.Device, r.Duration.Round(1e6)))
}

// decayCurve is the fitted exponential at lags 0..n-1, NaN beyond the lags the fit used.
func decayCurve(f attribution.DecayFit, n int) []float64 {
	c := make([]float64, n)
	for k := range c {
		c[k] = math.NaN()
		if k <= f.MaxLag {
			c[k] = f.At(float64(k))
		}
	}
	return c
}

// The Aggregate tab's map choices.
const (
	aggAbs    = "mean |attribution|"
	aggSigned = "mean signed attribution"
)

// showAggregate draws the last aggregate's map as chosen: mean |attribution| (sequential scale)
// or the mean signed attribution (diverging: where the sign is consistent over the samples it
// approaches the mean |attribution|, where it is not it cancels), at the lag of the bar tapped
// or summed over every lag.
func (w *Window) showAggregate() {
	v, r := &w.an, w.an.agg
	if r == nil || w.ws == nil {
		return
	}
	signed := v.aggShow.Selected == aggSigned
	what, scale := "mean |"+r.Method+"|", "sequential"
	if signed {
		what, scale = "mean signed "+r.Method, "diverging"
	}
	when := "summed over lags"
	if v.aggLag >= 0 {
		when = fmt.Sprintf("at lag %d", v.aggLag)
	}
	v.aggMap.SetScale(scale)
	v.aggMap.SetField(MapField{Grid: w.ws.Card.Grid, Values: r.Field(v.aggLag, signed),
		Title: fmt.Sprintf("%s %s · lead %d · %s · %d samples", what, when, r.Lead, targetLabel(r.Target), r.Agg.Samples)})
	w.markOn(v.aggMap, r.Target)
	v.aggChart.SetCurrent(v.aggLag)
	if v.aggLag < 0 {
		v.aggAll.Disable()
	} else {
		v.aggAll.Enable()
	}
}

// chooseSaveAggregate asks where to save the last aggregate.
func (w *Window) chooseSaveAggregate() {
	if r := w.an.agg; r != nil {
		w.chooseNetCDF(fmt.Sprintf("agg_%s_lead%02d.nc", r.Method, r.Lead), w.SaveAggregate)
	}
}

// SaveAggregate writes the last aggregate at path as climxai aggregate writes its --out file,
// so that climxai decay, merge and figure read it.
func (w *Window) SaveAggregate(path string) {
	if w.an.agg == nil || w.ws == nil {
		return
	}
	ws, r := w.ws, w.an.agg
	w.saveNetCDF(path, "(as climxai aggregate writes it: climxai decay, merge and figure read it)", "saved-aggregate",
		func(path string) error { return ws.WriteAggregateResult(path, r) }, func() { w.an.markSaved(r) })
}

// chooseSaveDecayMap asks where to save the last decay map.
func (w *Window) chooseSaveDecayMap() {
	if r := w.an.dm; r != nil {
		w.chooseNetCDF(fmt.Sprintf("decaymap_%s_lead%02d.nc", r.Method, r.Lead), w.SaveDecayMap)
	}
}

// SaveDecayMap writes the last decay map at path as climxai decaymap writes its --out file.
func (w *Window) SaveDecayMap(path string) {
	if w.an.dm == nil || w.ws == nil {
		return
	}
	ws, r := w.ws, w.an.dm
	w.saveNetCDF(path, "(as climxai decaymap writes it: climxai figure --kind decaymap draws it)", "saved-decaymap",
		func(path string) error { return ws.WriteDecayMapResult(path, r) }, func() { w.an.markSaved(r) })
}

// chooseSaveAblation asks where to save the last ablation.
func (w *Window) chooseSaveAblation() {
	if o := w.an.ab; o != nil {
		w.chooseNetCDF(fmt.Sprintf("ablate_lead%02d.nc", o.Lead), w.SaveAblation)
	}
}

// SaveAblation writes the last ablation at path as climxai ablate writes its --out file.
func (w *Window) SaveAblation(path string) {
	if w.an.ab == nil || w.ws == nil {
		return
	}
	ws, o := w.ws, w.an.ab
	w.saveNetCDF(path, "(as climxai ablate writes it)", "saved-ablation",
		func(path string) error { return ws.WriteAblationOutcome(path, o) }, func() { w.an.markSaved(o) })
}

// RunDecayMap maps the e-folding time and R90 over the domain.
func (w *Window) RunDecayMap() {
	if w.ws == nil {
		return
	}
	ws, sel, set := w.ws, w.ws.Selection(), strings.TrimSpace(w.an.dmSamples.Text)
	stride, err := strconv.Atoi(strings.TrimSpace(w.an.dmStride.Text))
	if err != nil || stride < 1 {
		w.status.SetText("decay map: the stride is a whole number, 1 or more (every stride-th cell is a target)")
		return
	}
	maxLag := -1
	if s := strings.TrimSpace(w.an.dmMaxLag.Text); s != "" && s != "all" {
		if maxLag, err = strconv.Atoi(s); err != nil || maxLag < 1 {
			w.status.SetText("decay map: max lag is a whole number of months, or empty for all lags")
			return
		}
	}
	runAnalysis(w, fmt.Sprintf("mapping the decay of %s (lead %d), stride %d, over %s …", sel.Method, sel.Lead, stride, set), "decaymapped",
		func(ctx context.Context, p func(int, int)) (*app.DecayMapResult, error) {
			return ws.DecayMap(ctx, sel, set, stride, maxLag, p)
		},
		func(r *app.DecayMapResult) {
			w.an.dm = r
			w.an.dmSaved = false
			w.an.dmSave.Enable()
			w.an.dmFig.Enable()
			w.an.dmNote.SetText(fmt.Sprintf("%s, lead %d: %d targets (stride %d) × %d samples (%s) · e-folding time median %s months, CV %.2f · R90 median %.0f km, CV %.2f · %s, %v",
				r.Method, r.Lead, r.Targets, r.Stride, r.Samples, r.SampleSet, num(r.EFoldMedian), r.EFoldCV, r.R90Median, r.R90CV, r.Device, r.Duration.Round(1e6)))
			w.showDecayMap()
			w.status.SetText("decay map: " + w.an.dmNote.Text)
		})
}

// showDecayMap draws the chosen quantity of the last decay map, each target's value filling
// the ocean cells of its stride block (the targets alone would be dots).
func (w *Window) showDecayMap() {
	r := w.an.dm
	if r == nil || w.ws == nil {
		return
	}
	vals, what := r.Maps.EFold, "e-folding time (months)"
	if strings.HasPrefix(w.an.dmShow.Selected, "R90") {
		vals, what = r.Maps.R90, "R90 (km)"
	}
	g := w.ws.Card.Grid
	shown := make([]float32, len(vals))
	for i := range shown {
		row, col := i/g.NLon, i%g.NLon
		v := vals[(row-row%r.Stride)*g.NLon+col-col%r.Stride]
		if !w.ws.Prepared.Ocean[i] || math.IsInf(float64(v), 0) {
			v = float32(math.NaN()) // land, and no decay: grey
		}
		shown[i] = v
	}
	w.an.dmMap.SetField(MapField{Grid: g, Values: shown,
		Title: fmt.Sprintf("%s of %s, lead %d · each target's value over its %d×%d block; grey: land or no decay", what, r.Method, r.Lead, r.Stride, r.Stride)})
}

// RunAblation runs the ablation experiment for the selection.
func (w *Window) RunAblation() {
	if w.ws == nil {
		return
	}
	ws, sel, set := w.ws, w.ws.Selection(), strings.TrimSpace(w.an.abSamples.Text)
	radii, err := app.ParseRadii(w.an.abRadii.Text)
	if err != nil {
		w.status.SetText("ablation: radii: " + err.Error())
		return
	}
	lags, err := app.ParseInts(w.an.abLags.Text)
	if err != nil {
		w.status.SetText("ablation: months kept: " + err.Error())
		return
	}
	type drawn struct {
		out        *app.AblationOutcome
		rad, lagIm image.Image
	}
	runAnalysis(w, fmt.Sprintf("ablating the lead-%d forecast of %s over %s …", sel.Lead, targetLabel(sel.Target), set), "ablated",
		func(ctx context.Context, p func(int, int)) (drawn, error) {
			out, err := ws.Ablate(ctx, sel, set, radii, lags, p)
			if err != nil {
				return drawn{}, err
			}
			d := drawn{out: out}
			r := out.Result
			if len(out.RadiiKm) > 0 {
				if d.rad, err = app.LinesImage(app.AblationLines(out.RadiiKm, nil, r, out.Full, out.Pers), "agu1", 150); err != nil {
					return drawn{}, err
				}
			}
			if len(out.Lags) > 0 {
				if d.lagIm, err = app.LinesImage(app.AblationLines(nil, out.Lags, r, out.Full, out.Pers), "agu1", 150); err != nil {
					return drawn{}, err
				}
			}
			return d, nil
		},
		func(d drawn) {
			w.an.ab = d.out
			w.an.abSaved = false
			w.an.abSave.Enable()
			w.an.abFig.Enable()
			if len(d.out.Figures()) == 0 {
				w.an.abFig.Disable() // neither a finite radius nor months kept: no curve to draw
			}
			w.an.abRadius.Image, w.an.abLag.Image = d.rad, d.lagIm
			w.an.abRadius.Refresh()
			w.an.abLag.Refresh()
			o := d.out
			var b strings.Builder
			fmt.Fprintf(&b, "lead %d forecast of %s, %s · correlation: full input %.3f, persistence %.3f", o.Lead, targetLabel(o.Target), o.Description, o.Full.Corr, o.Pers.Corr)
			for i, r := range o.RadiiKm {
				fmt.Fprintf(&b, " · within %s km %.3f", strings.Replace(strconv.FormatFloat(r, 'g', -1, 64), "+Inf", "inf", 1), o.Result.Radius[i].Corr)
			}
			for i, k := range o.Lags {
				fmt.Fprintf(&b, " · last %d months %.3f", k, o.Result.Lag[i].Corr)
			}
			for i, v := range o.Result.Vars {
				fmt.Fprintf(&b, " · without %s %.3f", v, o.Result.Variable[i].Corr)
			}
			w.an.abNote.SetText(b.String())
			w.status.SetText(fmt.Sprintf("ablation done: %d samples, %v on %s", o.Result.Samples, o.Result.Duration.Round(1e6), o.Result.Device))
		})
}

// markOn marks target t on map m.
func (w *Window) markOn(m *MapCanvas, t attribution.Target) {
	if t.Kind == attribution.TargetCell {
		m.SetMarker(Cell{Row: t.Row, Col: t.Col, Lat: t.Lat, Lon: t.Lon})
		return
	}
	m.SetMarkerBox(Box{S: t.Box.S, N: t.Box.N, W: t.Box.W, E: t.Box.E})
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return firstLine(err.Error())
}
