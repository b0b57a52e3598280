package ui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"climxai/dataset"
	"climxai/plots"
	"climxai/resources"
)

// MapField is what a MapCanvas draws: values [NLat*NLon] on a card's grid (NaN on land).
type MapField struct {
	Grid   dataset.GridSpec
	Values []float32
	// Limit is the largest magnitude on the colour scale (several maps share one scale by
	// sharing it); <= 0: the field's largest magnitude.
	Limit float64
	Title string
}

// Cell is a grid cell of the map: its indices on the card's grid and its centre.
type Cell struct {
	Row, Col int
	Lat, Lon float64
}

// Box is a latitude-longitude box in degrees (a region target, a map view): S < N, W < E in the
// grid's longitude convention.
type Box struct{ S, N, W, E float64 }

// MapCanvas is a widget that draws a field on its latitude-longitude grid as coloured cells on
// a world map (equirectangular, squeezed by the cosine of the middle latitude) with Natural
// Earth coastlines; outside the emulator's domain the world is drawn pale and the domain is
// outlined. The colour scale is diverging (ColorBrewer RdBu, symmetric about zero), sequential
// (viridis) or chosen from the data (auto), with a colour bar below. Hovering shows latitude,
// longitude and value; a tap calls OnTapped with the cell; a drag outlines a box and calls
// OnBox; scrolling zooms about the pointer; a drag with Shift (or the middle button) pans.
// Its methods must be called on the UI goroutine (from Fyne callbacks or fyne.Do).
type MapCanvas struct {
	widget.BaseWidget

	// OnTapped, if set, is called with the cell a tap landed on.
	OnTapped func(Cell)
	// OnBox, if set, is called with the box a drag outlined (at least one cell each way).
	OnBox func(Box)
	// OnStep, if set, is called with the arrow key typed while the map has the keyboard focus
	// (a tap gives it): north 1 / -1 for up / down, east 1 / -1 for right / left.
	OnStep func(north, east int)
	// NoHint leaves out the usage hint under the map when the pointer is elsewhere (small maps
	// side by side, where it would repeat under each one).
	NoHint bool
	// Hint, when not "", replaces the usage hint (an index emulator's map says what a click can
	// select).
	Hint string

	field       MapField
	has         bool
	scaleMode   string // "auto", "diverging" or "sequential"
	scale       plots.Scale
	marker      Cell
	hasMarker   bool
	box         *Box // a region target's outline, when not nil
	placeholder string
	hover       string
	view        Box  // the visible extent
	zoomed      bool // view was set by the user (else it follows the domain)

	img   *image.RGBA // the map as pixels, rebuilt when dirty or resized
	dirty bool

	// A drag in progress: the band from start to end (widget coordinates), or a pan.
	dragging, panning  bool
	dragStart, dragEnd fyne.Position
	downButton         desktop.MouseButton
	downMod            fyne.KeyModifier

	// Where the map image sits inside the widget, set by Layout, read by tap and hover.
	mapPos  fyne.Position
	mapSize fyne.Size
}

// NewMapCanvas returns an empty map canvas that shows placeholder until SetField.
func NewMapCanvas(placeholder string) *MapCanvas {
	m := &MapCanvas{placeholder: placeholder, scaleMode: "auto"}
	m.ExtendBaseWidget(m)
	return m
}

// SetField draws f (the canvas keeps f.Values; the caller must not modify them afterwards).
// A field on another grid than before resets the view to its domain.
func (m *MapCanvas) SetField(f MapField) {
	if !m.has || f.Grid != m.field.Grid {
		m.zoomed = false
	}
	m.field, m.has, m.dirty = f, true, true
	if !m.zoomed {
		m.view = domainOf(f.Grid)
	}
	m.scale = fieldScale(f, m.scaleMode)
	m.Refresh()
}

// SetScale sets the colour scale: "auto", "diverging" or "sequential".
func (m *MapCanvas) SetScale(mode string) {
	m.scaleMode = mode
	if m.has {
		m.scale = fieldScale(m.field, mode)
		m.dirty = true
		m.Refresh()
	}
}

