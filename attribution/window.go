package attribution

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"climxai/attribution/backward"
	"climxai/onnx"
)

// Names of the windowed gradient graphs' extra input and inner seed.
const (
	windowName   = "climxai_window"
	frontierSeed = "climxai_frontier_seed"
)

// crop returns the local tail of the model part p (backward.Crop), nil when it has none.
func (e *Emulator) crop(p part) (*backward.Crop, error) {
	m, input := e.model, e.sig.Input
	if p == tailPart {
		h, err := e.linearHead()
		if err != nil || h == nil {
			return nil, err
		}
		m, input = h.Tail, h.Hidden
	}
	e.cropMu.Lock()
	defer e.cropMu.Unlock()
	if c, ok := e.crops[p]; ok {
		return c, nil
	}
	c, ok, err := backward.SplitCrop(m, input, e.sig.Output)
	if err != nil {
		return nil, err
	}
	if !ok {
		c = nil
	}
	if e.crops == nil {
		e.crops = map[part]*backward.Crop{}
	}
	e.crops[p] = c
	return c, nil
}

// windowed returns the rules of the gradient graph that runs the model's local tail only on a
// window of the grid around each sample's target, and the windows' starts for the graph's window
// input: backward.Crop.Starts (WindowWidth values) per seed field, for every NLat*NLon field of
// each of seeds in order. It returns r itself and nil when the tail cannot be cut (LRP, DeepLIFT, no local tail,
// the first layer's adjoint) or a window would cover more than half the grid, where it saves
// little. All fields share one window size, that of the largest target, which is part of the
// rules' key: cell targets, wherever they are, share one graph, and boxes share a few.
func (e *Emulator) windowed(r rules, seeds ...[]float32) (rules, []float32, error) {
	if r.composite != nil || r.reference || r.canonize || r.part == headAdjoint || r.window != [2]int64{} {
		return r, nil, nil
	}
	c, err := e.crop(r.part)
	if err != nil || c == nil {
		return r, nil, err
	}
	nlat, nlon := e.sig.NLat, e.sig.NLon
	type box struct{ r0, r1, c0, c1 int }
	var boxes []box
	var rows, cols int64
	for _, s := range seeds {
		for f := 0; f+nlat*nlon <= len(s); f += nlat * nlon {
			b := box{nlat, -1, nlon, -1}
			for k, v := range s[f : f+nlat*nlon] {
				if v != 0 {
					i, j := k/nlon, k%nlon
					b = box{min(b.r0, i), max(b.r1, i), min(b.c0, j), max(b.c1, j)}
				}
			}
			if b.r1 < 0 { // a zero seed: any window gives its zero gradient
				b = box{0, 0, 0, 0}
			}
			boxes = append(boxes, b)
			rows, cols = max(rows, int64(b.r1-b.r0+1)), max(cols, int64(b.c1-b.c0+1))
		}
	}
	if len(boxes) == 0 {
		return r, nil, nil
	}
	size := c.Size(rows, cols)
	if rows > 1 || cols > 1 {
		// Boxes get power-of-two windows (at least 8 cells a side), so that a session with many
		// boxes opens a few graphs, each with its own ONNX Runtime session and memory, instead
		// of one per size; a new size costs ~50 ms at 1° to build.
		grid := [2]int64{int64(nlat), int64(nlon)}
		for i := range size {
			q := int64(8)
			for q < size[i] {
				q *= 2
			}
			size[i] = min(q, grid[i])
		}
	}
	if 2*size[0]*size[1] > int64(nlat*nlon) {
		return r, nil, nil
	}
	win := make([]float32, 0, c.WindowWidth()*len(boxes))
	for _, b := range boxes {
		for _, v := range c.Starts(int64(b.r0), int64(b.c0), size) {
			win = append(win, float32(v))
		}
	}
	r.window, r.windowWidth = size, c.WindowWidth()
	r.key = fmt.Sprintf("%s, tail on %dx%d cells", r.key, size[0], size[1])
	return r, win, nil
}

// windowGraph builds the gradient graph of rules r with r.window set: the part's body
// differentiated whole, its local tail on the window (backward.Crop.Compose).
func (e *Emulator) windowGraph(r rules) ([]byte, error) {
	c, err := e.crop(r.part)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errorf(ErrBadRequest, "", "%s: the model has no local tail to run on a window", e.File)
	}
	var head *backward.Head
	if r.part == tailPart {
		if head, err = e.linearHead(); err != nil {
			return nil, err
		}
	}
	ir, err := backward.NewGraph(c.Body, c.Input, c.BodyOut)
	if err != nil {
		return nil, err
	}
	opt := backward.Options{Seed: frontierSeed, Grad: gradName}
	if head == nil {
		if opt.Forward, _, err = backward.SplitInputConvs(c.Body); err != nil {
			return nil, err
		}
	}
	body, err := backward.BuildGraph(ir, opt)
	if err != nil {
		return nil, err
	}
	tail, err := backward.Build(c.Tail(r.window), backward.Options{Seed: seedName, Grad: gradName})
	if err != nil {
		return nil, err
	}
	var low *onnx.ModelProto
	if lm := c.Low(r.window); lm != nil {
		if low, err = backward.Build(lm, backward.Options{Seed: seedName, Grad: gradName}); err != nil {
			return nil, err
		}
	}
	bm, err := c.Compose(body, tail, low, r.window, backward.CropNames{Seed: seedName, Grad: gradName, Window: windowName, BodySeed: frontierSeed})
	if err != nil {
		return nil, err
	}
	if head != nil {
		if bm, err = withHead(head, bm); err != nil {
			return nil, err
		}
	}
	return proto.Marshal(bm)
}
