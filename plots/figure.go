package plots

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

type recorderCanvas = recorder.Canvas

// Figure is a finished figure of a fixed print size; Save writes it in any format.
type Figure struct {
	Width, Height vg.Length
	draw          func(c draw.Canvas)
}

// Draw draws the figure on a canvas of its size.
func (f *Figure) Draw(c draw.Canvas) {
	c.SetColor(rgb(0xffffff))
	c.Fill(c.Rectangle.Path())
	f.draw(c)
}

// dataSize returns the size of p's data area when p is drawn on a w x h canvas.
func dataSize(p *plot.Plot, w, h vg.Length) (dw, dh vg.Length) {
	c := draw.NewCanvas(new(recorder.Canvas), w, h)
	d := p.DataCanvas(c)
	return d.Max.X - d.Min.X, d.Max.Y - d.Min.Y
}

// heightFor returns the canvas height at which p's data area, at canvas width w, has the given
// height/width ratio. Axis decorations take the same vertical room at any height.
func heightFor(p *plot.Plot, w vg.Length, ratio float64) vg.Length {
	const trial = 100 * vg.Millimeter
	dw, dh := dataSize(p, w, trial)
	return trial - dh + vg.Length(ratio)*dw
}

// MapFigure is one map with a vertical colour bar at its right, width wide (print size), as
// high as the map's cos-latitude aspect needs.
func MapFigure(m MapPanel, width vg.Length, st Style) *Figure {
	return mapFigure(m, width, st, 0)
}

// mapBarWidth is the room a map's vertical colour bar takes at its right.
func mapBarWidth(s Scale, st Style) vg.Length {
	return ColorBar{Scale: s, Vertical: true}.Size(st) + 3*vg.Millimeter
}

// mapFigure is MapFigure with the colour bar's room at least minBar, so that maps stacked with
// different bars have the same width.
func mapFigure(m MapPanel, width vg.Length, st Style, minBar vg.Length) *Figure {
	bar := ColorBar{Scale: m.Scale, Vertical: true}
	bw := max(mapBarWidth(m.Scale, st), minBar)
	p := m.plot(st, false, false, 0)
	// Without a title the frame would sit on the page edge, half of its line cut off.
	top := vg.Length(0)
	if m.Title == "" {
		top = 1 * vg.Millimeter
	}
	h := heightFor(p, width-bw, aspect(m.Field.Grid)) + top
	return &Figure{Width: width, Height: h, draw: func(c draw.Canvas) {
		mc := draw.Crop(c, 0, -bw, 0, -top)
		p.Draw(mc)
		dc := p.DataCanvas(mc)
		if m.Letter != "" {
			letter(dc, st, m.Letter)
		}
		bc := c
		bc.Min = vg.Point{X: c.Max.X - bw + 2*vg.Millimeter, Y: dc.Min.Y}
		bc.Max = vg.Point{X: c.Max.X, Y: dc.Max.Y}
		bar.Draw(bc, st)
	}}
}
