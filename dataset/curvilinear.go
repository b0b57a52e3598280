package dataset

import (
	"fmt"
	"math"
	"slices"

	"climxai/dataset/netcdf"
)

// Data on a curvilinear grid (CMIP's ocean models on their own tripolar or displaced-pole
// grids: tos(time, j, i) with latitude(j, i) and longitude(j, i)) are read onto a regular grid
// given by the caller (an emulator card's, OpenOptions.Grid) by averaging: each regular cell is
// the mean of the data cells whose centres lie in it, over those with a value, as they are read.
// This is first-order conservative remapping when the data are finer than the grid, the usual
// case (a 1° or finer ocean model, an emulator on 1° or 2°). A regular cell that holds no data
// cell centre (the grid is finer there than the data) takes the value of the nearest data cell
// centre within two of its own cells, and stays missing beyond that; notes count both.

// spaceMap sends each data cell to the regular cells whose means it enters.
type spaceMap struct {
	start []int32 // per data cell c, its regular cells are to[start[c]:start[c+1]]
	to    []int32
}

// targets returns the regular cells data cell c enters.
func (m *spaceMap) targets(c int) []int32 { return m.to[m.start[c]:m.start[c+1]] }

// nearReach is how many regular cells away an empty regular cell looks for its nearest data cell.
const nearReach = 2

