package dataset

import (
	"fmt"
	"math"
	"slices"

	"climxai/dataset/netcdf"
)

// A layer mean (OpenOptions.Layer) is the thickness-weighted mean of a variable on depth levels
// over a layer, e.g. the upper 300 m of ocean temperature: the heat-content predictor of
// Ham et al. (2019). Each level stands for the water between its edges (its CF bounds, or
// halfway to its neighbours) and weighs as much as that water's thickness within the layer. A
// cell whose deeper levels are missing (the sea floor lies within the layer) is the mean of the
// water it has.

// ValidLayer reports whether l can be averaged over: two different finite values (a card's
// layer, OpenOptions.Layer, info --layer).
func ValidLayer(l [2]float64) bool {
	return l[0] != l[1] && !math.IsNaN(l[0]) && !math.IsNaN(l[1]) && !math.IsInf(l[0], 0) && !math.IsInf(l[1], 0)
}

// layerLevel is one level of a layer mean: its index and its weight, the thickness of its water
// within the layer.
type layerLevel struct {
	index  int
	weight float64
}

// layerLevels finds the levels of lay.Z whose water lies within layer and their weights, and
// says which they are. It returns nil when the variable has one level (nothing to average: it is
// read as it is, with a notice).
func layerLevels(path string, f *netcdf.File, lay *layout, layer [2]float64, s *Series) ([]layerLevel, error) {
	if lay.ZDim < 0 {
		s.Notices = append(s.Notices, fmt.Sprintf("layer %g to %g not used: %s has no vertical dimension of several levels", layer[0], layer[1], lay.Data.Name))
		return nil, nil
	}
	dim := lay.Data.Dims[lay.ZDim]
	if lay.Z == nil {
		return nil, errorf(path, ErrNoCoordinate, "give the vertical dimension a coordinate variable, or average over the layer first (cdo vertmean)",
			"%s's vertical dimension %s has no coordinate variable to find the layer %g to %g in", lay.Data.Name, dim, layer[0], layer[1])
	}
	z, err := readAll(path, f, lay.Z)
	if err != nil {
		return nil, err
	}
	if err := monotonicLevels(path, lay.Z.Name, z); err != nil {
		return nil, err
	}
	units := lay.Z.text("units")
	edges, from := levelEdges(path, f, lay, z)
	top, bottom := min(layer[0], layer[1]), max(layer[0], layer[1])
	var levels []layerLevel
	lo, hi := math.Inf(1), math.Inf(-1) // the extent of the levels' water
	for k := range z {
		a, b := min(edges[k][0], edges[k][1]), max(edges[k][0], edges[k][1])
		lo, hi = min(lo, a), max(hi, b)
		if w := min(b, bottom) - max(a, top); w > 0 {
			levels = append(levels, layerLevel{k, w})
		}
	}
	if len(levels) == 0 {
		return nil, errorf(path, ErrLayout, fmt.Sprintf("give a layer that overlaps the levels' water, %g to %g %s", lo, hi, units),
			"no level of %s lies within the layer %g to %g %s (levels %g to %g, edges %s)", lay.Data.Name, top, bottom, units, z[0], z[len(z)-1], from)
	}
	first, last := z[levels[0].index], z[levels[len(levels)-1].index]
	which := fmt.Sprintf("%.6g to %.6g %s", first, last, units)
	if len(levels) == 1 {
		which = fmt.Sprintf("%.6g %s", first, units)
	}
	s.Notices = append(s.Notices, fmt.Sprintf("%s averaged over %s = %g to %g %s: %d of %d levels (%s), each weighted by its thickness within the layer (edges %s)",
		lay.Data.Name, lay.Z.Name, top, bottom, units, len(levels), len(z), which, from))
	if top < lo || bottom > hi {
		s.Notices = append(s.Notices, fmt.Sprintf("the layer %g to %g %s reaches beyond the levels' water (%g to %g %s): the mean covers %g to %g %s",
			top, bottom, units, lo, hi, units, max(top, lo), min(bottom, hi), units))
	}
	return levels, nil
}

// monotonicLevels checks that the vertical coordinate's values are finite and strictly
// increasing or decreasing.
func monotonicLevels(path, name string, z []float64) error {
	for k, v := range z {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errorf(path, ErrNoCoordinate, "give the vertical coordinate finite values", "%s[%d] is %g", name, k, v)
		}
		if k >= 2 && (z[k]-z[k-1])*(z[k-1]-z[k-2]) <= 0 || k == 1 && z[1] == z[0] {
			return errorf(path, ErrNoCoordinate, "the levels must be strictly increasing or decreasing, as CF requires",
				"%s is not monotonic at index %d (%g, %g)", name, k, z[k-1], z[k])
		}
	}
	return nil
}