// fieldScale is the colour scale of f: diverging ±limit, sequential from 0 (or -limit when
// the field has negative values) to limit, or auto: diverging when there are negative values.
func fieldScale(f MapField, mode string) plots.Scale {
	limit := f.Limit
	if limit <= 0 {
		limit = maxAbs(f.Values)
	}
	if limit <= 0 {
		limit = 1
	}
	neg := false
	for _, v := range f.Values {
		if v < 0 {
			neg = true
			break
		}
	}
	if mode == "diverging" || (mode != "sequential" && neg) {
		return plots.Scale{Map: plots.RdBu(), Min: -limit, Max: limit}
	}
	lo := 0.0
	if neg {
		lo = -limit
	}
	return plots.Scale{Map: plots.Viridis(), Min: lo, Max: limit}
}

// Scale is the colour scale in use.
func (m *MapCanvas) Scale() plots.Scale { return m.scale }

// SetPlaceholder clears the field and shows text instead.
func (m *MapCanvas) SetPlaceholder(text string) {
	m.has, m.placeholder, m.img, m.hasMarker, m.box = false, text, nil, false, nil
	m.Refresh()
}

// SetMarker outlines cell c (the selected target), found by its row and column.
func (m *MapCanvas) SetMarker(c Cell) {
	m.marker, m.hasMarker, m.box, m.dirty = c, true, nil, true
	m.Refresh()
}

// SetMarkerBox outlines box b (a region target) instead of a cell.
func (m *MapCanvas) SetMarkerBox(b Box) {
	m.box, m.hasMarker, m.dirty = &b, false, true
	m.Refresh()
}

// Field returns the field drawn and whether there is one.
func (m *MapCanvas) Field() (MapField, bool) { return m.field, m.has }

// HoverText is the read-out of the cell under the pointer ("" when it is off the map).
func (m *MapCanvas) HoverText() string { return m.hover }

// View is the visible extent.
func (m *MapCanvas) View() Box { return m.view }

// Zoom returns the visible extent and true when the user has zoomed or panned away from the
// emulator's domain.
func (m *MapCanvas) Zoom() (Box, bool) { return m.view, m.has && m.zoomed }

// SetZoom shows extent b (clamped to the world, the map's aspect follows it).
func (m *MapCanvas) SetZoom(b Box) {
	if !m.has {
		return
	}
	m.view, m.zoomed, m.dirty = clampView(b, m.field.Grid), true, true
	m.Refresh()
}

// ZoomToDomain shows the emulator's domain.
func (m *MapCanvas) ZoomToDomain() {
	if !m.has {
		return
	}
	m.view, m.zoomed, m.dirty = domainOf(m.field.Grid), false, true
	m.Refresh()
}

// ZoomToWorld shows the whole world with the domain outlined on it.
func (m *MapCanvas) ZoomToWorld() {
	w0, w1 := worldLons(m.field.Grid)
	m.SetZoom(Box{S: -90, N: 90, W: w0, E: w1})
}

// ZoomBy scales the view's size by factor (< 1 zooms in) about its centre.
func (m *MapCanvas) ZoomBy(factor float64) {
	v := m.view
	m.zoomAbout(factor, (v.W+v.E)/2, (v.S+v.N)/2)
}

// zoomAbout scales the view by factor keeping the point (lon, lat) where it is on screen.
func (m *MapCanvas) zoomAbout(factor, lon, lat float64) {
	v := m.view
	m.SetZoom(Box{S: lat - (lat-v.S)*factor, N: lat + (v.N-lat)*factor, W: lon - (lon-v.W)*factor, E: lon + (v.E-lon)*factor})
}

// Pan moves the view by fractions of its width (east positive) and height (north positive).
func (m *MapCanvas) Pan(fx, fy float64) {
	v := m.view
	dx, dy := fx*(v.E-v.W), fy*(v.N-v.S)
	m.SetZoom(Box{S: v.S + dy, N: v.N + dy, W: v.W + dx, E: v.E + dx})
}

// domainOf is the grid's extent in degrees, to the cells' edges.
func domainOf(g dataset.GridSpec) Box {
	lat0 := g.LatStart - g.LatStep/2
	lat1 := g.LatStart + g.LatStep*(float64(g.NLat)-0.5)
	lon0 := g.LonStart - g.LonStep/2
	return Box{S: math.Min(lat0, lat1), N: math.Max(lat0, lat1), W: lon0, E: lon0 + g.LonStep*float64(g.NLon)}
}

