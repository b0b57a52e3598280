package dataset

import (
	"fmt"
	"math"
	"strconv"
)

// GridSpec is an emulator card's [grid] table: a regular latitude-longitude grid of cell centres
// lat_start + i*lat_step (i < nlat) and lon_start + j*lon_step (j < nlon), in degrees.
// LatStep may be negative (latitude descending, north first); LonStep is positive.
type GridSpec struct {
	LatStart, LatStep float64
	NLat              int
	LonStart, LonStep float64
	NLon              int
}

// coordTol is how close (in degrees) two coordinates must be to count as the same cell centre.
const coordTol = 1e-6

// Validate checks that the spec describes a usable grid: positive sizes, non-zero steps,
// latitudes within ±90 and at most one turn of longitude. Errors are *Error of kind
// ErrIrregularGrid with a hint naming the card's [grid] table.
func (g GridSpec) Validate() error {
	bad := func(format string, a ...any) error {
		return errorf("", ErrIrregularGrid,
			"fix the [grid] table of the emulator card (lat_start, lat_step, nlat, lon_start, lon_step, nlon)",
			"card grid: "+format, a...)
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"lat_start", g.LatStart}, {"lat_step", g.LatStep}, {"lon_start", g.LonStart}, {"lon_step", g.LonStep}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			return bad("%s is %v", v.name, v.x)
		}
	}
	switch {
	case g.NLat < 1 || g.NLon < 1:
		return bad("nlat = %d and nlon = %d must both be at least 1", g.NLat, g.NLon)
	case g.LatStep == 0 && g.NLat > 1:
		return bad("lat_step is 0")
	case g.LonStep <= 0 && g.NLon > 1:
		return bad("lon_step = %g must be positive (longitudes increase eastwards)", g.LonStep)
	}
	lat0, lat1 := g.LatStart, g.LatStart+float64(g.NLat-1)*g.LatStep
	if math.Abs(lat0) > 90+coordTol || math.Abs(lat1) > 90+coordTol {
		return bad("latitudes run from %g to %g, beyond ±90", lat0, lat1)
	}
	if g.LonStart < -180-coordTol || g.LonStart >= 360 {
		return bad("lon_start = %g is outside -180..360", g.LonStart)
	}
	if span := float64(g.NLon-1) * g.LonStep; span >= 360-coordTol {
		return bad("longitudes span %g degrees, more than one turn of the globe", span)
	}
	return nil
}

// Grid returns the cell centres. Latitude ascends when LatStep > 0 and descends when it is
// negative; longitudes increase from LonStart and may run past 180 (a dateline-crossing card
// such as lon_start = 150, nlon*lon_step = 60 gives 150..210). Call Validate first.
func (g GridSpec) Grid() Grid {
	lat := make([]float64, g.NLat)
	for i := range lat {
		lat[i] = g.LatStart + float64(i)*g.LatStep
	}
	lon := make([]float64, g.NLon)
	for j := range lon {
		lon[j] = g.LonStart + float64(j)*g.LonStep
	}
	return Grid{Lat: lat, Lon: lon}
}

// LonConvention says how a grid writes longitudes.
type LonConvention int

const (
	Lon0To360   LonConvention = iota // 0..360 (ERSST, HadISST-regridded, CMIP)
	Lon180To180                      // -180..180 (HadISST, OISST-derived products)
)

func (c LonConvention) String() string {
	if c == Lon180To180 {
		return "-180..180"
	}
	return "0..360"
}

// Normalize returns lon expressed in convention c: in [-180, 180) or [0, 360).
func (c LonConvention) Normalize(lon float64) float64 {
	lo := 0.0
	if c == Lon180To180 {
		lo = -180
	}
	x := math.Mod(lon-lo, 360)
	if x < 0 {
		x += 360
	}
	return lo + x
}

// LonConvention returns the card's longitude convention: -180..180 when lon_start is negative
// (or any centre is), 0..360 otherwise.
func (g GridSpec) LonConvention() LonConvention {
	if g.LonStart < 0 || (g.NLon > 0 && g.LonStart+float64(g.NLon-1)*g.LonStep < 0) {
		return Lon180To180
	}
	return Lon0To360
}

// LonConventionOf returns the convention of a grid's longitudes: -180..180 when any is
// negative, else 0..360.
func LonConventionOf(g Grid) LonConvention {
	for _, x := range g.Lon {
		if x < 0 {
			return Lon180To180
		}
	}
	return Lon0To360
}

// String describes the spec as the card writes it, for messages.
func (g GridSpec) String() string {
	lat1 := g.LatStart + float64(g.NLat-1)*g.LatStep
	lon1 := g.LonStart + float64(g.NLon-1)*g.LonStep
	return fmt.Sprintf("%d x %d cells of %s x %s, latitudes %s..%s, longitudes %s..%s",
		g.NLat, g.NLon, degrees(math.Abs(g.LatStep)), degrees(g.LonStep),
		num(g.LatStart), num(lat1), num(g.LonStart), num(lon1))
}

// degrees formats a resolution as 1.0°, 0.25°, 2.0°.
func degrees(x float64) string {
	if x == math.Trunc(x) {
		return strconv.FormatFloat(x, 'f', 1, 64) + "°"
	}
	return strconv.FormatFloat(x, 'g', 4, 64) + "°"
}

// num formats a coordinate compactly.
func num(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// LatLabel reads a latitude out as 39.0°N, 10.0°S, or 0.0° on the equator, with one decimal.
func LatLabel(lat float64) string {
	switch t := fmt.Sprintf("%.1f", math.Abs(lat)); {
	case t == "0.0":
		return "0.0°"
	case lat < 0:
		return t + "°S"
	default:
		return t + "°N"
	}
}

// LonLabel reads a longitude in either convention (-180..180 or 0..360) out as 38.0°W or
// 150.0°E, with one decimal; the prime meridian and the antimeridian have no side (0.0°, 180.0°).
func LonLabel(lon float64) string {
	lon = math.Mod(lon+540, 360) - 180 // -180..180
	switch t := fmt.Sprintf("%.1f", math.Abs(lon)); {
	case t == "0.0" || t == "180.0":
		return t + "°"
	case lon < 0:
		return t + "°W"
	default:
		return t + "°E"
	}
}
