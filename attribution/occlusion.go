package attribution

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OcclusionMode says what an occlusion window covers.
type OcclusionMode uint8

// Occlusion windows.
const (
	OccludeMonth OcclusionMode = iota // one input month, the whole grid
	OccludePatch                      // a K x K spatial patch, every month
	OccludeBlock                      // a K x K spatial patch over M consecutive months
)

// OcclusionWindow is the shape of the region occluded at once; windows tile the input without
// overlap.
type OcclusionWindow struct {
	Mode   OcclusionMode
	Size   int // K: patch side in grid cells (patch, block)
	Months int // M: months per block (block)
}

func (w OcclusionWindow) String() string {
	switch w.Mode {
	case OccludePatch:
		return fmt.Sprintf("patch:%d", w.Size)
	case OccludeBlock:
		return fmt.Sprintf("block:%dx%d", w.Size, w.Months)
	}
	return "month"
}

const occludeHint = "use --occlude month, patch:K (K x K cells, all months) or block:KxM (K x K cells, M months)"

// ParseOcclusionWindow parses "month", "patch:K" or "block:KxM".
func ParseOcclusionWindow(s string) (OcclusionWindow, error) {
	bad := errorf(ErrBadParameter, occludeHint, "occlude %q", s)
	switch {
	case s == "month":
		return OcclusionWindow{Mode: OccludeMonth}, nil
	case strings.HasPrefix(s, "patch:"):
		k, err := strconv.Atoi(s[6:])
		if err != nil || k < 1 {
			return OcclusionWindow{}, bad
		}
		return OcclusionWindow{Mode: OccludePatch, Size: k}, nil
	case strings.HasPrefix(s, "block:"):
		a, b, ok := strings.Cut(s[6:], "x")
		k, err1 := strconv.Atoi(a)
		m, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || k < 1 || m < 1 {
			return OcclusionWindow{}, bad
		}
		return OcclusionWindow{Mode: OccludeBlock, Size: k, Months: m}, nil
	}
	return OcclusionWindow{}, bad
}

// Occlusion replaces one window of the input at a time by the baseline (a zero anomaly) and
// attributes the change of the target's output f(x) - f(x occluded) to the window, spread evenly
// over its ocean features (Zeiler and Fergus 2014, "Visualizing and understanding convolutional
// networks"). Forward runs only; the perturbed inputs are built batch by batch under the memory
// budget, so the number of windows is not limited by memory.
type Occlusion struct {
	Window   OcclusionWindow
	Baseline Baseline
}

// Name is "occlusion".
func (Occlusion) Name() string { return "occlusion" }

// Params are the window and the baseline.
func (m Occlusion) Params() Params {
	return Params{{"occlude", m.Window.String()}, {"baseline", m.Baseline.String()}}
}

// region is one occlusion window: variable v's months at channel-order positions [c0, c1)
// (Emulator.channelAt), rows [i0, i1), columns [j0, j1).
type region struct{ v, c0, c1, i0, i1, j0, j1 int }

// regions tiles the input with the window, skipping windows without ocean cells.
func (m Occlusion) regions(req Request) []region {
	e := req.Emulator
	months, nlat, nlon := e.Months(), e.NLat(), e.NLon()
	ks, kc := max(nlat, nlon), months
	switch m.Window.Mode {
	case OccludeMonth:
		kc = 1
	case OccludePatch:
		ks = m.Window.Size
	case OccludeBlock:
		ks, kc = m.Window.Size, m.Window.Months
	}
	var out []region
	for v := range e.NVars() {
		for c := 0; c < months; c += kc {
			for i := 0; i < nlat; i += ks {
				for j := 0; j < nlon; j += ks {
					r := region{v, c, min(c+kc, months), i, min(i+ks, nlat), j, min(j+ks, nlon)}
					if r.oceanCells(req) > 0 {
						out = append(out, r)
					}
				}
			}
		}
	}
	return out
}

func (r region) oceanCells(req Request) int {
	nlon, n := req.Emulator.NLon(), 0
	for i := r.i0; i < r.i1; i++ {
		for j := r.j0; j < r.j1; j++ {
			if req.ocean(i*nlon + j) {
				n++
			}
		}
	}
	return n
}

// Attribute runs the occlusions.
func (m Occlusion) Attribute(ctx context.Context, req Request) (*Result, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	if m.Window.Mode != OccludeMonth && (m.Window.Size < 1 || (m.Window.Mode == OccludeBlock && m.Window.Months < 1)) {
		return nil, errorf(ErrBadParameter, occludeHint, "occlude %s", m.Window)
	}
	start := time.Now()
	e := req.Emulator
	res := begin(m, req)
	b, err := m.Baseline.input(req)
	if err != nil {
		return nil, err
	}
	y0, err := e.forward(ctx, req.X, 1, nil)
	if err != nil {
		return nil, err
	}
	fx := weighted(req.Target.Weights, y0, 0)
	regs := m.regions(req)
	s, n, nlon := e.sampleLen(), e.cells(), e.NLon()
	bs := e.fwd.BatchSize(e.Budget)
	attr := make([]float32, s)
	buf := make([]float32, 0, bs*s)
	for r0 := 0; r0 < len(regs); r0 += bs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := regs[r0:min(r0+bs, len(regs))]
		buf = buf[:0]
		for _, r := range batch {
			off := len(buf)
			buf = append(buf, req.X...)
			p := buf[off:]
			for pos := r.c0; pos < r.c1; pos++ {
				c := e.channelAt(r.v, pos)
				for i := r.i0; i < r.i1; i++ {
					copy(p[c*n+i*nlon+r.j0:c*n+i*nlon+r.j1], b[c*n+i*nlon+r.j0:c*n+i*nlon+r.j1])
				}
			}
		}
		ys, err := e.fwd.Run(ctx, buf, len(batch))
		if err != nil {
			return nil, err
		}
		for k, r := range batch {
			d := (fx - weighted(req.Target.Weights, ys, k)) / float64((r.c1-r.c0)*r.oceanCells(req))
			for pos := r.c0; pos < r.c1; pos++ {
				c := e.channelAt(r.v, pos)
				for i := r.i0; i < r.i1; i++ {
					for j := r.j0; j < r.j1; j++ {
						if req.ocean(i*nlon + j) {
							attr[c*n+i*nlon+j] = float32(d)
						}
					}
				}
			}
		}
		if req.Progress != nil {
			req.Progress(r0+len(batch), len(regs))
		}
	}
	res.Output = fx
	res.Values = e.toLags(attr, req.Ocean)
	res.Device, res.Duration = e.fwd.Placement().String(), time.Since(start)
	return res, nil
}