// worldLons is the world's longitude range in the grid's convention.
func worldLons(g dataset.GridSpec) (float64, float64) {
	d := domainOf(g)
	if d.E > 180 {
		return 0, 360
	}
	return -180, 180
}

// minViewDeg is the smallest view: a few cells of the grid.
func minViewDeg(g dataset.GridSpec) float64 {
	return 3 * math.Max(math.Abs(g.LatStep), math.Abs(g.LonStep))
}

// clampView keeps b inside the world and between a few cells and the whole world in size.
func clampView(b Box, g dataset.GridSpec) Box {
	w0, w1 := worldLons(g)
	lo := minViewDeg(g)
	fix := func(a, z, min0, max0, minSize float64) (float64, float64) {
		if !(z-a >= minSize) { // also NaN
			c := (a + z) / 2
			if math.IsNaN(c) {
				c = (min0 + max0) / 2
			}
			a, z = c-minSize/2, c+minSize/2
		}
		if z-a > max0-min0 {
			return min0, max0
		}
		if a < min0 {
			a, z = min0, z+(min0-a)
		}
		if z > max0 {
			a, z = a-(z-max0), max0
		}
		return a, z
	}
	b.S, b.N = fix(b.S, b.N, -90, 90, lo)
	b.W, b.E = fix(b.W, b.E, w0, w1, lo)
	return b
}

// aspectOf is the map's width over its height for view v.
func aspectOf(v Box) float32 {
	mid := (v.S + v.N) / 2
	return float32((v.E - v.W) * math.Max(0.2, math.Cos(mid*math.Pi/180)) / (v.N - v.S))
}

// lonLatAt converts widget coordinates to longitude and latitude, false off the map.
func (m *MapCanvas) lonLatAt(pos fyne.Position) (lon, lat float64, ok bool) {
	if !m.has || m.mapSize.Width <= 0 || m.mapSize.Height <= 0 {
		return 0, 0, false
	}
	fx := float64((pos.X - m.mapPos.X) / m.mapSize.Width)
	fy := float64((pos.Y - m.mapPos.Y) / m.mapSize.Height)
	v := m.view
	return v.W + fx*(v.E-v.W), v.N - fy*(v.N-v.S), fx >= 0 && fx < 1 && fy >= 0 && fy < 1
}

// positionOf converts longitude and latitude to widget coordinates.
func (m *MapCanvas) positionOf(lon, lat float64) fyne.Position {
	v := m.view
	return fyne.NewPos(m.mapPos.X+float32((lon-v.W)/(v.E-v.W))*m.mapSize.Width,
		m.mapPos.Y+float32((v.N-lat)/(v.N-v.S))*m.mapSize.Height)
}

// cellOf returns the grid cell containing (lon, lat), false outside the grid.
func cellOf(g dataset.GridSpec, lon, lat float64) (Cell, bool) {
	col := int(math.Floor((lon - (g.LonStart - g.LonStep/2)) / g.LonStep))
	row := int(math.Floor((lat - (g.LatStart - g.LatStep/2)) / g.LatStep))
	if row < 0 || row >= g.NLat || col < 0 || col >= g.NLon {
		return Cell{}, false
	}
	return gridCell(g, row, col), true
}

// CellAt returns the cell at pos (widget coordinates), and false off the grid.
func (m *MapCanvas) CellAt(pos fyne.Position) (Cell, bool) {
	lon, lat, ok := m.lonLatAt(pos)
	if !ok {
		return Cell{}, false
	}
	return cellOf(m.field.Grid, lon, lat)
}

// CellPosition is the centre of cell (row, col) in widget coordinates.
func (m *MapCanvas) CellPosition(row, col int) fyne.Position {
	c := gridCell(m.field.Grid, row, col)
	return m.positionOf(c.Lon, c.Lat)
}

func gridCell(g dataset.GridSpec, row, col int) Cell {
	return Cell{Row: row, Col: col, Lat: g.LatStart + g.LatStep*float64(row), Lon: g.LonStart + g.LonStep*float64(col)}
}

