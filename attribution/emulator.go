package attribution

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"climxai/attribution/backward"
	"climxai/dataset"
	"climxai/inference"
	"climxai/onnx"
)

// Names of the backward models' extra inputs and outputs, chosen not to collide with an
// exporter's value names.
const (
	seedName = "climxai_seed"
	gradName = "climxai_grad"
	refName  = "climxai_ref"
)

// Emulator is one emulator model opened for attribution: its forward session, its ONNX graph
// (from which backward graphs are built on first use and cached in the Runtime), its SHA-256,
// and the value of a zero anomaly in model input units. It is safe for concurrent use.
type Emulator struct {
	File   string // the ONNX file
	SHA256 string // hex SHA-256 of the file's bytes
	// ZeroAnomaly is a zero anomaly (climatology) in model input units, -scale_mean/scale_std of
	// the card: the value of the zero-anomaly baseline on ocean cells. Land is always 0.
	ZeroAnomaly float32
	// NewestFirst is true when input channel c holds month t-c (the card's channel_order);
	// otherwise channel c holds month t-(Months-1)+c.
	NewestFirst bool
	// Vars names the input variables whose month blocks make the input channels, the forecast
	// variable first (the card's variable and [[input]] tables); nil for one variable.
	// Results then hold one (lag, lat, lon) block per variable, in this order.
	Vars []string
	// InputZero[v-1] is the zero anomaly of Vars[v] in model input units (v >= 1); Vars[0]'s is
	// ZeroAnomaly.
	InputZero []float32
	// Layout is how the variables' month blocks make the channels (the card's input_layout;
	// "" is variable-major, each variable's months in one block).
	Layout inference.InputLayout
	// Budget bounds the memory of batched runs in bytes (0: inference.DefaultBudget).
	Budget int64
	// RowArea weighs each grid row's cells by their area, cos(latitude), in spatial means (the
	// mean baselines); nil weighs every cell alike. OpenEmulator sets it from the card's grid.
	RowArea []float64

	rt    *inference.Runtime
	opts  inference.Options
	fwd   *inference.Model
	model *onnx.ModelProto
	sig   inference.Signature

	mu     sync.Mutex
	graphs map[string]*inference.Graph

	headOnce sync.Once
	head     *backward.Head // the model cut after a linear first layer; nil if it has none
	headErr  error

	cropMu sync.Mutex
	crops  map[part]*backward.Crop // each part's local tail (windowed); nil if it has none
}

// OpenEmulator opens the card's model for lead on opts' device for attribution.
func OpenEmulator(rt *inference.Runtime, card *inference.Card, lead int, opts inference.Options) (*Emulator, error) {
	cm, err := card.Model(lead)
	if err != nil {
		return nil, err
	}
	e, err := NewEmulator(rt, card.Spec(cm), opts)
	if err != nil {
		return nil, err
	}
	// zero is a variable's zero anomaly in model units: (0 - scale_mean) / scale_std.
	specs := card.Preprocessing()
	zero := func(pp dataset.PreprocessSpec) float32 { return float32(-pp.ScaleMean / pp.ScaleStd) }
	e.ZeroAnomaly = zero(specs[0])
	e.NewestFirst = card.ChannelOrder == inference.NewestFirst
	if len(card.Inputs) > 0 {
		e.Vars = card.Variables()
		for _, pp := range specs[1:] {
			e.InputZero = append(e.InputZero, zero(pp))
		}
		e.Layout = card.InputLayout
	}
	e.RowArea = make([]float64, card.Grid.NLat)
	for i := range e.RowArea {
		e.RowArea[i] = max(0, math.Cos((card.Grid.LatStart+float64(i)*card.Grid.LatStep)*math.Pi/180))
	}
	return e, nil
}

// rowWeights is RowArea, or equal weights when it does not fit the model's grid.
func (e *Emulator) rowWeights() []float64 {
	if len(e.RowArea) == e.NLat() {
		return e.RowArea
	}
	w := make([]float64, e.NLat())
	for i := range w {
		w[i] = 1
	}
	return w
}

