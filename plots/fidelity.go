package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Num is a number that JSON writes as null when it is NaN or infinite (an undefined score, e.g.
// the correlation of a constant map) and reads back from null as NaN.
type Num float64

// MarshalJSON writes the number, or null when it is not finite.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("plots: %q is not a number or null", b)
	}
	*n = Num(f)
	return nil
}

// Fidelity is the fidelity figure's data, as `climxai fidelity` computes it (attribution.
// Fidelity documents every score): one row per method, the references (the truth's own
// contributions, a random map) first, each score once per truth target.
type Fidelity struct {
	Lead      int           `json:"lead"`
	Samples   int           `json:"samples"`
	Targets   []string      `json:"targets"`   // the truth targets, e.g. "45,-40"
	Fractions []float64     `json:"fractions"` // of ocean features removed or inserted, 0..1
	Rows      []FidelityRow `json:"rows"`
	// Highlight names the methods whose deletion and insertion curves are coloured (others are
	// grey); empty: the four with the highest per-sample Pearson correlation.
	Highlight []string `json:"highlight,omitempty"`
	// FurtherVars names the input variables beyond the forecast variable of an emulator that
	// reads several (e.g. tsub; empty for one): every row then has FurtherShare, and the table
	// a panel of it. WeightShare is, per target, the share of |w| on them (what |saliency| of a
	// perfect emulator shows), drawn as a reference line.
	FurtherVars []string `json:"further_variables,omitempty"`
	WeightShare []Num    `json:"weight_share,omitempty"`
}

// FidelityRow is one method's scores, one value per target (correlations over the truth's
// neighbourhood), and its deletion and insertion curves [target][fraction].
type FidelityRow struct {
	Method         string  `json:"method"`
	SamplePearson  []Num   `json:"sample_pearson"`
	SampleSpearman []Num   `json:"sample_spearman"`
	AggPearson     []Num   `json:"aggregate_pearson"`
	AggSpearman    []Num   `json:"aggregate_spearman"`
	RandomAbs      []Num   `json:"randomization_spearman_abs"`
	RandomSigned   []Num   `json:"randomization_spearman_signed"`
	DeletionAUC    []Num   `json:"deletion_auc"`
	InsertionAUC   []Num   `json:"insertion_auc"`
	Deletion       [][]Num `json:"deletion"`
	Insertion      [][]Num `json:"insertion"`
	// FurtherShare is the mean share of Σ|attribution| on Fidelity.FurtherVars, per target
	// (the truth row's: of its contributions); only with FurtherVars.
	FurtherShare []Num `json:"further_share,omitempty"`
}

// FidelityTruth and FidelityRandom name the reference rows (the truth's own contributions, a
// random map): they get a fixed style and are set apart from the methods.
const (
	FidelityTruth  = "truth"
	FidelityRandom = "random"
)

func (f Fidelity) check() error {
	nt := len(f.Targets)
	if nt == 0 || len(f.Rows) == 0 {
		return fmt.Errorf("fidelity figure needs at least one target and one row (has %d and %d)", nt, len(f.Rows))
	}
	if len(f.Fractions) < 2 {
		return errors.New("fidelity figure needs at least two curve fractions")
	}
	for i, x := range f.Fractions {
		if math.IsNaN(x) || x < 0 || x > 1 || (i > 0 && x <= f.Fractions[i-1]) {
			return fmt.Errorf("curve fractions must increase within 0..1, got %v", f.Fractions)
		}
	}
	if len(f.FurtherVars) > 0 && len(f.WeightShare) != nt {
		return fmt.Errorf("fidelity figure has %d shares of |w| on %s for %d targets", len(f.WeightShare), strings.Join(f.FurtherVars, ", "), nt)
	}
	for _, r := range f.Rows {
		if r.Method == "" {
			return errors.New("fidelity row without a method name")
		}
		if len(f.FurtherVars) > 0 && len(r.FurtherShare) != nt {
			return fmt.Errorf("method %q has %d shares on %s for %d targets", r.Method, len(r.FurtherShare), strings.Join(f.FurtherVars, ", "), nt)
		}
		for _, s := range [][]Num{r.SamplePearson, r.SampleSpearman, r.AggPearson, r.AggSpearman, r.RandomAbs, r.RandomSigned, r.DeletionAUC, r.InsertionAUC} {
			if len(s) != nt {
				return fmt.Errorf("method %q has %d values of a score for %d targets", r.Method, len(s), nt)
			}
		}
		for _, c := range [][][]Num{r.Deletion, r.Insertion} {
			if len(c) != nt {
				return fmt.Errorf("method %q has %d curves for %d targets", r.Method, len(c), nt)
			}
			for _, t := range c {
				if len(t) != len(f.Fractions) {
					return fmt.Errorf("method %q has a curve of %d points for %d fractions", r.Method, len(t), len(f.Fractions))
				}
			}
		}
	}
	return nil
}