// Tapped selects the cell under the pointer.
func (m *MapCanvas) Tapped(ev *fyne.PointEvent) {
	if m.OnStep != nil {
		if c := fyne.CurrentApp().Driver().CanvasForObject(m); c != nil {
			c.Focus(m) // the arrow keys then step the target
		}
	}
	if c, ok := m.CellAt(ev.Position); ok && m.OnTapped != nil {
		m.OnTapped(c)
	}
}

// FocusGained is part of fyne.Focusable.
func (m *MapCanvas) FocusGained() {}

// FocusLost is part of fyne.Focusable.
func (m *MapCanvas) FocusLost() {}

// TypedRune is part of fyne.Focusable.
func (m *MapCanvas) TypedRune(rune) {}

// TypedKey steps the target with the arrow keys (OnStep).
func (m *MapCanvas) TypedKey(ev *fyne.KeyEvent) {
	if m.OnStep == nil {
		return
	}
	switch ev.Name {
	case fyne.KeyUp:
		m.OnStep(1, 0)
	case fyne.KeyDown:
		m.OnStep(-1, 0)
	case fyne.KeyRight:
		m.OnStep(0, 1)
	case fyne.KeyLeft:
		m.OnStep(0, -1)
	}
}

// Scrolled zooms about the pointer: 1.25 times per notch of the wheel (Fyne reports 25 units).
func (m *MapCanvas) Scrolled(ev *fyne.ScrollEvent) {
	lon, lat, ok := m.lonLatAt(ev.Position)
	if !ok || ev.Scrolled.DY == 0 {
		return
	}
	f := math.Pow(1.25, -float64(ev.Scrolled.DY)/25)
	m.zoomAbout(math.Max(0.25, math.Min(4, f)), lon, lat)
}

// MouseDown records the button and modifiers of a drag that may follow (desktop.Mouseable).
func (m *MapCanvas) MouseDown(ev *desktop.MouseEvent) {
	m.downButton, m.downMod = ev.Button, ev.Modifier
}

// MouseUp is part of desktop.Mouseable.
func (m *MapCanvas) MouseUp(*desktop.MouseEvent) {}

// Dragged pans (Shift or the middle button held) or outlines a box.
func (m *MapCanvas) Dragged(ev *fyne.DragEvent) {
	if !m.has {
		return
	}
	if !m.dragging {
		m.dragging = true
		m.dragStart = ev.Position.Subtract(ev.Dragged)
		m.panning = m.downButton == desktop.MouseButtonTertiary || m.downMod&fyne.KeyModifierShift != 0
		if d, ok := fyne.CurrentApp().Driver().(desktop.Driver); ok && d.CurrentKeyModifiers()&fyne.KeyModifierShift != 0 {
			m.panning = true
		}
	}
	if m.panning {
		if m.mapSize.Width > 0 && m.mapSize.Height > 0 {
			m.Pan(-float64(ev.Dragged.DX/m.mapSize.Width), float64(ev.Dragged.DY/m.mapSize.Height))
		}
		return
	}
	m.dragEnd = ev.Position
	m.Refresh()
}

// DragEnd finishes a pan, or reports the box outlined when it spans at least a cell each way.
func (m *MapCanvas) DragEnd() {
	if !m.dragging {
		return
	}
	m.dragging = false
	if m.panning {
		return
	}
	m.Refresh()
	lon0, lat0, _ := m.lonLatAt(m.dragStart)
	lon1, lat1, _ := m.lonLatAt(m.dragEnd)
	b := Box{S: math.Min(lat0, lat1), N: math.Max(lat0, lat1), W: math.Min(lon0, lon1), E: math.Max(lon0, lon1)}
	d := domainOf(m.field.Grid)
	b.S, b.N = math.Max(b.S, d.S), math.Min(b.N, d.N)
	b.W, b.E = math.Max(b.W, d.W), math.Min(b.E, d.E)
	g := m.field.Grid
	if b.N-b.S >= math.Abs(g.LatStep) && b.E-b.W >= g.LonStep && m.OnBox != nil {
		m.OnBox(snapBox(b, g))
	}
}

