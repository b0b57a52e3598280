package plots

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"climxai/dataset"
	"climxai/resources"
)

// DecayMap is the location-independence figure of `climxai decaymap`: the e-folding time and
// R90 of each target cell's aggregated importance, mapped. Cells that were no target are NaN,
// cells without an established decay +Inf.
type DecayMap struct {
	EFold, R90 dataset.Field
	Stride     int // targets are every Stride-th row and column
	// The statistics of record, as decaymap computed and stored them.
	EFoldStat, R90Stat MapStat
	Header             string // e.g. "lead 1, saliency: 82 target cells × 24 samples"
}

// MapStat summarises a mapped quantity over the target cells with a finite value.
type MapStat struct {
	Median, Q1, Q3, CV float64
	Cells              int // cells with a finite value
	WithoutValue       int // target cells without one (no decay, or no fit)
}

// DecayMapOf reads the figure's data from a decaymap file (dataset.ReadMapFile).
func DecayMapOf(m *dataset.MapFile, path string) (DecayMap, error) {
	var d DecayMap
	for _, v := range []struct {
		name string
		dst  *dataset.Field
	}{{"efold", &d.EFold}, {"r90", &d.R90}} {
		mv := m.Map(v.name)
		if mv == nil {
			return DecayMap{}, fmt.Errorf("%w: %s has no variable %q (pass a map file written by climxai decaymap)", ErrSpec, path, v.name)
		}
		*v.dst = dataset.Field{Grid: m.Grid, Values: mv.Values}
	}
	d.Stride = 1
	if s, ok := m.Float("stride"); ok && s >= 1 && s <= 1e4 {
		d.Stride = int(s)
	}
	stat := func(q string, field dataset.Field) MapStat {
		get := func(k string) float64 {
			v, ok := m.Float(q + "_" + k)
			if !ok {
				return math.NaN()
			}
			return v
		}
		st := MapStat{Median: get("median"), Q1: get("q1"), Q3: get("q3"), CV: get("cv")}
		if math.IsNaN(st.Median) {
			st = summary(field.Values) // a file without the attributes: the same statistics
		}
		if v, ok := m.Float(q + "_cells"); ok {
			st.Cells = int(v)
		}
		if v, ok := m.Float(q + "_cells_without_value"); ok {
			st.WithoutValue = int(v)
		}
		return st
	}
	d.EFoldStat, d.R90Stat = stat("efold", d.EFold), stat("r90", d.R90)
	var h []string
	if l := m.Attrs["lead"]; l != "" {
		h = append(h, "lead "+l)
	}
	if meth := m.Attrs["method"]; meth != "" {
		h = append(h, meth)
	}
	head := strings.Join(h, ", ")
	if t, s := m.Attrs["targets"], m.Attrs["samples"]; t != "" && s != "" {
		if head != "" {
			head += ": "
		}
		head += t + " target cells × " + s + " samples"
	}
	d.Header = head
	return d, nil
}

// summary returns median, quartiles (type 7) and CV of the finite values, and the counts.
func summary(vs []float32) MapStat {
	var xs []float64
	st := MapStat{}
	for _, v := range vs {
		switch x := float64(v); {
		case math.IsInf(x, 0):
			st.WithoutValue++
		case !math.IsNaN(x):
			xs = append(xs, x)
		}
	}
	st.Cells = len(xs)
	st.Median, st.Q1, st.Q3, st.CV = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(xs) == 0 {
		return st
	}
	slices.Sort(xs)
	st.Median, st.Q1, st.Q3 = quantile(xs, 0.5), quantile(xs, 0.25), quantile(xs, 0.75)
	if len(xs) > 1 {
		var m, ss float64
		for _, x := range xs {
			m += x
		}
		m /= float64(len(xs))
		for _, x := range xs {
			ss += (x - m) * (x - m)
		}
		if m != 0 {
			st.CV = math.Sqrt(ss/float64(len(xs)-1)) / math.Abs(m)
		}
	}
	return st
}

// quantile of sorted xs by linear interpolation between order statistics (Hyndman and Fan's
// type 7, R's and NumPy's default).
func quantile(xs []float64, p float64) float64 {
	h := p * float64(len(xs)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(xs)-1)
	return xs[lo] + (h-float64(lo))*(xs[hi]-xs[lo])
}

