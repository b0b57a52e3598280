package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"climxai/dataset"
	"climxai/resources"
)

// Marker is what a map marks as the explained target: a cell (Box false: Lat, Lon) or a box
// (Box true: South, North, West, East in degrees).
type Marker struct {
	Box                      bool
	Lat, Lon                 float64
	South, North, West, East float64
}

// MapPanel is one map of a field: filled grid cells coloured by Scale, coastlines, lat/lon ticks
// and an optional target marker. Draw it alone (MapFigure) or in a grid (LeadsFigure).
type MapPanel struct {
	Field   dataset.Field
	Scale   Scale
	Coast   []resources.Ring // nil: no coastlines
	Target  *Marker          // nil: no marker
	Contour *Contour         // nil: no contour lines
	Title   string
	Letter  string // panel letter in the map's top-left corner, e.g. "(a)"; "": none
	// Blocks > 0 draws the field as values at every Blocks-th row and column (decaymap's
	// targets): each cell with a value as a Blocks x Blocks block centred on it, +Inf crossed
	// out, other cells white, and land filled grey from Coast.
	Blocks int
}

// edges returns the n+1 cell edges of n cell centres: midpoints inside, half a step outside.
func edges(c []float64) []float64 {
	n := len(c)
	e := make([]float64, n+1)
	if n == 1 {
		e[0], e[1] = c[0]-0.5, c[0]+0.5
		return e
	}
	for i := 1; i < n; i++ {
		e[i] = (c[i-1] + c[i]) / 2
	}
	e[0] = c[0] - (c[1]-c[0])/2
	e[n] = c[n-1] + (c[n-1]-c[n-2])/2
	return e
}

// extent returns the map's longitude and latitude ranges (cell edges, latitudes clamped to ±90).
func extent(g dataset.Grid) (lon0, lon1, lat0, lat1 float64) {
	le, ae := edges(g.Lon), edges(g.Lat)
	lon0, lon1 = math.Min(le[0], le[len(le)-1]), math.Max(le[0], le[len(le)-1])
	lat0, lat1 = math.Min(ae[0], ae[len(ae)-1]), math.Max(ae[0], ae[len(ae)-1])
	return lon0, lon1, math.Max(lat0, -90), math.Min(lat1, 90)
}

// aspect returns height/width of the map's data area: an equirectangular map scaled by the
// cosine of the middle latitude, so that shapes near the centre are about right.
func aspect(g dataset.Grid) float64 {
	lon0, lon1, lat0, lat1 := extent(g)
	return (lat1 - lat0) / ((lon1 - lon0) * math.Cos((lat0+lat1)/2*math.Pi/180))
}

// cells is the plotter of a field's filled cells.
type cells struct {
	f dataset.Field
	s Scale
}

func (c cells) DataRange() (xmin, xmax, ymin, ymax float64) { return extent(c.f.Grid) }

func (c cells) Plot(cv draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&cv)
	le, ae := edges(c.f.Grid.Lon), edges(c.f.Grid.Lat)
	nlon := len(c.f.Grid.Lon)
	for i := range c.f.Grid.Lat {
		y0, y1 := ty(clampLat(ae[i])), ty(clampLat(ae[i+1]))
		for j := range c.f.Grid.Lon {
			x0, x1 := tx(le[j]), tx(le[j+1])
			col := c.s.Color(float64(c.f.Values[i*nlon+j]))
			// Each cell reaches 1 pt into the next cell drawn (not the previous one), which
			// then covers it with its exact edge: anti-aliased renderers show no light seams
			// and vector output keeps every boundary where it is.
			xe, ye := x1, y1
			if j < nlon-1 {
				xe += sign(x1-x0) * overlap
			}
			if i < len(c.f.Grid.Lat)-1 {
				ye += sign(y1-y0) * overlap
			}
			pts := []vg.Point{{X: x0, Y: y0}, {X: xe, Y: y0}, {X: xe, Y: ye}, {X: x0, Y: ye}}
			cv.FillPolygon(col, cv.ClipPolygonXY(pts))
		}
	}
}

// overlap is how far a cell reaches under the next one drawn.
const overlap = vg.Length(1)

func sign(x vg.Length) vg.Length {
	if x < 0 {
		return -1
	}
	return 1
}

func clampLat(v float64) float64 { return math.Max(-90, math.Min(90, v)) }

// coast is the plotter of coastlines; rings are drawn at -360, 0 and +360 degrees so that they
// land on the grid whatever its longitude convention (-180..180 or 0..360), then clipped.
type coast struct {
	rings []resources.Ring
	style draw.LineStyle
}

func (c coast) Plot(cv draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&cv)
	for _, shift := range []float64{-360, 0, 360} {
		for _, r := range c.rings {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, q := range r {
				lo, hi = math.Min(lo, q[0]+shift), math.Max(hi, q[0]+shift)
			}
			if hi < p.X.Min || lo > p.X.Max {
				continue
			}
			pts := make([]vg.Point, 0, len(r)+1)
			for _, q := range r {
				pts = append(pts, vg.Point{X: tx(q[0] + shift), Y: ty(q[1])})
			}
			pts = append(pts, pts[0])
			cv.StrokeLines(c.style, cv.ClipLinesXY(pts)...)
		}
	}
}