// snapBox widens or narrows b to the edges of the grid cells whose centres it holds, so that
// the box drawn is the cells the target averages and its corners are round numbers (a drag
// gave "box 42.56,52.71,-53.64,-31.87"). b spans at least one cell each way, so it holds a
// centre each way.
func snapBox(b Box, g dataset.GridSpec) Box {
	cells := func(lo, hi, start, step float64, n int) (float64, float64) {
		u0, u1 := (lo-start)/step, (hi-start)/step
		i0 := int(math.Ceil(math.Min(u0, u1) - 1e-9))
		i1 := int(math.Floor(math.Max(u0, u1) + 1e-9))
		i0, i1 = max(i0, 0), min(i1, n-1)
		if i0 > i1 { // narrower than a cell: the nearest one
			i0 = min(max(int(math.Round((u0+u1)/2)), 0), n-1)
			i1 = i0
		}
		c0, c1 := start+step*float64(i0), start+step*float64(i1)
		h := math.Abs(step) / 2
		return math.Min(c0, c1) - h, math.Max(c0, c1) + h
	}
	s, n := cells(b.S, b.N, g.LatStart, g.LatStep, g.NLat)
	w, e := cells(b.W, b.E, g.LonStart, g.LonStep, g.NLon)
	return Box{S: s, N: n, W: w, E: e}
}

// MouseIn is part of desktop.Hoverable.
func (m *MapCanvas) MouseIn(ev *desktop.MouseEvent) { m.MouseMoved(ev) }

// MouseMoved updates the hover read-out.
func (m *MapCanvas) MouseMoved(ev *desktop.MouseEvent) {
	text := ""
	if lon, lat, ok := m.lonLatAt(ev.Position); ok {
		if c, in := cellOf(m.field.Grid, lon, lat); in {
			v := m.field.Values[c.Row*m.field.Grid.NLon+c.Col]
			val := "land"
			if !math.IsNaN(float64(v)) {
				val = fmt.Sprintf("%.4g", v)
			}
			text = fmt.Sprintf("%s %s   %s", dataset.LatLabel(c.Lat), dataset.LonLabel(c.Lon), val)
		} else {
			text = fmt.Sprintf("%s %s   outside the emulator's domain", dataset.LatLabel(lat), dataset.LonLabel(lon))
		}
	}
	if text != m.hover {
		m.hover = text
		m.Refresh()
	}
}

// MouseOut clears the hover read-out.
func (m *MapCanvas) MouseOut() {
	if m.hover != "" {
		m.hover = ""
		m.Refresh()
	}
}

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		if a := math.Abs(float64(x)); a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	return m
}

// Image is the map's current picture (nil when there is no field). Before the widget has been
// laid out it is drawn 800 pixels wide.
func (m *MapCanvas) Image() image.Image {
	if !m.has {
		return nil
	}
	if m.dirty || m.img == nil {
		m.rebuild(m.pixelSize())
	}
	return m.img
}

// pixelSize is the size of the map image in device pixels (at most 2400 wide).
func (m *MapCanvas) pixelSize() (int, int) {
	w, h := m.mapSize.Width, m.mapSize.Height
	if w <= 1 || h <= 1 {
		w = 800
		h = w / aspectOf(m.view)
	}
	s := float32(1)
	if c := fyne.CurrentApp().Driver().CanvasForObject(m); c != nil && c.Scale() > 0 {
		s = c.Scale()
	}
	pw, ph := int(w*s+0.5), int(h*s+0.5)
	if pw > 2400 {
		ph, pw = ph*2400/pw, 2400
	}
	return max(1, pw), max(1, ph)
}

func (m *MapCanvas) rebuild(w, h int) {
	p := mapPicture{Field: m.field, Scale: m.scale, View: m.view, Box: m.box}
	if m.hasMarker {
		c := gridCell(m.field.Grid, m.marker.Row, m.marker.Col) // the centre from the indices
		p.Marker = &c
	}
	m.img, m.dirty = renderMap(p, w, h), false
}