// NewEmulator opens the model of spec (oldest-first channels, zero anomaly 0; set the fields
// otherwise).
func NewEmulator(rt *inference.Runtime, spec inference.ModelSpec, opts inference.Options) (*Emulator, error) {
	fwd, err := rt.Open(spec, opts)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(spec.Path)
	if err != nil {
		return nil, &inference.Error{Model: spec.Path, Kind: inference.ErrModelMissing, Err: err}
	}
	sum := sha256.Sum256(b)
	if fwd.Signature().Index != "" {
		// Backward graphs are built on the model as its sessions run it: a field over the
		// index's region (inference/index.go).
		if b, err = fwd.ONNX(); err != nil {
			return nil, err
		}
	}
	m, err := onnx.Parse(b, spec.Path)
	if err != nil {
		return nil, err
	}
	return &Emulator{File: spec.Path, SHA256: hex.EncodeToString(sum[:]), rt: rt, opts: opts, fwd: fwd,
		model: m, sig: fwd.Signature(), graphs: map[string]*inference.Graph{}}, nil
}

// Index names the region an index emulator forecasts, "" for a field emulator.
func (e *Emulator) Index() string { return e.sig.Index }

// Forecasts reports whether the model forecasts grid cell k: every cell of a field emulator,
// the region's cells of an index emulator.
func (e *Emulator) Forecasts(k int) bool { return e.sig.Region == nil || e.sig.Region[k] }

// checkTarget refuses a target of an index emulator with weight outside the index's region,
// where the model forecasts nothing.
func (e *Emulator) checkTarget(t Target) error {
	if t.Within(e.sig.Region) {
		return nil
	}
	return errorf(ErrNotForecast, fmt.Sprintf("this emulator forecasts the %s index only: give --target %s (or a cell or box inside it)", e.sig.Index, e.sig.Index),
		"%s lies outside the index region %s", t, e.sig.Index)
}

// Months is the number of input months (lags) of each input variable; NLat and NLon are the
// model's grid.
func (e *Emulator) Months() int { return e.sig.Months / e.NVars() }

// NVars is the number of input variables (1 unless Vars names several).
func (e *Emulator) NVars() int { return max(1, len(e.Vars)) }

// Slabs is the number of (variable, lag) fields of a result: NVars x Months, the model's input
// channels.
func (e *Emulator) Slabs() int { return e.sig.Months }

// zero is variable v's zero anomaly in model input units.
func (e *Emulator) zero(v int) float32 {
	if v == 0 {
		return e.ZeroAnomaly
	}
	return e.InputZero[v-1]
}

// channelAt returns the input channel at position p (0..Months-1, in the card's channel order)
// of variable v's months.
func (e *Emulator) channelAt(v, p int) int { return e.Layout.Channel(e.NVars(), e.Months(), v, p) }

// channel returns the input channel of variable v at lag k (month t-k).
func (e *Emulator) channel(v, k int) int {
	p := e.Months() - 1 - k
	if e.NewestFirst {
		p = k
	}
	return e.channelAt(v, p)
}

// NLat is the number of grid rows.
func (e *Emulator) NLat() int { return e.sig.NLat }

// NLon is the number of grid columns.
func (e *Emulator) NLon() int { return e.sig.NLon }

// Forward returns the emulator's forward model.
func (e *Emulator) Forward() *inference.Model { return e.fwd }

// sampleLen and cells are the sizes of one input sample and one output field.
func (e *Emulator) sampleLen() int { return e.sig.Months * e.sig.NLat * e.sig.NLon }
func (e *Emulator) cells() int     { return e.sig.NLat * e.sig.NLon }