// curviMap reads the curvilinear grid's latitude and longitude and maps its cells onto spec's
// cells, with notes saying how.
func curviMap(path string, f *netcdf.File, lay *layout, spec GridSpec, s *Series) (*spaceMap, error) {
	c := lay.Curvi
	if c.Lat.Dims[0] != lay.Data.Dims[lay.LatDim] || c.Lat.Dims[1] != lay.Data.Dims[lay.LonDim] {
		return nil, errorf(path, ErrLayout, "", "%s's dimensions do not match %s's", c.Lat.Name, lay.Data.Name)
	}
	lat, err := readAll(path, f, c.Lat)
	if err != nil {
		return nil, err
	}
	lon, err := readAll(path, f, c.Lon)
	if err != nil {
		return nil, err
	}
	cells := lay.Data.Shape[lay.LatDim] * lay.Data.Shape[lay.LonDim]
	if len(lat) != cells || len(lon) != cells {
		return nil, errorf(path, ErrLayout, "", "%s and %s hold %d and %d values for %d cells", c.Lat.Name, c.Lon.Name, len(lat), len(lon), cells)
	}
	latStep := spec.LatStep
	if latStep == 0 { // one row of cells
		latStep = spec.LonStep
	}
	// bin returns the regular cell whose area holds (y, x), or -1.
	bin := func(y, x float64) int {
		if math.IsNaN(y) || math.IsNaN(x) || math.Abs(y) > 90 || math.Abs(x) > 1e5 {
			return -1 // a fill value: no cell here
		}
		i := int(math.Floor((y-spec.LatStart)/latStep + 0.5))
		k := int(math.Floor(math.Mod(math.Mod(x-spec.LonStart+spec.LonStep/2, 360)+360, 360) / spec.LonStep))
		if i < 0 || i >= spec.NLat || k < 0 || k >= spec.NLon {
			return -1
		}
		return i*spec.NLon + k
	}
	out := spec.NLat * spec.NLon
	home := make([]int32, cells)     // each data cell's regular cell, -1 for none
	binStart := make([]int32, out+1) // data cells binned per regular cell (CSR)
	for j := range cells {
		home[j] = int32(bin(lat[j], lon[j]))
		if home[j] >= 0 {
			binStart[home[j]+1]++
		}
	}
	for t := range out {
		binStart[t+1] += binStart[t]
	}
	members := make([]int32, binStart[out])
	fill := slices.Clone(binStart[:out])
	for j, h := range home {
		if h >= 0 {
			members[fill[h]] = int32(j)
			fill[h]++
		}
	}
	// Empty regular cells take their nearest data cell within nearReach cells.
	grid := spec.Grid()
	extra := make([][]int32, cells) // regular cells a data cell fills besides its home
	near, far := 0, 0
	for t := range out {
		if binStart[t+1] > binStart[t] {
			continue
		}
		ti, tk := t/spec.NLon, t%spec.NLon
		y0, x0 := grid.Lat[ti], grid.Lon[tk]
		best, bestD := int32(-1), math.Inf(1)
		for di := -nearReach; di <= nearReach; di++ {
			for dk := -nearReach; dk <= nearReach; dk++ {
				i, k := ti+di, (tk+dk+spec.NLon)%spec.NLon
				if i < 0 || i >= spec.NLat || tk+dk < 0 && !globalLon(spec) || tk+dk >= spec.NLon && !globalLon(spec) {
					continue
				}
				for _, j := range members[binStart[i*spec.NLon+k]:binStart[i*spec.NLon+k+1]] {
					dx := math.Mod(math.Abs(lon[j]-x0), 360)
					dx = min(dx, 360-dx) * math.Cos(y0*math.Pi/180)
					if d := (lat[j]-y0)*(lat[j]-y0) + dx*dx; d < bestD {
						best, bestD = j, d
					}
				}
			}
		}
		if best < 0 {
			far++
			continue
		}
		extra[best] = append(extra[best], int32(t))
		near++
	}
	// Only the block of data cells the card's cells use is read (a regional card on global
	// data reads its region), and the map runs over that block's cells.
	ny, nx := lay.Data.Shape[lay.LatDim], lay.Data.Shape[lay.LonDim]
	win := window{Y0: ny, X0: nx}
	y1, x1 := -1, -1
	for j := range cells {
		if home[j] >= 0 || len(extra[j]) > 0 {
			y, x := j/nx, j%nx
			win.Y0, win.X0, y1, x1 = min(win.Y0, y), min(win.X0, x), max(y1, y), max(x1, x)
		}
	}
	if y1 >= 0 {
		win.NY, win.NX = y1-win.Y0+1, x1-win.X0+1
		lay.Win = &win
	}
	m := &spaceMap{start: make([]int32, win.NY*win.NX+1)}
	for w := range win.NY * win.NX {
		j := (win.Y0+w/win.NX)*nx + win.X0 + w%win.NX
		m.to = append(m.to, extra[j]...)
		if home[j] >= 0 {
			m.to = append(m.to, home[j])
		}
		m.start[w+1] = int32(len(m.to))
	}

	counts := make([]int, 0, out)
	outside := 0
	for t := range out {
		if n := int(binStart[t+1] - binStart[t]); n > 0 {
			counts = append(counts, n)
		}
	}
	for _, h := range home {
		if h < 0 {
			outside++
		}
	}
	if len(counts) == 0 {
		return nil, errorf(path, ErrGridMismatch, "give data that cover the card's grid, or a card whose grid lies within the data",
			"no cell of %s's curvilinear grid (%d cells) lies within the card's grid (%s)", lay.Data.Name, cells, spec)
	}
	slices.Sort(counts)
	note := fmt.Sprintf("%s on a curvilinear grid (%s, %d x %d cells) averaged onto the card's %d x %d grid: each cell the mean of the data cells whose centres lie in it (%d to %d, median %d)",
		lay.Data.Name, c.Lat.Name+"/"+c.Lon.Name, lay.Data.Shape[lay.LatDim], lay.Data.Shape[lay.LonDim], spec.NLat, spec.NLon,
		counts[0], counts[len(counts)-1], counts[len(counts)/2])
	if outside > 0 {
		note += fmt.Sprintf("; %d data cells lie outside it or have no position", outside)
	}
	if win.NY*win.NX < cells {
		note += fmt.Sprintf("; the %d x %d block of data cells around it is read", win.NY, win.NX)
	}
	s.Notices = append(s.Notices, note)
	if near > 0 || far > 0 {
		s.Notices = append(s.Notices, fmt.Sprintf("%d card cells hold no data cell centre: %d took the nearest data cell's value (within %d cells), %d are missing",
			near+far, near, nearReach, far))
	}
	return m, nil
}

// globalLon reports whether spec's longitudes go round the globe, so that neighbours wrap.
func globalLon(spec GridSpec) bool { return math.Abs(float64(spec.NLon)*spec.LonStep-360) < 1e-6 }