// levelEdges returns each level's edges: its CF bounds when they are usable, else halfway to
// the neighbouring levels, the outermost levels reaching as far beyond themselves as halfway to
// their neighbour but not across 0 (the sea surface of a depth or height coordinate). from says
// which of the two was used, for notices.
func levelEdges(path string, f *netcdf.File, lay *layout, z []float64) (edges [][2]float64, from string) {
	if lay.ZBounds != nil {
		if b, err := readAll(path, f, lay.ZBounds); err == nil && len(b) == 2*len(z) {
			edges = make([][2]float64, len(z))
			ok := true
			for k := range z {
				edges[k] = [2]float64{b[2*k], b[2*k+1]}
				lo, hi := min(b[2*k], b[2*k+1]), max(b[2*k], b[2*k+1])
				ok = ok && !math.IsNaN(lo) && !math.IsNaN(hi) && !math.IsInf(lo, 0) && !math.IsInf(hi, 0) &&
					math.Abs(lo) < 1e30 && math.Abs(hi) < 1e30 && lo < hi && lo <= z[k] && z[k] <= hi
			}
			if ok {
				return edges, "from " + lay.ZBounds.Name
			}
		}
	}
	n := len(z)
	edges = make([][2]float64, n)
	for k := range z {
		var below, above float64 // toward index k-1 and k+1
		if k > 0 {
			below = (z[k-1] + z[k]) / 2
		} else {
			below = z[0] - (z[1]-z[0])/2
			if z[0] != 0 && below*z[0] < 0 {
				below = 0
			}
		}
		if k < n-1 {
			above = (z[k] + z[k+1]) / 2
		} else {
			above = z[n-1] + (z[n-1]-z[n-2])/2
			if z[n-1] != 0 && above*z[n-1] < 0 {
				above = 0
			}
		}
		edges[k] = [2]float64{below, above}
	}
	return edges, "halfway between levels: " + lay.Z.Name + " has no usable bounds"
}

// readMeans reads means of the data variable into s.Values: over levels, weighted (a layer
// mean: layerLevels; a single level of weight 1 otherwise), over the time steps of each month
// when they are sub-monthly (tm; nil when the steps are months), and over the data cells of each
// cell of s.Grid when the data are on a curvilinear grid (space; nil when the data's cells are
// s.Grid's). A value missing at a level, a time step or a data cell leaves it out of that
// mean, so a cell whose sea floor lies within the layer is the mean of the water it has, and a
// cell missing at every level, step and data cell of a month is missing.
func readMeans(path string, f *netcdf.File, lay *layout, perm []int, rep *report, s *Series, levels []layerLevel, tm *timeMeans, space *spaceMap) error {
	nsteps := s.N
	if tm != nil {
		nsteps = len(tm.monthOf)
	}
	cells, err := valueCells(path, lay, nsteps)
	if err != nil {
		return err
	}
	out := cells // the cells of the means
	if space != nil {
		out = s.Grid.Size()
	}
	if len(s.Values) != s.N*out { // else the caller's (OpenOptions.into)
		s.Values = make([]float32, s.N*out)
	}
	// The weighted sums in float64 (a month of 6-hourly steps over 20 levels adds 2480 values;
	// float32 would lose about 10 of its 24 bits), the weights in float32 (sums of a few
	// thousand level thicknesses hold exactly enough).
	sums := make([]float64, s.N*out)
	wsum := make([]float32, s.N*out)
	stepsIn := make([]int, s.N) // time steps per month
	for t := range nsteps {
		if m := monthOf(tm, t); m >= 0 {
			stepsIn[m]++
		}
	}
	var buf []float32
	var total float64
	empty := 0
	for i, l := range levels {
		lay.ZIndex = l.index
		w := float32(l.weight)
		dec, err := readLevel(path, f, lay, perm, rep, nsteps, func(t0, nt int) []float32 {
			buf = slices.Grow(buf[:0], nt*cells)[:nt*cells]
			return buf
		}, func(t0 int, vals []float32) {
			for k := 0; k*cells < len(vals); k++ {
				m := monthOf(tm, t0+k)
				if m < 0 {
					continue
				}
				sum, ws := sums[m*out:(m+1)*out], wsum[m*out:(m+1)*out]
				for j, v := range vals[k*cells : (k+1)*cells] {
					switch {
					case v != v:
					case space == nil:
						sum[j] += float64(w) * float64(v)
						ws[j] += w
					default:
						for _, t := range space.targets(j) {
							sum[t] += float64(w) * float64(v)
							ws[t] += w
						}
					}
				}
			}
		})
		if err != nil {
			return err
		}
		if i == 0 {
			rep.dec, rep.pack = dec, dec.p
			s.Notices = append(s.Notices, dec.notices(lay.Data)...)
		}
		if dec.valid == 0 {
			empty++
		}
		total += l.weight
	}
	if empty == len(levels) {
		return errorf(path, ErrAllMissing, "check the missing-value attributes (_FillValue, missing_value, valid_range), or choose a layer where the variable has values",
			"every value of %s is missing in the %d level(s) read", describeDims(lay.Data), len(levels))
	}
	// A cell is partial when some month lacks values at some of its levels or time steps (on a
	// curvilinear grid, averaged over several data cells, that is not told apart).
	partial := make([]bool, out)
	for i, ws := range wsum {
		if ws > 0 {
			s.Values[i] = float32(sums[i] / float64(ws))
			if space == nil && ws < float32(total*float64(stepsIn[i/out]))*(1-1e-6) {
				partial[i%out] = true
			}
		} else {
			s.Values[i] = float32(math.NaN())
		}
	}
	rep.ocean = oceanFraction(s)
	if n := countTrue(partial); n > 0 {
		switch {
		case tm == nil:
			s.Notices = append(s.Notices, fmt.Sprintf("%d cells hold water in only part of the layer (the sea floor, or missing values, within it): their mean is over the water they have", n))
		case len(levels) > 1:
			s.Notices = append(s.Notices, fmt.Sprintf("%d cells lack values at some levels or time steps of a month (the sea floor within the layer, sea ice, gaps): their means are over the values they have", n))
		default:
			s.Notices = append(s.Notices, fmt.Sprintf("%d cells lack values on some time steps of a month (sea ice, gaps): their monthly means are over the steps with a value", n))
		}
	}
	return nil
}

// monthOf is the month whose mean time step t enters: tm's mapping, t itself when tm is nil.
func monthOf(tm *timeMeans, t int) int {
	if tm == nil {
		return t
	}
	return tm.monthOf[t]
}
