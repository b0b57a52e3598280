package ui

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// LagChart is a bar chart of importance per lag (lag 0, the init month, on the left), with the
// current lag highlighted. A tap on a bar calls OnTapped with its lag. Its methods must be
// called on the UI goroutine.
type LagChart struct {
	widget.BaseWidget

	// OnTapped, if set, is called with the lag of the bar tapped.
	OnTapped func(lag int)

	values  []float64
	curve   []float64 // a line over the bars, e.g. a fit (nil: none; NaN: a gap)
	current int       // the highlighted bar; -1: none
	xLabel  string    // the x axis' label
	xHi     string    // the label at the right end ("": the last bar's index)
	title   string
	blank   string // the title shown without values (Clear restores it)
	note    string // shown when there are no values
	plotX   float32
	plotW   float32
}

// NewLagChart returns an empty chart titled "Importance per lag" that shows note until
// SetValues.
func NewLagChart(note string) *LagChart {
	const title = "Importance per lag"
	c := &LagChart{note: note, title: title, blank: title, xLabel: "lag (months before init)"}
	c.ExtendBaseWidget(c)
	return c
}

// SetBlankTitle sets the title the chart shows without values, now if it has none and again
// after every Clear: a chart of something other than lags says so before its first values.
func (c *LagChart) SetBlankTitle(title string) {
	c.blank = title
	if c.values == nil {
		c.title = title
		c.Refresh()
	}
}

// SetValues shows values (one per lag, lag 0 first) under title, without a curve.
func (c *LagChart) SetValues(title string, values []float64) {
	c.title, c.values, c.curve = title, append([]float64(nil), values...), nil
	c.Refresh()
}

// SetCurve draws a line through the bars' centres at curve's values (one per bar, on the bars'
// scale; NaN leaves a gap, e.g. beyond the lags a fit used); nil removes it.
func (c *LagChart) SetCurve(curve []float64) {
	c.curve = append([]float64(nil), curve...)
	c.Refresh()
}

// SetAxis labels the x axis (label) and its right end (hi; "" for the last bar's index) and
// highlights the bar current (-1: none): the chart then shows something other than lags.
func (c *LagChart) SetAxis(label, hi string, current int) {
	c.xLabel, c.xHi, c.current = label, hi, current
	c.Refresh()
}

// Clear removes the bars and shows note under the blank title: the last values' title
// (their method, lead and target) would describe bars no longer shown.
func (c *LagChart) Clear(note string) {
	c.values, c.curve, c.note, c.title = nil, nil, note, c.blank
	c.Refresh()
}

// Values are the bars shown (nil when none).
func (c *LagChart) Values() []float64 { return c.values }

// SetCurrent highlights the bar of lag.
func (c *LagChart) SetCurrent(lag int) {
	if lag != c.current {
		c.current = lag
		c.Refresh()
	}
}

// Tapped picks the lag of the bar under the pointer.
func (c *LagChart) Tapped(ev *fyne.PointEvent) {
	n := len(c.values)
	if n == 0 || c.OnTapped == nil || c.plotW <= 0 {
		return
	}
	lag := int((ev.Position.X - c.plotX) / c.plotW * float32(n))
	if lag >= 0 && lag < n {
		c.OnTapped(lag)
	}
}

// CreateRenderer is part of fyne.Widget.
func (c *LagChart) CreateRenderer() fyne.WidgetRenderer {
	fg := theme.Color(theme.ColorNameForeground)
	r := &lagRenderer{c: c, note: widget.NewLabel(""),
		axis: canvas.NewLine(fg), xlo: canvas.NewText("0", fg), xhi: canvas.NewText("", fg),
		xlabel: canvas.NewText("lag (months before init)", fg), ymax: canvas.NewText("", fg)}
	for i := range r.title {
		r.title[i] = canvas.NewText("", fg)
		r.title[i].TextStyle.Bold = true
	}
	r.note.Wrapping = fyne.TextWrapWord
	for _, t := range []*canvas.Text{r.xlo, r.xhi, r.xlabel, r.ymax} {
		t.TextSize = theme.CaptionTextSize()
	}
	r.Refresh()
	return r
}

// titleLines is how many lines a chart's title may wrap onto; a longer title ends in "…".
const titleLines = 3

type lagRenderer struct {
	c                      *LagChart
	title                  [titleLines]*canvas.Text // the title, word-wrapped to the width
	xlo, xhi, xlabel, ymax *canvas.Text
	note                   *widget.Label
	axis                   *canvas.Line
	bars                   []*canvas.Rectangle
	segs                   []*canvas.Line // the curve, a segment between each pair of bars
	objects                []fyne.CanvasObject
}

var (
	barColor     = color.RGBA{0x43, 0x93, 0xc3, 0xff} // RdBu's mid blue
	currentColor = color.RGBA{0xd6, 0x60, 0x4d, 0xff} // RdBu's mid red
)

