package dataset

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Decoding of stored values into physical SST, following CF conventions §2.5.1 "Missing data,
// valid and actual range of data" and §8.1 "Packed data": _FillValue, missing_value (scalar or
// vector) and valid_min/valid_max/valid_range are compared with the values as stored (packed),
// and only the valid ones are unpacked as stored*scale_factor + add_offset.

// IceFreezing is the SST (°C) written where HadISST marks sea ice with its -1000 sentinel: the
// freezing point of seawater at a salinity of about 34 psu.
const IceFreezing = -1.8

// iceSentinel is the threshold at or below which a non-missing °C value is HadISST's sea-ice mark.
const iceSentinel = -999

// Plausible SST range (°C): values outside add a notice, not an error.
const (
	plausibleMin = -5
	plausibleMax = 45
)

// defaultFill is libnetcdf's default fill value per type (netcdf.h NC_FILL_*): what unwritten
// values read as when a variable has no _FillValue. Bytes are left out, as the NetCDF user guide
// advises, since every byte value may be data.
var defaultFill = map[string]float64{
	"short": -32767, "int": -2147483647, "float": 9.9692099683868690e+36, "double": 9.9692099683868690e+36,
	"ushort": 65535, "uint": 4294967295, "int64": -9223372036854775806, "uint64": 18446744073709551614,
}

// packing is how a variable's stored values become physical values.
type packing struct {
	Fill       []float64 // _FillValue, or the type's default fill when absent
	FillSet    bool      // _FillValue was given explicitly
	Missing    []float64 // missing_value, scalar or vector
	ValidMin   float64   // -Inf when not given
	ValidMax   float64   // +Inf when not given
	ValidRange bool      // valid_* were given
	validRaw   bool      // valid_* are in the stored domain (the CF rule) rather than the unpacked one
	Scale      float64
	Offset     float64
	Packed     bool // scale_factor or add_offset present
}

// packingOf reads v's missing-value and packing attributes.
func packingOf(v *varInfo) packing {
	p := packing{ValidMin: math.Inf(-1), ValidMax: math.Inf(1), Scale: 1, validRaw: true}
	num := func(name string) ([]float64, attrInfo, bool) {
		a, ok := v.attr(name)
		if !ok || !a.Numeric || len(a.Values) == 0 {
			return nil, a, false
		}
		return a.Values, a, true
	}
	if x, _, ok := num("_FillValue"); ok {
		p.Fill, p.FillSet = x[:1], true
	} else if f, ok := defaultFill[v.Type]; ok {
		p.Fill = []float64{f}
	}
	if x, _, ok := num("missing_value"); ok {
		p.Missing = x
	}
	if x, _, ok := num("scale_factor"); ok && x[0] != 0 && !math.IsNaN(x[0]) {
		p.Scale, p.Packed = x[0], true
	}
	if x, _, ok := num("add_offset"); ok && !math.IsNaN(x[0]) {
		p.Offset, p.Packed = x[0], true
	}
	var validType string
	if x, a, ok := num("valid_range"); ok && len(x) >= 2 {
		p.ValidMin, p.ValidMax, p.ValidRange, validType = x[0], x[1], true, a.Type
	}
	if x, a, ok := num("valid_min"); ok {
		p.ValidMin, p.ValidRange, validType = x[0], true, a.Type
	}
	if x, a, ok := num("valid_max"); ok {
		p.ValidMax, p.ValidRange, validType = x[0], true, a.Type
	}
	// CF wants valid_* in the packed type; files that give them as floats on a packed integer
	// variable mean physical values (netCDF4-python reads them the same way).
	if p.Packed && v.Integer && (validType == "float" || validType == "double") {
		p.validRaw = false
	}
	return p
}

// sameValue compares a stored value with an attribute value, also after rounding both to
// float32: a double missing_value of 1e20 on a float variable marks the float nearest 1e20.
func sameValue(x, a float64) bool {
	return x == a || float32(x) == float32(a)
}

// missingRaw reports whether stored value x is missing.
func (p *packing) missingRaw(x float64) bool {
	if math.IsNaN(x) {
		return true
	}
	for _, f := range p.Fill {
		if sameValue(x, f) {
			return true
		}
	}
	for _, m := range p.Missing {
		if sameValue(x, m) {
			return true
		}
	}
	if p.ValidRange && p.validRaw && (x < p.ValidMin || x > p.ValidMax) {
		return true
	}
	return false
}

// unpack returns the physical value of stored value x, NaN if missing or invalid.
func (p *packing) unpack(x float64) float64 {
	if p.missingRaw(x) {
		return math.NaN()
	}
	y := x*p.Scale + p.Offset
	if p.ValidRange && !p.validRaw && (y < p.ValidMin || y > p.ValidMax) {
		return math.NaN()
	}
	if math.IsInf(y, 0) {
		return math.NaN()
	}
	return y
}

// tempScale is a temperature unit.
type tempScale int

const (
	unitsUnknown tempScale = iota
	unitsCelsius
	unitsKelvin
	unitsFahrenheit
	unitsAsIs // not a temperature to convert: OpenOptions.Raw
)

// parseTempUnits recognises the spellings of Celsius, kelvin and Fahrenheit found in SST files
// (UDUNITS names and common variants: "degC", "degree_Celsius", "deg C", "K", "degK",
// "degrees_K", "kelvin", ...).
func parseTempUnits(u string) tempScale {
	s := strings.ToLower(strings.TrimSpace(u))
	s = strings.NewReplacer("°", "deg", " ", "", "_", "", "-", "").Replace(s)
	for _, p := range []string{"degrees", "degree", "deg"} {
		if strings.HasPrefix(s, p) {
			s = s[len(p):]
			break
		}
	}
	switch s {
	case "c", "celsius", "centigrade", "celcius":
		return unitsCelsius
	case "k", "kelvin", "kelvins":
		return unitsKelvin
	case "f", "fahrenheit":
		return unitsFahrenheit
	}
	return unitsUnknown
}

