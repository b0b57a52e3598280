package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// ErrLayout is a data variable whose dimensions climxai cannot map onto (time, lat, lon): several
// vertical levels, or the dimensions in another order.
var ErrLayout = errors.New("unsupported variable layout")

// attrInfo is one attribute of a variable: text or numbers.
type attrInfo struct {
	Name    string
	Text    string    // char and string attributes
	Values  []float64 // numeric attributes
	Numeric bool
	Type    string // CDL type name (short, float, ...)
}

// varInfo is what coordinate detection needs to know about a variable: plain metadata,
// independent of the NetCDF binding so that the rules are testable on their own.
type varInfo struct {
	Name    string
	Type    string // CDL type name
	Integer bool   // stored as an integer type (so possibly packed)
	Dims    []string
	Shape   []int
	Attrs   []attrInfo
}

// attr returns the attribute called name.
func (v *varInfo) attr(name string) (attrInfo, bool) {
	for _, a := range v.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return attrInfo{}, false
}

// text returns a text attribute, trimmed, or "" when absent or numeric.
func (v *varInfo) text(name string) string {
	a, ok := v.attr(name)
	if !ok || a.Numeric {
		return ""
	}
	return strings.TrimSpace(a.Text)
}

// cfAxis is the role of a coordinate.
type cfAxis int

const (
	axisNone cfAxis = iota
	axisT
	axisZ
	axisY
	axisX
	axisRotated // grid_latitude/grid_longitude or projection coordinates: not a lat-lon grid
)

func (a cfAxis) String() string {
	return [...]string{"none", "time", "level", "latitude", "longitude", "projected"}[a]
}

// Units of latitude and longitude accepted by CF §4.1 and §4.2 (and UDUNITS spellings of them).
var (
	latUnits = regexp.MustCompile(`^(?i)degrees?_?(north|n)$`)
	lonUnits = regexp.MustCompile(`^(?i)degrees?_?(east|e)$`)
	since    = regexp.MustCompile(`(?i)^\s*\w+\s+since\s+`)
)

// isDegrees reports whether units are plain degrees (or absent), which a coordinate named
// like lat/lon may carry.
func isDegrees(u string) bool {
	u = strings.ToLower(u)
	return u == "" || u == "degree" || u == "degrees" || u == "deg" || latUnits.MatchString(u) || lonUnits.MatchString(u)
}

// classify decides the cfAxis of a coordinate variable, in the order of reliability CF gives
// (§4): standard_name, then units, then the cfAxis attribute, then the common names.
func classify(v *varInfo) cfAxis {
	sn := strings.ToLower(v.text("standard_name"))
	units := v.text("units")
	ax := strings.ToUpper(v.text("axis"))
	name := strings.ToLower(v.Name)
	switch sn {
	case "time":
		return axisT
	case "latitude":
		return axisY
	case "longitude":
		return axisX
	case "grid_latitude", "grid_longitude", "projection_x_coordinate", "projection_y_coordinate":
		return axisRotated
	case "depth", "height", "altitude", "air_pressure", "model_level_number", "atmosphere_sigma_coordinate":
		return axisZ
	}
	switch {
	case since.MatchString(units):
		return axisT
	case latUnits.MatchString(units):
		return axisY
	case lonUnits.MatchString(units):
		return axisX
	}
	switch ax {
	case "T":
		return axisT
	case "Z":
		return axisZ
	case "Y":
		if isDegrees(units) {
			return axisY
		}
		return axisRotated
	case "X":
		if isDegrees(units) {
			return axisX
		}
		return axisRotated
	}
	if v.text("positive") != "" {
		return axisZ // CF §4.3: only vertical coordinates carry "positive"
	}
	switch name {
	case "time", "t", "time_counter", "times", "date":
		return axisT
	case "lat", "latitude", "nav_lat", "lats", "latitudes", "xlat", "y":
		if isDegrees(units) {
			return axisY
		}
	case "lon", "longitude", "nav_lon", "lons", "longitudes", "xlong", "x":
		if isDegrees(units) {
			return axisX
		}
	case "lev", "level", "levels", "depth", "z", "zlev", "plev", "height", "deptht", "olevel":
		return axisZ
	}
	return axisNone
}

