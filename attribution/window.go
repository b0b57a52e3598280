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

// windowed returns the rules of the gradient graph that runs the model's local tail only on the
// window of the grid that seeds (one or more fields of NLat*NLon) need, and the window's start
// (row, column) for the graph's window input; r itself and nil when the tail cannot be cut
// (LRP, DeepLIFT, no local tail, the first layer's adjoint) or the window would cover more than
// half the grid, where it saves little. The window's size is part of the rules' key: targets of
// one size share a graph, and every cell target has the same window.
func (e *Emulator) windowed(r rules, seeds ...[]float32) (rules, []float32, error) {
	if r.composite != nil || r.reference || r.canonize || r.part == headAdjoint || r.window != [2]int64{} {
		return r, nil, nil
	}
	c, err := e.crop(r.part)
	if err != nil || c == nil {
		return r, nil, err
	}
	nlat, nlon := e.sig.NLat, e.sig.NLon
	r0, r1, c0, c1 := nlat, -1, nlon, -1
	for _, s := range seeds {
		for k, v := range s {
			if v == 0 {
				continue
			}
			i, j := (k/nlon)%nlat, k%nlon
			r0, r1, c0, c1 = min(r0, i), max(r1, i), min(c0, j), max(c1, j)
		}
	}
	if r1 < 0 {
		return r, nil, nil
	}
	start, size := c.Window(int64(r0), int64(r1), int64(c0), int64(c1))
	if 2*size[0]*size[1] > int64(nlat*nlon) {
		return r, nil, nil
	}
	r.window = size
	r.key = fmt.Sprintf("%s, tail on %dx%d cells", r.key, size[0], size[1])
	return r, []float32{float32(start[0]), float32(start[1])}, nil
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
	ir, err := backward.NewGraph(c.Body, c.Input, c.Frontier)
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
	bm, err := c.Compose(body, tail, r.window, backward.CropNames{Seed: seedName, Grad: gradName, Window: windowName, BodySeed: frontierSeed})
	if err != nil {
		return nil, err
	}
	if head != nil {
		var conv *onnx.ModelProto
		if conv, _, err = backward.SplitInputConvs(head.Conv); err != nil {
			return nil, err
		}
		bm = head.PrependHead(bm, conv)
	}
	return proto.Marshal(bm)
}
