package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"climxai/dataset/netcdf"
)

// ErrNoFile is a path that cannot be read at all: missing, a directory, no permission.
var ErrNoFile = errors.New("cannot read the file")

// ErrBadTime is a time axis climxai cannot decode: no or malformed units, an unknown calendar,
// values that are not numbers.
var ErrBadTime = errors.New("time axis cannot be decoded")

// OpenOptions says which variable to read and how many months are needed at least.
type OpenOptions struct {
	Var       string // data variable; "" finds the SST variable (sst, tos, ... or the only (time, lat, lon) variable)
	MinMonths int    // fewer months than this give ErrTooShort; 0 accepts any length
	// Raw reads Var in its own units: packing and missing values are decoded, but nothing is
	// converted to °C or checked against SST's plausible range. It is how the further input
	// variables of a card's [[input]] tables (subsurface temperature, heat content, sea level)
	// are read; Var must then be given.
	Raw bool
	// Level, when not nil, reads a variable of several vertical levels (ocean temperature on
	// depth levels, thetao) at the level whose coordinate value is nearest to it, in the
	// coordinate's units (CMIP's lev: metres; CESM's z_t: centimetres); a notice names it.
	// Without it such a variable is refused; a variable of one level ignores it.
	Level *float64
	// Layer, when not nil, reads such a variable as its thickness-weighted mean over the layer
	// between the two values (in any order, in the vertical coordinate's units), e.g. {0, 300}:
	// the upper 300 m (see layer.go). At most one of Level and Layer is given.
	Layer *[2]float64
	// Grid, when not nil, is the regular grid (an emulator card's) that data on a curvilinear
	// grid are averaged onto as they are read (see curvilinear.go). Without it such data are
	// refused; data on a regular grid ignore it (Prepare regrids them).
	Grid *GridSpec

	// header stops reading before the values: the Series has everything but Values (OpenFiles
	// checks that files join before it reads them).
	header bool
	// into, when it has the length of the values, receives them: OpenFiles reads each file
	// straight into its part of the joined series.
	into []float32
}

// maxValues bounds the size of a variable climxai reads into memory (4 GiB as float32).
const maxValues = 1 << 30

// readChunk is the number of stored values read from libnetcdf at a time: small enough that
// decoding one piece overlaps well with reading the next (readValues), large enough that the
// per-call overhead does not matter (about 120 months of a 1° North Atlantic grid).
const readChunk = 1 << 20

// Open reads the SST variable of a NetCDF-3 or NetCDF-4 file (or an OPeNDAP URL) into a Series
// in °C, decoding CF time, missing values, packing and units. Every error is a *Error naming the
// file; errors.Is tells its kind (ErrNotNetCDF, ErrTruncated, ErrNoVariable, ErrNoCoordinate,
// ErrIrregularGrid, ErrNotMonthly, ErrAllMissing, ErrTooShort, ...).
func Open(path string, opt OpenOptions) (*Series, error) {
	s, _, err := load(path, opt)
	return s, err
}

// report is what load learnt about a file beyond the Series: what Inspect shows.
type report struct {
	format    string
	vars      []*varInfo
	lay       *layout
	latOrder  axisOrder
	pack      packing
	dec       *decoder
	timeUnits string
	ocean     float64 // fraction of cells with a value in every month
	raw       bool    // OpenOptions.Raw
}

// isURL reports whether path is a remote (OPeNDAP) address rather than a file.
func isURL(path string) bool { return strings.Contains(path, "://") }

// NetCDF magic numbers: classic (CDF\x01), 64-bit offset (CDF\x02), CDF-5 (CDF\x05), and the
// HDF5 signature that NetCDF-4 files start with (at offset 0, or 512, 1024, ... after a user block).
var (
	cdfMagic = [][]byte{[]byte("CDF\x01"), []byte("CDF\x02"), []byte("CDF\x05")}
	hdfMagic = []byte("\x89HDF\r\n\x1a\n")
)

