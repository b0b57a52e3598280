package dataset

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"climxai/dataset/netcdf"
)

// FillValue marks missing cells in files climxai writes (the CMIP convention).
const FillValue float32 = 1e20

// WriteAtomic creates path through a temporary file in the same directory that fill writes and
// that is renamed over path only once it is complete, so a crash, a full disk or a cancelled job
// never leaves a half-written file where the user's file was.
func WriteAtomic(path string, fill func(tmp string) error) error {
	dir := filepath.Dir(path)
	tmpf, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("dataset: cannot write %s: %w (check that the directory exists and is writable)", path, err)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if f, err := os.Open(tmp); err == nil {
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("dataset: writing %s: %w", path, err)
		}
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("dataset: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dataset: cannot move the finished file into place at %s: %w", path, err)
	}
	ok = true
	return nil
}

// outputCalendar is the CF calendar climxai writes a series' time axis in: the series' own when
// it is one whose month lengths writeTime knows, else the proleptic Gregorian calendar.
func outputCalendar(c string) string {
	switch strings.ToLower(c) {
	case "noleap", "365_day":
		return "noleap"
	case "360_day":
		return "360_day"
	case "all_leap", "366_day":
		return "all_leap"
	}
	return "proleptic_gregorian"
}

// daysBefore returns the days from 1 January of refYear to the first day of month m in calendar
// cal (one of outputCalendar's results).
func daysBefore(m Month, refYear int, cal string) float64 {
	days := 0
	for y := refYear; y < m.Year(); y++ {
		days += yearLength(y, cal)
	}
	for mo := 1; mo < m.MonthOfYear(); mo++ {
		days += monthLength(m.Year(), mo, cal)
	}
	return float64(days)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func yearLength(y int, cal string) int {
	switch cal {
	case "noleap":
		return 365
	case "360_day":
		return 360
	case "all_leap":
		return 366
	}
	if isLeap(y) {
		return 366
	}
	return 365
}

func monthLength(y, mo int, cal string) int {
	if cal == "360_day" {
		return 30
	}
	switch mo {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if cal == "all_leap" || (cal == "proleptic_gregorian" && isLeap(y)) {
			return 29
		}
		return 28
	}
	return 31
}

// provenance returns the global attributes every file climxai writes carries, merged with extra.
func provenance(title string, extra map[string]string) map[string]string {
	a := map[string]string{
		"Conventions": "CF-1.8",
		"title":       title,
		"source":      "climxai",
		"history":     time.Now().UTC().Format(time.RFC3339) + " written by climxai",
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

// gridVars defines the lat and lon dimensions and coordinate variables of g.
func gridVars(f *netcdf.File, g Grid) (lat, lon netcdf.Dim, write func() error, err error) {
	if lat, err = f.DefDim("lat", g.NLat()); err != nil {
		return
	}
	if lon, err = f.DefDim("lon", g.NLon()); err != nil {
		return
	}
	vlat, err := f.DefVar("lat", netcdf.Double, []netcdf.Dim{lat})
	if err != nil {
		return
	}
	vlon, err := f.DefVar("lon", netcdf.Double, []netcdf.Dim{lon})
	if err != nil {
		return
	}
	for _, a := range []struct {
		v          *netcdf.Var
		name, unit string
		axis       string
	}{{vlat, "latitude", "degrees_north", "Y"}, {vlon, "longitude", "degrees_east", "X"}} {
		for k, val := range map[string]string{"standard_name": a.name, "long_name": a.name, "units": a.unit, "axis": a.axis} {
			if err = a.v.PutAttr(k, val); err != nil {
				return
			}
		}
	}
	write = func() error {
		if err := vlat.WriteFloat64(nil, nil, g.Lat); err != nil {
			return err
		}
		return vlon.WriteFloat64(nil, nil, g.Lon)
	}
	return
}

// WithFill returns vals with NaN replaced by the fill value (a copy; vals is not changed).
func WithFill(vals []float32) []float32 {
	out := make([]float32, len(vals))
	for i, v := range vals {
		if math.IsNaN(float64(v)) {
			v = FillValue
		}
		out[i] = v
	}
	return out
}

// dataVar defines a float32 (first, lat, lon) variable with fill value, compression and
// descriptive attributes, stored in one chunk per step of its first dimension (a month, a lag):
// the writers write it that way and readers read whole fields. libnetcdf's default chunks span
// hundreds of months, and writing month by month into them recompresses each chunk hundreds of
// times (a 100-year 1° file took minutes instead of a second).
func dataVar(f *netcdf.File, name string, dims []netcdf.Dim, attrs map[string]string) (*netcdf.Var, error) {
	v, err := f.DefVar(name, netcdf.Float, dims)
	if err != nil {
		return nil, err
	}
	chunks := []int{1}
	for _, d := range dims[1:] {
		chunks = append(chunks, max(d.Len, 1))
	}
	if err := v.SetChunking(chunks); err != nil {
		return nil, err
	}
	if err := v.SetDeflate(true, 4); err != nil {
		return nil, err
	}
	if err := v.PutAttr("_FillValue", FillValue); err != nil {
		return nil, err
	}
	if err := netcdf.PutAttrs(v.PutAttr, attrs); err != nil {
		return nil, err
	}
	return v, nil
}

// WriteSeries writes s as a CF NetCDF-4 file (time, lat, lon) with the given global attributes
// added to climxai's provenance attributes. The time axis stands at mid-month with bounds.
func WriteSeries(path string, s *Series, attrs map[string]string) error {
	return WriteSeriesVars(path, []SeriesVar{{Series: s}}, attrs)
}

// SeriesVar is one data variable of a file WriteSeriesVars writes: the series and, when not
// nil, its attributes (otherwise units, and for °C SST's standard and long names).
type SeriesVar struct {
	*Series
	Attrs map[string]string
}

// WriteSeriesVars writes several series of one time axis and grid as data variables of one CF
// NetCDF-4 file, as WriteSeries writes one: an emulator's input variables in one --data file.
// The first series names the file (title) and gives its notices.
func WriteSeriesVars(path string, vars []SeriesVar, attrs map[string]string) error {
	if len(vars) == 0 {
		return fmt.Errorf("dataset: cannot write %s: no series", path)
	}
	s := vars[0].Series
	if s.N <= 0 || len(s.Values) != s.N*s.Grid.Size() {
		return fmt.Errorf("dataset: cannot write %s: series has %d values for %d months on a %dx%d grid", path, len(s.Values), s.N, s.Grid.NLat(), s.Grid.NLon())
	}
	for _, v := range vars[1:] {
		if v.N != s.N || v.Start != s.Start || len(v.Values) != len(s.Values) || v.Grid.NLat() != s.Grid.NLat() || v.Grid.NLon() != s.Grid.NLon() || v.Calendar != s.Calendar {
			return fmt.Errorf("dataset: cannot write %s: %s and %s do not share one time axis, calendar and grid", path, s.Name, v.Name)
		}
	}
	return WriteAtomic(path, func(tmp string) error {
		f, err := netcdf.Create(tmp, netcdf.NetCDF4)
		if err != nil {
			return err
		}
		defer f.Close()
		cal := outputCalendar(s.Calendar)
		ref := s.Start.Year()
		tdim, err := f.DefDim("time", s.N)
		if err != nil {
			return err
		}
		bdim, err := f.DefDim("bnds", 2)
		if err != nil {
			return err
		}
		lat, lon, writeGrid, err := gridVars(f, s.Grid)
		if err != nil {
			return err
		}
		vt, err := f.DefVar("time", netcdf.Double, []netcdf.Dim{tdim})
		if err != nil {
			return err
		}
		units := fmt.Sprintf("days since %04d-01-01 00:00:00", ref)
		for k, v := range map[string]string{"standard_name": "time", "units": units, "calendar": cal, "axis": "T", "bounds": "time_bnds"} {
			if err := vt.PutAttr(k, v); err != nil {
				return err
			}
		}
		vb, err := f.DefVar("time_bnds", netcdf.Double, []netcdf.Dim{tdim, bdim})
		if err != nil {
			return err
		}
		vds := make([]*netcdf.Var, len(vars))
		for i, sv := range vars {
			name := sv.Name
			if name == "" {
				name = "sst"
			}
			va := sv.Attrs
			if va == nil {
				va = map[string]string{"units": sv.Units}
				if sv.Units == "degC" {
					va["standard_name"] = "sea_surface_temperature"
					va["long_name"] = "sea surface temperature"
				}
			}
			if vds[i], err = dataVar(f, name, []netcdf.Dim{tdim, lat, lon}, va); err != nil {
				return err
			}
		}
		name := s.Name
		if name == "" {
			name = "sst"
		}
		g := provenance("monthly "+name, attrs)
		if len(s.Notices) > 0 {
			g["notices"] = strings.Join(s.Notices, "\n")
		}
		if err := netcdf.PutAttrs(f.PutAttr, g); err != nil {
			return err
		}
		if err := f.EndDef(); err != nil {
			return err
		}
		times := make([]float64, s.N)
		bnds := make([]float64, 2*s.N)
		for t := 0; t < s.N; t++ {
			lo, hi := daysBefore(s.Month(t), ref, cal), daysBefore(s.Month(t)+1, ref, cal)
			times[t], bnds[2*t], bnds[2*t+1] = (lo+hi)/2, lo, hi
		}
		if err := vt.WriteFloat64(nil, nil, times); err != nil {
			return err
		}
		if err := vb.WriteFloat64(nil, nil, bnds); err != nil {
			return err
		}
		if err := writeGrid(); err != nil {
			return err
		}
		// One month at a time keeps the fill-value copy small for long series.
		n := s.Grid.Size()
		for i, sv := range vars {
			for t := 0; t < s.N; t++ {
				if err := vds[i].WriteFloat32([]int{t, 0, 0}, []int{1, s.Grid.NLat(), s.Grid.NLon()}, WithFill(sv.Values[t*n:(t+1)*n])); err != nil {
					return err
				}
			}
		}
		return f.Close()
	})
}
