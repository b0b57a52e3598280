package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
)

// Kinds of OpenError: which part of opening a workspace failed.
var (
	ErrCard    = errors.New("cannot open the emulator card")
	ErrData    = errors.New("cannot open the data")
	ErrRuntime = errors.New("cannot start ONNX Runtime")
)

// ErrSelection is the kind of a SelectionError: a lead, init month, target or method the
// workspace cannot explain.
var ErrSelection = errors.New("invalid selection")

// OpenError is a failure of Open: which kind (ErrCard, ErrData, ErrRuntime), which file, and
// the underlying error, which says what was wrong and what to do (an *inference.Error or a
// *dataset.Error with its hint). errors.Is matches both the kind and the underlying error.
type OpenError struct {
	Kind error
	Path string
	Err  error
}

func (e *OpenError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%v: %v", e.Kind, e.Err)
	}
	return fmt.Sprintf("%v %s: %v", e.Kind, e.Path, e.Err)
}

// Unwrap lets errors.Is match the kind and the underlying error.
func (e *OpenError) Unwrap() []error { return []error{e.Kind, e.Err} }

// SelectionError is a selection the workspace cannot take; Msg says what is allowed.
type SelectionError struct{ Msg string }

func (e *SelectionError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, ErrSelection) true.
func (e *SelectionError) Unwrap() error { return ErrSelection }

func selErr(format string, a ...any) error { return &SelectionError{Msg: fmt.Sprintf(format, a...)} }

// Selection is what the next explanation explains: one target at one lead from one init month,
// by one method of the attribution registry with its parameters.
type Selection struct {
	Target attribution.Target
	Lead   int
	Init   dataset.Month
	Method string
	// Params are the method's parameters as text by flag name (MethodParams); missing ones,
	// or all when nil, take their defaults. The map is never modified once in a Selection.
	Params map[string]string
}

// Explanation is the outcome of Workspace.Explain: the selection it explains (so a caller that
// has moved on can recognise a stale result), the attribution, the importance per lag and the
// wall time of the whole request (window, emulator, method).
type Explanation struct {
	Selection Selection
	Result    *attribution.Result
	// LagImportance is Σ|attribution| over ocean cells (and input variables) per lag, lag 0
	// first, normalised to sum 1 (all zeros when the attribution is).
	LagImportance []float64
	Elapsed       time.Duration
	// Forecast is the forecast field of the selection with the observed one and their
	// difference, for the map's Prediction, Truth and Error views.
	Forecast *Forecast
}

// Workspace is an emulator card with its data prepared for it, the ONNX Runtime that runs its
// models, and the current selection: the state the GUI shows and the commands share. Its
// methods are safe for concurrent use, so selections can change on a UI goroutine while an
// explanation runs on another.
type Workspace struct {
	Card     *inference.Card
	CardPath string
	// DataPaths are the data files, in the order given: one file, or the files that hold the
	// variables or periods stored separately (inference.Card.Prepare).
	DataPaths []string
	Prepared  *dataset.Prepared
	Runtime   *inference.Runtime
	Options   inference.Options
	// Notices are remarks about how the data were prepared (regridding, dropped cells) that the
	// user should see.
	Notices []string
	// WrittenBy names the program in the files the workspace writes (written_by); "" is
	// "climxai gui".
	WrittenBy string

	mu        sync.Mutex
	sel       Selection
	emulators map[int]*attribution.Emulator
	emuMu     sync.Mutex // serialises opening emulators (slow: sessions, SHA-256)
	jobs      sync.WaitGroup
	closed    bool
}