// sniff checks a local file before libnetcdf sees it: it exists, is a regular file, and starts
// like a NetCDF file. It returns whether it is a classic (CDF) file and its size.
func sniff(path string) (classic bool, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0, errorf(path, ErrNoFile, "check the path", "%v", unwrapPathError(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, 0, errorf(path, ErrNoFile, "check the path", "%v", unwrapPathError(err))
	}
	if !st.Mode().IsRegular() {
		return false, 0, errorf(path, ErrNoFile, "give the path of a NetCDF file", "not a regular file")
	}
	size = st.Size()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	for _, m := range cdfMagic {
		if bytes.HasPrefix(head, m) {
			// libnetcdf accepts some truncated classic headers silently (reporting fewer
			// variables), so the header is checked against the file's size first.
			if err := checkClassic(f, size); err != nil {
				return true, size, errorf(path, ErrTruncated,
					"the file is incomplete (an interrupted download or copy) or damaged; fetch it again", "%v", err)
			}
			return true, size, nil
		}
	}
	for off := int64(0); off+8 <= size && off <= 1<<20; off = max(512, 2*off) {
		if _, err := f.ReadAt(head[:cap(head)], off); err == nil && bytes.Equal(head[:8], hdfMagic) {
			if err := checkGlobalHeaps(f, size); err != nil {
				return false, size, errorf(path, ErrTruncated,
					"the file is damaged; fetch it again", "%v", err)
			}
			return false, size, nil
		}
	}
	what := "it does not start with a NetCDF signature"
	if n == 0 {
		what = "the file is empty"
	}
	return false, size, errorf(path, ErrNotNetCDF, "climxai reads NetCDF-3 and NetCDF-4 files; convert other formats first (e.g. cdo -f nc4 copy in.grb out.nc)", "%s", what)
}

// OpenChecked opens a NetCDF file that climxai wrote (a result, map or truth file) after the checks
// Open makes first, so that a damaged file that would crash or hang libnetcdf gives a typed
// error; hint says which file is expected.
func OpenChecked(path, hint string) (*netcdf.File, error) {
	if !isURL(path) {
		if _, _, err := sniff(path); err != nil {
			return nil, err
		}
	}
	f, err := withTimeout(path, metaTimeout, func() (*netcdf.File, error) { return netcdf.Open(path) },
		func(f *netcdf.File) { f.Close() })
	if err == nil {
		return f, nil
	}
	var de *Error
	if errors.As(err, &de) {
		return nil, err
	}
	if errors.Is(err, netcdf.ErrNotNetCDF) {
		return nil, &Error{Path: path, Kind: ErrNotNetCDF, Msg: err.Error(), Hint: hint}
	}
	return nil, &Error{Path: path, Kind: ErrTruncated, Msg: err.Error(), Hint: "check the path; if the file was copied, copy it again"}
}

// unwrapPathError drops the path from an *os.PathError, which *Error already names.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ncError maps a libnetcdf error during op to a *Error naming the file.
func ncError(path, op string, err error) *Error {
	var ne *netcdf.Error
	msg := err.Error()
	if errors.As(err, &ne) {
		msg = ne.Msg
	}
	switch {
	case errors.Is(err, netcdf.ErrNotNetCDF):
		return errorf(path, ErrNotNetCDF, "climxai reads NetCDF-3 and NetCDF-4 files", "not a NetCDF file (libnetcdf: %s)", msg)
	case errors.Is(err, netcdf.ErrHDF), ne != nil && ne.Code != 0:
		return errorf(path, ErrTruncated, "the file may be incomplete (an interrupted download or copy); fetch it again",
			"%s failed (libnetcdf: %s)", op, msg)
	}
	return errorf(path, ErrTruncated, "the file may be incomplete or damaged; fetch it again", "%s failed: %s", op, msg)
}

// typeSize is the stored size in bytes of one value of a CDL type.
func typeSize(t string) int64 {
	switch t {
	case "byte", "ubyte", "char":
		return 1
	case "short", "ushort":
		return 2
	case "int", "uint", "float":
		return 4
	}
	return 8
}

// readMeta lists the variables of f as varInfo.
func readMeta(path string, f *netcdf.File) ([]*varInfo, error) {
	vars, err := f.Vars()
	if err != nil {
		return nil, ncError(path, "listing variables", err)
	}
	out := make([]*varInfo, 0, len(vars))
	for _, v := range vars {
		vi := &varInfo{Name: v.Name, Type: v.Type.String(), Shape: v.Shape()}
		switch v.Type {
		case netcdf.Byte, netcdf.UByte, netcdf.Short, netcdf.UShort, netcdf.Int, netcdf.UInt, netcdf.Int64, netcdf.UInt64:
			vi.Integer = true
		}
		for _, d := range v.Dims {
			vi.Dims = append(vi.Dims, d.Name)
		}
		attrs, err := v.Attrs()
		if err != nil {
			return nil, ncError(path, "reading the attributes of "+v.Name, err)
		}
		for _, a := range attrs {
			vi.Attrs = append(vi.Attrs, attrInfo{Name: a.Name, Text: a.Text, Values: a.Values, Numeric: a.Numeric(), Type: a.Type.String()})
		}
		out = append(out, vi)
	}
	return out, nil
}

// readAll reads a whole one- or two-dimensional coordinate variable as float64.
func readAll(path string, f *netcdf.File, v *varInfo) ([]float64, error) {
	nv, err := f.Var(v.Name)
	if err != nil {
		return nil, ncError(path, "finding "+v.Name, err)
	}
	if !v.numeric() {
		return nil, errorf(path, ErrNoCoordinate, "coordinates must be numeric", "%s holds %s values, not numbers", v.Name, v.Type)
	}
	return readSlab(path, nv, nil, nil)
}

// readSlab reads a hyperslab as float64. Local files get metaTimeout per read, as damaged
// NetCDF-4 files can make HDF5 loop forever; a read of at most readChunk values from a local
// disk takes well under a second. Remote (OPeNDAP) reads are not bounded: networks are slow.
func readSlab(path string, nv *netcdf.Var, start, count []int) ([]float64, error) {
	read := func() ([]float64, error) {
		x, err := nv.ReadFloat64(start, count)
		if err != nil {
			return nil, ncError(path, "reading "+nv.Name, err)
		}
		return x, nil
	}
	if isURL(path) {
		return read()
	}
	return withTimeout(path, metaTimeout, read, func([]float64) {})
}

// metaTimeout bounds how long libnetcdf may take to open a file and list its variables and
// attributes. Real files need well under a second; some damaged NetCDF-4 files send HDF5 1.10
// into an endless loop (seen: H5HG_read under nc_inq_var while reading a DIMENSION_LIST), and a
// C call cannot be interrupted.
const metaTimeout = 30 * time.Second

// opened is an open file with its metadata.
type opened struct {
	f      *netcdf.File
	format string
	vars   []*varInfo
	err    error
}

// openMeta opens path and reads its metadata, giving up after timeout. On a timeout the C call
// keeps running in its goroutine (and holds the binding's lock, so later NetCDF calls in this
// process wait too, and time out the same way); the file is closed if it ever returns.
func openMeta(path string, timeout time.Duration) (opened, error) {
	return withTimeout(path, timeout, func() (opened, error) {
		f, err := netcdf.Open(path)
		if err != nil {
			e := ncError(path, "opening", err)
			if !isURL(path) && errors.Is(e, ErrNotNetCDF) {
				// It starts like a NetCDF file, so libnetcdf's refusal means damage.
				e.Kind, e.Hint = ErrTruncated, "the file may be incomplete (an interrupted download or copy); fetch it again"
			}
			return opened{}, e
		}
		o := opened{f: f}
		if fm, err := f.Format(); err == nil {
			o.format = fm.String()
		}
		if o.vars, err = readMeta(path, f); err != nil {
			f.Close()
			return opened{}, err
		}
		return o, nil
	}, func(o opened) {
		if o.f != nil {
			o.f.Close()
		}
	})
}

// withTimeout runs fn (a libnetcdf call) in a goroutine and returns its result, or a *Error of kind ErrTruncated
// naming path when it takes longer than timeout; a result that arrives later is handed to
// discard.
func withTimeout[T any](path string, timeout time.Duration, fn func() (T, error), discard func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-timer.C:
		go func() {
			if r := <-ch; r.err == nil {
				discard(r.v)
			}
		}()
		var zero T
		return zero, errorf(path, ErrTruncated,
			"the file is probably damaged: check it with ncdump -h and fetch it again; if every file fails this way, restart climxai",
			"libnetcdf did not finish reading the file within %v", timeout)
	}
}

