package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Style holds font sizes and line widths at print size. Journals (AGU, AMS) ask for lettering
// no smaller than about 7 pt at the printed width; the defaults keep ticks at 7 pt.
type Style struct {
	Label, Tick, Title vg.Length // font sizes in points
	Line               vg.Length // data line width
}

// DefaultStyle is the style of every figure unless a caller changes it.
func DefaultStyle() Style {
	return Style{Label: 8, Tick: 7, Title: 8, Line: 1}
}

func (st Style) text(size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot returns a plot whose fonts and paddings follow st.
func (st Style) newPlot() *plot.Plot {
	p := plot.New()
	p.Title.TextStyle.Font.Size = st.Title
	p.Title.Padding = 2
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = st.Label
		a.Tick.Label.Font.Size = st.Tick
		a.Tick.Length = 2.5
		a.Label.Padding = 1.5
		a.LineStyle.Width = 0.5
		a.Tick.LineStyle.Width = 0.5
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicker{}, niceTicker{}
	p.Legend.TextStyle.Font.Size = st.Tick
	p.Legend.ThumbnailWidth = 14
	p.BackgroundColor = color.White
	return p
}

// segment is a run of rich text, normal or superscript.
type segment struct {
	text string
	sup  bool
}

// richSegments splits a label into normal and superscript runs: "^{...}" and Unicode
// superscripts (K⁻¹, m²) become superscripts, drawn smaller and raised, because the Liberation
// fonts have no superscript minus sign and gonum's LaTeX handler has no superscripts.
func richSegments(s string) []segment {
	const sup, plain = "⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "−0123456789"
	supR, plainR := []rune(sup), []rune(plain)
	var segs []segment
	add := func(r rune, isSup bool) {
		if n := len(segs); n > 0 && segs[n-1].sup == isSup {
			segs[n-1].text += string(r)
			return
		}
		segs = append(segs, segment{text: string(r), sup: isSup})
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if rs[i] == '^' && i+1 < len(rs) && rs[i+1] == '{' {
			j := i + 2
			for ; j < len(rs) && rs[j] != '}'; j++ {
				add(rs[j], true)
			}
			i = j
			continue
		}
		if k := indexRune(supR, rs[i]); k >= 0 {
			add(plainR[k], true)
			continue
		}
		add(rs[i], false)
	}
	return segs
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

const supScale = 0.7

// minPrint is the smallest lettering journals accept at print size (AGU, AMS: about 7 pt).
const minPrint = vg.Length(7)

// supSize is the size of a superscript in a label of size s: smaller, but not below minPrint.
func supSize(s vg.Length) vg.Length { return max(s*supScale, min(s, minPrint)) }

// richWidth returns the advance of a rich label in style ts.
func richWidth(ts text.Style, s string) vg.Length {
	w := vg.Length(0)
	for _, g := range richSegments(s) {
		t := ts
		if g.sup {
			t.Font.Size = supSize(t.Font.Size)
		}
		w += t.Width(g.text)
	}
	return w
}

// richHeight returns the height of a rich label including the raise of superscripts.
func richHeight(ts text.Style, s string) vg.Length {
	return ts.Height("Mg") + ts.Font.Size*0.15
}

// drawRich draws a rich label centred on pt (horizontally, or rotated 90° for vertical) with
// its top at pt (horizontal) or its top side at pt.X (vertical: reading upwards, the text's
// top faces left).
func drawRich(c draw.Canvas, ts text.Style, pt vg.Point, s string, vertical bool) {
	w := richWidth(ts, s)
	ext := ts.FontExtents()
	top := ext.Ascent + ts.Font.Size*0.15
	pos := -w / 2
	for _, g := range richSegments(s) {
		t := ts
		raise := vg.Length(0)
		if g.sup {
			t.Font.Size = supSize(t.Font.Size)
			raise = ts.Font.Size * 0.38
		}
		t.XAlign, t.YAlign = draw.XLeft, draw.YBottom
		var at vg.Point
		if vertical {
			t.Rotation = math.Pi / 2
			at = vg.Point{X: pt.X + top - raise, Y: pt.Y + pos}
		} else {
			at = vg.Point{X: pt.X + pos, Y: pt.Y - top + raise}
		}
		c.FillText(t, at, g.text)
		pos += t.Width(g.text)
	}
}