// Open loads the card at cardPath, reads its input variables from the files at dataPaths (one
// file, or one per variable or period), prepares them for the card's grid and preprocessing,
// and starts ONNX Runtime with opts. The initial selection is the card's first
// lead, the latest init month the data allow, saliency, and the ocean cell nearest the domain's
// centre. Errors are *OpenError.
func Open(cardPath string, dataPaths []string, opts inference.Options) (*Workspace, error) {
	card, err := inference.LoadCard(cardPath)
	if err != nil {
		return nil, &OpenError{Kind: ErrCard, Path: cardPath, Err: err}
	}
	dataPath := dataset.PathList(dataPaths)
	p, err := card.Prepare(dataPaths...)
	if err != nil {
		return nil, &OpenError{Kind: ErrData, Path: dataPath, Err: err}
	}
	lead := card.Models[0].Lead
	if err := p.CheckLength(card.InputMonths, lead); err != nil {
		return nil, &OpenError{Kind: ErrData, Path: dataPath, Err: err}
	}
	rt, err := inference.NewRuntime("")
	if err != nil {
		return nil, &OpenError{Kind: ErrRuntime, Err: err}
	}
	w := &Workspace{Card: card, CardPath: cardPath, DataPaths: slices.Clone(dataPaths), Prepared: p, Runtime: rt,
		Options: opts, Notices: p.Notices, emulators: map[int]*attribution.Emulator{}}
	if vars := card.Variables(); len(vars) > 1 {
		w.Notices = append(slices.Clip(w.Notices), fmt.Sprintf("this emulator reads %s: the map shows the variable chosen beside Show, "+
			"the lag and distance curves all of them; saved results hold each variable's attributions (attribution_NAME)", strings.Join(vars, ", ")))
	}
	inits := p.Inits(lead, card.InputMonths)
	w.sel = Selection{Lead: lead, Init: inits[len(inits)-1], Method: "saliency"}
	g := card.Grid
	start := fmt.Sprintf("%g,%g", g.LatStart+g.LatStep*float64(g.NLat-1)/2, g.LonStart+g.LonStep*float64(g.NLon-1)/2)
	if card.Index != "" {
		start = card.Index // an index emulator forecasts its region only
	}
	t, err := attribution.ParseTarget(start, g, p.Ocean)
	if err != nil {
		rt.Close()
		return nil, &OpenError{Kind: ErrData, Path: dataPath, Err: err}
	}
	w.sel.Target = t
	return w, nil
}

// DataFile names the data files as result files do (data_file): the path, or the paths joined
// by " + " (dataset.PathList).
func (w *Workspace) DataFile() string { return dataset.PathList(w.DataPaths) }

// writer is WrittenBy or "climxai gui".
func (w *Workspace) writer() string {
	if w.WrittenBy == "" {
		return "climxai gui"
	}
	return w.WrittenBy
}

// Close waits for running explanations to end (cancel their contexts first) and closes the
// runtime. The workspace cannot explain after Close.
func (w *Workspace) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	w.jobs.Wait()
	return w.Runtime.Close()
}

// Selection returns the current selection.
func (w *Workspace) Selection() Selection {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sel
}

// Leads are the card's lead times, increasing.
func (w *Workspace) Leads() []int { return w.Card.Leads() }

// Inits returns the init months the data allow at lead, in order.
func (w *Workspace) Inits(lead int) []dataset.Month {
	return w.Prepared.Inits(lead, w.Card.InputMonths)
}