// layout is where the pieces of an SST field live in a file.
type layout struct {
	Data           *varInfo
	Time, Lat, Lon *varInfo // the coordinate variables
	TimeDim        int      // index of the time dimension in Data.Dims
	LatDim, LonDim int
	Squeezed       []int    // indices of singleton dimensions dropped (a single level)
	TimeBounds     *varInfo // the time variable's bounds (CF §7.1), if any
	// ZDim is the index of a vertical dimension of several levels, -1 for none (allowed only
	// when findLayout was asked for a level), Z its coordinate variable (nil when it has none)
	// and ZIndex the level read (OpenOptions.Level picks it).
	ZDim   int
	Z      *varInfo
	ZIndex int
	// ZBounds is Z's bounds variable ([levels, 2], CF §7.1), if any: the levels' edges for a
	// layer mean (OpenOptions.Layer).
	ZBounds *varInfo
	// Curvi, when not nil, holds the two-dimensional latitude and longitude of a curvilinear
	// grid (CMIP's ocean models on their own grids); LatDim and LonDim are then the data's
	// dimensions of those variables' first and second dimension, and Lat and Lon are nil.
	Curvi *curvilinear
	// Win, when not nil, is the block of the LatDim x LonDim cells that is read (a curvilinear
	// grid's cells that a card's grid uses); nil reads them all.
	Win *window
}

// window is a block of cells: rows Y0 to Y0+NY-1 of LatDim, columns X0 to X0+NX-1 of LonDim.
type window struct{ Y0, NY, X0, NX int }

// horizontal returns the block of cells read: lay.Win, or every cell.
func (lay *layout) horizontal() window {
	if lay.Win != nil {
		return *lay.Win
	}
	return window{0, lay.Data.Shape[lay.LatDim], 0, lay.Data.Shape[lay.LonDim]}
}

// curvilinear is a grid of two-dimensional latitude and longitude variables (y, x).
type curvilinear struct {
	Lat, Lon *varInfo
}

// sstNames are the data-variable names tried, in order, when --var is not given.
var sstNames = []string{"sst", "tos", "SST", "analysed_sst", "TOS", "sea_surface_temperature", "SSTK"}

// regridHint tells the user what to do with a grid climxai cannot use.
const regridHint = "regrid to a regular latitude-longitude grid first, e.g. cdo remapbil,r360x180 in.nc out.nc"

// varNames lists the names of vars for messages.
func varNames(vars []*varInfo) string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}

