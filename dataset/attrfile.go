package dataset

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"climxai/dataset/netcdf"
)

// AttributionFile is an attribution result as stored on disk, in the layout of the contract
// (DESIGN.md): attribution(lag, lat, lon) float32 with coordinate variables lag (months), lat and
// lon, and global attributes naming the method, its parameters, the target, lead, init month,
// the model file's SHA-256 and the data file. Aggregates add a sample count.
type AttributionFile struct {
	Grid   Grid
	Lags   []int      // lag k of each slab: month t-k
	Values []float32  // [lag][lat][lon], NaN on land
	Extra  []LagField // further (lag, lat, lon) variables, e.g. an aggregate's signed mean
	Meta   AttributionMeta
}

// LagField is one more (lag, lat, lon) variable of an attribution file.
type LagField struct {
	Name, Units, LongName string
	Values                []float32
}

// AttributionMeta is the provenance of an attribution result, written as global attributes with
// the names in the struct tags' comments. Samples is 0 for a single explanation.
type AttributionMeta struct {
	Method      string            // method
	Parameters  string            // parameters, e.g. "steps=64 baseline=zero quadrature=riemann"
	Target      string            // target, as given (e.g. "55,-35" or "box:50,60,-40,-20")
	Lead        int               // lead (months)
	Init        string            // init_month (YYYY-MM), empty for aggregates
	ModelFile   string            // model_file
	ModelSHA256 string            // model_sha256
	DataFile    string            // data_file
	Samples     int               // samples (aggregates)
	Version     string            // climxai_version
	Other       map[string]string // any further attributes (device, completeness_delta, ...)
}

// InputVariables are the input variables the file names (input_variables), the first being
// attribution's; nil for a file of an emulator that reads one variable.
func (a *AttributionFile) InputVariables() []string {
	if v := strings.Fields(a.Meta.Other["input_variables"]); len(v) > 1 {
		return v
	}
	return nil
}

// InputVariable returns the attributions to input variable name of a file of an emulator with
// several (attribution for the first, attribution_NAME for the others), or with name "all"
// their sum over every variable, [lag][lat][lon]. A file of one variable has attribution alone,
// under any name of "", "all" and "attribution".
func (a *AttributionFile) InputVariable(name string) ([]float32, error) {
	vars := a.InputVariables()
	switch {
	case name == "" || name == "attribution" || vars == nil && name == "all":
		return a.Values, nil
	case vars == nil:
		return nil, &Error{Kind: ErrNoVariable, Msg: "no input variable " + name + ": the file holds the attributions of an emulator with one input variable",
			Hint: "leave out the variable"}
	}
	block := func(v string) ([]float32, error) {
		if v == vars[0] {
			return a.Values, nil
		}
		for _, e := range a.Extra {
			if e.Name == "attribution_"+v {
				return e.Values, nil
			}
		}
		return nil, &Error{Kind: ErrNoVariable, Msg: "no variable attribution_" + v + " for input variable " + v,
			Hint: "write the file again with climxai (explain or aggregate)"}
	}
	if name != "all" {
		if !slices.Contains(vars, name) {
			return nil, &Error{Kind: ErrNoVariable, Msg: "no input variable " + name,
				Hint: "the file holds the input variables " + strings.Join(vars, ", ") + " (or all, their sum)"}
		}
		return block(name)
	}
	sum := append([]float32(nil), a.Values...)
	for _, v := range vars[1:] {
		b, err := block(v)
		if err != nil {
			return nil, err
		}
		for j, x := range b {
			sum[j] += x
		}
	}
	return sum, nil
}

func (a *AttributionFile) check(path string) error {
	n := len(a.Lags) * a.Grid.Size()
	if len(a.Lags) == 0 || len(a.Values) != n {
		return fmt.Errorf("dataset: cannot write %s: attribution has %d values for %d lags on a %dx%d grid", path, len(a.Values), len(a.Lags), a.Grid.NLat(), a.Grid.NLon())
	}
	for _, e := range a.Extra {
		if len(e.Values) != n || e.Name == "" || e.Name == "attribution" {
			return fmt.Errorf("dataset: cannot write %s: extra variable %q has %d values, want %d and a new name", path, e.Name, len(e.Values), n)
		}
	}
	return nil
}