// stats returns the mean, minimum and maximum of the finite values (ok false when none).
func stats(v []Num) (mean, lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	n := 0
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		mean += f
		lo, hi = math.Min(lo, f), math.Max(hi, f)
		n++
	}
	if n == 0 {
		return 0, 0, 0, false
	}
	return mean / float64(n), lo, hi, true
}

// highlighted returns the methods whose curves are coloured: f.Highlight, or the four
// non-reference methods with the highest mean per-sample Pearson correlation.
func (f Fidelity) highlighted() map[string]bool {
	h := map[string]bool{}
	if len(f.Highlight) > 0 {
		for _, m := range f.Highlight {
			h[m] = true
		}
		return h
	}
	type ranked struct {
		name string
		r    float64
	}
	var rs []ranked
	for _, r := range f.Rows {
		if r.Method == FidelityTruth || r.Method == FidelityRandom {
			continue
		}
		m, _, _, ok := stats(r.SamplePearson)
		if !ok {
			m = math.Inf(-1)
		}
		rs = append(rs, ranked{r.Method, m})
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].r > rs[b].r })
	for i := 0; i < len(rs) && i < 4; i++ {
		h[rs[i].name] = true
	}
	return h
}

// Marker styles of the dot table: the first score of each panel a filled circle, the second a
// filled triangle, in two Okabe–Ito colours, so both read in grey print too.
var (
	dotFirst  = draw.GlyphStyle{Color: CategoryColors[0], Radius: 1.5, Shape: draw.CircleGlyph{}}
	dotSecond = draw.GlyphStyle{Color: CategoryColors[1], Radius: 1.7, Shape: draw.PyramidGlyph{}}
)

// dots is the plotter of one score of the dot table: the mean over targets as a glyph, the range
// over targets as a line through it; row k sits at y = n−1−k (first row on top) plus off.
type dots struct {
	vals  [][]Num
	off   float64
	style draw.GlyphStyle
}

func (d dots) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	n := len(d.vals)
	for k, v := range d.vals {
		m, lo, hi, ok := stats(v)
		if !ok {
			continue
		}
		y := ty(float64(n-1-k) + d.off)
		if hi > lo {
			c.StrokeLine2(draw.LineStyle{Color: d.style.Color, Width: 0.6}, tx(lo), y, tx(hi), y)
		}
		pt := vg.Point{X: tx(m), Y: y}
		if c.Contains(pt) {
			c.DrawGlyph(d.style, pt)
		}
	}
}

// refLine is a dashed vertical line at x over the whole panel (a reference value).
type refLine struct{ x float64 }

// refStyle is refLine's line.
var refStyle = draw.LineStyle{Color: rgb(0x333333), Width: 0.6, Dashes: []vg.Length{2, 1.2}}

func (r refLine) Plot(c draw.Canvas, p *plot.Plot) {
	tx, _ := p.Transforms(&c)
	if x := tx(r.x); x >= c.Min.X && x <= c.Max.X {
		c.StrokeLine2(refStyle, x, c.Min.Y, x, c.Max.Y)
	}
}

// rowGuides draws a light line along every row, a darker one at x = 0 when the axis spans it,
// and a separator below the reference rows (the first sep rows).
type rowGuides struct{ n, sep int }

