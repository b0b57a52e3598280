package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DecaySeries is one lead's importance against lag, with an optional fitted e-folding curve
// A·exp(−lag/EFold) and an optional band (Lo, Hi per lag, e.g. the fit's 95% interval).
type DecaySeries struct {
	Lead       int       // months
	Lags       []float64 // months
	Importance []float64 // normalised importance per lag
	EFold      float64   // e-folding time (months); 0 or NaN: no fitted curve
	Amplitude  float64   // A of the fitted curve; 0: fitted to the data in log space
	Lo, Hi     []float64 // band per lag; nil: no band
	// FitMaxLag is the last lag the curve was fitted to (0: every lag): the curve and its band
	// are drawn over the fitted lags only, and the legend names them.
	FitMaxLag float64
}

// fitted says whether the fit covers lag x.
func (s DecaySeries) fitted(x float64) bool { return s.FitMaxLag <= 0 || x <= s.FitMaxLag }

// ErrData is the kind of error for plot input that cannot be drawn (mismatched lengths, NaN).
var ErrData = errors.New("plots: bad figure data")

func (s DecaySeries) check() error {
	n := len(s.Lags)
	if n == 0 || len(s.Importance) != n {
		return fmt.Errorf("%w: lead %d has %d lags and %d importance values", ErrData, s.Lead, n, len(s.Importance))
	}
	if (s.Lo != nil || s.Hi != nil) && (len(s.Lo) != n || len(s.Hi) != n) {
		return fmt.Errorf("%w: lead %d band has %d/%d values for %d lags", ErrData, s.Lead, len(s.Lo), len(s.Hi), n)
	}
	for i := range s.Lags {
		if math.IsNaN(s.Lags[i]) || math.IsNaN(s.Importance[i]) {
			return fmt.Errorf("%w: lead %d has NaN at lag index %d", ErrData, s.Lead, i)
		}
	}
	return nil
}

// amplitude returns A of A·exp(−lag/τ) by least squares in log space over positive values.
func (s DecaySeries) amplitude() float64 {
	if s.Amplitude > 0 {
		return s.Amplitude
	}
	sum, n := 0.0, 0
	for i, v := range s.Importance {
		if v > 0 {
			sum += math.Log(v) + s.Lags[i]/s.EFold
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Exp(sum / float64(n))
}

// tint mixes c with white: opaque light shades keep bands identical in every format
// (vgeps has no transparency).
func tint(c color.RGBA, f float64) color.RGBA {
	m := func(v uint8) uint8 { return uint8(math.Round(255 - f*(255-float64(v)))) }
	return color.RGBA{R: m(c.R), G: m(c.G), B: m(c.B), A: 255}
}

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{}, draw.PlusGlyph{}}

// DecayFigure draws importance against lag for several leads on one axis: points and lines in
// Okabe–Ito colours with a distinct marker per lead, dashed fitted e-folding curves and light
// bands. Height is 0.7 of the width unless given.
func DecayFigure(series []DecaySeries, width, height vg.Length, st Style) (*Figure, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("%w: no decay series", ErrData)
	}
	p := st.newPlot()
	p.X.Label.Text = "lag (months)"
	p.Y.Label.Text = "normalised importance"
	leg := newLegend(st)
	leg.Top, leg.keepMin = true, true
	for _, s := range series {
		if err := s.check(); err != nil {
			return nil, err
		}
	}
	// Bands first so that no band hides another series' line.
	for k, s := range series {
		if s.Lo == nil {
			continue
		}
		poly := make(plotter.XYs, 0, 2*len(s.Lags))
		for i := range s.Lags {
			if s.fitted(s.Lags[i]) {
				poly = append(poly, plotter.XY{X: s.Lags[i], Y: s.Hi[i]})
			}
		}
		for i := len(s.Lags) - 1; i >= 0; i-- {
			if s.fitted(s.Lags[i]) {
				poly = append(poly, plotter.XY{X: s.Lags[i], Y: s.Lo[i]})
			}
		}
		band, err := plotter.NewPolygon(poly)
		if err != nil {
			return nil, fmt.Errorf("%w: lead %d band: %v", ErrData, s.Lead, err)
		}
		band.Color = tint(CategoryColors[k%len(CategoryColors)], 0.22)
		band.LineStyle.Width = 0
		p.Add(band)
	}
	for k, s := range series {
		col := CategoryColors[k%len(CategoryColors)]
		xy := make(plotter.XYs, len(s.Lags))
		for i := range s.Lags {
			xy[i] = plotter.XY{X: s.Lags[i], Y: s.Importance[i]}
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("%w: lead %d: %v", ErrData, s.Lead, err)
		}
		l.Color, l.Width = col, st.Line*0.8
		pts.Color, pts.Shape, pts.Radius = col, glyphs[k%len(glyphs)], 1.6
		p.Add(l, pts)
		leg.occupy(xy)
		name := fmt.Sprintf("lead %d", s.Lead)
		if s.EFold > 0 && !math.IsInf(s.EFold, 0) {
			a := s.amplitude()
			fit := plotter.NewFunction(func(x float64) float64 { return a * math.Exp(-x/s.EFold) })
			fit.Color, fit.Width, fit.Dashes = col, st.Line, []vg.Length{3, 1.5}
			lo, hi := minMax(s.Lags)
			if s.FitMaxLag > 0 {
				hi = math.Min(hi, s.FitMaxLag)
			}
			fit.XMin, fit.XMax, fit.Samples = lo, hi, 200
			p.Add(fit)
			var fxy plotter.XYs
			for _, x := range s.Lags {
				if s.fitted(x) {
					fxy = append(fxy, plotter.XY{X: x, Y: a * math.Exp(-x/s.EFold)})
				}
			}
			leg.occupy(fxy)
			// Plain words, not τ: the PDF and EPS fonts are single-byte encoded, without Greek.
			if s.FitMaxLag > 0 {
				name += fmt.Sprintf(" (e-folding %.3g mo over lags 0-%g)", s.EFold, s.FitMaxLag)
			} else {
				name += fmt.Sprintf(" (e-folding %.3g mo)", s.EFold)
			}
		}
		leg.Add(name, l, pts)
	}
	p.Y.Min = 0
	p.Y.Max *= 1.05 // headroom: bands and markers do not touch the top
	if height == 0 {
		height = width * 0.7
	}
	return &Figure{Width: width, Height: height, draw: func(c draw.Canvas) { drawWithLegend(c, p, leg) }}, nil
}

