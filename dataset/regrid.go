package dataset

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Regrid puts s on the card's grid spec and returns a new Series (s is not modified).
//
// Card longitudes are first expressed in the data's own convention, with wrap-around, so a card
// written as -100..25 finds its cells in 0..360 data across the 0° meridian, and a card running
// 150..210 finds them in -180..180 data across the dateline.
//
// When every card cell centre coincides with a data cell centre (within 1e-6°) the result is an
// exact subset: values are copied by index. Otherwise each card cell is interpolated bilinearly in
// (latitude, longitude) from its four surrounding data cells, periodically in longitude when the
// data go round the globe. Missing (NaN) neighbours drop out and the remaining weights are
// renormalised; when less than half of the weight is left the cell is missing. The weights are
// computed once and applied month by month. Bilinear regridding adds a Notice saying so, for the
// user to see.
//
// A card cell outside the data's latitude range or longitude coverage is an *Error of kind
// ErrGridMismatch whose hint names both extents.
func Regrid(s *Series, spec GridSpec) (*Series, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if s.Grid.NLat() == 0 || s.Grid.NLon() == 0 {
		return nil, errorf(s.Source, ErrIrregularGrid, "", "the data have an empty grid")
	}
	lat, err := newCoordAxis(s.Grid.Lat)
	if err != nil {
		return nil, errorf(s.Source, ErrIrregularGrid, "", "latitude: %v", err)
	}
	if _, err := newCoordAxis(s.Grid.Lon); err != nil || s.Grid.Lon[0] > s.Grid.Lon[len(s.Grid.Lon)-1] {
		return nil, errorf(s.Source, ErrIrregularGrid, "", "longitudes must increase")
	}
	lon := newLonCoordAxis(s.Grid.Lon)
	grid := spec.Grid()
	out := &Series{
		Name: s.Name, Units: s.Units, Calendar: s.Calendar, Source: s.Source,
		Grid: grid, Start: s.Start, N: s.N,
		Values:  make([]float32, s.N*grid.Size()),
		Notices: append([]string(nil), s.Notices...),
	}

	// Exact subset?
	ii := make([]int, len(grid.Lat))
	jj := make([]int, len(grid.Lon))
	exact := true
	for i, y := range grid.Lat {
		k, ok := lat.exact(y)
		if !ok {
			exact = false
			break
		}
		ii[i] = k
	}
	for j, x := range grid.Lon {
		if !exact {
			break
		}
		k, ok := lon.exact(x)
		if !ok {
			exact = false
			break
		}
		jj[j] = k
	}
	if exact {
		copySubset(out.Values, s.Values, s.N, s.Grid.NLon(), s.Grid.Size(), ii, jj)
		return out, nil
	}

	// Bilinear: four neighbours and weights per card cell.
	mismatch := func(what string, v float64) error {
		c := LonConventionOf(s.Grid)
		return errorf(s.Source, ErrGridMismatch,
			fmt.Sprintf("the data cover latitudes %s..%s and longitudes %s..%s (%s); the card's grid is %s; use data that cover the card's grid",
				num(lat.min()), num(lat.max()), num(s.Grid.Lon[0]), num(s.Grid.Lon[len(s.Grid.Lon)-1]), c, spec),
			"%s %s of the card's grid is outside the data", what, num(v))
	}
	nw := s.Grid.NLon()
	weights := make([]bilinear, grid.Size())
	for i, y := range grid.Lat {
		i0, i1, wy, ok := lat.bracket(y)
		if !ok {
			return nil, mismatch("latitude", y)
		}
		for j, x := range grid.Lon {
			j0, j1, wx, ok := lon.bracket(x)
			if !ok {
				return nil, mismatch("longitude", x)
			}
			b := &weights[i*len(grid.Lon)+j]
			b.idx = [4]int32{int32(i0*nw + j0), int32(i0*nw + j1), int32(i1*nw + j0), int32(i1*nw + j1)}
			b.w = [4]float32{
				float32((1 - wy) * (1 - wx)), float32((1 - wy) * wx),
				float32(wy * (1 - wx)), float32(wy * wx),
			}
		}
	}
	lost := applyBilinear(out.Values, s.Values, s.N, s.Grid.Size(), weights)
	out.Notices = append(out.Notices, fmt.Sprintf(
		"regridded bilinearly from %s x %s to %s x %s%s; %d cells of the card's %d x %d grid are missing in some month because land covers more than half of their interpolation weight",
		degrees(lat.step()), degrees(lon.step()), degrees(math.Abs(spec.LatStep)), degrees(spec.LonStep),
		offsetHint(lat.step(), lon.step(), spec, lat, lon), lost, spec.NLat, spec.NLon))
	return out, nil
}