func (g rowGuides) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	light := draw.LineStyle{Color: rgb(0xdddddd), Width: 0.4}
	for k := 0; k < g.n; k++ {
		y := ty(float64(k))
		c.StrokeLine2(light, c.Min.X, y, c.Max.X, y)
	}
	if p.X.Min < 0 && p.X.Max > 0 {
		c.StrokeLine2(draw.LineStyle{Color: rgb(0x999999), Width: 0.4}, tx(0), c.Min.Y, tx(0), c.Max.Y)
	}
	if g.sep > 0 && g.sep < g.n {
		y := ty(float64(g.n-g.sep) - 0.5)
		c.StrokeLine2(draw.LineStyle{Color: rgb(0x555555), Width: 0.5}, c.Min.X, y, c.Max.X, y)
	}
}

// keyEntry is one entry of a hand-drawn key: a line and/or a glyph, then the label.
type keyEntry struct {
	label string
	line  *draw.LineStyle
	glyph *draw.GlyphStyle
}

const keyThumb = vg.Length(4 * vg.Millimeter)

// keyLayout returns the columns and the height a key of entries takes in width w.
func keyLayout(st Style, entries []keyEntry, w vg.Length) (cols int, colW, rowH, h vg.Length) {
	ts := st.text(st.Tick)
	for _, e := range entries {
		colW = max(colW, keyThumb+1.2*vg.Millimeter+ts.Width(e.label)+2.5*vg.Millimeter)
	}
	cols = max(1, min(len(entries), int(w/colW)))
	rows := (len(entries) + cols - 1) / cols
	rowH = ts.Height("Mg") + 0.6*vg.Millimeter
	return cols, colW, rowH, vg.Length(rows) * rowH
}

// drawKey draws the entries in columns, centred in [x0, x0+w] below y (the key's top).
func drawKey(c draw.Canvas, st Style, entries []keyEntry, x0, w, y vg.Length) {
	cols, colW, rowH, _ := keyLayout(st, entries, w)
	ts := st.text(st.Tick)
	ts.YAlign = draw.YCenter
	used := vg.Length(cols) * colW
	left := x0 + (w-used)/2
	for i, e := range entries {
		x := left + vg.Length(i%cols)*colW
		yc := y - vg.Length(i/cols)*rowH - rowH/2
		if e.line != nil {
			c.StrokeLine2(*e.line, x, yc, x+keyThumb, yc)
		}
		if e.glyph != nil {
			c.DrawGlyph(*e.glyph, vg.Point{X: x + keyThumb/2, Y: yc})
		}
		c.FillText(ts, vg.Point{X: x + keyThumb + 1.2*vg.Millimeter, Y: yc}, e.label)
	}
}

// curveStyle returns the line (and glyph, for highlighted methods) of a row's curves; k counts
// the highlighted methods, so that no two of them share a colour.
func curveStyle(method string, hl bool, k int, st Style) (draw.LineStyle, *draw.GlyphStyle) {
	switch {
	case method == FidelityTruth:
		return draw.LineStyle{Color: rgb(0x000000), Width: st.Line * 1.2}, nil
	case method == FidelityRandom:
		return draw.LineStyle{Color: rgb(0x777777), Width: st.Line, Dashes: []vg.Length{3, 1.5}}, nil
	case hl:
		col := CategoryColors[k%6] // the seventh colour, black, is the truth's
		g := draw.GlyphStyle{Color: col, Radius: 1.5, Shape: glyphs[k%len(glyphs)]}
		return draw.LineStyle{Color: col, Width: st.Line}, &g
	}
	return draw.LineStyle{Color: color.RGBA{R: 0xc8, G: 0xc8, B: 0xc8, A: 0xff}, Width: 0.5}, nil
}

// meanCurve averages a row's curves over targets, point by point (NaN where none is finite).
func meanCurve(c [][]Num, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		col := make([]Num, 0, len(c))
		for _, t := range c {
			col = append(col, t[i])
		}
		m, _, _, ok := stats(col)
		if !ok {
			m = math.NaN()
		}
		out[i] = m
	}
	return out
}

