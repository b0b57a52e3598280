package dataset

import (
	"math"
	"strconv"

	"climxai/dataset/netcdf"
)

// MapFile is a file of (lat, lon) maps with global attributes, as `climxai decaymap` writes:
// efold, efold_lo, efold_hi (months), r50, r90 (km) on the card's grid, NaN where a cell was not
// evaluated, +Inf where no decay could be established, and summary statistics as attributes.
type MapFile struct {
	Grid  Grid
	Maps  []MapVar
	Attrs map[string]string // global attributes as text (numbers formatted with 'g')
}

// MapVar is one (lat, lon) variable of a MapFile, [lat][lon] in the file's order.
type MapVar struct {
	Name, Units, LongName string
	Values                []float32 // NaN where the file has its fill value
}

// Map returns the variable called name, or nil.
func (m *MapFile) Map(name string) *MapVar {
	for i := range m.Maps {
		if m.Maps[i].Name == name {
			return &m.Maps[i]
		}
	}
	return nil
}

// Float returns the global attribute name as a number; ok is false when it is absent or not a
// number ("NaN" and "+Inf" are numbers).
func (m *MapFile) Float(name string) (v float64, ok bool) {
	s, ok := m.Attrs[name]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// ReadMapFile reads a map file: the coordinate variables lat and lon, every float variable on
// (lat, lon), and the global attributes. It needs at least one map and gives typed errors that
// name the file.
func ReadMapFile(path string) (*MapFile, error) {
	const hint = "pass a map file written by climxai decaymap"
	f, err := OpenChecked(path, hint)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	coord := func(name string) ([]float64, error) {
		v, err := f.Var(name)
		if err != nil || len(v.Dims) != 1 || v.Dims[0].Name != name || v.Dims[0].Len < 1 {
			return nil, errorf(path, ErrNoCoordinate, hint, "no coordinate variable %q on its own dimension", name)
		}
		c, err := v.ReadFloat64(nil, nil)
		if err != nil {
			return nil, &Error{Path: path, Kind: ErrTruncated, Msg: err.Error(), Hint: "the file may be damaged; write it again"}
		}
		for i, x := range c {
			// Latitudes may descend (a card with lat_step < 0); either way strictly.
			if math.IsNaN(x) || math.IsInf(x, 0) || (i > 1 && (x-c[i-1])*(c[i-1]-c[i-2]) <= 0) || (i == 1 && x == c[0]) {
				return nil, errorf(path, ErrIrregularGrid, hint, "%s is not strictly monotonic and finite at index %d", name, i)
			}
		}
		return c, nil
	}
	m := &MapFile{Attrs: map[string]string{}}
	if m.Grid.Lat, err = coord("lat"); err != nil {
		return nil, err
	}
	if m.Grid.Lon, err = coord("lon"); err != nil {
		return nil, err
	}
	vars, err := f.Vars()
	if err != nil {
		return nil, &Error{Path: path, Kind: ErrTruncated, Msg: err.Error(), Hint: "the file may be damaged; write it again"}
	}
	for _, v := range vars {
		if len(v.Dims) != 2 || v.Dims[0].Name != "lat" || v.Dims[1].Name != "lon" || (v.Type != netcdf.Float && v.Type != netcdf.Double) {
			continue
		}
		vals, err := v.ReadFloat32(nil, nil)
		if err != nil {
			return nil, &Error{Path: path, Kind: ErrTruncated, Msg: err.Error(), Hint: "the file may be damaged; write it again"}
		}
		fv := FillValue
		if at, err := v.Attr("_FillValue"); err == nil && len(at.Values) == 1 {
			fv = float32(at.Values[0])
		}
		for i, x := range vals {
			if x == fv {
				vals[i] = float32(math.NaN())
			}
		}
		mv := MapVar{Name: v.Name, Values: vals}
		if at, err := v.Attr("units"); err == nil {
			mv.Units = at.Text
		}
		if at, err := v.Attr("long_name"); err == nil {
			mv.LongName = at.Text
		}
		m.Maps = append(m.Maps, mv)
	}
	if len(m.Maps) == 0 {
		return nil, errorf(path, ErrNoVariable, hint, "no float variable on (lat, lon)")
	}
	attrs, err := f.Attrs()
	if err != nil {
		return nil, &Error{Path: path, Kind: ErrTruncated, Msg: err.Error(), Hint: "the file may be damaged; write it again"}
	}
	for _, at := range attrs {
		val := at.Text
		if at.Numeric() && len(at.Values) == 1 {
			val = strconv.FormatFloat(at.Values[0], 'g', -1, 64)
		}
		m.Attrs[at.Name] = val
	}
	return m, nil
}