func (r *lagRenderer) Layout(size fyne.Size) {
	st := r.title[0].TextStyle
	ts := r.title[0].TextSize
	lines := wrapText(r.c.title, titleLines, func(s string) float32 { return fyne.MeasureText(s, ts, st).Width }, size.Width)
	th := float32(0)
	for i, t := range r.title {
		t.Text = ""
		if i < len(lines) {
			t.Text = lines[i]
		}
		t.Move(fyne.NewPos(0, th))
		t.Resize(fyne.NewSize(size.Width, t.MinSize().Height))
		if t.Text != "" || i == 0 {
			th += t.MinSize().Height
		}
		t.Refresh()
	}
	lh := r.xlo.MinSize().Height
	r.note.Move(fyne.NewPos(0, th))
	r.note.Resize(fyne.NewSize(size.Width, max(0, size.Height-th)))
	left := r.ymax.MinSize().Width + pad
	top, bottom := th+pad+lh, size.Height-2*lh-pad
	h := max(0, bottom-top)
	w := max(0, size.Width-left-pad)
	r.c.plotX, r.c.plotW = left, w
	r.ymax.Move(fyne.NewPos(0, top-lh/2))
	r.ymax.Resize(r.ymax.MinSize())
	r.axis.Position1 = fyne.NewPos(left, bottom)
	r.axis.Position2 = fyne.NewPos(left+w, bottom)
	n := len(r.bars)
	vmax := r.c.top()
	for i, l := range r.segs {
		if l == nil {
			continue
		}
		bw := w / float32(n)
		y := func(v float64) float32 { return bottom - h*float32(v/vmax) }
		l.Position1 = fyne.NewPos(left+(float32(i)+0.5)*bw, y(r.c.curve[i]))
		l.Position2 = fyne.NewPos(left+(float32(i)+1.5)*bw, y(r.c.curve[i+1]))
	}
	for i, b := range r.bars {
		bw := w / float32(n)
		bh := float32(0)
		if vmax > 0 {
			bh = h * float32(r.c.values[i]/vmax)
		}
		b.Move(fyne.NewPos(left+float32(i)*bw+bw*0.1, bottom-bh))
		b.Resize(fyne.NewSize(bw*0.8, bh))
	}
	r.xlo.Move(fyne.NewPos(left, bottom+1))
	r.xlo.Resize(r.xlo.MinSize())
	hi := r.xhi.MinSize()
	r.xhi.Move(fyne.NewPos(left+w-hi.Width, bottom+1))
	r.xhi.Resize(hi)
	xl := r.xlabel.MinSize()
	r.xlabel.Move(fyne.NewPos(left+(w-xl.Width)/2, bottom+lh+1))
	r.xlabel.Resize(xl)
}

// top is the value at the plot's top: the largest bar or curve value.
func (c *LagChart) top() float64 {
	var m float64
	for _, v := range c.values {
		m = max(m, v)
	}
	if len(c.curve) == len(c.values) {
		for _, v := range c.curve {
			if v > m && !math.IsInf(v, 0) { // NaN and ±Inf are gaps
				m = v
			}
		}
	}
	return m
}

func (r *lagRenderer) MinSize() fyne.Size { return fyne.NewSize(240, 160) }

func (r *lagRenderer) Refresh() {
	c := r.c
	fg := theme.Color(theme.ColorNameForeground)
	for _, t := range []*canvas.Text{r.title[0], r.title[1], r.title[2], r.xlo, r.xhi, r.xlabel, r.ymax} {
		t.Color = fg
	}
	r.axis.StrokeColor = fg
	r.xlabel.Text = c.xLabel
	n := len(c.values)
	for len(r.bars) < n {
		r.bars = append(r.bars, canvas.NewRectangle(barColor))
	}
	r.bars = r.bars[:n]
	r.segs = r.segs[:0]
	if len(c.curve) == n {
		for i := 0; i+1 < n; i++ {
			if a, b := c.curve[i], c.curve[i+1]; a >= 0 && b >= 0 && !math.IsInf(a+b, 0) {
				r.segs = append(r.segs, canvas.NewLine(fg))
				r.segs[len(r.segs)-1].StrokeWidth = 2
			} else {
				r.segs = append(r.segs, nil)
			}
		}
	}
	vmax := c.top()
	for i := range c.values {
		r.bars[i].FillColor = barColor
		if i == c.current {
			r.bars[i].FillColor = currentColor
		}
	}
	r.objects = []fyne.CanvasObject{r.title[0], r.title[1], r.title[2]}
	if n == 0 {
		r.note.SetText(c.note)
		r.note.Show()
		r.objects = append(r.objects, r.note)
	} else {
		r.note.Hide()
		r.xhi.Text = fmt.Sprint(n - 1)
		if c.xHi != "" {
			r.xhi.Text = c.xHi
		}
		r.ymax.Text = fmt.Sprintf("%.2g", vmax)
		r.objects = append(r.objects, r.axis, r.xlo, r.xhi, r.xlabel, r.ymax)
		for _, b := range r.bars {
			r.objects = append(r.objects, b)
		}
		for _, l := range r.segs {
			if l != nil {
				r.objects = append(r.objects, l)
			}
		}
	}
	r.Layout(c.Size())
	for _, o := range r.objects {
		o.Refresh()
	}
}

func (r *lagRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *lagRenderer) Destroy()                     {}

// wrapText breaks text at spaces (not at no-break spaces, which hold a number to its unit) into
// at most n lines no wider than width by measure; a word wider than width stands on a line of its
// own, and what does not fit into n lines is cut, with "…" at the end of the last line.
func wrapText(text string, n int, measure func(string) float32, width float32) []string {
	words := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' }) // not at no-break spaces
	var lines []string
	for len(words) > 0 {
		line := words[0]
		k := 1
		for ; k < len(words) && measure(line+" "+words[k]) <= width; k++ {
			line += " " + words[k]
		}
		words = words[k:]
		if len(lines) == n-1 && len(words) > 0 {
			line = strings.Join(append([]string{line}, words...), " ")
			for len(line) > 0 && measure(line+"…") > width {
				_, size := utf8.DecodeLastRuneInString(line)
				line = line[:len(line)-size]
			}
			lines = append(lines, strings.TrimRight(line, " ")+"…")
			break
		}
		lines = append(lines, line)
	}
	return lines
}
