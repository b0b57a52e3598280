package ui

import (
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"

	"climxai/dataset"
)

// width1 measures a string as one unit per rune, so that the expected lines can be read off.
func width1(s string) float32 { return float32(len([]rune(s))) }

func TestWrapText(t *testing.T) {
	for _, c := range []struct {
		text  string
		n     int
		width float32
		want  []string
	}{
		{"short", 3, 10, []string{"short"}},
		{"one two three", 3, 7, []string{"one two", "three"}},
		{"one two three", 3, 100, []string{"one two three"}},
		{"a b c d e f", 2, 3, []string{"a b", "c…"}},
		{"a b c d e f", 2, 4, []string{"a b", "c d…"}},
		{"averyveryverylongword x", 3, 5, []string{"averyveryverylongword", "x"}},
		{"", 3, 5, nil},
		{"R50 735\u00a0km, R90 2002\u00a0km", 3, 14, []string{"R50 735\u00a0km,", "R90 2002\u00a0km"}},
		{"Importance per lag · saliency, lead 1, 39.0°N 38.0°W", 3, 24,
			[]string{"Importance per lag ·", "saliency, lead 1, 39.0°N", "38.0°W"}},
	} {
		got := wrapText(c.text, c.n, width1, c.width)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrapText(%q, %d, %g) = %q, want %q", c.text, c.n, c.width, got, c.want)
		}
		for _, l := range got[:max(0, len(got)-1)] {
			if width1(l) > c.width && strings.Contains(l, " ") {
				t.Errorf("line %q wider than %g", l, c.width)
			}
		}
	}
}

// laidOutTitle lays c out at width in a test window and returns its renderer and the lines of
// its title shown.
func laidOutTitle(t *testing.T, c *LagChart, width float32) (*lagRenderer, []string) {
	w := test.NewWindow(c)
	t.Cleanup(w.Close)
	w.Resize(fyne.NewSize(width, 300))
	r := test.WidgetRenderer(c).(*lagRenderer)
	r.Layout(c.Size())
	var lines []string
	for _, l := range r.title {
		if l.Text != "" {
			lines = append(lines, l.Text)
		}
	}
	return r, lines
}

// TestChartTitleWraps: a title too long for the chart's width is shown on several lines, each
// within the width, and the whole title is kept.
func TestChartTitleWraps(t *testing.T) {
	test.NewTempApp(t)
	c := NewLagChart("")
	title := "Importance per lag · saliency, lead 9, box 45.0–60.0°N 50.0–20.0°W"
	c.SetValues(title, []float64{1, 0.5, 0.25})
	r, lines := laidOutTitle(t, c, 260)
	for _, l := range r.title {
		if sz := fyne.MeasureText(l.Text, l.TextSize, l.TextStyle); sz.Width > c.Size().Width {
			t.Errorf("title line %q is %g wide in a chart of %g", l.Text, sz.Width, c.Size().Width)
		}
	}
	if len(lines) < 2 || strings.Join(lines, " ") != title {
		t.Errorf("title lines %q, want the whole title %q on more than one line", lines, title)
	}
	// The bars start below the title's last line.
	last := r.title[len(lines)-1]
	if top := r.bars[0].Position().Y; top < last.Position().Y+last.MinSize().Height {
		t.Errorf("the tallest bar's top %g is above the title's last line (ends %g)", top, last.Position().Y+last.MinSize().Height)
	}
}

// TestChartClearRestoresBlankTitle: a cleared chart shows its blank title, not the title of
// the values it no longer shows (after reopening, the lag chart named the last forecast over
// "Click a cell"), and the distance chart says what it is before its first values.
func TestChartClearRestoresBlankTitle(t *testing.T) {
	test.NewTempApp(t)
	shown := func(c *LagChart) string {
		_, lines := laidOutTitle(t, c, 400)
		return strings.Join(lines, " ")
	}
	c := NewLagChart("note")
	c.SetBlankTitle("Importance by distance")
	if got := shown(c); got != "Importance by distance" {
		t.Errorf("before values the title reads %q, want the blank title", got)
	}
	c.SetValues("By distance: R50 735 km", []float64{1, 0.5})
	if got := shown(c); got != "By distance: R50 735 km" {
		t.Errorf("with values the title reads %q", got)
	}
	c.SetBlankTitle("Importance by distance") // values shown: the title stays theirs
	if got := shown(c); got != "By distance: R50 735 km" {
		t.Errorf("SetBlankTitle replaced the values' title: %q", got)
	}
	c.Clear("cleared")
	if got := shown(c); got != "Importance by distance" {
		t.Errorf("after Clear the title reads %q, want the blank title", got)
	}
}