// decoder turns stored values of an SST variable into °C, counting what it did.
type decoder struct {
	p        packing
	scale    tempScale // of the unpacked values
	iceCheck bool      // HadISST's -1000 sea-ice sentinel is replaced (source in °C)

	valid, missing, ice, implausible int
	min, max                         float64
}

// newDecoder prepares decoding of v. sample is some stored values, used only to guess the
// temperature scale when the units attribute is absent or unrecognised.
func newDecoder(v *varInfo, sample []float64) *decoder {
	d := &decoder{p: packingOf(v), min: math.Inf(1), max: math.Inf(-1)}
	d.scale = parseTempUnits(v.text("units"))
	if d.scale == unitsUnknown {
		d.scale = unitsCelsius
		var vals []float64
		for _, x := range sample {
			if y := d.p.unpack(x); !math.IsNaN(y) && y > -900 {
				vals = append(vals, y)
			}
		}
		if len(vals) > 0 {
			sort.Float64s(vals)
			if vals[len(vals)/2] > 150 {
				d.scale = unitsKelvin
			}
		}
	}
	d.iceCheck = d.scale == unitsCelsius
	return d
}

// asIs makes d decode a variable in its own units: no conversion, no sea-ice mark, no SST
// plausibility count (OpenOptions.Raw).
func (d *decoder) asIs() {
	d.scale, d.iceCheck = unitsAsIs, false
}

// decode converts stored values raw into °C in out (same length).
func (d *decoder) decode(raw []float64, out []float32) {
	parts := min(runtime.GOMAXPROCS(0), len(raw)/(1<<15))
	if parts < 2 {
		d.decodePart(raw, out)
		return
	}
	// Parts decode on every core, each counting into its own decoder; the counts are summed.
	ds := make([]decoder, parts)
	var wg sync.WaitGroup
	for k := range ds {
		ds[k] = decoder{p: d.p, scale: d.scale, iceCheck: d.iceCheck, min: math.Inf(1), max: math.Inf(-1)}
		lo, hi := len(raw)*k/parts, len(raw)*(k+1)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds[k].decodePart(raw[lo:hi], out[lo:hi])
		}()
	}
	wg.Wait()
	for _, e := range ds {
		d.valid += e.valid
		d.missing += e.missing
		d.ice += e.ice
		d.implausible += e.implausible
		d.min = math.Min(d.min, e.min)
		d.max = math.Max(d.max, e.max)
	}
}

// decodePart is decode on one goroutine.
func (d *decoder) decodePart(raw []float64, out []float32) {
	for i, x := range raw {
		y := d.p.unpack(x)
		if math.IsNaN(y) {
			d.missing++
			out[i] = float32(math.NaN())
			continue
		}
		switch d.scale {
		case unitsKelvin:
			y -= 273.15
		case unitsFahrenheit:
			y = (y - 32) * 5 / 9
		}
		if d.iceCheck && y <= iceSentinel {
			d.ice++
			y = IceFreezing
		}
		if d.scale != unitsAsIs && (y < plausibleMin || y > plausibleMax) {
			d.implausible++
		}
		if y < d.min {
			d.min = y
		}
		if y > d.max {
			d.max = y
		}
		d.valid++
		out[i] = float32(y)
	}
}

// notices returns what the user should know about the decoding of variable v.
func (d *decoder) notices(v *varInfo) []string {
	var out []string
	units := v.text("units")
	switch {
	case d.scale == unitsAsIs:
		if units == "" {
			out = append(out, fmt.Sprintf("%s has no units attribute; its values were read as stored", v.Name))
		}
	case units == "" && d.scale == unitsKelvin:
		out = append(out, fmt.Sprintf("%s has no units attribute; its values look like kelvin and were converted to °C (minus 273.15)", v.Name))
	case units == "":
		out = append(out, fmt.Sprintf("%s has no units attribute; its values were read as °C", v.Name))
	case parseTempUnits(units) == unitsUnknown && d.scale == unitsKelvin:
		out = append(out, fmt.Sprintf("%s has units %q, which are not a temperature; its values look like kelvin and were converted to °C", v.Name, units))
	case parseTempUnits(units) == unitsUnknown:
		out = append(out, fmt.Sprintf("%s has units %q, which are not a temperature; its values were read as °C", v.Name, units))
	case d.scale == unitsKelvin:
		out = append(out, fmt.Sprintf("%s is in kelvin (units %q); converted to °C by subtracting 273.15", v.Name, units))
	case d.scale == unitsFahrenheit:
		out = append(out, fmt.Sprintf("%s is in Fahrenheit (units %q); converted to °C", v.Name, units))
	}
	if d.ice > 0 {
		out = append(out, fmt.Sprintf("%d values at or below %d °C (HadISST's sea-ice mark) were set to %.1f °C, the freezing point of seawater",
			d.ice, iceSentinel, IceFreezing))
	}
	if d.implausible > 0 {
		out = append(out, fmt.Sprintf("%d values lie outside the plausible SST range %d..%d °C (min %.4g, max %.4g); check the units and missing-value attributes",
			d.implausible, plausibleMin, plausibleMax, d.min, d.max))
	}
	return out
}
