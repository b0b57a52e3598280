package plots

import (
	"image/color"
	"math"
)

// ColorMap maps t in [0, 1] to a colour by linear interpolation between equally spaced stops.
type ColorMap struct {
	Name  string
	stops []color.RGBA
}

// rgb builds a colour from 0xRRGGBB.
func rgb(h uint32) color.RGBA {
	return color.RGBA{R: uint8(h >> 16), G: uint8(h >> 8), B: uint8(h), A: 255}
}

// RdBu is ColorBrewer's 11-class RdBu (Cynthia Brewer, colorbrewer2.org, Apache-2.0 licence),
// ordered from blue (negative) through white to red (positive): a diverging map that stays
// readable under red–green colour blindness because it runs blue–red, not green–red.
func RdBu() ColorMap {
	hex := []uint32{ // colorbrewer2.org RdBu 11 classes, reversed
		0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
		0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f,
	}
	return newMap("RdBu", hex)
}

// Viridis is matplotlib's perceptually uniform sequential map (van der Walt & Smith, 2015,
// https://bids.github.io/colormap/, CC0), sampled at 11 equally spaced points
// (matplotlib.cm.viridis(np.linspace(0, 1, 11))): dark purple (low) to yellow (high).
func Viridis() ColorMap {
	hex := []uint32{
		0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c,
		0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725,
	}
	return newMap("viridis", hex)
}

func newMap(name string, hex []uint32) ColorMap {
	s := make([]color.RGBA, len(hex))
	for i, h := range hex {
		s[i] = rgb(h)
	}
	return ColorMap{Name: name, stops: s}
}

// At returns the colour at t, clamped to [0, 1].
func (m ColorMap) At(t float64) color.RGBA {
	if math.IsNaN(t) {
		return LandGrey
	}
	t = math.Max(0, math.Min(1, t))
	x := t * float64(len(m.stops)-1)
	i := int(x)
	if i >= len(m.stops)-1 {
		return m.stops[len(m.stops)-1]
	}
	f := x - float64(i)
	a, b := m.stops[i], m.stops[i+1]
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p) + f*(float64(q)-float64(p)))) }
	return color.RGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 255}
}

// LandGrey is the colour of land and missing cells (NaN).
var LandGrey = color.RGBA{R: 0xbd, G: 0xbd, B: 0xbd, A: 255}

// Scale maps data values to colours: Min maps to the map's first colour, Max to its last.
type Scale struct {
	Map      ColorMap
	Min, Max float64
	Label    string // colour-bar label including units, e.g. "importance (fraction)"
	// ExtendMax says that some values lie above Max and are drawn in Max's colour: the colour
	// bar then ends in a triangle at its maximum.
	ExtendMax bool
}

// Color returns the colour of v; NaN is LandGrey.
func (s Scale) Color(v float64) color.RGBA {
	if math.IsNaN(v) {
		return LandGrey
	}
	if s.Max == s.Min {
		return s.Map.At(0.5)
	}
	return s.Map.At((v - s.Min) / (s.Max - s.Min))
}

// DivergingScale returns an RdBu scale with limits symmetric about zero, ±max|v| over the
// finite values, so that white always means zero. All-zero or all-NaN data give ±1.
func DivergingScale(label string, values ...[]float32) Scale {
	m := finiteMaxAbs(values...)
	if m == 0 {
		m = 1
	}
	return Scale{Map: RdBu(), Min: -m, Max: m, Label: label}
}

// finiteMaxAbs is the largest |v| over the finite values (NaN and ±Inf skipped); 0 when there
// is none.
func finiteMaxAbs(values ...[]float32) float64 {
	m := 0.0
	for _, vs := range values {
		for _, v := range vs {
			if a := math.Abs(float64(v)); !math.IsNaN(a) && !math.IsInf(a, 0) && a > m {
				m = a
			}
		}
	}
	return m
}

// SequentialScale returns a viridis scale from the smallest to the largest finite value.
// Constant or empty data give a unit range.
func SequentialScale(label string, values ...[]float32) Scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, vs := range values {
		for _, v := range vs {
			f := float64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			lo, hi = math.Min(lo, f), math.Max(hi, f)
		}
	}
	if !(hi > lo) {
		if math.IsInf(lo, 1) {
			lo = 0
		}
		hi = lo + 1
	}
	return Scale{Map: Viridis(), Min: lo, Max: hi, Label: label}
}

// AutoScale picks a diverging scale when the data have both signs and a sequential one
// otherwise (importance magnitudes).
func AutoScale(label string, values ...[]float32) Scale {
	neg, pos := false, false
	for _, vs := range values {
		for _, v := range vs {
			neg = neg || v < 0
			pos = pos || v > 0
		}
	}
	if neg && pos {
		return DivergingScale(label, values...)
	}
	if neg {
		return DivergingScale(label, values...)
	}
	s := SequentialScale(label, values...)
	if s.Min > 0 {
		s.Min = 0 // magnitudes start at zero so that colour is proportional to importance
	}
	return s
}

// CategoryColors are Okabe & Ito's (2008, "Color Universal Design") colour-blind-safe colours
// for lines, in the order used for leads.
var CategoryColors = []color.RGBA{
	rgb(0x0072b2), rgb(0xd55e00), rgb(0x009e73), rgb(0xcc79a7), rgb(0xe69f00), rgb(0x56b4e9), rgb(0x000000),
}