// offsetHint explains a regridding between grids of the same spacing: the card's cell centres lie
// between the file's, often a card written with cell edges or a file shifted by half a cell; the
// bilinear weights of the card's first cell give the offset on each axis.
func offsetHint(latStep, lonStep float64, spec GridSpec, lat coordAxis, lon lonCoordAxis) string {
	if math.Abs(latStep-math.Abs(spec.LatStep)) > coordTol || math.Abs(lonStep-spec.LonStep) > coordTol {
		return ""
	}
	_, _, wy, _ := lat.bracket(spec.LatStart)
	_, _, wx, _ := lon.bracket(spec.LonStart)
	return fmt.Sprintf(" (same spacing, but the card's cell centres are %s in latitude and %s in longitude from the file's; "+
		"set lat_start and lon_start on the file's centres to read the values as they are)",
		degrees(math.Min(wy, 1-wy)*latStep), degrees(math.Min(wx, 1-wx)*lonStep))
}

// copySubset copies the cells (ii[i], jj[j]) of every month of src into dst.
func copySubset(dst, src []float32, months, srcW, srcSize int, ii, jj []int) {
	contiguous := true
	for j := range jj {
		if jj[j] != jj[0]+j {
			contiguous = false
			break
		}
	}
	nw := len(jj)
	dstSize := len(ii) * nw
	for t := 0; t < months; t++ {
		sm := src[t*srcSize : (t+1)*srcSize]
		dm := dst[t*dstSize : (t+1)*dstSize]
		for i, si := range ii {
			row := sm[si*srcW : (si+1)*srcW]
			drow := dm[i*nw : (i+1)*nw]
			if contiguous {
				copy(drow, row[jj[0]:jj[0]+nw])
				continue
			}
			for j, sj := range jj {
				drow[j] = row[sj]
			}
		}
	}
}

// bilinear holds one target cell's four source cells (flat indices into a month) and weights.
type bilinear struct {
	idx [4]int32
	w   [4]float32
}

// applyBilinear interpolates every month and returns how many target cells were missing in at
// least one month although the data had some value around them.
func applyBilinear(dst, src []float32, months, srcSize int, weights []bilinear) int {
	n := len(weights)
	lostAt := make([]bool, n)
	for t := 0; t < months; t++ {
		sm := src[t*srcSize : (t+1)*srcSize]
		dm := dst[t*n : (t+1)*n]
		for c := range weights {
			b := &weights[c]
			var sum, wsum float32
			for k := 0; k < 4; k++ {
				v := sm[b.idx[k]]
				if v == v && b.w[k] != 0 { // v == v: not NaN
					sum += b.w[k] * v
					wsum += b.w[k]
				}
			}
			if wsum < 0.5 {
				dm[c] = float32(math.NaN())
				if wsum > 0 {
					lostAt[c] = true
				}
				continue
			}
			dm[c] = sum / wsum
		}
	}
	lost := 0
	for _, l := range lostAt {
		if l {
			lost++
		}
	}
	return lost
}

// coordAxis is a monotonic coordinate seen as ascending: v holds the values, negated when the
// coordinate descends, so that searches need only one direction; indices are the original ones.
type coordAxis struct {
	v    []float64
	sign float64
}

func newCoordAxis(x []float64) (coordAxis, error) {
	a := coordAxis{v: x, sign: 1}
	if len(x) > 1 && x[1] < x[0] {
		a.sign = -1
		a.v = make([]float64, len(x))
		for i := range x {
			a.v[i] = -x[i]
		}
	}
	for i := 1; i < len(a.v); i++ {
		if !(a.v[i] > a.v[i-1]) {
			return a, fmt.Errorf("coordinate is not strictly monotonic at index %d (%g, %g)", i, x[i-1], x[i])
		}
	}
	return a, nil
}

func (a coordAxis) min() float64 { return math.Min(a.sign*a.v[0], a.sign*a.v[len(a.v)-1]) }
func (a coordAxis) max() float64 { return math.Max(a.sign*a.v[0], a.sign*a.v[len(a.v)-1]) }

// step returns the mean spacing (0 for a single value).
func (a coordAxis) step() float64 {
	if len(a.v) < 2 {
		return 0
	}
	return (a.v[len(a.v)-1] - a.v[0]) / float64(len(a.v)-1)
}

// exact returns the index of the value within coordTol of y.
func (a coordAxis) exact(y float64) (int, bool) {
	y *= a.sign
	k := sort.SearchFloat64s(a.v, y-coordTol)
	if k < len(a.v) && math.Abs(a.v[k]-y) <= coordTol {
		return k, true
	}
	return 0, false
}