// marker is the plotter of the target: a box outline or a cell outline with a cross.
type marker struct {
	m    Marker
	grid dataset.Grid
}

func (m marker) Plot(cv draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&cv)
	var w, e, s, n float64
	if m.m.Box {
		w, e, s, n = m.m.West, m.m.East, m.m.South, m.m.North
	} else {
		// Outline the grid cell nearest to the target so the marker shows the model's cell.
		dlon, dlat := step(m.grid.Lon), step(m.grid.Lat)
		lon, lat := nearest(m.grid.Lon, m.m.Lon), nearest(m.grid.Lat, m.m.Lat)
		w, e, s, n = lon-dlon/2, lon+dlon/2, lat-dlat/2, lat+dlat/2
	}
	// The outline runs just outside the cell (or box), so that the halo never hides the
	// target's own colour, usually the largest importance of the map.
	const out = 1.1 // half the halo's width
	x0, x1 := min(tx(w), tx(e))-out, max(tx(w), tx(e))+out
	y0, y1 := min(ty(s), ty(n))-out, max(ty(s), ty(n))+out
	pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}}
	// A white halo under a black line stays visible on both dark and light colours.
	cv.StrokeLines(draw.LineStyle{Color: LandGrey, Width: 2.2}, cv.ClipLinesXY(pts)...)
	cv.StrokeLines(draw.LineStyle{Color: rgb(0xffffff), Width: 1.6}, cv.ClipLinesXY(pts)...)
	cv.StrokeLines(draw.LineStyle{Color: rgb(0x000000), Width: 0.8}, cv.ClipLinesXY(pts)...)
}

func step(c []float64) float64 {
	if len(c) < 2 {
		return 1
	}
	return math.Abs(c[1] - c[0])
}

func nearest(c []float64, v float64) float64 {
	best := c[0]
	for _, x := range c {
		if math.Abs(x-v) < math.Abs(best-v) {
			best = x
		}
	}
	return best
}

// degTicks labels an axis in degrees: 30°N, 0°, 30°S or 60°W, 0°, 30°E, 180°.
type degTicks struct {
	lat    bool
	hidden bool    // ticks without labels (inner panels of a grid)
	most   float64 // at most about this many ticks; 0 means 4.5
}

func (d degTicks) Ticks(min, max float64) []plot.Tick {
	span := max - min
	st, most := 90.0, d.most
	if most == 0 {
		most = 4.5
	}
	for _, s := range []float64{2, 5, 10, 15, 20, 30, 45, 60, 90} {
		if span/s <= most {
			st = s
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/st) * st; v <= max+1e-9; v += st {
		lbl := ""
		if !d.hidden {
			lbl = degLabel(v, d.lat)
		}
		ts = append(ts, plot.Tick{Value: v, Label: lbl})
	}
	return ts
}

// degLabel formats a latitude or longitude (any convention) with its hemisphere letter.
func degLabel(v float64, lat bool) string {
	if !lat {
		v = math.Mod(v+540, 360) - 180 // -180..180
		if math.Abs(math.Abs(v)-180) < 1e-9 {
			return "180°"
		}
	}
	a := math.Abs(v)
	num := fmt.Sprintf("%g°", math.Round(a*100)/100)
	switch {
	case a < 1e-9:
		return "0°"
	case lat && v > 0:
		return num + "N"
	case lat:
		return num + "S"
	case v > 0:
		return num + "E"
	default:
		return num + "W"
	}
}

// plot builds the gonum plot of the panel; hideX/hideY leave tick labels off (grid interiors).
func (m MapPanel) plot(st Style, hideX, hideY bool, xTicks float64) *plot.Plot {
	p := st.newPlot()
	p.Title.Text = m.Title
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Tick.Marker = degTicks{lat: false, hidden: hideX, most: xTicks}
	p.Y.Tick.Marker = degTicks{lat: true, hidden: hideY}
	if m.Blocks > 0 {
		p.Add(blocks{f: m.Field, s: m.Scale, k: m.Blocks})
		if m.Coast != nil {
			p.Add(land{rings: m.Coast})
		}
	} else {
		p.Add(cells{f: m.Field, s: m.Scale})
	}
	if m.Contour != nil && len(m.Contour.Levels) > 0 && m.Contour.Field.Grid.Size() == m.Field.Grid.Size() {
		p.Add(contourPlotter(*m.Contour)...)
	}
	if m.Coast != nil {
		p.Add(coast{rings: m.Coast, style: draw.LineStyle{Color: rgb(0x202020), Width: 0.45}})
	}
	if m.Target != nil {
		p.Add(marker{m: *m.Target, grid: m.Field.Grid})
	}
	p.Add(frame{})
	lon0, lon1, lat0, lat1 := extent(m.Field.Grid)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lon0, lon1, lat0, lat1
	return p
}

// frame outlines the data area (gonum draws axes only on the left and bottom).
type frame struct{}

func (frame) Plot(cv draw.Canvas, _ *plot.Plot) {
	r := cv.Rectangle
	cv.StrokeLines(draw.LineStyle{Color: rgb(0), Width: 0.5}, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
}
