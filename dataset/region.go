package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Box is a latitude-longitude box in degrees, bounds inclusive on cell centres. W > E crosses
// the dateline (or the 0/360 seam).
type Box struct{ S, N, W, E float64 }

func (b Box) String() string { return fmt.Sprintf("%g,%g,%g,%g", b.S, b.N, b.W, b.E) }

// Contains reports whether the point lies in the box (longitudes on any convention).
func (b Box) Contains(lat, lon float64) bool {
	if lat < b.S || lat > b.N {
		return false
	}
	if b.E-b.W >= 360 {
		return true
	}
	width := math.Mod(b.E-b.W+720, 360)
	return math.Mod(lon-b.W+720, 360) <= width
}

// NamedBox is an entry of the built-in table of regions.
type NamedBox struct {
	Name, Description string
	Box               Box
}

// NamedBoxes returns the built-in regions a target or an index card may name (a fresh slice: no
// shared state).
func NamedBoxes() []NamedBox {
	return []NamedBox{
		{"nino34", "Niño-3.4, 5°S-5°N 170°W-120°W", Box{-5, 5, -170, -120}},
		{"spg", "North Atlantic subpolar gyre, 50-65°N 60°W-10°W", Box{50, 65, -60, -10}},
		{"gulfstream", "Gulf Stream extension, 35-45°N 75°W-45°W", Box{35, 45, -75, -45}},
		{"mdr", "Atlantic hurricane main development region, 10-20°N 80°W-20°W", Box{10, 20, -80, -20}},
		{"amo", "North Atlantic, AMO-like index region, 0-60°N 80°W-0°", Box{0, 60, -80, 0}},
	}
}

// RegionNames lists the names of NamedBoxes, for messages.
func RegionNames() string {
	var s []string
	for _, b := range NamedBoxes() {
		s = append(s, b.Name)
	}
	return strings.Join(s, ", ")
}

// ParseRegion parses "box:S,N,W,E" or the name of a built-in region (case-insensitive). ok is
// false when s is neither (so a caller may try other forms, such as a cell); err says what is wrong
// with a box that does not parse or has south above north or latitudes beyond ±90.
func ParseRegion(s string) (r NamedBox, ok bool, err error) {
	low := strings.ToLower(strings.TrimSpace(s))
	if rest, isBox := strings.CutPrefix(low, "box:"); isBox {
		v, err := ParseFloats(rest, 4)
		if err != nil {
			return NamedBox{}, true, err
		}
		b := Box{v[0], v[1], v[2], v[3]}
		if b.S > b.N || b.S < -90 || b.N > 90 {
			return NamedBox{}, true, fmt.Errorf("box %s: south must not exceed north, both within ±90", b)
		}
		return NamedBox{Box: b}, true, nil
	}
	for _, nb := range NamedBoxes() {
		if low == nb.Name {
			return nb, true, nil
		}
	}
	return NamedBox{}, false, nil
}

// BoxCells marks the grid cells whose centres lie in b ([NLat*NLon], row-major).
func (g GridSpec) BoxCells(b Box) []bool {
	gr := g.Grid()
	in := make([]bool, g.NLat*g.NLon)
	for i, lat := range gr.Lat {
		for j, lon := range gr.Lon {
			in[i*g.NLon+j] = b.Contains(lat, lon)
		}
	}
	return in
}

// IndexField returns the area-weighted (cos latitude) mean of the field v [NLat*NLon] over the
// region's cells where v is not NaN, written over those cells, NaN elsewhere: a regional index
// laid out as the field an index emulator's forecast is.
func (g GridSpec) IndexField(v []float32, region []bool) []float32 {
	var sum, wsum float64
	for k, x := range v {
		if region[k] && x == x {
			w := math.Cos((g.LatStart + float64(k/g.NLon)*g.LatStep) * math.Pi / 180)
			sum += w * float64(x)
			wsum += w
		}
	}
	out := make([]float32, len(v))
	for k, x := range v {
		out[k] = float32(math.NaN())
		if region[k] && x == x && wsum > 0 {
			out[k] = float32(sum / wsum)
		}
	}
	return out
}

// ParseFloats parses n comma-separated finite numbers.
func ParseFloats(s string, n int) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("want %d comma-separated numbers, got %d", n, len(parts))
	}
	v := make([]float64, n)
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%q is not a number", strings.TrimSpace(p))
		}
		v[i] = x
	}
	return v, nil
}