// SetLead selects a lead of the card. When the current init month has no target at the new lead
// the latest init month that has one is selected instead.
func (w *Workspace) SetLead(lead int) error {
	if _, err := w.Card.Model(lead); err != nil {
		return selErr("lead %d: the card has leads %v", lead, w.Card.Leads())
	}
	inits := w.Inits(lead)
	if len(inits) == 0 {
		return selErr("lead %d: the data are too short for a single sample", lead)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sel.Lead = lead
	if !containsMonth(inits, w.sel.Init) {
		w.sel.Init = inits[len(inits)-1]
	}
	return nil
}

// SetInit selects the init month (the last observed month) of the forecast.
func (w *Workspace) SetInit(init dataset.Month) error {
	w.mu.Lock()
	lead := w.sel.Lead
	w.mu.Unlock()
	inits := w.Inits(lead)
	if !containsMonth(inits, init) {
		return selErr("init %s: at lead %d the data allow init months %s to %s", init, lead, inits[0], inits[len(inits)-1])
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sel.Init = init
	return nil
}

// SetMethod selects an attribution method of the registry by name (with its default settings).
func (w *Workspace) SetMethod(name string) error {
	return w.SetMethodParams(name, nil)
}

// SetMethodParams selects a method with parameters (nil: the defaults), checked by
// MethodSettings; a bad one leaves the selection as it was.
func (w *Workspace) SetMethodParams(name string, params map[string]string) error {
	if _, err := MethodSettings(name, params); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sel.Method = name
	w.sel.Params = maps.Clone(params)
	return nil
}

// SetTarget selects a target given as the command line gives it: LAT,LON (nearest ocean cell),
// box:S,N,W,E or a named box.
func (w *Workspace) SetTarget(spec string) (attribution.Target, error) {
	t, err := attribution.ParseTarget(spec, w.Card.Grid, w.Prepared.Ocean)
	if err != nil {
		return attribution.Target{}, err
	}
	if c := w.Card; !t.Within(c.Region()) {
		return attribution.Target{}, selErr("%s is outside the %s region: this emulator forecasts the %s index only; pick a cell in its box %s, or the index itself",
			t, c.Index, c.Index, c.IndexRegion.Box)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sel.Target = t
	return t, nil
}

// SelectCell selects the ocean cell nearest to grid cell (row, col) of the card's grid as the
// target.
func (w *Workspace) SelectCell(row, col int) (attribution.Target, error) {
	g := w.Card.Grid
	if row < 0 || row >= g.NLat || col < 0 || col >= g.NLon {
		return attribution.Target{}, selErr("cell (%d, %d) is outside the %d x %d grid", row, col, g.NLat, g.NLon)
	}
	if !w.Prepared.Ocean[row*g.NLon+col] {
		row, col = w.nearestOcean(row, col)
		if row < 0 {
			return attribution.Target{}, selErr("the data have no ocean cell")
		}
	}
	return w.SetTarget(fmt.Sprintf("%g,%g", g.LatStart+g.LatStep*float64(row), g.LonStart+g.LonStep*float64(col)))
}

// StepCell moves a cell target to the next ocean cell north (north = 1), south (-1), east
// (east = 1) or west (-1) of it, over land in between; a box target starts from its centre
// cell. With no ocean cell that way before the grid's edge the target stays and the error says
// so.
func (w *Workspace) StepCell(north, east int) (attribution.Target, error) {
	g := w.Card.Grid
	t := w.Selection().Target
	dr, dc := north, east
	if g.LatStep < 0 {
		dr = -dr
	}
	if g.LonStep < 0 {
		dc = -dc
	}
	if dr == 0 && dc == 0 {
		return t, nil
	}
	for r, c := t.Row+dr, t.Col+dc; r >= 0 && r < g.NLat && c >= 0 && c < g.NLon; r, c = r+dr, c+dc {
		if w.Prepared.Ocean[r*g.NLon+c] {
			return w.SelectCell(r, c)
		}
	}
	way := map[[2]int]string{{1, 0}: "north", {-1, 0}: "south", {0, 1}: "east", {0, -1}: "west"}[[2]int{north, east}]
	return t, selErr("no ocean cell further %s inside the emulator's grid", way)
}

// nearestOcean is the ocean cell at the least great-circle distance from cell (row, col), or
// (-1, -1) when there is none.
func (w *Workspace) nearestOcean(row, col int) (int, int) {
	g := w.Card.Grid
	lat0, lon0 := g.LatStart+g.LatStep*float64(row), g.LonStart+g.LonStep*float64(col)
	best, br, bc := math.Inf(1), -1, -1
	for i, o := range w.Prepared.Ocean {
		if !o {
			continue
		}
		r, c := i/g.NLon, i%g.NLon
		d := attribution.DistanceKm(lat0, lon0, g.LatStart+g.LatStep*float64(r), g.LonStart+g.LonStep*float64(c))
		if d < best {
			best, br, bc = d, r, c
		}
	}
	return br, bc
}

// Input returns the model input at lag (month init-lag) on the card's grid, [NLat*NLon] in
// model units (scaled anomalies), NaN on land.
func (w *Workspace) Input(init dataset.Month, lag int) ([]float32, error) {
	return w.InputOf(init, lag, 0)
}

// InputOf is Input of input variable v (0 the card's variable, then its [[input]] tables).
func (w *Workspace) InputOf(init dataset.Month, lag, v int) ([]float32, error) {
	months := w.Card.InputMonths
	if lag < 0 || lag >= months {
		return nil, selErr("lag %d: lags are 0..%d", lag, months-1)
	}
	if v < 0 || v > len(w.Prepared.Extra) {
		return nil, selErr("input variable %d: the card reads %s", v, strings.Join(w.Card.Variables(), ", "))
	}
	p := w.Prepared
	if v > 0 {
		p = p.Extra[v-1]
	}
	view, err := p.WindowView(init, months)
	if err != nil {
		return nil, err
	}
	n := w.Card.Grid.NLat * w.Card.Grid.NLon
	out := make([]float32, n)
	copy(out, view[(months-1-lag)*n:(months-lag)*n])
	for i, o := range w.Prepared.Ocean {
		if !o {
			out[i] = float32(math.NaN())
		}
	}
	return out, nil
}

// emulator returns the emulator of lead, opening it on first use.
func (w *Workspace) emulator(lead int) (*attribution.Emulator, error) {
	w.emuMu.Lock()
	defer w.emuMu.Unlock()
	if e := w.emulators[lead]; e != nil {
		return e, nil
	}
	e, err := attribution.OpenEmulator(w.Runtime, w.Card, lead, w.Options)
	if err != nil {
		return nil, err
	}
	w.emulators[lead] = e
	return e, nil
}

// Explain explains the current selection: it snapshots the selection, cuts the input window,
// opens the lead's emulator (first use only) and runs the method, reporting progress (nil: none)
// and stopping when ctx is cancelled. It blocks; the GUI calls it from a worker goroutine.
func (w *Workspace) Explain(ctx context.Context, progress func(done, total int)) (*Explanation, error) {
	return w.ExplainSelection(ctx, w.Selection(), progress)
}

// ExplainSelection is Explain for a given selection rather than the current one.
func (w *Workspace) ExplainSelection(ctx context.Context, sel Selection, progress func(done, total int)) (*Explanation, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, errors.New("workspace closed")
	}
	w.jobs.Add(1)
	w.mu.Unlock()
	defer w.jobs.Done()

	start := time.Now()
	if sel.Target.Weights == nil {
		return nil, selErr("no target selected: click a cell on the map")
	}
	spec, err := attribution.LookupMethod(sel.Method)
	if err != nil {
		return nil, &SelectionError{Msg: err.Error()}
	}
	set, err := MethodSettings(sel.Method, sel.Params)
	if err != nil {
		return nil, err
	}
	m, err := spec.New(set)
	if err != nil {
		return nil, err
	}
	e, err := w.emulator(sel.Lead)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := w.Card
	x := make([]float32, c.Channels()*c.Grid.NLat*c.Grid.NLon)
	if err := c.Window(w.Prepared, sel.Init, x); err != nil {
		return nil, err
	}
	res, err := m.Attribute(ctx, attribution.Request{Emulator: e, X: x, Target: sel.Target,
		Ocean: w.Prepared.Ocean, Progress: progress})
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Selection: sel, Result: res, LagImportance: res.LagImportance(), Elapsed: time.Since(start)}
	if ex.Forecast, err = w.forecast(ctx, e, x, sel); err != nil {
		return nil, err
	}
	return ex, nil
}

// Forecast is the emulator's forecast field for a selection beside the observed field of its
// target month, in °C of anomaly (filtered as the card says, its scaling undone), NaN on land.
type Forecast struct {
	Month      dataset.Month // the target month: init + lead
	Prediction []float32
	Truth      []float32 // nil when the data end before Month
	Error      []float32 // Prediction − Truth; nil without Truth
}

// forecast runs the emulator forward on the window x of sel and reads the observed target.
func (w *Workspace) forecast(ctx context.Context, e *attribution.Emulator, x []float32, sel Selection) (*Forecast, error) {
	y, err := e.Forward().Run(ctx, x, 1)
	if err != nil {
		return nil, err
	}
	pp := w.Card.Preprocess
	f := &Forecast{Month: sel.Init + dataset.Month(sel.Lead), Prediction: make([]float32, len(y))}
	nan := float32(math.NaN())
	for k, v := range y {
		f.Prediction[k] = nan
		if w.Prepared.Ocean[k] && e.Forecasts(k) {
			f.Prediction[k] = float32(float64(v)*pp.ScaleStd + pp.ScaleMean)
		}
	}
	truth, err := w.Prepared.Target(sel.Init, sel.Lead)
	if err != nil {
		return f, nil // beyond the data: a forecast without an observation to compare
	}
	if w.Card.Index != "" {
		// An index emulator is compared with the observed index, laid out as its forecast.
		truth.Values = w.Card.Grid.IndexField(truth.Values, w.Card.Region())
	}
	f.Truth, f.Error = make([]float32, len(y)), make([]float32, len(y))
	for k, v := range truth.Values {
		f.Truth[k], f.Error[k] = nan, nan
		if w.Prepared.Ocean[k] && !math.IsNaN(float64(v)) {
			f.Truth[k] = float32(float64(v)*pp.ScaleStd + pp.ScaleMean)
			f.Error[k] = f.Prediction[k] - f.Truth[k]
		}
	}
	return f, nil
}

// modelOf returns the ONNX file of lead's emulator and its SHA-256, for result files' provenance.
func (w *Workspace) modelOf(lead int) (file, sha string, err error) {
	cm, err := w.Card.Model(lead)
	if err != nil {
		return "", "", err
	}
	e, err := w.emulator(lead)
	if err != nil {
		return "", "", err
	}
	return cm.File, e.SHA256, nil
}

// ExplainLeads explains sel at every lead of the card, in lead order (sel.Lead is ignored), from
// the same init month and for the same target, so leads can be compared side by side. Progress
// counts over all leads.
func (w *Workspace) ExplainLeads(ctx context.Context, sel Selection, progress func(done, total int)) ([]*Explanation, error) {
	leads := w.Leads()
	sels := make([]Selection, len(leads))
	for i, l := range leads {
		sels[i] = sel
		sels[i].Lead = l
	}
	return w.explainEach(ctx, sels, func(s Selection) string { return fmt.Sprintf("lead %d", s.Lead) }, progress)
}

// explainEach explains each selection in turn, with progress counted over all of them; an
// error is prefixed with what name calls its selection.
func (w *Workspace) explainEach(ctx context.Context, sels []Selection, name func(Selection) string, progress func(done, total int)) ([]*Explanation, error) {
	out := make([]*Explanation, len(sels))
	for i, s := range sels {
		var p func(done, total int)
		if progress != nil {
			p = func(done, total int) {
				if total > 0 {
					progress(i*total+done, len(sels)*total)
				}
			}
		}
		ex, err := w.ExplainSelection(ctx, s, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name(s), err)
		}
		out[i] = ex
	}
	return out, nil
}

