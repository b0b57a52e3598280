package plots

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ColorBar draws a Scale as a bar of filled vector cells with ticks, tick labels and the scale's
// label (gonum/plot's own ColorBar is a raster image, which breaks vector output).
type ColorBar struct {
	Scale    Scale
	Vertical bool // true: bar upright, maximum at the top; false: horizontal, maximum at the right
	Cells    int  // number of cells; 0 means 128
}

const (
	barThick = vg.Length(3.5 * vg.Millimeter)
	tickLen  = vg.Length(2)
	gap      = vg.Length(1.5)
)

// barTicks returns tick positions in data units, their labels, and the power of ten factored out
// of the labels (0 when none), so that 0.0012 reads "1.2" with "×10⁻³" beside the label.
func barTicks(s Scale) (vals []float64, labels []string, exp int) {
	m := math.Max(math.Abs(s.Min), math.Abs(s.Max))
	if m > 0 {
		if k := int(math.Floor(math.Log10(m))); k < -2 || k > 3 {
			exp = k
		}
	}
	f := math.Pow(10, float64(exp))
	for _, v := range niceTicks(s.Min/f, s.Max/f, 5) {
		vals = append(vals, v*f)
		labels = append(labels, strings.Replace(strconv.FormatFloat(v, 'g', 4, 64), "-", "−", 1))
	}
	return vals, labels, exp
}

// niceTicks returns about n round values (steps of 1, 2, 2.5 or 5 times a power of ten) within
// [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	raw := (hi - lo) / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	st := 10 * p
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*p >= raw {
			st = m * p
			break
		}
	}
	var ts []float64
	for k := math.Ceil(lo/st - 1e-9); k*st <= hi+1e-9*st; k++ {
		v := k * st
		if math.Abs(v) < 1e-12*st {
			v = 0
		}
		ts = append(ts, v)
	}
	return ts
}

// label returns the bar's axis label with the factored-out power of ten written as a
// superscript (rich text: the Liberation fonts have no superscript minus sign).
func (b ColorBar) label(exp int) string {
	l := b.Scale.Label
	if exp != 0 {
		l += " (×10^{" + strings.Replace(strconv.Itoa(exp), "-", "−", 1) + "})"
	}
	return l
}

// Size returns the space the bar needs across its length: its width when vertical, its
// height when horizontal.
func (b ColorBar) Size(st Style) vg.Length {
	_, labels, exp := barTicks(b.Scale)
	ts := st.text(st.Tick)
	ls := st.text(st.Label)
	if b.Vertical {
		w := vg.Length(0)
		for _, l := range labels {
			w = max(w, ts.Width(l))
		}
		return barThick + tickLen + gap + w + gap + richHeight(ls, b.label(exp))
	}
	return barThick + tickLen + gap + ts.Height("0") + gap + richHeight(ls, b.label(exp))
}

// Draw draws the bar into c: along the whole height (vertical) or width (horizontal) of c.
func (b ColorBar) Draw(c draw.Canvas, st Style) {
	n := b.Cells
	if n <= 0 {
		n = 128
	}
	vals, labels, exp := barTicks(b.Scale)
	ts := st.text(st.Tick)
	ls := st.text(st.Label)
	line := draw.LineStyle{Color: rgb(0), Width: 0.5}
	r := c.Rectangle
	lo, hi := b.Scale.Min, b.Scale.Max
	frac := func(v float64) float64 { return (v - lo) / (hi - lo) }
	if b.Scale.ExtendMax {
		// The triangle takes the end of the bar's length; its tip is the canvas's end.
		tri := barThick * 1.2
		top := b.Scale.Map.At(1)
		if b.Vertical {
			x0, x1 := r.Min.X, r.Min.X+barThick
			r.Max.Y -= tri
			pts := []vg.Point{{X: x0, Y: r.Max.Y}, {X: x1, Y: r.Max.Y}, {X: (x0 + x1) / 2, Y: r.Max.Y + tri}}
			c.FillPolygon(top, pts)
			c.StrokeLines(line, append(pts, pts[0]))
		} else {
			y1, y0 := r.Max.Y, r.Max.Y-barThick
			r.Max.X -= tri
			pts := []vg.Point{{X: r.Max.X, Y: y0}, {X: r.Max.X, Y: y1}, {X: r.Max.X + tri, Y: (y0 + y1) / 2}}
			c.FillPolygon(top, pts)
			c.StrokeLines(line, append(pts, pts[0]))
		}
	}
	if b.Vertical {
		x0, x1 := r.Min.X, r.Min.X+barThick
		y := func(t float64) vg.Length { return r.Min.Y + vg.Length(t)*(r.Max.Y-r.Min.Y) }
		for i := 0; i < n; i++ {
			t0, t1 := float64(i)/float64(n), float64(i+1)/float64(n)
			col := b.Scale.Map.At((t0 + t1) / 2)
			e := vg.Length(0)
			if i < n-1 {
				e = overlap // the next cell covers this overlap: no seams when anti-aliased
			}
			c.FillPolygon(col, []vg.Point{{X: x0, Y: y(t0)}, {X: x1, Y: y(t0)}, {X: x1, Y: y(t1) + e}, {X: x0, Y: y(t1) + e}})
		}
		c.StrokeLines(line, []vg.Point{{X: x0, Y: r.Min.Y}, {X: x1, Y: r.Min.Y}, {X: x1, Y: r.Max.Y}, {X: x0, Y: r.Max.Y}, {X: x0, Y: r.Min.Y}})
		lw := vg.Length(0)
		for i, v := range vals {
			yy := y(frac(v))
			c.StrokeLine2(line, x1, yy, x1+tickLen, yy)
			t := ts
			t.YAlign = draw.YCenter
			c.FillText(t, vg.Point{X: x1 + tickLen + gap, Y: yy}, labels[i])
			lw = max(lw, ts.Width(labels[i]))
		}
		drawRich(c, ls, vg.Point{X: x1 + tickLen + gap + lw + gap, Y: (r.Min.Y + r.Max.Y) / 2}, b.label(exp), true)
		return
	}
	y1, y0 := r.Max.Y, r.Max.Y-barThick
	x := func(t float64) vg.Length { return r.Min.X + vg.Length(t)*(r.Max.X-r.Min.X) }
	for i := 0; i < n; i++ {
		t0, t1 := float64(i)/float64(n), float64(i+1)/float64(n)
		col := b.Scale.Map.At((t0 + t1) / 2)
		e := vg.Length(0)
		if i < n-1 {
			e = overlap
		}
		c.FillPolygon(col, []vg.Point{{X: x(t0), Y: y0}, {X: x(t1) + e, Y: y0}, {X: x(t1) + e, Y: y1}, {X: x(t0), Y: y1}})
	}
	c.StrokeLines(line, []vg.Point{{X: r.Min.X, Y: y0}, {X: r.Max.X, Y: y0}, {X: r.Max.X, Y: y1}, {X: r.Min.X, Y: y1}, {X: r.Min.X, Y: y0}})
	for i, v := range vals {
		xx := x(frac(v))
		c.StrokeLine2(line, xx, y0, xx, y0-tickLen)
		t := ts
		t.XAlign, t.YAlign = draw.XCenter, draw.YTop
		c.FillText(t, vg.Point{X: xx, Y: y0 - tickLen - gap}, labels[i])
	}
	drawRich(c, ls, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: y0 - tickLen - gap - ts.Height("0") - gap}, b.label(exp), false)
}
