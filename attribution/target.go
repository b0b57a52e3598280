package attribution

import (
	"fmt"
	"math"
	"strings"

	"climxai/dataset"
)

// TargetKind says how a Target was given.
type TargetKind uint8

// Kinds of target.
const (
	TargetCell  TargetKind = iota + 1 // one grid cell: LAT,LON
	TargetBox                         // box:S,N,W,E, the area-weighted mean of its ocean cells
	TargetNamed                       // a named box of NamedBoxes
	TargetMask                        // any weight mask over the output (NewMaskTarget)
)

// Box is a latitude-longitude box in degrees (dataset.Box).
type Box = dataset.Box

// NamedBox is an entry of the built-in table of regions (dataset.NamedBox).
type NamedBox = dataset.NamedBox

// NamedBoxes returns the built-in regions a target may name (dataset.NamedBoxes).
func NamedBoxes() []NamedBox { return dataset.NamedBoxes() }

// Target is what an explanation explains: a weight mask over the model's output [NLat][NLon]
// whose weighted sum is the explained scalar f(x) = Σ w·y. Gradient methods seed the backward
// graph with Weights; LRP seeds it with Weights ⊙ y (the contract's initial relevance).
type Target struct {
	Spec    string // as given, e.g. "55,-35", "box:50,60,-40,-20", "spg"
	Kind    TargetKind
	Name    string  // named box, when Kind is TargetNamed
	Box     Box     // the box, for TargetBox and TargetNamed
	Row     int     // the cell's latitude index (a box's: the cell nearest its weighted centre)
	Col     int     // the cell's longitude index (likewise)
	Lat     float64 // the cell's centre, or the weighted centre of a box
	Lon     float64
	Cells   int       // ocean cells with a non-zero weight
	Weights []float32 // [NLat*NLon], summing to 1 for cells and boxes
}

// Seed returns a copy of the weights, the [1, NLat, NLon] seed of one sample.
func (t Target) Seed() []float32 { return append([]float32(nil), t.Weights...) }

// String describes the target for summaries.
func (t Target) String() string {
	switch t.Kind {
	case TargetCell:
		return fmt.Sprintf("cell %s %s (row %d, col %d)", dataset.LatLabel(t.Lat), dataset.LonLabel(t.Lon), t.Row, t.Col)
	case TargetBox, TargetNamed:
		name := "box " + t.Box.String()
		if t.Name != "" {
			name = t.Name + " (" + t.Box.String() + ")"
		}
		return fmt.Sprintf("%s: area-weighted mean of %d ocean cells", name, t.Cells)
	}
	return fmt.Sprintf("mask %s over %d cells", t.Spec, t.Cells)
}

// Within reports whether all of t's weight lies on cells marked in region ([NLat*NLon]); a nil
// region holds every cell.
func (t Target) Within(region []bool) bool {
	if region == nil {
		return true
	}
	for k, w := range t.Weights {
		if w != 0 && !region[k] {
			return false
		}
	}
	return true
}

// NewMaskTarget makes a target from any weight mask over the output ([NLat*NLon]); the weights
// are copied, not normalised.
func NewMaskTarget(name string, weights []float32) Target {
	t := Target{Spec: name, Kind: TargetMask, Weights: append([]float32(nil), weights...)}
	for _, w := range weights {
		if w != 0 {
			t.Cells++
		}
	}
	return t
}

const targetHint = "give LAT,LON (e.g. 55,-35), box:S,N,W,E (e.g. box:50,60,-40,-20) or a named box: nino34, spg, gulfstream, mdr, amo"