// CreateRenderer is part of fyne.Widget.
func (m *MapCanvas) CreateRenderer() fyne.WidgetRenderer {
	fg := theme.Color(theme.ColorNameForeground)
	r := &mapRenderer{m: m,
		img:         canvas.NewImageFromImage(nil),
		bar:         canvas.NewImageFromImage(nil),
		title:       canvas.NewText("", fg),
		lo:          canvas.NewText("", fg),
		mid:         canvas.NewText("", fg),
		hi:          canvas.NewText("", fg),
		hover:       canvas.NewText("", fg),
		band:        canvas.NewRectangle(color.Transparent),
		placeholder: widget.NewLabel(""),
	}
	r.img.FillMode = canvas.ImageFillStretch
	r.img.ScaleMode = canvas.ImageScaleFastest
	r.bar.FillMode = canvas.ImageFillStretch
	r.title.TextStyle.Bold = true
	r.band.StrokeColor = markerColor
	r.band.StrokeWidth = 2
	r.placeholder.Wrapping = fyne.TextWrapWord
	r.placeholder.Alignment = fyne.TextAlignCenter
	size := theme.CaptionTextSize()
	for _, t := range []*canvas.Text{r.lo, r.mid, r.hi, r.hover} {
		t.TextSize = size
	}
	r.objects = []fyne.CanvasObject{r.img, r.band, r.bar, r.title, r.lo, r.mid, r.hi, r.hover, r.placeholder}
	r.Refresh()
	return r
}

type mapRenderer struct {
	m                         *MapCanvas
	img, bar                  *canvas.Image
	title, lo, mid, hi, hover *canvas.Text
	band                      *canvas.Rectangle
	placeholder               *widget.Label
	objects                   []fyne.CanvasObject
	barScale                  plots.ColorMap
	barHas                    bool
}

const (
	barHeight = 12
	pad       = 4
)

func (r *mapRenderer) Layout(size fyne.Size) {
	th := r.title.MinSize().Height
	lh := r.lo.MinSize().Height
	if r.m.has { // a title wider than the map ends in "…" rather than being cut off unmarked
		st, ts := r.title.TextStyle, r.title.TextSize
		if lines := wrapText(r.m.field.Title, 1, func(s string) float32 { return fyne.MeasureText(s, ts, st).Width }, size.Width); len(lines) == 1 && lines[0] != r.title.Text {
			r.title.Text = lines[0]
			r.title.Refresh()
		}
	}
	r.title.Move(fyne.NewPos(0, 0))
	r.title.Resize(fyne.NewSize(size.Width, th))
	r.hover.Move(fyne.NewPos(0, size.Height-lh))
	r.hover.Resize(fyne.NewSize(size.Width, lh))
	barY := size.Height - lh - pad - lh - barHeight
	top, bottom := th+pad, barY-pad
	avail := fyne.NewSize(size.Width, max(0, bottom-top))
	mw, mh := avail.Width, avail.Height
	m := r.m
	if m.has && mh > 0 {
		a := aspectOf(m.view)
		if mw/mh > a {
			mw = mh * a
		} else {
			mh = mw / a
		}
	}
	m.mapPos = fyne.NewPos((size.Width-mw)/2, top+(avail.Height-mh)/2)
	m.mapSize = fyne.NewSize(mw, mh)
	if m.has {
		if pw, ph := m.pixelSize(); m.dirty || m.img == nil || m.img.Rect.Dx() != pw || m.img.Rect.Dy() != ph {
			m.rebuild(pw, ph)
			r.img.Image = m.img
			r.img.Refresh()
		}
	}
	r.img.Move(m.mapPos)
	r.img.Resize(m.mapSize)
	r.placeholder.Move(fyne.NewPos(0, top))
	r.placeholder.Resize(avail)
	if m.dragging && !m.panning {
		x0, x1 := min(m.dragStart.X, m.dragEnd.X), max(m.dragStart.X, m.dragEnd.X)
		y0, y1 := min(m.dragStart.Y, m.dragEnd.Y), max(m.dragStart.Y, m.dragEnd.Y)
		r.band.Move(fyne.NewPos(x0, y0))
		r.band.Resize(fyne.NewSize(x1-x0, y1-y0))
	}

	bw := min(mw, 400)
	bx := (size.Width - bw) / 2
	r.bar.Move(fyne.NewPos(bx, barY))
	r.bar.Resize(fyne.NewSize(bw, barHeight))
	ly := barY + barHeight + 1
	lo, mid, hi := r.lo.MinSize(), r.mid.MinSize(), r.hi.MinSize()
	r.lo.Move(fyne.NewPos(bx, ly))
	r.lo.Resize(lo)
	r.mid.Move(fyne.NewPos(bx+(bw-mid.Width)/2, ly))
	r.mid.Resize(mid)
	r.hi.Move(fyne.NewPos(bx+bw-hi.Width, ly))
	r.hi.Resize(hi)
}