// load does the work of Open and Inspect.
func load(path string, opt OpenOptions) (*Series, *report, error) {
	var classic bool
	var size int64
	if !isURL(path) {
		var err error
		if classic, size, err = sniff(path); err != nil {
			return nil, nil, err
		}
	}
	o, err := openMeta(path, metaTimeout)
	if err != nil {
		return nil, nil, err
	}
	f := o.f
	defer f.Close()
	rep := &report{format: o.format, vars: o.vars, raw: opt.Raw}
	if opt.Raw && opt.Var == "" {
		return nil, nil, errorf(path, ErrNoVariable, "name the variable to read", "a variable read in its own units needs its name")
	}
	if opt.Level != nil && opt.Layer != nil {
		return nil, nil, errorf(path, ErrLayout, "give a level or a layer, not both", "%s: both a level (%g) and a layer (%g to %g) asked for", opt.Var, *opt.Level, opt.Layer[0], opt.Layer[1])
	}
	if l := opt.Layer; l != nil && !ValidLayer(*l) {
		return nil, nil, errorf(path, ErrLayout, "give the layer as two different finite numbers, e.g. 0 and 300 (metres)", "%s: layer %g to %g", opt.Var, l[0], l[1])
	}
	lay, err := findLayout(path, rep.vars, opt.Var, opt.Level != nil || opt.Layer != nil)
	if err != nil {
		return nil, nil, err
	}
	rep.lay = lay
	data := lay.Data

	// Sizes: a damaged header may claim more data than the file holds.
	total, read := int64(1), int64(1)
	for i, n := range data.Shape {
		total *= int64(n)
		if i != lay.ZDim {
			read *= int64(n) // one level of several is read
		}
	}
	if classic && total*typeSize(data.Type) > size {
		return nil, nil, errorf(path, ErrTruncated, "the file is incomplete (an interrupted download or copy); fetch it again",
			"%s needs %d bytes but the file has only %d", describeDims(data), total*typeSize(data.Type), size)
	}

	// Time.
	s := &Series{Name: data.Name, Units: "degC", Source: path}
	if opt.Raw {
		s.Units = data.text("units")
	}
	dates, err := readTime(path, f, lay, rep, s)
	if err != nil {
		return nil, nil, err
	}
	var tm *timeMeans // sub-monthly time steps: their monthly means are read
	if s.Start, err = monthlyAxis(path, dates); err != nil {
		cal, _ := ParseCalendar(s.Calendar)
		var serr error
		tm, serr = subMonthly(path, dates, cal, s)
		switch {
		case serr != nil:
			return nil, nil, serr
		case tm == nil:
			return nil, nil, err
		}
		s.Start, s.N = tm.start, tm.months
	} else {
		s.N = len(dates)
	}
	// The values held: one level (or month) of several is read; means hold their sums (float64)
	// and sums of weights (float32) beside them, four times the values' memory in all.
	if read = read / int64(max(1, data.Shape[lay.TimeDim])) * int64(s.N); opt.Layer != nil && lay.ZDim >= 0 || tm != nil {
		read *= 4
	}
	if read > maxValues {
		return nil, nil, errorf(path, ErrLayout, "cut the file to a smaller region or period first (e.g. cdo sellonlatbox / seldate)",
			"%s has %d values to read, more than the %d climxai reads at once", describeDims(data), read, maxValues)
	}

	// Grid.
	var perm []int
	var space *spaceMap // a curvilinear grid's cells on opt.Grid's
	if lay.Curvi != nil {
		if opt.Grid == nil {
			return nil, nil, errorf(path, ErrIrregularGrid, "read it through an emulator card, which averages it onto the card's grid (climxai info CARD.toml --data FILE), or "+regridHint,
				"%s has two-dimensional latitude/longitude (%s, %s): a curvilinear grid", data.Name, lay.Curvi.Lat.Name, lay.Curvi.Lon.Name)
		}
		if space, err = curviMap(path, f, lay, *opt.Grid, s); err != nil {
			return nil, nil, err
		}
		s.Grid = opt.Grid.Grid()
		rep.latOrder = ascending
		if opt.Grid.LatStep < 0 {
			rep.latOrder = descending
		}
	} else {
		lat, err := readAll(path, f, lay.Lat)
		if err != nil {
			return nil, nil, err
		}
		lon, err := readAll(path, f, lay.Lon)
		if err != nil {
			return nil, nil, err
		}
		if rep.latOrder, err = checkLat(path, lay.Lat.Name, lat); err != nil {
			return nil, nil, err
		}
		if perm, err = checkLon(path, lay.Lon.Name, lon); err != nil {
			return nil, nil, err
		}
		if perm != nil {
			sorted := make([]float64, len(lon))
			for j, k := range perm {
				sorted[j] = lon[k]
			}
			lon = sorted
			s.Notices = append(s.Notices, fmt.Sprintf("longitudes reordered to increase monotonically (%g..%g)", lon[0], lon[len(lon)-1]))
		}
		s.Grid = Grid{Lat: lat, Lon: lon}
		// A card's grid needs only the block of cells around it (a regional card on global
		// data): only that block is read.
		if opt.Grid != nil && perm == nil {
			if w := regularWindow(lat, lon, *opt.Grid); w != nil {
				lay.Win = w
				s.Grid = Grid{Lat: lat[w.Y0 : w.Y0+w.NY], Lon: lon[w.X0 : w.X0+w.NX]}
				s.Notices = append(s.Notices, fmt.Sprintf("the %d x %d block of the data's %d x %d cells around the card's grid is read",
					w.NY, w.NX, len(lat), len(lon)))
			}
		}
	}
	for _, i := range lay.Squeezed {
		s.Notices = append(s.Notices, fmt.Sprintf("dimension %s of length 1 dropped (a single level)", data.Dims[i]))
	}
	if err := pickLevel(path, f, lay, opt.Level, s); err != nil {
		return nil, nil, err
	}
	var layer []layerLevel
	if opt.Layer != nil {
		if layer, err = layerLevels(path, f, lay, *opt.Layer, s); err != nil {
			return nil, nil, err
		}
	}

	// Values.
	if opt.header {
		return s, rep, nil
	}
	if len(opt.into) == s.N*s.Grid.Size() {
		s.Values = opt.into
	}
	if layer != nil || tm != nil || space != nil {
		if layer == nil {
			layer = []layerLevel{{lay.ZIndex, 1}}
		}
		err = readMeans(path, f, lay, perm, rep, s, layer, tm, space)
	} else {
		err = readValues(path, f, lay, perm, rep, s)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkMonths(opt.MinMonths); err != nil {
		return nil, nil, err
	}
	return s, rep, nil
}

// checkMonths is ErrTooShort when s holds fewer than min months (OpenOptions.MinMonths; 0 takes
// any length): of one file, or of a variable joined from several (OpenFiles).
func (s *Series) checkMonths(min int) error {
	if min > 0 && s.N < min {
		return errorf(s.Source, ErrTooShort, "use longer data: the emulator needs its input months plus the lead",
			"%s has %d months (%v to %v); at least %d are needed", s.Name, s.N, s.Start, s.Month(s.N-1), min)
	}
	return nil
}

// pickLevel sets lay.ZIndex to the vertical level nearest to level (OpenOptions.Level) and says
// which it is; with no level wanted, or no vertical dimension of several levels, it only notes
// a level that is not used.
func pickLevel(path string, f *netcdf.File, lay *layout, level *float64, s *Series) error {
	if level == nil {
		return nil
	}
	if lay.ZDim < 0 {
		s.Notices = append(s.Notices, fmt.Sprintf("level %g not used: %s has no vertical dimension of several levels", *level, lay.Data.Name))
		return nil
	}
	dim := lay.Data.Dims[lay.ZDim]
	if lay.Z == nil {
		return errorf(path, ErrNoCoordinate, "give the vertical dimension a coordinate variable, or select the level first (cdo sellevidx)",
			"%s's vertical dimension %s has no coordinate variable to find level %g in", lay.Data.Name, dim, *level)
	}
	z, err := readAll(path, f, lay.Z)
	if err != nil {
		return err
	}
	best := -1
	for k, v := range z {
		if v == v && !math.IsInf(v, 0) && (best < 0 || math.Abs(v-*level) < math.Abs(z[best]-*level)) {
			best = k
		}
	}
	if best < 0 {
		return errorf(path, ErrNoCoordinate, "give the vertical coordinate finite values", "%s holds no finite level", lay.Z.Name)
	}
	lay.ZIndex = best
	units := lay.Z.text("units")
	s.Notices = append(s.Notices, fmt.Sprintf("%s read at %s = %g %s (level %d of %d), the nearest to %g",
		lay.Data.Name, lay.Z.Name, z[best], units, best+1, len(z), *level))
	return nil
}

// readTime decodes the time axis (the midpoints of its bounds when it has them, CF §7.1) and
// records calendar and units in s and rep.
func readTime(path string, f *netcdf.File, lay *layout, rep *report, s *Series) ([]Date, error) {
	tv := lay.Time
	units := tv.text("units")
	rep.timeUnits = units
	if units == "" {
		return nil, errorf(path, ErrBadTime, "add CF time units, e.g. ncatted -a units,"+tv.Name+",o,c,\"days since 1850-01-01\"",
			"time variable %s has no units attribute", tv.Name)
	}
	u, err := ParseTimeUnits(units)
	if err != nil {
		return nil, errorf(path, ErrBadTime, "fix the time units attribute (CF: \"days since 1850-01-01\")", "time variable %s: %s",
			tv.Name, strings.TrimPrefix(err.Error(), errCalendar.Error()+": "))
	}
	calName := tv.text("calendar")
	cal, err := ParseCalendar(calName)
	if err != nil {
		return nil, errorf(path, ErrBadTime, "set a CF calendar (standard, noleap, 360_day, ...) with ncatted -a calendar,"+tv.Name+",o,c,standard",
			"time variable %s: %s", tv.Name, strings.TrimPrefix(err.Error(), errCalendar.Error()+": "))
	}
	s.Calendar = cal.String()
	if u.MonthsAmbiguous(cal) {
		s.Notices = append(s.Notices, fmt.Sprintf("time units %q: \"months since\" is ambiguous in CF; each value was read as whole calendar months after the reference date", units))
	}
	tvals, err := readAll(path, f, tv)
	if err != nil {
		return nil, err
	}
	// Time-bounds midpoints locate end-of-month and start-of-next-month stamps in their month.
	if lay.TimeBounds != nil {
		if b, err := readAll(path, f, lay.TimeBounds); err == nil && len(b) == 2*len(tvals) {
			mid := make([]float64, len(tvals))
			ok := true
			for i := range mid {
				mid[i] = (b[2*i] + b[2*i+1]) / 2
				ok = ok && !math.IsNaN(mid[i]) && math.Abs(b[2*i]) < 1e30 && math.Abs(b[2*i+1]) < 1e30
			}
			if ok {
				tvals = mid
			}
		}
	}
	tp := packingOf(tv)
	dates := make([]Date, len(tvals))
	for i, x := range tvals {
		if lay.TimeBounds == nil && tp.missingRaw(x) {
			return nil, errorf(path, ErrBadTime, "every time step needs a valid time value", "time %s[%d] is missing", tv.Name, i)
		}
		if dates[i], err = u.Decode(cal, x); err != nil {
			return nil, errorf(path, ErrBadTime, "check the time values and units", "time %s[%d]: %s", tv.Name, i,
				strings.TrimPrefix(err.Error(), errCalendar.Error()+": "))
		}
	}
	return dates, nil
}

// readValues reads the data variable a few months at a time, decodes it to °C and stores it in
// s.Values in [time][lat][lon] order with longitudes permuted by perm.
func readValues(path string, f *netcdf.File, lay *layout, perm []int, rep *report, s *Series) error {
	cells, err := valueCells(path, lay, s.N)
	if err != nil {
		return err
	}
	if len(s.Values) != s.N*cells {
		s.Values = make([]float32, s.N*cells)
	}
	dec, err := readLevel(path, f, lay, perm, rep, s.N, func(t0, nt int) []float32 {
		return s.Values[t0*cells : (t0+nt)*cells]
	}, nil)
	if err != nil {
		return err
	}
	rep.dec, rep.pack = dec, dec.p
	if dec.valid == 0 {
		return errorf(path, ErrAllMissing, "check the missing-value attributes (_FillValue, missing_value, valid_range) or pass --var",
			"every value of %s is missing", describeDims(lay.Data))
	}
	s.Notices = append(s.Notices, dec.notices(lay.Data)...)
	rep.ocean = oceanFraction(s)
	return nil
}

// valueCells checks that the data variable has the steps time steps the time axis has and that
// it holds values, and returns its number of cells.
func valueCells(path string, lay *layout, steps int) (int, error) {
	data := lay.Data
	h := lay.horizontal()
	cells := h.NY * h.NX
	if steps != data.Shape[lay.TimeDim] {
		return 0, errorf(path, ErrLayout, "", "%s has %d time steps but the time axis %d", data.Name, data.Shape[lay.TimeDim], steps)
	}
	if cells == 0 || steps == 0 {
		return 0, errorf(path, ErrAllMissing, "the file holds no data", "%s is empty", describeDims(data))
	}
	return cells, nil
}

// oceanFraction is the fraction of s's cells that are ocean (OceanMask): with a value in every
// month.
func oceanFraction(s *Series) float64 {
	ocean, _ := OceanMask(s)
	return float64(countTrue(ocean)) / float64(len(ocean))
}

// readLevel reads the n months of the data variable at level lay.ZIndex (when it has several) a
// few months at a time: each piece is decoded into into(t0, nt), the [time][lat][lon] values of
// months t0 to t0+nt with longitudes permuted by perm, then handed to use (when not nil). It
// returns the decoder, which counted the values that are not missing.
func readLevel(path string, f *netcdf.File, lay *layout, perm []int, rep *report, n int,
	into func(t0, nt int) []float32, use func(t0 int, vals []float32)) (*decoder, error) {
	data := lay.Data
	nv, err := f.Var(data.Name)
	if err != nil {
		return nil, ncError(path, "finding "+data.Name, err)
	}
	h := lay.horizontal()
	nlat, nlon := h.NY, h.NX
	cells := nlat * nlon
	step := max(1, readChunk/cells)
	start := make([]int, len(data.Dims))
	if lay.ZDim >= 0 {
		start[lay.ZDim] = lay.ZIndex // count stays 1: one level
	}
	start[lay.LatDim], start[lay.LonDim] = h.Y0, h.X0
	count := make([]int, len(data.Dims))
	for i := range count {
		count[i] = 1
	}
	count[lay.LatDim], count[lay.LonDim] = nlat, nlon
	// Lat before lon (checked by findLayout), so each time step is a [lat][lon] block.
	// libnetcdf reads (and decompresses) one piece while the previous one is decoded: the
	// library is serialised by a lock, the decoding is not.
	type piece struct {
		t0, nt int
		raw    []float64
		err    error
	}
	// Compressed NetCDF-4 variables are read chunk by chunk straight from the file and
	// decompressed on every core (pieces aligned with the chunks); anything else goes through
	// libnetcdf.
	direct, err := directChunks(path, nv, lay.TimeDim, cells)
	if err != nil {
		return nil, err
	}
	if direct != nil {
		defer direct.Close()
		ct := direct.Chunk[lay.TimeDim]
		step = (step + ct - 1) / ct * ct
	}
	pieces := make(chan piece, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(pieces)
		start, count := append([]int(nil), start...), append([]int(nil), count...)
		for t0 := 0; t0 < n; t0 += step {
			nt := min(step, n-t0)
			start[lay.TimeDim], count[lay.TimeDim] = t0, nt
			var raw []float64
			var err error
			if direct != nil {
				raw, err = direct.ReadFloat64(start, count, runtime.GOMAXPROCS(0))
				if err != nil {
					err = ncError(path, "reading "+nv.Name, err)
				}
			} else {
				raw, err = readSlab(path, nv, start, count)
			}
			select {
			case pieces <- piece{t0, nt, raw, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var dec *decoder
	row := make([]float32, nlon)
	for p := range pieces {
		if p.err != nil {
			return nil, p.err
		}
		if dec == nil {
			dec = newDecoder(data, p.raw)
			if rep.raw {
				dec.asIs()
			}
		}
		out := into(p.t0, p.nt)
		dec.decode(p.raw, out)
		if perm != nil {
			for r := 0; r < len(out); r += nlon {
				copy(row, out[r:r+nlon])
				for j, k := range perm {
					out[r+j] = row[k]
				}
			}
		}
		if use != nil {
			use(p.t0, out)
		}
	}
	return dec, nil
}

// directChunks returns a direct chunk reader for a local compressed NetCDF-4 variable, or nil
// when libnetcdf should read it: the variable is not stored that way, indexing it failed (then
// libnetcdf reports the damage itself), or one chunk spans more than maxDirectPiece values of
// the time axis' pieces. The error is a timeout: HDF5 hangs on this file.
func directChunks(path string, nv *netcdf.Var, timeDim, cells int) (*netcdf.Chunks, error) {
	if isURL(path) {
		return nil, nil
	}
	c, err := withTimeout(path, metaTimeout, nv.DirectChunks, func(c *netcdf.Chunks) {
		if c != nil {
			c.Close()
		}
	})
	if errors.Is(err, ErrTruncated) {
		return nil, err
	}
	if err != nil {
		return nil, nil
	}
	if c.Chunk[timeDim]*cells > maxDirectPiece {
		c.Close()
		return nil, nil
	}
	return c, nil
}

// maxDirectPiece bounds (in values) the piece a direct chunk read decompresses at once.
const maxDirectPiece = 8 * readChunk

// maxHeader bounds the classic header read by checkClassic.
const maxHeader = 64 << 20

// checkClassic parses the header of a NetCDF-3 file (classic, 64-bit offset or CDF-5; the
// format specification is "The NetCDF Classic Format Specification" of the NetCDF user guide)
// and checks that every variable's data lie inside the file: a truncated download fails here
// with a clear message instead of reading as zeros or as a file with fewer variables.
func checkClassic(f *os.File, size int64) error {
	// Headers are usually a few kilobytes: read 64 KiB first and more only when it is not enough.
	for n := min(size, 64<<10); ; n = min(size, 8*n, maxHeader) {
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		h := classicHeader{b: buf, version: buf[3]}
		err := h.check(size)
		if !errors.Is(err, errShortHeader) || n == size || n == maxHeader {
			return err
		}
	}
}

// classicHeader is a cursor over a NetCDF-3 header.
type classicHeader struct {
	b       []byte
	pos     int
	version byte // 1 classic, 2 64-bit offset, 5 CDF-5
	err     error
}

var errShortHeader = errors.New("the header ends early: the file is cut off")

// u32 and u64 read big-endian integers; after an error they return 0.
func (h *classicHeader) u32() uint64 {
	if h.err != nil || h.pos+4 > len(h.b) {
		h.err = errShortHeader
		return 0
	}
	v := uint64(h.b[h.pos])<<24 | uint64(h.b[h.pos+1])<<16 | uint64(h.b[h.pos+2])<<8 | uint64(h.b[h.pos+3])
	h.pos += 4
	return v
}

func (h *classicHeader) u64() uint64 {
	hi := h.u32()
	return hi<<32 | h.u32()
}

// count reads a NON_NEG: 32 bits, 64 in CDF-5.
func (h *classicHeader) count() uint64 {
	if h.version == 5 {
		return h.u64()
	}
	return h.u32()
}

// skip advances over n bytes padded to a multiple of four.
func (h *classicHeader) skip(n uint64) {
	n = (n + 3) &^ 3
	if h.err != nil || n > uint64(len(h.b)-h.pos) {
		h.err = errShortHeader
		return
	}
	h.pos += int(n)
}

// classicTypeSize is the size of NetCDF-3 external type t, 0 if unknown.
func classicTypeSize(t uint64) uint64 {
	switch t {
	case 1, 2, 7: // byte, char, ubyte
		return 1
	case 3, 8: // short, ushort
		return 2
	case 4, 5, 9: // int, float, uint
		return 4
	case 6, 10, 11: // double, int64, uint64
		return 8
	}
	return 0
}

// list reads a list tag and its length; ABSENT is two zero words.
func (h *classicHeader) list(tag uint64) uint64 {
	t := h.u32()
	n := h.count()
	if h.err == nil && t != tag && !(t == 0 && n == 0) {
		h.err = fmt.Errorf("malformed header (tag %#x where %#x was expected)", t, tag)
	}
	return n
}

// attrs skips an attribute list.
func (h *classicHeader) attrs() {
	n := h.list(0x0C)
	for i := uint64(0); i < n && h.err == nil; i++ {
		h.skip(h.count()) // name
		t := h.u32()
		k := h.count()
		sz := classicTypeSize(t)
		if sz == 0 && h.err == nil {
			h.err = fmt.Errorf("malformed header (attribute type %d)", t)
			return
		}
		if k > uint64(len(h.b)) {
			h.err = errShortHeader
			return
		}
		h.skip(k * sz)
	}
}

// check parses the header and checks the data extents against size.
func (h *classicHeader) check(size int64) error {
	h.pos = 4
	numrecs := h.count()
	streaming := numrecs == 0xFFFFFFFF || numrecs == 1<<64-1
	nd := h.list(0x0A)
	if nd > uint64(len(h.b)) {
		return errShortHeader
	}
	dims := make([]uint64, 0, min(nd, 1024))
	for i := uint64(0); i < nd && h.err == nil; i++ {
		h.skip(h.count())
		dims = append(dims, h.count())
	}
	h.attrs()
	nv := h.list(0x0B)
	if nv > uint64(len(h.b)) {
		return errShortHeader
	}
	type extent struct{ begin, size uint64 }
	var fixed, rec []extent
	recSize := uint64(0)
	for i := uint64(0); i < nv && h.err == nil; i++ {
		h.skip(h.count())
		k := h.count()
		if k > uint64(len(h.b)) {
			return errShortHeader
		}
		n, isRec := uint64(1), false
		for j := uint64(0); j < k && h.err == nil; j++ {
			id := h.count()
			if id >= uint64(len(dims)) {
				if h.err == nil {
					h.err = fmt.Errorf("malformed header (dimension id %d of %d)", id, len(dims))
				}
				break
			}
			if dims[id] == 0 && j == 0 {
				isRec = true
				continue
			}
			if dims[id] != 0 && n > (1<<62)/dims[id] {
				n = 1 << 62
			} else {
				n *= dims[id]
			}
		}
		h.attrs()
		t := h.u32()
		vsize := h.u32()
		if h.version == 5 {
			vsize = vsize<<32 | h.u32()
		}
		var begin uint64
		if h.version == 1 {
			begin = h.u32()
		} else {
			begin = h.u64()
		}
		sz := classicTypeSize(t)
		if h.err == nil && sz == 0 {
			h.err = fmt.Errorf("malformed header (variable type %d)", t)
		}
		if n > (1<<62)/max(sz, 1) {
			n = (1 << 62) / max(sz, 1)
		}
		if isRec {
			rec = append(rec, extent{begin, n * sz})
			recSize += (n*sz + 3) &^ 3
		} else {
			fixed = append(fixed, extent{begin, n * sz})
		}
		_ = vsize
	}
	if h.err != nil {
		return h.err
	}
	fs := uint64(size)
	if uint64(h.pos) > fs {
		return errShortHeader
	}
	for _, e := range fixed {
		if e.begin > fs || e.size > fs-e.begin {
			return fmt.Errorf("the data end at byte %d but the file has %d bytes: the file is cut off", e.begin+e.size, size)
		}
	}
	if len(rec) == 1 {
		recSize = rec[0].size // a single record variable is not padded
	}
	if !streaming && numrecs > 0 {
		for _, e := range rec {
			if numrecs > (1<<62)/max(recSize, 1) {
				return fmt.Errorf("the header claims %d records, more than the file can hold", numrecs)
			}
			end := e.begin + (numrecs-1)*recSize + e.size
			if end > fs {
				return fmt.Errorf("the data end at byte %d but the file has %d bytes: the file is cut off", end, size)
			}
		}
	}
	return nil
}

// HDF5 global heap collections ("GCOL", HDF5 file format specification §III.E) hold the
// variable-length data of NetCDF-4's DIMENSION_LIST attributes. HDF5 1.10 trusts their object
// sizes: a damaged collection makes it copy past its buffer (SIGSEGV in H5HG_read) or loop
// forever (a free-space object of size 0), both found by FuzzOpen. checkGlobalHeaps walks every
// collection in the first and last heapScan bytes of the file, where NetCDF-4 metadata live,
// and refuses the file when one is inconsistent.
const heapScan = 4 << 20

var gcolMagic = []byte("GCOL\x01\x00\x00\x00") // signature, version 1, three reserved bytes

// checkGlobalHeaps validates the global heap collections of an HDF5 file of the given size.
// It assumes 8-byte lengths, which libnetcdf always writes.
func checkGlobalHeaps(f *os.File, size int64) error {
	regions := [][2]int64{{0, min(size, heapScan)}}
	if size > heapScan {
		regions = append(regions, [2]int64{max(heapScan, size-heapScan), size})
	}
	for _, r := range regions {
		buf := make([]byte, r[1]-r[0])
		if _, err := f.ReadAt(buf, r[0]); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		for i := 0; ; {
			k := bytes.Index(buf[i:], gcolMagic)
			if k < 0 {
				break
			}
			if err := checkCollection(f, r[0]+int64(i+k), size); err != nil {
				return err
			}
			i += k + len(gcolMagic)
		}
	}
	return nil
}

// checkCollection walks the objects of the global heap collection at pos, as HDF5's
// H5HG__cache_heap_deserialize does, checking that each lies inside the collection.
func checkCollection(f *os.File, pos, fileSize int64) error {
	var hdr [16]byte
	if _, err := f.ReadAt(hdr[:], pos); err != nil {
		return fmt.Errorf("HDF5 global heap at byte %d is cut off", pos)
	}
	csize := le64(hdr[8:])
	if csize < 4096 || csize > uint64(fileSize-pos) {
		return fmt.Errorf("HDF5 global heap at byte %d claims %d bytes; the file has %d after it", pos, csize, fileSize-pos)
	}
	c := make([]byte, csize)
	if _, err := f.ReadAt(c, pos); err != nil {
		return fmt.Errorf("HDF5 global heap at byte %d is cut off", pos)
	}
	const objHdr = 16 // index (2), reference count (2), reserved (4), size (8)
	end := uint64(len(c))
	for p := uint64(16); p < end; {
		if p+objHdr > end {
			break // a tail too small for an object header is free space
		}
		idx, osize := uint16(c[p])|uint16(c[p+1])<<8, le64(c[p+8:])
		var need uint64
		if idx == 0 {
			need = osize // the free-space object's size includes its header
			if need < objHdr {
				return fmt.Errorf("HDF5 global heap at byte %d has a free-space object of %d bytes", pos, osize)
			}
		} else {
			if osize > end {
				return fmt.Errorf("HDF5 global heap at byte %d has an object of %d bytes in a collection of %d", pos, osize, end)
			}
			need = objHdr + (osize+7)&^7
		}
		if need > end-p {
			return fmt.Errorf("HDF5 global heap at byte %d: object %d overruns the collection", pos, idx)
		}
		p += need
	}
	return nil
}

// le64 decodes a little-endian uint64.
func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