// findLayout finds the data variable (wantVar if not empty) and its time, latitude and longitude
// coordinates among vars. A vertical dimension of several levels is an error unless level is
// set (OpenOptions.Level: one of them will be read).
func findLayout(path string, vars []*varInfo, wantVar string, level bool) (*layout, error) {
	// Bounds variables (CF §7.1) carry the units of their coordinate but are not coordinates.
	bounds := map[string]bool{}
	byName := map[string]*varInfo{}
	for _, v := range vars {
		byName[v.Name] = v
		if b := v.text("bounds"); b != "" {
			bounds[b] = true
		}
		if b := v.text("climatology"); b != "" {
			bounds[b] = true
		}
	}
	isBounds := func(v *varInfo) bool {
		return bounds[v.Name] || strings.HasSuffix(v.Name, "_bnds") || strings.HasSuffix(v.Name, "_bounds")
	}

	// A coordinate variable (CF §1.3) is one-dimensional and named like its dimension; failing
	// that, a one-dimensional variable on the dimension that is recognisably an axis.
	coordOf := map[string]*varInfo{}
	for _, v := range vars {
		if len(v.Dims) == 1 && v.Dims[0] == v.Name {
			coordOf[v.Name] = v
		}
	}
	for _, v := range vars {
		if len(v.Dims) == 1 && coordOf[v.Dims[0]] == nil && !isBounds(v) && classify(v) != axisNone {
			coordOf[v.Dims[0]] = v
		}
	}
	dimAxis := func(d string) cfAxis {
		if c := coordOf[d]; c != nil {
			return classify(c)
		}
		return axisNone
	}
	isCoord := func(v *varInfo) bool {
		return len(v.Dims) == 1 && coordOf[v.Dims[0]] == v || isBounds(v)
	}

	// The data variable.
	var data *varInfo
	switch {
	case wantVar != "":
		data = byName[wantVar]
		if data == nil {
			return nil, errorf(path, errAbsent, "pass --var with one of the variables in the file",
				"variable %q not found; variables in file: %s", wantVar, varNames(vars))
		}
	default:
		for _, n := range sstNames {
			if v := byName[n]; v != nil && len(v.Dims) >= 2 {
				data = v
				break
			}
		}
		if data == nil {
			for _, v := range vars {
				if sn := v.text("standard_name"); strings.HasPrefix(sn, "sea_surface_") && strings.HasSuffix(sn, "temperature") && len(v.Dims) >= 2 {
					data = v
					break
				}
			}
		}
		if data == nil {
			var cands []*varInfo
			for _, v := range vars {
				if isCoord(v) {
					continue
				}
				var seen [6]bool
				for _, d := range v.Dims {
					seen[dimAxis(d)] = true
				}
				if seen[axisT] && seen[axisY] && seen[axisX] {
					cands = append(cands, v)
				}
			}
			switch len(cands) {
			case 1:
				data = cands[0]
			case 0:
				return nil, errorf(path, ErrNoVariable, "pass --var with the name of the SST variable",
					"no variable on (time, latitude, longitude) found and none named %s; variables in file: %s",
					strings.Join(sstNames[:4], ", "), varNames(vars))
			default:
				return nil, errorf(path, ErrNoVariable, "pass --var to choose one",
					"several variables could be the SST: %s", varNames(cands))
			}
		}
	}
	if !data.numeric() {
		return nil, errorf(path, ErrNoVariable, "pass --var with a numeric variable",
			"variable %s is of type %s, not numeric; variables in file: %s", data.Name, data.Type, varNames(vars))
	}

	// Map its dimensions onto axes.
	lay := &layout{Data: data, TimeDim: -1, LatDim: -1, LonDim: -1, ZDim: -1}
	lay.Curvi = curvilinearOf(data, vars, byName, isBounds)
	var order []cfAxis
	for i, d := range data.Dims {
		a := dimAxis(d)
		if c := lay.Curvi; c != nil && (d == c.Lat.Dims[0] || d == c.Lat.Dims[1]) {
			a = axisY
			if d == c.Lat.Dims[1] {
				a = axisX
			}
			if slices.Contains(order, a) {
				return nil, errorf(path, ErrLayout, "", "%s has two %s dimensions", data.Name, a)
			}
			order = append(order, a)
			if a == axisY {
				lay.LatDim = i
			} else {
				lay.LonDim = i
			}
			continue
		}
		switch a {
		case axisT, axisY, axisX:
			if slices.Contains(order, a) {
				return nil, errorf(path, ErrLayout, "", "%s has two %s dimensions", data.Name, a)
			}
			order = append(order, a)
			switch a {
			case axisT:
				lay.TimeDim, lay.Time = i, coordOf[d]
			case axisY:
				lay.LatDim, lay.Lat = i, coordOf[d]
			case axisX:
				lay.LonDim, lay.Lon = i, coordOf[d]
			}
		case axisRotated:
			return nil, errorf(path, ErrIrregularGrid, regridHint,
				"%s is on a rotated-pole or projected grid (dimension %s)", data.Name, d)
		default:
			if data.Shape[i] == 1 {
				lay.Squeezed = append(lay.Squeezed, i)
				continue
			}
			if a == axisZ && level && lay.ZDim < 0 {
				lay.ZDim, lay.Z = i, coordOf[d]
				continue
			}
			if a == axisZ {
				return nil, errorf(path, ErrLayout, "name the level to read (a card's [[input]] level = DEPTH, info --level) or the layer to average over (layer = [TOP, BOTTOM], info --layer), or select a level first, e.g. cdo sellevidx,1 in.nc out.nc",
					"%s has %d levels (dimension %s); climxai reads a single level", data.Name, data.Shape[i], d)
			}
			if lay.Lat == nil || lay.Lon == nil {
				// An unrecognised horizontal dimension: curvilinear if the variable names 2-D
				// latitude/longitude (CF §5.2 "coordinates" attribute), else unlabelled.
				if c := twoDCoord(data, vars, byName, isBounds); c != "" {
					return nil, errorf(path, ErrIrregularGrid, regridHint,
						"%s has two-dimensional latitude/longitude (%s): a curvilinear grid", data.Name, c)
				}
			}
			order = append(order, axisNone)
		}
	}
	missing := []string{}
	if lay.Lat == nil && lay.Curvi == nil {
		missing = append(missing, "latitude")
	}
	if lay.Lon == nil && lay.Curvi == nil {
		missing = append(missing, "longitude")
	}
	if lay.Time == nil {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return nil, errorf(path, ErrNoCoordinate,
			"give the coordinate variables CF attributes (standard_name, units such as degrees_north or "+
				"\"days since 1850-01-01\"), e.g. with ncatted",
			"no %s coordinate recognised for %s(%s)", strings.Join(missing, ", "), data.Name, strings.Join(data.Dims, ", "))
	}
	if !slices.Equal(order, []cfAxis{axisT, axisY, axisX}) {
		names := make([]string, len(order))
		for i, a := range order {
			names[i] = a.String()
		}
		return nil, errorf(path, ErrLayout, "reorder the dimensions first, e.g. ncpdq -a time,lat,lon in.nc out.nc",
			"%s is ordered (%s); climxai reads (time, latitude, longitude)", data.Name, strings.Join(names, ", "))
	}
	if b := lay.Time.text("bounds"); b != "" {
		if bv := byName[b]; bv != nil && len(bv.Dims) == 2 && bv.Dims[0] == lay.Time.Dims[0] && bv.Shape[1] == 2 {
			lay.TimeBounds = bv
		}
	}
	if lay.Z != nil {
		if bv := byName[lay.Z.text("bounds")]; bv != nil && len(bv.Dims) == 2 && bv.Dims[0] == lay.Z.Dims[0] && bv.Shape[1] == 2 {
			lay.ZBounds = bv
		}
	}
	return lay, nil
}