// rules is a backward rule set: a key for the caches and the composite it builds.
type rules struct {
	key         string                                     // e.g. "gradient", "lrp-epsilon eps=1e-06"
	composite   func(g *backward.Graph) backward.Composite // nil: exact gradient
	canonize    bool                                       // merge BatchNorm into convolutions first (LRP)
	reference   bool                                       // DeepLIFT: the graph takes a reference input
	part        part                                       // the whole model, or a part of it (linearHead)
	window      [2]int64                                   // rows and columns the local tail runs on (windowed); zero: the whole grid
	windowWidth int                                        // values per sample of the window input (backward.Crop.WindowWidth)
}

// part says which part of a model cut by linearHead a gradient graph covers.
type part uint8

const (
	whole       part = iota
	tailPart         // (x, seed) -> (y, ∇h): the gradient at the first layer's output h
	headAdjoint      // (x, seed over h) -> (h, ∇x): the first layer's adjoint
)

var (
	gradientRules = rules{key: "gradient"}
	tailRules     = rules{key: "gradient at the first layer's output", part: tailPart}
	headRules     = rules{key: "adjoint of the first layer", part: headAdjoint}
)

// linearHead returns the model cut after its first layer when that layer is linear (a
// convolution x feeds alone; backward.Head), nil when it is not.
func (e *Emulator) linearHead() (*backward.Head, error) {
	e.headOnce.Do(func() {
		h, ok, err := backward.SplitHead(e.model, e.sig.Input)
		if err != nil {
			e.headErr = err
		} else if ok {
			e.head = h
		}
	})
	return e.head, e.headErr
}

// graph returns the backward graph of r, building it on first use.
func (e *Emulator) graph(r rules) (*inference.Graph, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if g, ok := e.graphs[r.key]; ok {
		return g, nil
	}
	x := []int64{int64(e.Slabs()), int64(e.sig.NLat), int64(e.sig.NLon)}
	y := []int64{1, int64(e.sig.NLat), int64(e.sig.NLon)}
	spec := inference.GraphSpec{
		Key:     fmt.Sprintf("%s %s %s index %q entry %d %s", e.SHA256, e.sig.Input, e.sig.Output, e.sig.Index, e.sig.Entry, r.key),
		Name:    fmt.Sprintf("%s (%s backward graph)", e.File, r.key),
		Inputs:  []inference.GraphIO{{Name: e.sig.Input, Shape: x}, {Name: seedName, Shape: y}},
		Outputs: []inference.GraphIO{{Name: e.sig.Output, Shape: y}, {Name: gradName, Shape: x}},
	}
	if r.reference {
		spec.Inputs = append(spec.Inputs, inference.GraphIO{Name: refName, Shape: x})
	}
	if r.window != [2]int64{} {
		spec.Inputs = append(spec.Inputs, inference.GraphIO{Name: windowName, Shape: []int64{int64(r.windowWidth)}})
	}
	var head *backward.Head
	if r.part != whole {
		var err error
		if head, err = e.linearHead(); err != nil {
			return nil, err
		}
		if head == nil {
			return nil, errorf(ErrBadRequest, "", "%s: the model's first layer is not linear", e.File)
		}
		h := head.Shape
		switch r.part {
		case tailPart:
			spec.Outputs[1].Shape = h
		case headAdjoint:
			spec.Inputs[1].Shape = h
			spec.Outputs[0] = inference.GraphIO{Name: head.Hidden, Shape: h}
		}
	}
	g, err := e.rt.OpenGraph(spec, func() ([]byte, error) {
		if r.window != [2]int64{} {
			return e.windowGraph(r)
		}
		if head != nil {
			return e.partGraph(head, r.part)
		}
		m := e.model
		if r.canonize {
			var err error
			if m, err = backward.MergeBatchNorm(m); err != nil {
				return nil, err
			}
		}
		ir, err := backward.NewGraph(m, e.sig.Input, e.sig.Output)
		if err != nil {
			return nil, err
		}
		opt := backward.Options{Seed: seedName, Grad: gradName}
		// The faster form of the forward part; the rules still see the model's own nodes, so
		// every rule reads the same values (to float32 rounding) either way.
		fm, _, err := backward.SplitInputConvs(m)
		if err != nil {
			return nil, err
		}
		opt.Forward = fm
		if r.composite != nil {
			opt.Rules = r.composite(ir)
		}
		if r.reference {
			opt.Reference = refName
		}
		bm, err := backward.BuildGraph(ir, opt)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(bm)
	}, e.opts)
	if err != nil {
		return nil, err
	}
	e.graphs[r.key] = g
	return g, nil
}