// curvePoints is a plotter of a curve as a line with a glyph at every few points (nil glyph: a
// line only); NaN points break the line.
type curvePoints struct {
	x, y  []float64
	line  draw.LineStyle
	glyph *draw.GlyphStyle
	every int
}

func (cp curvePoints) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	var run []vg.Point
	flush := func() {
		if len(run) > 1 {
			c.StrokeLines(cp.line, c.ClipLinesXY(run)...)
		}
		run = run[:0]
	}
	for i := range cp.x {
		if math.IsNaN(cp.y[i]) {
			flush()
			continue
		}
		run = append(run, vg.Point{X: tx(cp.x[i]), Y: ty(cp.y[i])})
	}
	flush()
	if cp.glyph == nil {
		return
	}
	for i := 0; i < len(cp.x); i += max(cp.every, 1) {
		pt := vg.Point{X: tx(cp.x[i]), Y: ty(cp.y[i])}
		if !math.IsNaN(cp.y[i]) && c.Contains(pt) {
			c.DrawGlyph(*cp.glyph, pt)
		}
	}
}

func (cp curvePoints) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = minMax(cp.x)
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, v := range cp.y {
		if !math.IsNaN(v) {
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
	}
	if math.IsInf(ymin, 1) {
		ymin, ymax = 0, 1
	}
	return xmin, xmax, ymin, ymax
}