// WriteAttribution writes a result file atomically.
func WriteAttribution(path string, a *AttributionFile) error {
	if err := a.check(path); err != nil {
		return err
	}
	return WriteAtomic(path, func(tmp string) error {
		f, err := netcdf.Create(tmp, netcdf.NetCDF4)
		if err != nil {
			return err
		}
		defer f.Close()
		ldim, err := f.DefDim("lag", len(a.Lags))
		if err != nil {
			return err
		}
		lat, lon, writeGrid, err := gridVars(f, a.Grid)
		if err != nil {
			return err
		}
		vlag, err := f.DefVar("lag", netcdf.Int, []netcdf.Dim{ldim})
		if err != nil {
			return err
		}
		if err := vlag.PutAttr("units", "months"); err != nil {
			return err
		}
		if err := vlag.PutAttr("long_name", "lag k before the init month t (input month t-k)"); err != nil {
			return err
		}
		dims := []netcdf.Dim{ldim, lat, lon}
		vars := []*netcdf.Var{}
		fields := append([]LagField{{Name: "attribution", Units: "1", LongName: "attribution of the target's forecast to each input value (" + a.Meta.Method + ")", Values: a.Values}}, a.Extra...)
		for _, fd := range fields {
			v, err := dataVar(f, fd.Name, dims, map[string]string{"units": fd.Units, "long_name": fd.LongName})
			if err != nil {
				return err
			}
			vars = append(vars, v)
		}
		m := a.Meta
		g := map[string]string{
			"method": m.Method, "parameters": m.Parameters, "target": m.Target, "lead": strconv.Itoa(m.Lead),
			"init_month": m.Init, "model_file": m.ModelFile, "model_sha256": m.ModelSHA256, "data_file": m.DataFile,
			"climxai_version": m.Version,
		}
		if m.Samples > 0 {
			g["samples"] = strconv.Itoa(m.Samples)
		}
		for k, v := range m.Other {
			g[k] = v
		}
		if err := netcdf.PutAttrs(f.PutAttr, provenance("climxai attribution ("+m.Method+")", g)); err != nil {
			return err
		}
		if err := f.EndDef(); err != nil {
			return err
		}
		lags := make([]int32, len(a.Lags))
		for i, k := range a.Lags {
			lags[i] = int32(k)
		}
		if err := vlag.WriteInt32(nil, nil, lags); err != nil {
			return err
		}
		if err := writeGrid(); err != nil {
			return err
		}
		for i, v := range vars {
			if err := v.WriteFloat32(nil, nil, WithFill(fields[i].Values)); err != nil {
				return err
			}
		}
		return f.Close()
	})
}

// ReadAttribution reads a result file written by WriteAttribution (or by another tool in the
// same layout), checking the layout and giving typed errors that name the file.
func ReadAttribution(path string) (*AttributionFile, error) {
	f, err := OpenChecked(path, "pass a result file written by climxai explain or aggregate")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bad := func(format string, a ...any) error {
		return errorf(path, ErrNoVariable, "pass a result file written by climxai explain or aggregate", format, a...)
	}
	va, err := f.Var("attribution")
	if err != nil {
		return nil, bad("no variable 'attribution'")
	}
	if len(va.Dims) != 3 || va.Dims[0].Name != "lag" {
		return nil, bad("variable 'attribution' has dimensions %v, want (lag, lat, lon)", dimNames(va.Dims))
	}
	coord := func(name string, want int) ([]float64, error) {
		v, err := f.Var(name)
		if err != nil || len(v.Dims) != 1 || v.Dims[0].Len != want {
			return nil, bad("coordinate variable %q missing or not of length %d", name, want)
		}
		return v.ReadFloat64(nil, nil)
	}
	a := &AttributionFile{}
	lags, err := coord("lag", va.Dims[0].Len)
	if err != nil {
		return nil, err
	}
	for _, k := range lags {
		a.Lags = append(a.Lags, int(k))
	}
	if a.Grid.Lat, err = coord(va.Dims[1].Name, va.Dims[1].Len); err != nil {
		return nil, err
	}
	if a.Grid.Lon, err = coord(va.Dims[2].Name, va.Dims[2].Len); err != nil {
		return nil, err
	}
	read := func(v *netcdf.Var) ([]float32, error) {
		vals, err := v.ReadFloat32(nil, nil)
		if err != nil {
			return nil, &Error{Path: path, Kind: ErrTruncated, Msg: err.Error(), Hint: "the file may be damaged; write it again"}
		}
		fv := float32(FillValue)
		if at, err := v.Attr("_FillValue"); err == nil && len(at.Values) == 1 {
			fv = float32(at.Values[0])
		}
		for i, x := range vals {
			if x == fv {
				vals[i] = float32(math.NaN())
			}
		}
		return vals, nil
	}
	if a.Values, err = read(va); err != nil {
		return nil, err
	}
	vars, err := f.Vars()
	if err != nil {
		return nil, bad("%v", err)
	}
	for _, v := range vars {
		if v.Name == "attribution" || len(v.Dims) != 3 || v.Dims[0].Name != "lag" || v.Type != netcdf.Float {
			continue
		}
		vals, err := read(v)
		if err != nil {
			return nil, err
		}
		lf := LagField{Name: v.Name, Values: vals}
		if at, err := v.Attr("units"); err == nil {
			lf.Units = at.Text
		}
		if at, err := v.Attr("long_name"); err == nil {
			lf.LongName = at.Text
		}
		a.Extra = append(a.Extra, lf)
	}
	attrs, err := f.Attrs()
	if err != nil {
		return nil, bad("%v", err)
	}
	m := &a.Meta
	m.Other = map[string]string{}
	for _, at := range attrs {
		val := at.Text
		if at.Numeric() && len(at.Values) == 1 {
			val = strconv.FormatFloat(at.Values[0], 'g', -1, 64)
		}
		switch at.Name {
		case "method":
			m.Method = val
		case "parameters":
			m.Parameters = val
		case "target":
			m.Target = val
		case "lead":
			m.Lead, _ = strconv.Atoi(val)
		case "init_month":
			m.Init = val
		case "model_file":
			m.ModelFile = val
		case "model_sha256":
			m.ModelSHA256 = val
		case "data_file":
			m.DataFile = val
		case "samples":
			m.Samples, _ = strconv.Atoi(val)
		case "climxai_version":
			m.Version = val
		default:
			m.Other[at.Name] = val
		}
	}
	return a, nil
}

func dimNames(ds []netcdf.Dim) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name
	}
	return out
}