// partGraph builds the gradient graph of one part of a model cut by linearHead.
func (e *Emulator) partGraph(h *backward.Head, p part) ([]byte, error) {
	opt := backward.Options{Seed: seedName, Grad: gradName}
	if p == tailPart {
		ir, err := backward.NewGraph(h.Tail, h.Hidden, e.sig.Output)
		if err != nil {
			return nil, err
		}
		bm, err := backward.BuildGraph(ir, opt)
		if err != nil {
			return nil, err
		}
		if bm, err = withHead(h, bm); err != nil {
			return nil, err
		}
		return proto.Marshal(bm)
	}
	ir, err := backward.NewGraph(h.Conv, e.sig.Input, h.Hidden)
	if err != nil {
		return nil, err
	}
	if opt.Forward, _, err = backward.SplitInputConvs(h.Conv); err != nil { // the faster forward form
		return nil, err
	}
	bm, err := backward.BuildGraph(ir, opt)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(bm)
}

// withHead puts the first layer, in its faster forward form (SplitInputConvs), in front of bm, a
// gradient graph of the model after it (h.Tail): the result takes x and returns (y, ∇h).
func withHead(h *backward.Head, bm *onnx.ModelProto) (*onnx.ModelProto, error) {
	conv, _, err := backward.SplitInputConvs(h.Conv)
	if err != nil {
		return nil, err
	}
	return h.PrependHead(bm, conv), nil
}

// sumOfGradients is where the steps of a weighted sum of input gradients (IG, SmoothGrad's mean)
// stop. With a linear first layer h = Conv(x, W), Σ_k w_k ∇x f(x_k) = Wᵀ Σ_k w_k ∇h f(x_k): the
// steps stop at h (atHead: the rules of the tail part, gradients of Head.Len values) and
// firstLayerAdjoint turns their sum into the input gradient; otherwise they run to the input
// (gradientRules, sampleLen values).
func (e *Emulator) sumOfGradients() (r rules, n int, atHead bool, err error) {
	head, err := e.linearHead()
	if err != nil {
		return rules{}, 0, false, err
	}
	if head == nil {
		return gradientRules, e.sampleLen(), false, nil
	}
	return tailRules, int(head.Len()), true, nil
}

// firstLayerAdjoint applies the adjoint of the linear first layer (linearHead) to a cotangent
// at its output: the input gradient that cotangent gives.
func (e *Emulator) firstLayerAdjoint(ctx context.Context, gh []float64) ([]float64, error) {
	g, err := e.graph(headRules)
	if err != nil {
		return nil, err
	}
	seed := make([]float32, len(gh))
	for i, v := range gh {
		seed[i] = float32(v)
	}
	// x only sets the shapes: the adjoint of a linear layer does not depend on it.
	out, err := g.Run(ctx, [][]float32{make([]float32, e.sampleLen()), seed}, 1)
	if err != nil {
		return nil, err
	}
	gx := make([]float64, len(out[1]))
	for i, v := range out[1] {
		gx[i] = float64(v)
	}
	return gx, nil
}

// firstLayerChange returns h(x) - h(b) of the linear first layer (linearHead), Conv(x - b, W):
// the first layer's outputs from the forward part of its adjoint graph.
func (e *Emulator) firstLayerChange(ctx context.Context, x, b []float32) ([]float32, error) {
	g, err := e.graph(headRules)
	if err != nil {
		return nil, err
	}
	hl := g.Spec().Outputs[0].Size()
	out, err := g.Run(ctx, [][]float32{slices.Concat(x, b), make([]float32, 2*hl)}, 2)
	if err != nil {
		return nil, err
	}
	d := out[0][:hl]
	for i, v := range out[0][hl:] {
		d[i] -= v
	}
	return d, nil
}