// clippedScale is a viridis scale from 0 for a positive quantity. A few far-out values (above
// Tukey's far-out fence Q3 + 3·IQR) would squeeze every other cell into the darkest colours,
// so the scale then ends at the fence and says so (ExtendMax); +Inf values also extend it.
func clippedScale(label string, vs []float32) Scale {
	var xs []float64
	inf := false
	for _, v := range vs {
		x := float64(v)
		inf = inf || math.IsInf(x, 1)
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			xs = append(xs, x)
		}
	}
	s := SequentialScale(label, vs)
	s.Min = math.Min(0, s.Min)
	if len(xs) >= 4 {
		slices.Sort(xs)
		q1, q3 := quantile(xs, 0.25), quantile(xs, 0.75)
		if fence := q3 + 3*(q3-q1); fence > s.Min && xs[len(xs)-1] > fence {
			s.Max, s.ExtendMax = fence, true
		}
	}
	s.ExtendMax = s.ExtendMax || inf
	return s
}

// statText is a panel title: "NAME: median M UNIT, IQR Q1–Q3, CV C".
func statText(name, unit string, st MapStat) string {
	if st.Cells == 0 {
		return name + ": no target cell with a value"
	}
	u := ""
	if unit != "" {
		u = " " + unit
	}
	cv := "—"
	if !math.IsNaN(st.CV) && !math.IsInf(st.CV, 0) {
		cv = strconv.FormatFloat(st.CV, 'g', 2, 64) // a spread: two digits say enough
	}
	s := fmt.Sprintf("%s: median %s%s, IQR %s–%s, CV %s", name, sig(st.Median), u, sig(st.Q1), sig(st.Q3), cv)
	if st.WithoutValue > 0 {
		s += fmt.Sprintf("; ×: no decay (%d cells)", st.WithoutValue)
	}
	return s
}

// sig formats v with three significant digits ("—" when undefined).
func sig(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if a := math.Abs(v); a >= 1000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strings.Replace(strconv.FormatFloat(v, 'g', 3, 64), "-", "−", 1)
}

// wrapText breaks s at ", " and "; " into lines no wider than w in style ts.
func wrapText(ts text.Style, s string, w vg.Length) string {
	var lines []string
	line := ""
	for _, part := range splitKeep(s) {
		if line != "" && ts.Width(line+part) > w {
			lines = append(lines, strings.TrimSpace(line))
			line = ""
		}
		line += part
	}
	return strings.Join(append(lines, strings.TrimSpace(line)), "\n")
}

// splitKeep splits s after each ", " and "; ", keeping the separators.
func splitKeep(s string) []string {
	var out []string
	start := 0
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == ',' || s[i] == ';') && s[i+1] == ' ' {
			out = append(out, s[start:i+2])
			start = i + 2
		}
	}
	return append(out, s[start:])
}

// DecayMapFigure draws the e-folding time (a) above R90 (b), each with its own sequential
// colour bar and its median, IQR and CV in the title, with the header above both.
func DecayMapFigure(d DecayMap, coast []resources.Ring, width vg.Length, st Style) (*Figure, error) {
	if d.EFold.Grid.Size() == 0 || len(d.EFold.Values) != d.EFold.Grid.Size() || len(d.R90.Values) != d.R90.Grid.Size() {
		return nil, fmt.Errorf("%w: decay map without values on its grid", ErrData)
	}
	stride := max(d.Stride, 1)
	panels := []MapPanel{
		{Field: d.EFold, Scale: clippedScale("e-folding time (months)", d.EFold.Values), Coast: coast, Blocks: stride, Letter: "(a)",
			Title: statText("e-folding time", "months", d.EFoldStat)},
		{Field: d.R90, Scale: clippedScale("R90 (km)", d.R90.Values), Coast: coast, Blocks: stride, Letter: "(b)",
			Title: statText("R90", "km", d.R90Stat)},
	}
	bw := max(mapBarWidth(panels[0].Scale, st), mapBarWidth(panels[1].Scale, st))
	var figs []*Figure
	for _, p := range panels {
		// The title is centred over the map and its tick labels, beside the colour bar.
		p.Title = wrapText(st.text(st.Title), p.Title, width-bw-2*vg.Millimeter)
		figs = append(figs, mapFigure(p, width, st, bw))
	}
	return stack(width, d.Header, st, figs...), nil
}