func minMax(x []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range x {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}

// DistanceSeries is importance binned by great-circle distance from the target.
type DistanceSeries struct {
	Label      string
	Distance   []float64 // km, bin centres or upper edges, ascending
	Importance []float64 // importance in each bin (any scale; normalised here)
}

// Cumulative returns the cumulative fraction of importance at each distance.
func (s DistanceSeries) Cumulative() []float64 {
	c := make([]float64, len(s.Importance))
	tot := 0.0
	for i, v := range s.Importance {
		tot += v
		c[i] = tot
	}
	for i := range c {
		if tot > 0 {
			c[i] /= tot
		}
	}
	return c
}

// Radius returns the distance holding fraction q of the importance (R50: q = 0.5), linearly
// interpolated in the cumulative curve from 0 at distance 0.
func (s DistanceSeries) Radius(q float64) float64 {
	c := s.Cumulative()
	pd, pc := 0.0, 0.0
	for i, v := range c {
		if v >= q {
			if v == pc {
				return s.Distance[i]
			}
			return pd + (q-pc)/(v-pc)*(s.Distance[i]-pd)
		}
		pd, pc = s.Distance[i], v
	}
	return math.NaN()
}

// DistanceFigure draws the cumulative fraction of importance against distance, one curve per
// series, with R50 and R90 of each marked by dotted and dashed verticals.
func DistanceFigure(series []DistanceSeries, width, height vg.Length, st Style) (*Figure, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("%w: no distance series", ErrData)
	}
	p := st.newPlot()
	p.X.Label.Text = "distance from target (km)"
	p.Y.Label.Text = "cumulative importance"
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Min = 0
	leg := newLegend(st)
	leg.keepMin = true // cumulative importance starts at 0
	xmax, dmax := 0.0, 0.0
	for _, s := range series {
		_, hi := minMax(s.Distance)
		dmax = math.Max(dmax, hi)
	}
	for _, q := range []float64{0.5, 0.9} {
		ref, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: q}, {X: dmax, Y: q}})
		ref.Color, ref.Width = rgb(0xbbbbbb), 0.4
		p.Add(ref)
	}
	for k, s := range series {
		if len(s.Distance) == 0 || len(s.Distance) != len(s.Importance) {
			return nil, fmt.Errorf("%w: %q has %d distances and %d values", ErrData, s.Label, len(s.Distance), len(s.Importance))
		}
		col := CategoryColors[k%len(CategoryColors)]
		c := s.Cumulative()
		xy := plotter.XYs{{X: 0, Y: 0}}
		for i := range c {
			xy = append(xy, plotter.XY{X: s.Distance[i], Y: c[i]})
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrData, s.Label, err)
		}
		l.Color, l.Width = col, st.Line
		p.Add(l)
		leg.occupy(xy)
		r50, r90 := s.Radius(0.5), s.Radius(0.9)
		for _, r := range []struct {
			v, q   float64
			dashes []vg.Length
		}{{r50, 0.5, []vg.Length{1, 1.5}}, {r90, 0.9, []vg.Length{3, 1.5}}} {
			if math.IsNaN(r.v) {
				continue
			}
			m, _ := plotter.NewLine(plotter.XYs{{X: r.v, Y: 0}, {X: r.v, Y: r.q}})
			m.Color, m.Width, m.Dashes = col, 0.6, r.dashes
			p.Add(m)
			leg.occupy(plotter.XYs{{X: r.v, Y: 0}, {X: r.v, Y: r.q}})
		}
		if !math.IsNaN(r90) {
			xmax = math.Max(xmax, r90)
		}
		name := fmt.Sprintf("R50 = %.0f km, R90 = %.0f km", r50, r90)
		if s.Label != "" {
			name = s.Label + ": " + name
		}
		leg.Add(name, l)
	}
	// Show the curves' rise, up to twice the largest R90 (the flat tail says nothing).
	if xmax > 0 && 2*xmax < dmax {
		p.X.Max = 2 * xmax
	}
	if height == 0 {
		height = width * 0.7
	}
	return &Figure{Width: width, Height: height, draw: func(c draw.Canvas) { drawWithLegend(c, p, leg) }}, nil
}

