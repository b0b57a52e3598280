package dataset

import (
	"encoding/json"
	"math"
	"strconv"
)

// Info describes an SST file as climxai reads it: what `climxai info` prints. Its JSON keys are
// part of the command-line contract.
type Info struct {
	File          string       `json:"file"`
	Format        string       `json:"format"` // "NetCDF-3 classic", "NetCDF-4/HDF5", ...
	Variables     []VarSummary `json:"variables"`
	Variable      string       `json:"variable"` // the data variable read
	Units         string       `json:"units"`    // after decoding: "degC"
	Lat           LatInfo      `json:"lat"`
	Lon           LonInfo      `json:"lon"`
	Time          TimeInfo     `json:"time"`
	Missing       MissingInfo  `json:"missing"`
	OceanFraction float64      `json:"ocean_fraction"` // cells with a value in every month / all cells
	Notices       []string     `json:"notices"`
	Series        *Series      `json:"-"` // the decoded data
}

// VarSummary is one variable of the file.
type VarSummary struct {
	Name     string   `json:"name"`
	Dims     []string `json:"dims"`
	Shape    []int    `json:"shape"`
	Type     string   `json:"type"` // CDL type: float, short, double, ...
	Units    string   `json:"units"`
	LongName string   `json:"long_name"`
}

// LatInfo describes the latitude axis in the file's order.
type LatInfo struct {
	N     int      `json:"n"`
	First float64  `json:"first"`
	Last  float64  `json:"last"`
	Step  *float64 `json:"step"`  // signed (negative when descending); null if irregular
	Order string   `json:"order"` // "ascending" or "descending"
}

// LonInfo describes the longitude axis (increasing, in the file's convention).
type LonInfo struct {
	N          int      `json:"n"`
	First      float64  `json:"first"`
	Last       float64  `json:"last"`
	Step       *float64 `json:"step"`       // null if irregular
	Convention string   `json:"convention"` // "0..360" or "-180..180"
	Global     bool     `json:"global"`     // a regular axis covering 360 degrees
}

// TimeInfo describes the time axis.
type TimeInfo struct {
	First    string `json:"first"` // YYYY-MM
	Last     string `json:"last"`
	Months   int    `json:"months"`
	Calendar string `json:"calendar"` // canonical CF name
	Units    string `json:"units"`    // as in the file
}

// MissingInfo gives the data variable's missing-value and packing attributes as stored.
type MissingInfo struct {
	FillValue        *Number  `json:"fill_value"`    // _FillValue, null if absent
	MissingValue     []Number `json:"missing_value"` // null if absent
	ValidRange       []Number `json:"valid_range"`   // [min, max] from valid_range or valid_min/valid_max; null if absent
	ScaleFactor      *Number  `json:"scale_factor"`
	AddOffset        *Number  `json:"add_offset"`
	Packed           bool     `json:"packed"`
	IceSentinelCount int      `json:"ice_sentinel_count"` // values ≤ -999 °C set to the freezing point
}

// Number is a float64 that survives JSON when it is not finite: NaN and ±Inf (a NaN _FillValue
// is common in files written by xarray) are written as the strings "NaN", "Infinity",
// "-Infinity".
type Number float64

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(f)
}

// String formats n compactly.
func (n Number) String() string { return strconv.FormatFloat(float64(n), 'g', -1, 64) }

// Inspect reads a file like Open (without a minimum length) and describes it. varName selects
// the data variable as OpenOptions.Var does. Errors are those of Open.
func Inspect(path, varName string) (*Info, error) {
	return InspectWith(path, OpenOptions{Var: varName})
}

// InspectWith is Inspect reading as opt says: with Raw, a further input variable in its own
// units (what an emulator card's [[input]] table reads).
func InspectWith(path string, opt OpenOptions) (*Info, error) {
	s, rep, err := load(path, opt)
	if err != nil {
		return nil, err
	}
	data := rep.lay.Data
	info := &Info{
		File:          path,
		Format:        rep.format,
		Variable:      data.Name,
		Units:         s.Units,
		OceanFraction: rep.ocean,
		Notices:       append([]string{}, s.Notices...),
		Series:        s,
	}
	for _, v := range rep.vars {
		info.Variables = append(info.Variables, VarSummary{Name: v.Name, Dims: append([]string{}, v.Dims...),
			Shape: append([]int{}, v.Shape...), Type: v.Type, Units: v.text("units"), LongName: v.text("long_name")})
	}
	step := func(x []float64) *float64 {
		if s := regularStep(x); !math.IsNaN(s) {
			return &s
		}
		return nil
	}
	lat, lon := s.Grid.Lat, s.Grid.Lon
	info.Lat = LatInfo{N: len(lat), First: lat[0], Last: lat[len(lat)-1], Step: step(lat), Order: string(rep.latOrder)}
	info.Lon = LonInfo{N: len(lon), First: lon[0], Last: lon[len(lon)-1], Step: step(lon), Convention: lonConvention(lon)}
	if info.Lon.Step != nil {
		info.Lon.Global = lonGlobal(lon, *info.Lon.Step)
	}
	info.Time = TimeInfo{First: s.Start.String(), Last: s.Month(s.N - 1).String(), Months: s.N,
		Calendar: s.Calendar, Units: rep.timeUnits}

	num := func(name string) []Number {
		a, ok := data.attr(name)
		if !ok || !a.Numeric || len(a.Values) == 0 {
			return nil
		}
		out := make([]Number, len(a.Values))
		for i, v := range a.Values {
			out[i] = Number(v)
			if a.Type == "float" {
				// Shortest decimal of the float32, so that -1e30f reads as -1e+30.
				f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 32), 64)
				out[i] = Number(f)
			}
		}
		return out
	}
	first := func(x []Number) *Number {
		if len(x) == 0 {
			return nil
		}
		return &x[0]
	}
	m := &info.Missing
	m.FillValue = first(num("_FillValue"))
	m.MissingValue = num("missing_value")
	if p := rep.pack; p.ValidRange {
		m.ValidRange = []Number{Number(p.ValidMin), Number(p.ValidMax)}
	}
	m.ScaleFactor = first(num("scale_factor"))
	m.AddOffset = first(num("add_offset"))
	m.Packed = rep.pack.Packed
	m.IceSentinelCount = rep.dec.ice
	return info, nil
}