func (r *mapRenderer) MinSize() fyne.Size { return fyne.NewSize(320, 240) }

func (r *mapRenderer) Refresh() {
	m := r.m
	fg := theme.Color(theme.ColorNameForeground)
	for _, t := range []*canvas.Text{r.title, r.lo, r.mid, r.hi, r.hover} {
		t.Color = fg
	}
	if m.has {
		r.title.Text = m.field.Title
		s := m.scale
		r.lo.Text, r.hi.Text = fmt.Sprintf("%.3g", s.Min), fmt.Sprintf("%.3g", s.Max)
		r.mid.Text = fmt.Sprintf("%.3g", (s.Min+s.Max)/2)
		if !r.barHas || r.barScale.Name != s.Map.Name {
			r.bar.Image, r.barScale, r.barHas = colorBarImage(s.Map), s.Map, true
		}
		r.hover.Text = m.hover
		if r.hover.Text == "" && !m.NoHint {
			r.hover.Text = m.Hint
			if r.hover.Text == "" {
				r.hover.Text = "click a cell to explain its forecast · drag: a box · scroll: zoom · Shift-drag: pan"
			}
		}
		r.img.Show()
		r.bar.Show()
		r.mid.Show()
		r.placeholder.Hide()
	} else {
		r.img.Image = nil
		r.title.Text, r.lo.Text, r.hi.Text, r.hover.Text = "", "", "", ""
		r.img.Hide()
		r.bar.Hide()
		r.mid.Hide()
		r.placeholder.SetText(m.placeholder)
		r.placeholder.Show()
	}
	if m.dragging && !m.panning {
		r.band.Show()
	} else {
		r.band.Hide()
	}
	r.Layout(m.Size())
	if m.has {
		if m.dirty || m.img == nil {
			m.rebuild(m.pixelSize())
		}
		r.img.Image = m.img
	}
	for _, o := range r.objects {
		o.Refresh()
	}
}

func (r *mapRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *mapRenderer) Destroy()                     {}

var (
	coastOnce  sync.Once
	coastRings []resources.Ring
)

// coastlines are Natural Earth's land rings, decoded once per process (nil if the resource is
// broken: the map is still useful without them).
func coastlines() []resources.Ring {
	coastOnce.Do(func() {
		coastRings, _ = resources.LandRings()
	})
	return coastRings
}

var (
	coastColor   = color.RGBA{40, 40, 40, 255}
	markerColor  = color.RGBA{0, 0, 0, 255}
	markerInner  = color.RGBA{255, 230, 0, 255}
	outsideColor = color.RGBA{236, 240, 244, 255} // the world beyond the emulator's domain
	domainColor  = color.RGBA{33, 102, 172, 255}  // the domain's outline (RdBu's dark blue)
)

// mapPicture is everything renderMap draws.
type mapPicture struct {
	Field  MapField
	Scale  plots.Scale
	View   Box
	Marker *Cell // the target cell's outline, if any
	Box    *Box  // a region target's outline, if any
}