// backwardRun runs the backward graph of r on n samples xs ([n][Months][NLat][NLon]) with seeds
// ([n][NLat][NLon]; one shared seed when len(seeds) is one field) and, for DeepLIFT, references
// refs (same layout as xs, or one shared sample). It returns y [n][NLat][NLon], the backward
// quantity [n][Months][NLat][NLon] and the device it ran on. Runs are batched under e.Budget and
// ctx is checked between batches.
func (e *Emulator) backwardRun(ctx context.Context, r rules, xs, seeds, refs []float32, n int, progress func(done, total int)) (y, grad []float32, place inference.Placement, err error) {
	r, win, err := e.windowed(r, seeds)
	if err != nil {
		return nil, nil, place, err
	}
	g, err := e.graph(r)
	if err != nil {
		return nil, nil, place, err
	}
	if len(seeds) == e.cells() && n > 1 {
		seeds = repeat(seeds, n)
	}
	ins := [][]float32{xs, seeds}
	if r.reference {
		if len(refs) == e.sampleLen() && n > 1 {
			refs = repeat(refs, n)
		}
		ins = append(ins, refs)
	}
	if win != nil && len(win) == r.windowWidth && n > 1 {
		win = repeat(win, n) // one seed for all samples
	}
	if win != nil {
		ins = append(ins, win)
	}
	out, err := g.RunBatched(ctx, ins, n, e.Budget, progress)
	if err != nil {
		return nil, nil, place, err
	}
	return out[0], out[1], g.Placement(), nil
}

// backwardStream runs the backward graph of r (not DeepLIFT's) on n samples that fill writes
// (sample k into dst, [Months][NLat][NLon]), all with one shared seed, and hands each sample's y
// and backward quantity to consume, in order (backwardRows, under e.Budget).
func (e *Emulator) backwardStream(ctx context.Context, r rules, n int, seed []float32,
	fill func(k int, dst []float32), consume func(k int, y, grad []float32), progress func(done, total int)) (inference.Placement, error) {
	place, _, err := e.backwardRows(ctx, r, n, [][]float32{seed}, nil, e.Budget,
		func(k int, dst []float32) error { fill(k, dst); return nil },
		func(k int, _, y, grad []float32) error { consume(k, y, grad); return nil }, progress)
	return place, err
}