// newLegend returns a legend in the style's tick font, inset from the data area's corner.
func newLegend(st Style) *legend {
	l := plot.NewLegend()
	leg := &legend{Legend: &l}
	leg.TextStyle.Font.Size = st.Tick
	leg.ThumbnailWidth = 14
	leg.Padding = 1
	leg.XOffs, leg.YOffs = -2, 2
	return leg
}

// drawWithLegend draws p, then its legend on a white box inside the data area, so that curves,
// bands and R markers behind it never run through its text. It takes the first corner (the
// legend's own first) whose box covers no point of the curves (leg.occupy); when every corner
// covers some, it widens the y-axis on the side of a corner, 8% of the range at a time, until
// one is free (a fixed corner hid the end of the persistence line of ablation figures). If
// none frees up, the corner covering the fewest points wins.
func drawWithLegend(c draw.Canvas, p *plot.Plot, leg *legend) {
	if p.Title.Text == "" {
		// Without a title the top tick label and markers would touch the page edge.
		c = draw.Crop(c, 0, 0, 0, -1.5*vg.Millimeter)
	}
	if !leg.ranged {
		// Draw may run several times (one per format): always start from the plot's own range.
		leg.ranged, leg.y0, leg.y1, leg.top0, leg.left0 = true, p.Y.Min, p.Y.Max, leg.Top, leg.Left
	}
	const pad = 1.5
	type corner struct{ top, left bool }
	t, l := leg.top0, leg.left0
	corners := []corner{{t, l}, {t, !l}, {!t, l}, {!t, !l}}
	covered := func(k corner, widen int) int {
		span := leg.y1 - leg.y0
		p.Y.Min, p.Y.Max = leg.y0, leg.y1
		if k.top {
			p.Y.Max += 0.08 * float64(widen) * span
		} else {
			p.Y.Min -= 0.08 * float64(widen) * span
		}
		dc := p.DataCanvas(c)
		tx, ty := p.Transforms(&dc)
		r := leg.placed(dc, k.top, k.left)
		n := 0
		for _, q := range leg.pts {
			x, y := tx(q.X), ty(q.Y)
			if x >= r.Min.X-pad && x <= r.Max.X+pad && y >= r.Min.Y-pad && y <= r.Max.Y+pad {
				n++
			}
		}
		return n
	}
	best, bestWiden, bestN := corners[0], 0, -1
search:
	for widen := 0; widen <= 6; widen++ {
		for _, k := range corners {
			if widen > 0 && !k.top && leg.keepMin {
				continue
			}
			n := covered(k, widen)
			if n == 0 {
				best, bestWiden, bestN = k, widen, 0
				break search
			}
			if widen == 0 && (bestN < 0 || n < bestN) {
				best, bestN = k, n
			}
		}
	}
	covered(best, bestWiden) // sets the range and the legend's corner
	p.Draw(c)
	dc := p.DataCanvas(c)
	r := leg.placed(dc, best.top, best.left)
	dc.FillPolygon(rgb(0xffffff), []vg.Point{{X: r.Min.X - pad, Y: r.Min.Y - pad}, {X: r.Max.X + pad, Y: r.Min.Y - pad}, {X: r.Max.X + pad, Y: r.Max.Y + pad}, {X: r.Min.X - pad, Y: r.Max.Y + pad}})
	leg.Draw(dc)
}