// ParseTarget parses a target on the card's grid: "LAT,LON" picks the grid cell containing the
// point (an error names the nearest ocean cell when that cell is land), "box:S,N,W,E" and the
// named boxes weight the ocean cells whose centres lie in the box by cos(latitude) (area) and
// normalise the weights to sum 1. ocean is the data's ocean mask on the grid (nil: all ocean).
func ParseTarget(s string, grid dataset.GridSpec, ocean []bool) (Target, error) {
	s = strings.TrimSpace(s)
	n := grid.NLat * grid.NLon
	if ocean != nil && len(ocean) != n {
		return Target{}, errorf(ErrBadRequest, "", "ocean mask has %d cells, the grid %d", len(ocean), n)
	}
	isOcean := func(k int) bool { return ocean == nil || ocean[k] }
	if r, ok, err := dataset.ParseRegion(s); err != nil {
		return Target{}, errorf(ErrBadTarget, targetHint, "%q: %v", s, err)
	} else if ok {
		t := Target{Spec: s, Kind: TargetBox, Box: r.Box}
		if r.Name != "" {
			t.Kind, t.Name = TargetNamed, r.Name
		}
		return boxTarget(t, grid, isOcean)
	}
	if !strings.Contains(s, ",") {
		return Target{}, errorf(ErrBadTarget, targetHint, "%q is neither a cell, a box nor a named box", s)
	}
	v, err := dataset.ParseFloats(s, 2)
	if err != nil {
		return Target{}, errorf(ErrBadTarget, targetHint, "%q: %v", s, err)
	}
	lat, lon := v[0], v[1]
	if lat < -90 || lat > 90 {
		return Target{}, errorf(ErrBadTarget, "latitude comes first: LAT,LON", "%q: latitude %g beyond ±90", s, lat)
	}
	lon = nearLon(lon, grid)
	i := int(math.Round((lat - grid.LatStart) / grid.LatStep))
	j := int(math.Round((lon - grid.LonStart) / grid.LonStep))
	g := grid.Grid()
	if i < 0 || i >= grid.NLat || j < 0 || j >= grid.NLon {
		return Target{}, errorf(ErrTargetOutside,
			fmt.Sprintf("the grid covers latitudes %s and longitudes %s", span(g.Lat), span(g.Lon)),
			"%q (%s %s)", s, dataset.LatLabel(lat), dataset.LonLabel(lon))
	}
	k := i*grid.NLon + j
	if !isOcean(k) {
		hint := "the data have no ocean cell on this grid"
		if ni, nj, ok := nearestOcean(i, j, grid, isOcean); ok {
			hint = fmt.Sprintf("the nearest ocean cell is %g,%g", g.Lat[ni], g.Lon[nj])
		}
		return Target{}, errorf(ErrTargetLand, hint, "%q: the cell at %s %s is land or missing in the data", s, dataset.LatLabel(g.Lat[i]), dataset.LonLabel(g.Lon[j]))
	}
	w := make([]float32, n)
	w[k] = 1
	return Target{Spec: s, Kind: TargetCell, Row: i, Col: j, Lat: g.Lat[i], Lon: g.Lon[j], Cells: 1, Weights: w}, nil
}

// boxTarget fills t's weights from its box.
func boxTarget(t Target, grid dataset.GridSpec, isOcean func(int) bool) (Target, error) {
	g := grid.Grid()
	w := make([]float64, grid.NLat*grid.NLon)
	var total, clat, clon float64
	for i, lat := range g.Lat {
		a := math.Cos(lat * math.Pi / 180)
		for j, lon := range g.Lon {
			k := i*grid.NLon + j
			if !isOcean(k) || !t.Box.Contains(lat, lon) {
				continue
			}
			w[k] = a
			total += a
			clat += a * lat
			clon += a * lon
			t.Cells++
		}
	}
	if t.Cells == 0 || total == 0 {
		return Target{}, errorf(ErrTargetOutside,
			fmt.Sprintf("the grid covers latitudes %s and longitudes %s; pick a box over its ocean", span(g.Lat), span(g.Lon)),
			"%q: box %s holds no ocean cell of the model grid", t.Spec, t.Box)
	}
	t.Weights = make([]float32, len(w))
	for k, v := range w {
		t.Weights[k] = float32(v / total)
	}
	t.Lat, t.Lon = clat/total, clon/total
	t.Row = min(max(0, int(math.Round((t.Lat-grid.LatStart)/grid.LatStep))), grid.NLat-1)
	t.Col = min(max(0, int(math.Round((t.Lon-grid.LonStart)/grid.LonStep))), grid.NLon-1)
	return t, nil
}

// nearLon shifts lon by whole turns to lie nearest the grid's middle longitude, so that -35,
// 325 and 685 name the same cell on any longitude convention.
func nearLon(lon float64, grid dataset.GridSpec) float64 {
	mid := grid.LonStart + float64(grid.NLon-1)*grid.LonStep/2
	return lon - 360*math.Round((lon-mid)/360)
}

// nearestOcean finds the ocean cell nearest (i, j) in great-circle distance.
func nearestOcean(i, j int, grid dataset.GridSpec, isOcean func(int) bool) (int, int, bool) {
	g := grid.Grid()
	best, bi, bj := math.Inf(1), 0, 0
	for a, lat := range g.Lat {
		for b, lon := range g.Lon {
			if !isOcean(a*grid.NLon + b) {
				continue
			}
			if d := greatCircle(g.Lat[i], g.Lon[j], lat, lon); d < best {
				best, bi, bj = d, a, b
			}
		}
	}
	return bi, bj, !math.IsInf(best, 1)
}

// greatCircle is the central angle between two points (radians).
func greatCircle(lat1, lon1, lat2, lon2 float64) float64 {
	r := math.Pi / 180
	s1, s2 := math.Sin((lat2-lat1)*r/2), math.Sin((lon2-lon1)*r/2)
	h := s1*s1 + math.Cos(lat1*r)*math.Cos(lat2*r)*s2*s2
	return 2 * math.Asin(math.Sqrt(min(1, h)))
}

func span(v []float64) string {
	lo, hi := v[0], v[len(v)-1]
	if lo > hi {
		lo, hi = hi, lo
	}
	return fmt.Sprintf("%g..%g", lo, hi)
}