// FidelityFigure draws the fidelity of attribution methods against a known truth: a dot table,
// one row per method, of (a) the per-sample and (b) the aggregate Pearson and Spearman
// correlation with the truth, (c) the randomisation check (Spearman correlation of the maps on
// trained and re-drawn weights, of |maps| and signed maps: low is good) and (d) the deletion
// and insertion areas, for an emulator of several input variables (FurtherVars) (e) each
// method's share of Σ|attribution| on the further variables beside the share of |w| (dashed);
// below it the deletion and the insertion curves, the truth and a random map as references, the
// highlighted methods in colour and the others in grey. With several targets a glyph is the mean
// over targets and a line their range; curves are means.
func FidelityFigure(f Fidelity, width vg.Length, st Style) (*Figure, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrData, err)
	}
	n := len(f.Rows)
	names := make([]string, n)
	sep := 0
	for k, r := range f.Rows {
		names[k] = r.Method
		if sep == k && (r.Method == FidelityTruth || r.Method == FidelityRandom) {
			sep = k + 1
		}
	}
	col := func(get func(FidelityRow) []Num) [][]Num {
		out := make([][]Num, n)
		for k, r := range f.Rows {
			out[k] = get(r)
		}
		return out
	}
	type panel struct {
		title         string
		first, second [][]Num
		keys          [2]string // "" for no second score
		corr          bool      // correlation axis −1..1
		ref           []Num     // a reference value per target, drawn at its mean (nil: none)
	}
	panels := []panel{
		{"(a) truth,\nper sample", col(func(r FidelityRow) []Num { return r.SamplePearson }), col(func(r FidelityRow) []Num { return r.SampleSpearman }), [2]string{"Pearson", "Spearman"}, true, nil},
		{"(b) truth,\naggregate", col(func(r FidelityRow) []Num { return r.AggPearson }), col(func(r FidelityRow) []Num { return r.AggSpearman }), [2]string{"Pearson", "Spearman"}, true, nil},
		{"(c) random\nweights", col(func(r FidelityRow) []Num { return r.RandomAbs }), col(func(r FidelityRow) []Num { return r.RandomSigned }), [2]string{"|maps|", "signed"}, true, nil},
		{"(d) curve\nareas", col(func(r FidelityRow) []Num { return r.DeletionAUC }), col(func(r FidelityRow) []Num { return r.InsertionAUC }), [2]string{"deletion", "insertion"}, false, nil},
	}
	if len(f.FurtherVars) > 0 {
		panels = append(panels, panel{"(e) share on\n" + strings.Join(f.FurtherVars, "+"), col(func(r FidelityRow) []Num { return r.FurtherShare }), nil,
			[2]string{"share", ""}, false, f.WeightShare})
	}
	table := make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		p := st.newPlot()
		p.Title.Text = pn.title
		p.Title.TextStyle.Font.Size = st.Tick
		p.X.Padding, p.Y.Padding = 0, 0
		p.X.Tick.Marker = niceTicker{n: 3}
		p.Add(rowGuides{n: n, sep: sep})
		if pn.ref != nil {
			if m, _, _, ok := stats(pn.ref); ok {
				p.Add(refLine{m})
			}
		}
		if pn.second == nil {
			p.Add(dots{vals: pn.first, style: dotFirst}, frame{})
		} else {
			p.Add(dots{vals: pn.first, off: 0.17, style: dotFirst}, dots{vals: pn.second, off: -0.17, style: dotSecond}, frame{})
		}
		if pn.corr {
			p.X.Min, p.X.Max = -1.1, 1.1
		} else {
			lo, hi := 0.0, 1.0
			for _, v := range [][][]Num{pn.first, pn.second} {
				for _, r := range v {
					if _, a, b, ok := stats(r); ok {
						lo, hi = math.Min(lo, a), math.Max(hi, b)
					}
				}
			}
			pad := 0.08 * (hi - lo)
			p.X.Min, p.X.Max = lo-pad, hi+pad
		}
		p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
		// Method names are drawn beside the first panel by hand: as tick labels wider than
		// Align's first guess at a tile they made it misplace the column and cut them off.
		p.HideY()
		table[i] = p
	}

	// The curves, averaged over targets: grey methods first, references and highlighted on top.
	hl := f.highlighted()
	var greys, tops [2][]plot.Plotter // [deletion, insertion]
	var entries []keyEntry
	hasGrey := false
	ymin, ymax := 0.0, 1.0
	k := 0 // highlighted methods so far
	for _, r := range f.Rows {
		line, glyph := curveStyle(r.Method, hl[r.Method], k, st)
		if hl[r.Method] && r.Method != FidelityTruth && r.Method != FidelityRandom {
			k++
		}
		shown := r.Method == FidelityTruth || r.Method == FidelityRandom || hl[r.Method]
		for i, curve := range [][][]Num{r.Deletion, r.Insertion} {
			y := meanCurve(curve, len(f.Fractions))
			for _, v := range y {
				if !math.IsNaN(v) {
					ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
				}
			}
			cp := curvePoints{x: f.Fractions, y: y, line: line, glyph: glyph, every: max(1, len(f.Fractions)/5)}
			if shown {
				tops[i] = append(tops[i], cp)
			} else {
				greys[i] = append(greys[i], cp)
				hasGrey = true
			}
		}
		if shown {
			l := line
			entries = append(entries, keyEntry{label: r.Method, line: &l, glyph: glyph})
		}
	}
	if hasGrey {
		l, _ := curveStyle("", false, 0, st)
		entries = append(entries, keyEntry{label: "other methods", line: &l})
	}
	curves := make([]*plot.Plot, 2)
	for i, xl := range []string{"fraction removed", "fraction inserted"} {
		p := st.newPlot()
		p.Title.Text = fmt.Sprintf("(%c) %s", 'a'+len(panels)+i, []string{"deletion", "insertion"}[i])
		p.Title.TextStyle.Font.Size = st.Tick
		p.X.Label.Text = xl
		p.X.Tick.Marker = niceTicker{n: 3}
		p.X.Padding, p.Y.Padding = 0, 0
		p.Add(greys[i]...) // below the references and the highlighted methods
		p.Add(tops[i]...)
		p.Add(frame{})
		pad := 0.05 * (ymax - ymin)
		p.X.Min, p.X.Max = f.Fractions[0], f.Fractions[len(f.Fractions)-1]
		p.Y.Min, p.Y.Max = ymin-pad, ymax+pad
		if i == 0 {
			p.Y.Label.Text = "normalised forecast"
		} else {
			p.Y.Tick.Marker = hiddenTicks{niceTicker{}}
		}
		curves[i] = p
	}

	// Layout: header, table (rows of fixed height), the table's keys, curves, curve key.
	ts := st.text(st.Label)
	nt := len(f.Targets)
	head := fmt.Sprintf("lead %d, %d samples, %d target", f.Lead, f.Samples, nt)
	if nt > 1 {
		head += "s (mean; lines: range)"
	}
	head += "; correlations with the truth in its neighbourhood"
	head = wrapText(ts, head, width-4*vg.Millimeter)
	headH := vg.Length(len(strings.Split(head, "\n")))*ts.Height("Mg") + 1.5*vg.Millimeter
	_, _, _, dotKeyH := keyLayout(st, []keyEntry{{label: "x"}, {label: "x"}}, 0)
	nameStyle := st.text(st.Tick)
	nameW := vg.Length(0)
	for _, s := range names {
		nameW = max(nameW, nameStyle.Width(s))
	}
	nameW += 1.5 * vg.Millimeter
	tableTiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: 3 * vg.Millimeter, PadLeft: nameW, PadRight: 1.5 * vg.Millimeter, PadTop: 0.5 * vg.Millimeter}
	rowH := st.Tick * 1.45 // a row: the label's height and some air
	const trial = 120 * vg.Millimeter
	tc := draw.NewCanvas(new(recorderCanvas), width, trial)
	tcs := plot.Align([][]*plot.Plot{table}, tableTiles, tc)
	d := table[0].DataCanvas(tcs[0][0])
	tableH := trial - (d.Max.Y - d.Min.Y) + vg.Length(n)*rowH
	curveTiles := draw.Tiles{Rows: 1, Cols: 2, PadX: 2 * vg.Millimeter, PadRight: 1.5 * vg.Millimeter, PadTop: 1.5 * vg.Millimeter}
	curveH := width * 0.42
	_, _, _, legH := keyLayout(st, entries, width-4*vg.Millimeter)
	gapH := 1.5 * vg.Millimeter
	height := headH + tableH + dotKeyH + gapH + curveH + legH + gapH

	return &Figure{Width: width, Height: height, draw: func(c draw.Canvas) {
		top := c.Max.Y
		t := ts
		t.XAlign, t.YAlign = draw.XCenter, draw.YTop
		c.FillText(t, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: top - 0.75*vg.Millimeter}, head)
		top -= headH
		tcv := c
		tcv.Max.Y, tcv.Min.Y = top, top-tableH
		cs := plot.Align([][]*plot.Plot{table}, tableTiles, tcv)
		for i, p := range table {
			p.Draw(cs[0][i])
			dc := p.DataCanvas(cs[0][i])
			if i == 0 {
				_, ty := p.Transforms(&dc)
				t := nameStyle
				t.XAlign, t.YAlign = draw.XRight, draw.YCenter
				for k, name := range names {
					c.FillText(t, vg.Point{X: dc.Min.X - 1*vg.Millimeter, Y: ty(float64(n - 1 - k))}, name)
				}
			}
			pn := panels[i]
			keys := []keyEntry{{label: pn.keys[0], glyph: &dotFirst}, {label: pn.keys[1], glyph: &dotSecond}}
			if pn.keys[1] == "" {
				keys = keys[:1]
				if pn.ref != nil {
					l := refStyle
					keys = append(keys, keyEntry{label: "|w|", line: &l})
				}
			}
			drawKey(c, st, keys, dc.Min.X-2*vg.Millimeter, dc.Max.X-dc.Min.X+4*vg.Millimeter, top-tableH)
		}
		top -= tableH + dotKeyH + gapH
		ccv := c
		ccv.Max.Y, ccv.Min.Y = top, top-curveH
		cs = plot.Align([][]*plot.Plot{curves}, curveTiles, ccv)
		for i, p := range curves {
			p.Draw(cs[0][i])
		}
		top -= curveH + gapH/2
		drawKey(c, st, entries, c.Min.X+2*vg.Millimeter, c.Max.X-c.Min.X-4*vg.Millimeter, top)
	}}, nil
}

// hiddenTicks keeps a ticker's tick marks and drops its labels (a panel sharing its
// neighbour's axis).
type hiddenTicks struct{ t plot.Ticker }

func (h hiddenTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := h.t.Ticks(lo, hi)
	for i := range ts {
		ts[i].Label = ""
	}
	return ts
}

var _ plot.DataRanger = curvePoints{}