// CompareMethodsDefault are the methods a comparison of methods starts with: the gradient,
// gradient times input, a path method, a reference-difference rule and a relevance rule, so
// that the families that can disagree sit side by side. Occlusion is left out: its default
// window (a whole month) gives every cell of a month one value, no map to compare.
var CompareMethodsDefault = []string{"saliency", "ixg", "ig", "deeplift", "lrp-epsilon-plus"}

// ExplainMethods explains sel with each of methods in turn: the selection's parameters for its
// own method, the defaults for the others. Progress counts over all of them.
func (w *Workspace) ExplainMethods(ctx context.Context, sel Selection, methods []string, progress func(done, total int)) ([]*Explanation, error) {
	if len(methods) == 0 {
		return nil, selErr("choose at least one method to compare")
	}
	sels := make([]Selection, len(methods))
	for i, m := range methods {
		sels[i] = sel
		if m != sel.Method {
			sels[i].Method, sels[i].Params = m, nil
		}
	}
	return w.explainEach(ctx, sels, func(s Selection) string { return s.Method }, progress)
}

// AgreementTable lays MethodAgreement's matrix out for a monospace font: a header row of the
// methods, then a row per method, each line ending in a newline.
func AgreementTable(exs []*Explanation, a [][]float64) string {
	var b strings.Builder
	width := 8
	for _, ex := range exs {
		width = max(width, len(ex.Result.Method)+2)
	}
	fmt.Fprintf(&b, "%*s", width, "")
	for _, ex := range exs {
		fmt.Fprintf(&b, "%*s", width, ex.Result.Method)
	}
	b.WriteString("\n")
	for i, ex := range exs {
		fmt.Fprintf(&b, "%*s", width, ex.Result.Method)
		for j := range exs {
			fmt.Fprintf(&b, "%*.2f", width, a[i][j])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// MethodAgreement is the Spearman rank correlation of |attribution| between every pair of
// explanations, over every ocean value of every lag: 1 where two methods rank the inputs alike,
// near 0 where they share nothing. agreement[i][i] is 1.
func MethodAgreement(exs []*Explanation) [][]float64 {
	abs := make([][]float64, len(exs))
	for i, ex := range exs {
		for _, v := range ex.Result.Values {
			if v == v { // land is NaN in every map alike
				abs[i] = append(abs[i], math.Abs(float64(v)))
			}
		}
	}
	return attribution.SpearmanMatrix(abs)
}

// MethodNames are the registry's method names, in the registry's order.
func MethodNames() []string {
	specs := attribution.Methods()
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

func containsMonth(ms []dataset.Month, m dataset.Month) bool {
	i := sort.Search(len(ms), func(i int) bool { return ms[i] >= m })
	return i < len(ms) && ms[i] == m
}

// WriteResult writes ex as the contract's result file at path: attribution(lag, lat, lon) on the
// card's grid with the provenance of the CLI's explain (method, parameters, target, lead, init,
// model file and SHA-256, data file, device, duration, f(x), completeness).
func (w *Workspace) WriteResult(path string, ex *Explanation) error {
	r, sel := ex.Result, ex.Selection
	modelFile, modelSHA, err := w.modelOf(sel.Lead)
	if err != nil {
		return err
	}
	other := map[string]string{
		"device":            r.Device,
		"duration_seconds":  strconv.FormatFloat(r.Duration.Seconds(), 'f', 3, 64),
		"target_output":     strconv.FormatFloat(r.Output, 'g', 8, 64),
		"target_resolved":   sel.Target.String(),
		"card":              w.CardPath,
		"output_units":      "model output units (scaled anomaly); degC = value * scale_std + scale_mean",
		"attribution_units": "model output units per input feature",
		"written_by":        w.writer(),
	}
	if c := r.Completeness; c != nil {
		other["completeness_sum"] = strconv.FormatFloat(c.Sum, 'g', 8, 64)
		other["completeness_expected"] = strconv.FormatFloat(c.Expected, 'g', 8, 64)
		other["completeness_delta"] = strconv.FormatFloat(c.Delta, 'g', 6, 64)
	}
	af := ResultFile(r, w.Card.Grid.Grid(), dataset.AttributionMeta{Method: r.Method, Parameters: r.Params.String(),
		Target: sel.Target.Spec, Lead: sel.Lead, Init: sel.Init.String(), ModelFile: modelFile, ModelSHA256: modelSHA,
		DataFile: w.DataFile(), Version: Version, Other: other})
	return dataset.WriteAttribution(path, af)
}

// DataReport says how the open data were read, for the window's File > About the open data…: the
// card, each input variable with its months and files, the months with values after the
// filter, the ocean cells, and every note on the way (layer and time means, curvilinear grids,
// joined files, regridding, cut months, dropped cells).
func (w *Workspace) DataReport() []string {
	p := w.Prepared
	lines := []string{"card: " + w.CardPath}
	for i, name := range w.Card.Variables() {
		s := p.Series
		if i > 0 {
			s = p.Extra[i-1].Series
		}
		lines = append(lines, fmt.Sprintf("%s: %v to %v (%d months) from %s", name, s.Start, s.Month(s.N-1), s.N, s.Source))
	}
	first, last := p.ValidMonths()
	lines = append(lines, fmt.Sprintf("months with values: %v to %v; ocean cells: %d of %d on the card's %d x %d grid",
		first, last, p.OceanCells(), len(p.Ocean), w.Card.Grid.NLat, w.Card.Grid.NLon))
	for _, n := range w.Notices {
		lines = append(lines, "note: "+n)
	}
	return lines
}