// curvilinearOf returns the two-dimensional latitude and longitude of data when it lies on a
// curvilinear grid: both named by its "coordinates" attribute (CF §5.2) or, failing that, on two
// of its dimensions, with the same two dimensions, each of several cells, and data having no
// one-dimensional latitude or longitude coordinate of its own. Otherwise it returns nil.
func curvilinearOf(data *varInfo, vars []*varInfo, byName map[string]*varInfo, isBounds func(*varInfo) bool) *curvilinear {
	var lat, lon *varInfo
	consider := func(v *varInfo) {
		if v == nil || len(v.Dims) != 2 || isBounds(v) || v == data || !v.numeric() ||
			!slices.Contains(data.Dims, v.Dims[0]) || !slices.Contains(data.Dims, v.Dims[1]) || v.Shape[0] < 2 || v.Shape[1] < 2 {
			return
		}
		switch classify(v) {
		case axisY:
			lat = cmp.Or(lat, v)
		case axisX:
			lon = cmp.Or(lon, v)
		}
	}
	for _, n := range strings.Fields(data.text("coordinates")) {
		consider(byName[n])
	}
	if lat == nil || lon == nil {
		for _, v := range vars {
			consider(v)
		}
	}
	if lat == nil || lon == nil || !slices.Equal(lat.Dims, lon.Dims) {
		return nil
	}
	for _, d := range data.Dims {
		if c := byName[d]; c != nil && len(c.Dims) == 1 && c.Dims[0] == d {
			if a := classify(c); a == axisY || a == axisX {
				return nil // a regular grid that also carries 2-D coordinates
			}
		}
	}
	return &curvilinear{Lat: lat, Lon: lon}
}

// twoDCoord returns the name of a two-dimensional latitude or longitude variable the data
// variable is on, or "".
func twoDCoord(data *varInfo, vars []*varInfo, byName map[string]*varInfo, isBounds func(*varInfo) bool) string {
	for _, n := range strings.Fields(data.text("coordinates")) {
		if v := byName[n]; v != nil && len(v.Dims) >= 2 {
			if a := classify(v); a == axisY || a == axisX {
				return n
			}
		}
	}
	for _, v := range vars {
		if len(v.Dims) != 2 || isBounds(v) || v == data {
			continue
		}
		if a := classify(v); (a == axisY || a == axisX) && slices.Contains(data.Dims, v.Dims[0]) && slices.Contains(data.Dims, v.Dims[1]) {
			return v.Name
		}
	}
	return ""
}

// numeric reports whether v holds numbers.
func (v *varInfo) numeric() bool { return v.Type != "char" && v.Type != "string" }

// axisOrder is the direction of a latitude axis.
type axisOrder string