// stack draws figures one below the other under a header line (none when empty).
func stack(width vg.Length, header string, st Style, figs ...*Figure) *Figure {
	ts := st.text(st.Label)
	hh := vg.Length(0)
	if header != "" {
		hh = ts.Height(header) + 1.5*vg.Millimeter
	}
	const between = 1.5 * vg.Millimeter // a title must not touch the tick labels above it
	h := hh + vg.Length(max(len(figs)-1, 0))*between
	for _, f := range figs {
		h += f.Height
	}
	return &Figure{Width: width, Height: h, draw: func(c draw.Canvas) {
		top := c.Max.Y
		if header != "" {
			t := ts
			t.XAlign, t.YAlign = draw.XCenter, draw.YTop
			c.FillText(t, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: top - 0.75*vg.Millimeter}, header)
			top -= hh
		}
		for _, f := range figs {
			sub := c
			sub.Max.Y, sub.Min.Y = top, top-f.Height
			f.draw(sub)
			top -= f.Height + between
		}
	}}
}

// blocks is the plotter of a field sampled every k-th row and column: each cell with a value is
// a k x k block centred on it; +Inf blocks take the scale's top colour and a cross.
type blocks struct {
	f dataset.Field
	s Scale
	k int
}

func (b blocks) DataRange() (xmin, xmax, ymin, ymax float64) { return extent(b.f.Grid) }

func (b blocks) Plot(cv draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&cv)
	g := b.f.Grid
	nlon := len(g.Lon)
	// Half a block in the direction of increasing index (grids may descend).
	dir := func(c []float64) float64 {
		if len(c) > 1 && c[1] < c[0] {
			return -1
		}
		return 1
	}
	hx, hy := dir(g.Lon)*float64(b.k)*step(g.Lon)/2, dir(g.Lat)*float64(b.k)*step(g.Lat)/2
	has := func(i, j int) bool {
		return i < len(g.Lat) && j < nlon && !math.IsNaN(float64(b.f.Values[i*nlon+j]))
	}
	var crosses [][]vg.Point
	for i, lat := range g.Lat {
		for j, lon := range g.Lon {
			v := float64(b.f.Values[i*nlon+j])
			if math.IsNaN(v) {
				continue
			}
			col := b.s.Color(v)
			if math.IsInf(v, 1) {
				col = b.s.Map.At(1)
			}
			x0, x1 := tx(lon-hx), tx(lon+hx)
			y0, y1 := ty(clampLat(lat-hy)), ty(clampLat(lat+hy))
			xe, ye := x1, y1
			if has(i, j+b.k) {
				xe += sign(x1-x0) * overlap // the next block covers it: no seam
			}
			if has(i+b.k, j) {
				ye += sign(y1-y0) * overlap
			}
			cv.FillPolygon(col, cv.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: xe, Y: y0}, {X: xe, Y: ye}, {X: x0, Y: ye}}))
			if math.IsInf(v, 1) {
				ix, iy := (x1-x0)*0.25, (y1-y0)*0.25
				crosses = append(crosses, []vg.Point{{X: x0 + ix, Y: y0 + iy}, {X: x1 - ix, Y: y1 - iy}},
					[]vg.Point{{X: x0 + ix, Y: y1 - iy}, {X: x1 - ix, Y: y0 + iy}})
			}
		}
	}
	for _, l := range crosses {
		cv.StrokeLines(draw.LineStyle{Color: rgb(0), Width: 0.6}, cv.ClipLinesXY(l)...)
	}
}

// land is the plotter of land filled grey from the coastline rings (at -360, 0 and +360
// degrees, like coast).
type land struct{ rings []resources.Ring }

func (l land) Plot(cv draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&cv)
	for _, shift := range []float64{-360, 0, 360} {
		for _, r := range l.rings {
			x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
			for _, q := range r {
				x0, x1 = math.Min(x0, q[0]+shift), math.Max(x1, q[0]+shift)
				y0, y1 = math.Min(y0, q[1]), math.Max(y1, q[1])
			}
			if x1 < p.X.Min || x0 > p.X.Max || y1 < p.Y.Min || y0 > p.Y.Max {
				continue
			}
			pts := make([]vg.Point, 0, len(r))
			for _, q := range r {
				pts = append(pts, vg.Point{X: tx(q[0] + shift), Y: ty(q[1])})
			}
			cv.FillPolygon(LandGrey, cv.ClipPolygonXY(pts))
		}
	}
}