// renderMap draws p as a w x h image: the view's extent mapped linearly to the pixels, the
// field's cells in the scale's colours (land grey), the world outside the domain pale with the
// domain outlined, Natural Earth coastlines, and the target's outline.
func renderMap(p mapPicture, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	g, v := p.Field.Grid, p.View
	colors := make([]color.RGBA, len(p.Field.Values))
	for i, x := range p.Field.Values {
		colors[i] = p.Scale.Color(float64(x))
	}
	// The cell under every pixel column and row, -1 outside the grid.
	cols := make([]int, w)
	for x := range cols {
		lon := v.W + (float64(x)+0.5)/float64(w)*(v.E-v.W)
		cols[x] = int(math.Floor((lon - (g.LonStart - g.LonStep/2)) / g.LonStep))
		if cols[x] < 0 || cols[x] >= g.NLon {
			cols[x] = -1
		}
	}
	for y := range h {
		lat := v.N - (float64(y)+0.5)/float64(h)*(v.N-v.S)
		row := int(math.Floor((lat - (g.LatStart - g.LatStep/2)) / g.LatStep))
		off := y * img.Stride
		for x, col := range cols {
			c := outsideColor
			if col >= 0 && row >= 0 && row < g.NLat {
				c = colors[row*g.NLon+col]
			}
			img.Pix[off+4*x], img.Pix[off+4*x+1], img.Pix[off+4*x+2], img.Pix[off+4*x+3] = c.R, c.G, c.B, 255
		}
	}
	px := func(lon, lat float64) (float64, float64) {
		return (lon - v.W) / (v.E - v.W) * float64(w), (v.N - lat) / (v.N - v.S) * float64(h)
	}
	shift := v.E > 180 // a 0..360 map: western longitudes + 360
	for _, ring := range coastlines() {
		for i := range ring {
			a, b := ring[i], ring[(i+1)%len(ring)]
			if shift {
				if a[0] < 0 {
					a[0] += 360
				}
				if b[0] < 0 {
					b[0] += 360
				}
			}
			x0, y0 := px(a[0], a[1])
			x1, y1 := px(b[0], b[1])
			line(img, x0, y0, x1, y1, coastColor)
		}
	}
	d := domainOf(g)
	if d.W > v.W || d.E < v.E || d.S > v.S || d.N < v.N {
		boxOutline(img, px, d, domainColor, domainColor)
	}
	if c := p.Marker; c != nil {
		boxOutline(img, px, Box{S: c.Lat - math.Abs(g.LatStep)/2, N: c.Lat + math.Abs(g.LatStep)/2,
			W: c.Lon - g.LonStep/2, E: c.Lon + g.LonStep/2}, markerColor, markerInner)
	}
	if b := p.Box; b != nil {
		bb := *b
		if bb.E < bb.W { // a box across the grid's seam is drawn to the domain's edges
			bb.W, bb.E = d.W, d.E
		}
		if shift && bb.W < 0 {
			bb.W, bb.E = bb.W+360, bb.E+360
		}
		boxOutline(img, px, bb, markerColor, markerInner)
	}
	return img
}

// boxOutline draws b as a three-pixel outline: outer and innermost lines in edge, the middle
// one in inner.
func boxOutline(img *image.RGBA, px func(lon, lat float64) (float64, float64), b Box, edge, inner color.RGBA) {
	x0, y0 := px(b.W, b.N)
	x1, y1 := px(b.E, b.S)
	ix0, iy0, ix1, iy1 := int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x1))-1, int(math.Round(y1))-1
	outline(img, ix0-1, iy0-1, ix1+1, iy1+1, edge)
	outline(img, ix0, iy0, ix1, iy1, inner)
	outline(img, ix0+1, iy0+1, ix1-1, iy1-1, edge)
}

// line draws a 1-pixel line, skipping segments wholly off the image or across the date line.
func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	W, H := float64(img.Rect.Dx()), float64(img.Rect.Dy())
	if math.Abs(x1-x0) > W/2 || (x0 < 0 && x1 < 0) || (x0 >= W && x1 >= W) || (y0 < 0 && y1 < 0) || (y0 >= H && y1 >= H) {
		return
	}
	n := int(math.Ceil(math.Max(math.Abs(x1-x0), math.Abs(y1-y0)))) + 1
	for s := 0; s <= n; s++ {
		t := float64(s) / float64(n)
		setPix(img, int(x0+t*(x1-x0)), int(y0+t*(y1-y0)), c)
	}
}

func outline(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		setPix(img, x, y0, c)
		setPix(img, x, y1, c)
	}
	for y := y0; y <= y1; y++ {
		setPix(img, x0, y, c)
		setPix(img, x1, y, c)
	}
}

func setPix(img *image.RGBA, x, y int, c color.RGBA) {
	if image.Pt(x, y).In(img.Rect) {
		img.SetRGBA(x, y, c)
	}
}

// colorBarImage is colour map cm from its first colour (left) to its last (right).
func colorBarImage(cm plots.ColorMap) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 256, 1))
	for x := range 256 {
		img.SetRGBA(x, 0, cm.At(float64(x)/255))
	}
	return img
}