const (
	ascending  axisOrder = "ascending"
	descending axisOrder = "descending"
)

// regularStep returns the constant step of x, or NaN when the steps differ by more than a
// thousandth of a degree (or a thousandth of the step).
func regularStep(x []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	step := (x[len(x)-1] - x[0]) / float64(len(x)-1)
	tol := math.Max(1e-3, 1e-3*math.Abs(step))
	for i := 1; i < len(x); i++ {
		if math.Abs(x[i]-x[i-1]-step) > tol {
			return math.NaN()
		}
	}
	return step
}

// checkLat checks that latitudes are finite, within ±90 and strictly monotonic, and reports
// their order. Descending latitudes (HadISST, COBE-SST) are kept as they are.
func checkLat(path, name string, lat []float64) (axisOrder, error) {
	for i, v := range lat {
		if math.IsNaN(v) || v < -90.0001 || v > 90.0001 {
			return "", errorf(path, ErrIrregularGrid, "check the latitude variable",
				"latitude %s[%d] = %g is not a latitude", name, i, v)
		}
	}
	if len(lat) < 2 {
		return ascending, nil
	}
	order := ascending
	if lat[1] < lat[0] {
		order = descending
	}
	for i := 1; i < len(lat); i++ {
		if (order == ascending && lat[i] <= lat[i-1]) || (order == descending && lat[i] >= lat[i-1]) {
			return "", errorf(path, ErrIrregularGrid, regridHint,
				"latitude %s is not monotonic at index %d (%g after %g)", name, i, lat[i], lat[i-1])
		}
	}
	return order, nil
}

// checkLon checks longitudes and returns the permutation that makes them strictly increasing:
// nil when they already are, the reversal when they decrease, a rotation when the cfAxis wraps
// once in the middle (e.g. 20..359 then 0..19). Longitudes keep their values and convention.
func checkLon(path, name string, lon []float64) (perm []int, err error) {
	for i, v := range lon {
		if math.IsNaN(v) || v < -360.0001 || v > 720.0001 {
			return nil, errorf(path, ErrIrregularGrid, "check the longitude variable",
				"longitude %s[%d] = %g is not a longitude", name, i, v)
		}
	}
	n := len(lon)
	drops := []int{}
	for i := 1; i < n; i++ {
		if lon[i] <= lon[i-1] {
			drops = append(drops, i)
		}
	}
	switch {
	case len(drops) == 0:
		return nil, nil
	case len(drops) == n-1 && n > 1:
		strict := true
		for i := 1; i < n; i++ {
			strict = strict && lon[i] < lon[i-1]
		}
		if strict {
			perm = make([]int, n)
			for i := range perm {
				perm[i] = n - 1 - i
			}
			return perm, nil
		}
	case len(drops) == 1 && lon[drops[0]] < lon[drops[0]-1] && lon[n-1] < lon[0]:
		// One wrap: rotate so that the smallest longitude comes first.
		k := drops[0]
		perm = make([]int, 0, n)
		for i := k; i < n; i++ {
			perm = append(perm, i)
		}
		for i := 0; i < k; i++ {
			perm = append(perm, i)
		}
		return perm, nil
	}
	i := drops[0]
	return nil, errorf(path, ErrIrregularGrid, regridHint,
		"longitude %s is not monotonic at index %d (%g after %g)", name, i, lon[i], lon[i-1])
}

// lonConvention names the longitude convention of lon: "-180..180" when any longitude is
// negative, else "0..360".
func lonConvention(lon []float64) string {
	for _, v := range lon {
		if v < 0 {
			return "-180..180"
		}
	}
	return "0..360"
}

// lonGlobal reports whether a regular longitude cfAxis with the given step covers the globe.
func lonGlobal(lon []float64, step float64) bool {
	if math.IsNaN(step) || len(lon) < 2 {
		return false
	}
	return math.Abs(float64(len(lon))*math.Abs(step)-360) < 0.5*math.Abs(step)
}

// describeDims formats a variable's dimensions for messages: "sst(time=40, lat=6, lon=8)".
func describeDims(v *varInfo) string {
	parts := make([]string, len(v.Dims))
	for i, d := range v.Dims {
		parts[i] = fmt.Sprintf("%s=%d", d, v.Shape[i])
	}
	return v.Name + "(" + strings.Join(parts, ", ") + ")"
}