// TestSnapBox: a dragged box becomes the edges of the cells whose centres it holds, on grids
// of either latitude order and of fine steps, and a box narrower than a cell the nearest cell.
func TestSnapBox(t *testing.T) {
	two := dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	down := dataset.GridSpec{LatStart: 89.875, LatStep: -0.25, NLat: 720, LonStart: 0.125, LonStep: 0.25, NLon: 1440}
	for _, c := range []struct {
		g       dataset.GridSpec
		in, out Box
	}{
		{two, Box{S: 42.56, N: 52.71, W: -53.64, E: -31.87}, Box{S: 42, N: 52, W: -53, E: -31}},
		{two, Box{S: 0, N: 100, W: -200, E: 100}, Box{S: 4, N: 74, W: -101, E: 25}},         // clamped to the grid
		{two, Box{S: 40.2, N: 40.9, W: -30.2, E: -29.9}, Box{S: 40, N: 42, W: -31, E: -29}}, // nearest cell
		{down, Box{S: 10.1, N: 10.6, W: 200.3, E: 201.01}, Box{S: 10, N: 10.5, W: 200.25, E: 201}},
	} {
		if got := snapBox(c.in, c.g); math.Abs(got.S-c.out.S)+math.Abs(got.N-c.out.N)+math.Abs(got.W-c.out.W)+math.Abs(got.E-c.out.E) > 1e-9 {
			t.Errorf("snapBox(%+v) = %+v, want %+v", c.in, got, c.out)
		}
	}
	for lo, want := range map[[2]string]string{
		{"42.0°N", "54.0°N"}: "42.0–54.0°N",
		{"10.0°S", "10.0°N"}: "10.0°S–10.0°N",
		{"56.0°W", "32.0°W"}: "56.0–32.0°W",
		{"10.0°W", "0.0°"}:   "10.0°W–0.0°",
	} {
		if got := spanLabel(lo[0], lo[1]); got != want {
			t.Errorf("spanLabel%q = %q, want %q", lo, got, want)
		}
	}
}

func TestLeadList(t *testing.T) {
	for want, leads := range map[string][]int{"": nil, "6": {6}, "1 and 6": {1, 6}, "1, 6 and 9": {1, 6, 9}} {
		if got := leadList(leads); got != want {
			t.Errorf("leadList(%v) = %q, want %q", leads, got, want)
		}
	}
}

// TestChartCurve: a curve over the bars is a segment between each pair of bars with values,
// none across a NaN gap; the plot's top makes room for a curve above the bars; new values
// drop the curve.
func TestChartCurve(t *testing.T) {
	test.NewTempApp(t)
	c := NewLagChart("")
	c.SetValues("t", []float64{0.5, 0.25, 0.125, 0.1})
	c.SetCurve([]float64{0.8, 0.3, math.NaN(), 0.1})
	w := test.NewWindow(c)
	defer w.Close()
	w.Resize(fyne.NewSize(300, 300))
	r := test.WidgetRenderer(c).(*lagRenderer)
	r.Refresh()
	var lines []*canvas.Line
	for _, o := range r.Objects() {
		if l, ok := o.(*canvas.Line); ok && l != r.axis {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d curve segments, want 1 (lags 0-1; lag 2 is a gap)", len(lines))
	}
	if c.top() != 0.8 || r.ymax.Text != "0.8" {
		t.Errorf("top %g (label %q), want the curve's 0.8", c.top(), r.ymax.Text)
	}
	// The segment starts above the first bar's top (0.8 against 0.5) and falls.
	if l := lines[0]; !(l.Position1.Y < r.bars[0].Position().Y && l.Position2.Y > l.Position1.Y) {
		t.Errorf("segment %v-%v, first bar's top at %g", l.Position1, l.Position2, r.bars[0].Position().Y)
	}
	c.SetValues("u", []float64{1, 2})
	if c.curve != nil {
		t.Error("new values kept the old curve")
	}
}

// TestMapTitleEllipsis: a map title wider than the map ends in "…" within the width (the
// Aggregate tab's half-width map cut "24 samples" to "24 sample" unmarked); one that fits is
// shown whole.
func TestMapTitleEllipsis(t *testing.T) {
	test.NewTempApp(t)
	g := dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	m := NewMapCanvas("")
	long := "mean |saliency| summed over lags · lead 1 · 39.0°N 38.0°W · 24 samples of test"
	m.SetField(MapField{Grid: g, Values: make([]float32, g.NLat*g.NLon), Title: long})
	w := test.NewWindow(m)
	defer w.Close()
	for _, width := range []float32{300, 1200} {
		w.Resize(fyne.NewSize(width, 400))
		r := test.WidgetRenderer(m).(*mapRenderer)
		r.Layout(m.Size())
		got := r.title.Text
		if sz := fyne.MeasureText(got, r.title.TextSize, r.title.TextStyle).Width; sz > m.Size().Width {
			t.Errorf("width %g: title %q is %g wide", m.Size().Width, got, sz)
		}
		if short := fyne.MeasureText(long, r.title.TextSize, r.title.TextStyle).Width > m.Size().Width; short != strings.HasSuffix(got, "…") || !short && got != long {
			t.Errorf("width %g: title %q (the whole title needs %v)", m.Size().Width, got, fyne.MeasureText(long, r.title.TextSize, r.title.TextStyle).Width)
		}
	}
}