// bracket returns neighbours i0, i1 and weight w of i1 so that y = (1-w)*x[i0] + w*x[i1].
func (a coordAxis) bracket(y float64) (i0, i1 int, w float64, ok bool) {
	y *= a.sign
	n := len(a.v)
	if y < a.v[0]-coordTol || y > a.v[n-1]+coordTol {
		return 0, 0, 0, false
	}
	if n == 1 {
		return 0, 0, 0, true
	}
	k := sort.SearchFloat64s(a.v, y) // first v[k] >= y
	switch {
	case k == 0:
		return 0, 1, 0, true
	case k >= n:
		return n - 2, n - 1, 1, true
	}
	w = (y - a.v[k-1]) / (a.v[k] - a.v[k-1])
	return k - 1, k, math.Min(1, math.Max(0, w)), true
}

// lonCoordAxis is an increasing longitude coordinate; global says whether it goes round the globe,
// that is, whether the gap from its last value back to its first (+360) is no wider than its
// widest interior spacing.
type lonCoordAxis struct {
	coordAxis
	global bool
}

func newLonCoordAxis(x []float64) lonCoordAxis {
	a := lonCoordAxis{coordAxis: coordAxis{v: x, sign: 1}}
	n := len(x)
	if n < 2 {
		return a
	}
	widest := 0.0
	for i := 1; i < n; i++ {
		widest = math.Max(widest, x[i]-x[i-1])
	}
	gap := x[0] + 360 - x[n-1]
	a.global = gap <= widest*(1+1e-9)+coordTol
	return a
}

// wrap expresses lon in [x0, x0+360), x0 the coordAxis' first value; a value within coordTol below
// x0+360 is taken as x0 itself.
func (a lonCoordAxis) wrap(lon float64) float64 {
	x0 := a.v[0]
	x := math.Mod(lon-x0, 360)
	if x < 0 {
		x += 360
	}
	if x > 360-coordTol {
		x -= 360
	}
	return x0 + x
}

func (a lonCoordAxis) exact(lon float64) (int, bool) { return a.coordAxis.exact(a.wrap(lon)) }

func (a lonCoordAxis) bracket(lon float64) (i0, i1 int, w float64, ok bool) {
	x := a.wrap(lon)
	n := len(a.v)
	if x <= a.v[n-1]+coordTol {
		return a.coordAxis.bracket(x)
	}
	if !a.global {
		return 0, 0, 0, false
	}
	// Across the seam between the last value and the first (+360).
	w = (x - a.v[n-1]) / (a.v[0] + 360 - a.v[n-1])
	return n - 1, 0, math.Min(1, math.Max(0, w)), true
}

// regularWindow returns the block of a regular grid's cells (latitudes lat, longitudes lon
// increasing) that regridding onto spec uses, with a margin of two data cells on every side, so
// that Regrid finds in it every data cell it would use in the whole grid. When a card longitude
// lies near the data's first or last column (a card across the data's seam), where regridding
// may wrap round it, the block keeps every column. It returns nil when the block is the whole
// grid or the data do not reach spec (Regrid then says so).
func regularWindow(lat, lon []float64, spec GridSpec) *window {
	if len(lat) < 2 || len(lon) < 2 {
		return nil
	}
	g := spec.Grid()
	maxStep := func(v []float64) float64 {
		m := 0.0
		for i := 1; i < len(v); i++ {
			m = max(m, math.Abs(v[i]-v[i-1]))
		}
		return m
	}
	dy, dx := 2*maxStep(lat), 2*maxStep(lon)
	lo, hi := slices.Min(g.Lat)-dy, slices.Max(g.Lat)+dy
	y0, y1 := -1, -1
	for i, y := range lat {
		if y >= lo && y <= hi {
			if y0 < 0 {
				y0 = i
			}
			y1 = i
		}
	}
	// Card longitudes in the data's convention, each with its margin, as column ranges.
	conv := LonConventionOf(Grid{Lon: lon})
	x0, x1 := len(lon), -1
	for _, c := range g.Lon {
		x := conv.Normalize(c)
		if x < lon[0]+dx/2 || x > lon[len(lon)-1]-dx/2 {
			// Near the data's first or last column regridding may wrap round the seam: every
			// column is read, so the block goes round the globe as the data do.
			x0, x1 = 0, len(lon)-1
			break
		}
		for j, v := range lon {
			if math.Abs(v-x) <= dx {
				x0, x1 = min(x0, j), max(x1, j)
			}
		}
	}
	if y0 < 0 || x1 < 0 {
		return nil
	}
	w := &window{Y0: y0, NY: y1 - y0 + 1, X0: x0, NX: x1 - x0 + 1}
	if w.NY == len(lat) && w.NX == len(lon) {
		return nil
	}
	return w
}