// occupy records the points of a curve (densified along its segments) that the legend should
// not cover.
func (l *legend) occupy(xy plotter.XYs) {
	const per = 16
	for i, q := range xy {
		if math.IsNaN(q.X) || math.IsNaN(q.Y) || math.IsInf(q.X, 0) || math.IsInf(q.Y, 0) {
			continue
		}
		l.pts = append(l.pts, q)
		if i+1 < len(xy) {
			n := xy[i+1]
			for k := 1; k < per; k++ {
				f := float64(k) / per
				l.pts = append(l.pts, plotter.XY{X: q.X + f*(n.X-q.X), Y: q.Y + f*(n.Y-q.Y)})
			}
		}
	}
}

// placed sets the legend to a corner (with its offsets inset from that corner) and returns
// the box it will fill.
func (l *legend) placed(dc draw.Canvas, top, left bool) vg.Rectangle {
	l.Top, l.Left = top, left
	l.XOffs, l.YOffs = -2, 2
	if left {
		l.XOffs = 2
	}
	if top {
		l.YOffs = -2
	}
	return l.rect(dc)
}

// legend is a gonum legend that remembers its texts, to know the box it fills (gonum's
// Legend.Rectangle swaps left and right and ignores the offsets).
type legend struct {
	*plot.Legend
	texts []string
	pts   []plotter.XY // data points the legend should not hide (occupy)
	// keepMin keeps the y-axis's minimum (importance starts at 0): only the top may widen.
	keepMin bool
	// The plot's y-range and the legend's preferred corner before drawWithLegend moved them.
	ranged      bool
	y0, y1      float64
	top0, left0 bool
}

func (l *legend) Add(name string, thumbs ...plot.Thumbnailer) {
	l.Legend.Add(name, thumbs...)
	l.texts = append(l.texts, name)
}

// rect returns the box Draw fills on c (mirrors plot.Legend.Draw's layout).
func (l *legend) rect(c draw.Canvas) vg.Rectangle {
	sty := l.TextStyle
	var w, eh vg.Length
	for _, t := range l.texts {
		w = max(w, l.ThumbnailWidth+sty.Rectangle(" "+t).Max.X)
		eh = max(eh, sty.Rectangle(t).Max.Y)
	}
	n := vg.Length(len(l.texts))
	h := n*eh + (n-1)*l.Padding
	descent := sty.FontExtents().Descent
	var r vg.Rectangle
	if l.Left {
		r.Min.X = c.Min.X + l.XOffs
		r.Max.X = r.Min.X + w
	} else {
		r.Max.X = c.Max.X + l.XOffs
		r.Min.X = r.Max.X - w
	}
	if l.Top {
		r.Max.Y = c.Max.Y - descent + l.YOffs
		r.Min.Y = r.Max.Y - h
	} else {
		r.Min.Y = c.Min.Y + l.YOffs
		r.Max.Y = r.Min.Y + h
	}
	return r
}