// backwardRows runs the backward graph of r (not DeepLIFT's) on n rows: fill writes row k's input
// into dst ([Months][NLat][NLon]), seeds[seedOf(k)] is its seed (seeds[0] for every row when
// there is one seed; seedOf may then be nil), and consume gets its input x, y and backward quantity (x's size, or h's for the
// tail part), in row order, from one goroutine at a time. Rows run in batches of at most
// budget bytes (inference.Graph.BatchSize; on the CPU at most cpuBatchBytes), and while a batch
// runs the previous one is consumed: two input buffers, so consume may read x while fill writes
// the next batch. Memory stays bounded however large n is; ctx is checked between batches and
// progress called after each batch has run. An error from fill or consume stops the run. It
// returns where the graph ran and the batch size.
func (e *Emulator) backwardRows(ctx context.Context, r rules, n int, seeds [][]float32, seedOf func(k int) int, budget int64,
	fill func(k int, dst []float32) error, consume func(k int, x, y, grad []float32) error, progress func(done, total int)) (inference.Placement, int, error) {
	r, win, err := e.windowed(r, seeds...)
	if err != nil {
		return inference.Placement{}, 0, err
	}
	g, err := e.graph(r)
	if err != nil {
		return inference.Placement{}, 0, err
	}
	if g.Placement().Device.Kind == inference.DeviceCPU {
		if budget <= 0 {
			budget = inference.DefaultBudget
		}
		budget = min(budget, cpuBatchBytes)
	}
	s, c := e.sampleLen(), e.cells()
	gs := g.Spec().Outputs[1].Size()
	b := min(n, g.BatchSize(budget))
	xsBuf := [2][]float32{make([]float32, b*s), make([]float32, b*s)}
	ww := r.windowWidth
	seedBuf, wins := make([]float32, b*c), make([]float32, ww*b)
	if len(seeds) == 1 { // one seed: the batch's seeds and windows are set once
		copy(seedBuf, repeat(seeds[0], b))
		copy(wins, repeat(win, b))
	}
	var (
		pending    sync.WaitGroup // the batch being consumed
		consumeErr error          // its error, read after pending.Wait
	)
	defer pending.Wait()
	for j, k0 := 0, 0; k0 < n; j, k0 = j+1, k0+b {
		if err := ctx.Err(); err != nil {
			return inference.Placement{}, b, err
		}
		m, xs := min(b, n-k0), xsBuf[j%2]
		for k := range m {
			if err := fill(k0+k, xs[k*s:(k+1)*s]); err != nil {
				return inference.Placement{}, b, err
			}
			if len(seeds) > 1 {
				t := seedOf(k0 + k)
				copy(seedBuf[k*c:(k+1)*c], seeds[t])
				if win != nil {
					copy(wins[ww*k:ww*(k+1)], win[ww*t:])
				}
			}
		}
		ins := [][]float32{xs[:m*s], seedBuf[:m*c]}
		if win != nil {
			ins = append(ins, wins[:m*ww])
		}
		out, err := g.Run(ctx, ins, m)
		if err != nil {
			return inference.Placement{}, b, err
		}
		if pending.Wait(); consumeErr != nil {
			return inference.Placement{}, b, consumeErr
		}
		pending.Go(func() {
			for k := range m {
				if err := consume(k0+k, xs[k*s:(k+1)*s], out[0][k*c:(k+1)*c], out[1][k*gs:(k+1)*gs]); err != nil {
					consumeErr = err
					return
				}
			}
		})
		if progress != nil {
			progress(k0+m, n)
		}
	}
	if pending.Wait(); consumeErr != nil {
		return inference.Placement{}, b, consumeErr
	}
	return g.Placement(), b, nil
}

// forward runs the forward model on n samples, batched under e.Budget.
func (e *Emulator) forward(ctx context.Context, xs []float32, n int, progress func(done, total int)) ([]float32, error) {
	return e.fwd.RunBatched(ctx, xs, n, e.Budget, progress)
}

// repeat returns n copies of v laid end to end.
func repeat(v []float32, n int) []float32 {
	out := make([]float32, 0, n*len(v))
	for range n {
		out = append(out, v...)
	}
	return out
}

// toLags reorders values from the model's channel order into lag order (lag 0 = the init month
// first) and writes NaN on land (ocean nil: all ocean).
func (e *Emulator) toLags(v []float32, ocean []bool) []float32 {
	out := make([]float32, len(v))
	e.toLagsInto(out, v, ocean)
	return out
}

// toLagsInto is toLags writing into out (len(v) values): slab s = var*Months + lag of out is
// channel(var, lag) of v.
func (e *Emulator) toLagsInto(out, v []float32, ocean []bool) {
	months, n := e.Months(), e.cells()
	nan := float32(nanValue())
	for s := range e.Slabs() {
		c := e.channel(s/months, s%months)
		src, dst := v[c*n:(c+1)*n], out[s*n:(s+1)*n]
		for i := range dst {
			if ocean != nil && !ocean[i] {
				dst[i] = nan
			} else {
				dst[i] = src[i]
			}
		}
	}
}

// fromLags is toLags' inverse (NaN becomes 0, as model inputs want land).
func (e *Emulator) fromLags(v []float32) []float32 {
	months, n := e.Months(), e.cells()
	out := make([]float32, len(v))
	for s := range e.Slabs() {
		c := e.channel(s/months, s%months)
		for i, x := range v[s*n : (s+1)*n] {
			if x == x {
				out[c*n+i] = x
			}
		}
	}
	return out
}
