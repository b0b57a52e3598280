package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LeadsGrid is a lead-time comparison: Panels[row][col] are maps on one grid, columns are leads
// (ColLabels, e.g. "lead 1"), rows are lags or summaries (RowLabels, e.g. "lag 0"), all drawn
// with one shared Scale and lettered (a), (b), ... row by row.
type LeadsGrid struct {
	Panels    [][]MapPanel
	ColLabels []string
	RowLabels []string
	Scale     Scale
}

func (g LeadsGrid) check() error {
	if len(g.Panels) == 0 || len(g.Panels[0]) == 0 {
		return fmt.Errorf("%w: lead grid without panels", ErrData)
	}
	for r, row := range g.Panels {
		if len(row) != len(g.Panels[0]) {
			return fmt.Errorf("%w: lead grid row %d has %d panels, row 0 has %d", ErrData, r, len(row), len(g.Panels[0]))
		}
	}
	return nil
}

// panelLetter returns "(a)" for 0, ..., "(z)", then "(aa)", ...
func panelLetter(i int) string {
	s := ""
	for i >= 0 {
		s = string(rune('a'+i%26)) + s
		i = i/26 - 1
	}
	return "(" + s + ")"
}

// LeadsFigure lays out the grid at the given width with a shared horizontal colour bar below;
// only the left column labels latitudes and only the bottom row longitudes.
func LeadsFigure(g LeadsGrid, width vg.Length, st Style) (*Figure, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	rows, cols := len(g.Panels), len(g.Panels[0])
	plots := make([][]*plot.Plot, rows)
	for r := range rows {
		plots[r] = make([]*plot.Plot, cols)
		for c := range cols {
			m := g.Panels[r][c]
			m.Scale = g.Scale
			m.Title = ""
			if r == 0 && c < len(g.ColLabels) {
				m.Title = g.ColLabels[c]
			}
			// A longitude label at 7 pt is about 6 mm wide: narrow panels get one per 9 mm
			// (three on the 25 mm of three columns at single width, two on the 19 mm of five).
			xt := 0.0
			if w := width / vg.Length(cols); w < 45*vg.Millimeter {
				xt = max(1.5, float64(w/vg.Millimeter)/9)
			}
			p := m.plot(st, r != rows-1, c != 0, xt)
			if c == 0 && r < len(g.RowLabels) {
				p.Y.Label.Text = g.RowLabels[r]
			}
			plots[r][c] = p
		}
	}
	bar := ColorBar{Scale: g.Scale, Vertical: false}
	barH := bar.Size(st) + 2*vg.Millimeter
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: 1.5 * vg.Millimeter, PadY: 1.5 * vg.Millimeter, PadTop: 0.5 * vg.Millimeter, PadRight: 1 * vg.Millimeter}

	layout := func(c draw.Canvas) ([][]draw.Canvas, draw.Canvas) {
		gc := draw.Crop(c, 0, 0, barH, 0)
		return plot.Align(plots, tiles, gc), gc
	}
	// Height: lay out once at a trial height, then scale the data areas to the map's aspect.
	const trial = 150 * vg.Millimeter
	tc := draw.NewCanvas(new(recorderCanvas), width, trial)
	cs, _ := layout(tc)
	d := plots[0][0].DataCanvas(cs[0][0])
	dw, dh := d.Max.X-d.Min.X, d.Max.Y-d.Min.Y
	ratio := aspect(g.Panels[0][0].Field.Grid)
	height := trial - vg.Length(rows)*dh + vg.Length(rows)*vg.Length(ratio)*dw

	return &Figure{Width: width, Height: height, draw: func(c draw.Canvas) {
		cs, _ := layout(c)
		var left, right vg.Length
		for r := range rows {
			for cc := range cols {
				plots[r][cc].Draw(cs[r][cc])
				dc := plots[r][cc].DataCanvas(cs[r][cc])
				letter(dc, st, panelLetter(r*cols+cc))
				if r == rows-1 && cc == 0 {
					left = dc.Min.X
				}
				if r == rows-1 && cc == cols-1 {
					right = dc.Max.X
				}
			}
		}
		bc := c
		// The bar spans the middle of the data columns, not the full width, so it reads as a
		// legend of all panels without crowding the tick labels.
		inset := (right - left) * 0.15
		bc.Min = vg.Point{X: left + inset, Y: c.Min.Y}
		bc.Max = vg.Point{X: right - inset, Y: c.Min.Y + barH - 2*vg.Millimeter}
		bar.Draw(bc, st)
	}}, nil
}

// letter writes a panel letter in the top-left corner of a data area on a white box.
func letter(dc draw.Canvas, st Style, s string) {
	ts := st.text(st.Label)
	// Regular weight: vgpdf registers fonts without style and fails on bold ("undefined font").
	w, h := ts.Width(s), ts.Height(s)
	pad := vg.Length(1)
	x0, y1 := dc.Min.X+0.5, dc.Max.Y-0.5
	dc.FillPolygon(rgb(0xffffff), []vg.Point{{X: x0, Y: y1}, {X: x0 + w + 2*pad, Y: y1}, {X: x0 + w + 2*pad, Y: y1 - h - pad}, {X: x0, Y: y1 - h - pad}})
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YTop
	dc.FillText(ts, vg.Point{X: x0 + pad, Y: y1 - pad/2}, s)
}

// normalizeColumns divides every column's (lead's) panel values in place by the column's largest
// finite |value|, so that each column spans [-1, 1]; an all-zero column stays zero. NaN (land)
// stays NaN.
func (g LeadsGrid) normalizeColumns() {
	for c := range g.Panels[0] {
		col := make([][]float32, len(g.Panels))
		for r, row := range g.Panels {
			col[r] = row[c].Field.Values
		}
		m := finiteMaxAbs(col...)
		if m == 0 {
			continue
		}
		for _, vs := range col {
			for i, v := range vs {
				vs[i] = float32(float64(v) / m)
			}
		}
	}
}
