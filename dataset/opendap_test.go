package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A minimal OPeNDAP (DAP 2) server, enough for libnetcdf's client: .dds, .das and .dods with
// projection constraints and hyperslabs (OPeNDAP's "DAP 2.0" specification, sections 6 and 7).
// It serves one dataset, sst(time, lat, lon), with latitude descending and longitude in 0..360,
// as the HadISST and OISST servers do.

type dapVar struct {
	name string
	typ  string // Float32 or Float64
	dims []string
	vals []float64
}

type dapServer struct {
	vars  []*dapVar
	dims  map[string]int
	attrs string // the DAS body

	mu       sync.Mutex
	requests []string
}

func newDAPServer(nt int) *dapServer {
	lat := []float64{15, 13, 11, 9, 7}
	lon := []float64{330, 332, 334, 336}
	times := make([]float64, nt)
	for i := range times {
		times[i] = 30.4375*float64(i) + 15
	}
	sst := make([]float64, nt*len(lat)*len(lon))
	for i := range sst {
		t, c := i/(len(lat)*len(lon)), i%(len(lat)*len(lon))
		sst[i] = 25 + 2*math.Sin(2*math.Pi*float64(t)/12) - 0.1*float64(c)
		if c == 6 {
			sst[i] = -999 // land
		}
	}
	d := &dapServer{
		vars: []*dapVar{
			{name: "time", typ: "Float64", dims: []string{"time"}, vals: times},
			{name: "lat", typ: "Float64", dims: []string{"lat"}, vals: lat},
			{name: "lon", typ: "Float64", dims: []string{"lon"}, vals: lon},
			{name: "sst", typ: "Float32", dims: []string{"time", "lat", "lon"}, vals: sst},
		},
		dims: map[string]int{"time": nt, "lat": len(lat), "lon": len(lon)},
	}
	d.attrs = `Attributes {
    time {
        String units "days since 1990-01-01 00:00:00";
        String calendar "standard";
        String standard_name "time";
    }
    lat {
        String units "degrees_north";
        String standard_name "latitude";
    }
    lon {
        String units "degrees_east";
        String standard_name "longitude";
    }
    sst {
        String units "degC";
        String long_name "sea surface temperature";
        Float32 _FillValue -999;
    }
    NC_GLOBAL {
        String title "climxai DAP test";
    }
}
`
	return d
}

// slice is one hyperslab dimension: start, stride, stop (inclusive).
type slice struct{ start, stride, stop int }

func (s slice) n() int { return (s.stop-s.start)/s.stride + 1 }

var projRe = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)((?:\[[0-9:]+\])*)$`)
var sliceRe = regexp.MustCompile(`\[([0-9:]+)\]`)

// parse turns a constraint expression's projection into the variables and slices requested.
func (d *dapServer) parse(ce string) ([]*dapVar, [][]slice, error) {
	proj, _, _ := strings.Cut(ce, "&")
	var vars []*dapVar
	var slices [][]slice
	if proj == "" {
		for _, v := range d.vars {
			vars = append(vars, v)
			slices = append(slices, d.full(v))
		}
		return vars, slices, nil
	}
	for _, p := range strings.Split(proj, ",") {
		m := projRe.FindStringSubmatch(p)
		if m == nil {
			return nil, nil, fmt.Errorf("bad projection %q", p)
		}
		var v *dapVar
		for _, c := range d.vars {
			if c.name == m[1] {
				v = c
			}
		}
		if v == nil {
			return nil, nil, fmt.Errorf("no variable %q", m[1])
		}
		sl := d.full(v)
		if m[2] != "" {
			parts := sliceRe.FindAllStringSubmatch(m[2], -1)
			if len(parts) != len(v.dims) {
				return nil, nil, fmt.Errorf("%q: %d slices for %d dimensions", p, len(parts), len(v.dims))
			}
			for i, part := range parts {
				f := strings.Split(part[1], ":")
				nums := make([]int, len(f))
				for j := range f {
					nums[j], _ = strconv.Atoi(f[j])
				}
				switch len(nums) {
				case 1:
					sl[i] = slice{nums[0], 1, nums[0]}
				case 2:
					sl[i] = slice{nums[0], 1, nums[1]}
				default:
					sl[i] = slice{nums[0], nums[1], nums[2]}
				}
				if sl[i].stride < 1 || sl[i].start > sl[i].stop || sl[i].stop >= d.dims[v.dims[i]] {
					return nil, nil, fmt.Errorf("%q: slice out of range", p)
				}
			}
		}
		vars = append(vars, v)
		slices = append(slices, sl)
	}
	return vars, slices, nil
}

func (d *dapServer) full(v *dapVar) []slice {
	sl := make([]slice, len(v.dims))
	for i, name := range v.dims {
		sl[i] = slice{0, 1, d.dims[name] - 1}
	}
	return sl
}

func (d *dapServer) dds(vars []*dapVar, slices [][]slice) string {
	var b strings.Builder
	b.WriteString("Dataset {\n")
	for i, v := range vars {
		fmt.Fprintf(&b, "    %s %s", v.typ, v.name)
		for j, dim := range v.dims {
			fmt.Fprintf(&b, "[%s = %d]", dim, slices[i][j].n())
		}
		b.WriteString(";\n")
	}
	b.WriteString("} sst_test;\n")
	return b.String()
}

// values returns v's values in the slab, row-major.
func (d *dapServer) values(v *dapVar, sl []slice) []float64 {
	var out []float64
	idx := make([]int, len(sl))
	for i := range idx {
		idx[i] = sl[i].start
	}
	for {
		flat := 0
		for i, dim := range v.dims {
			flat = flat*d.dims[dim] + idx[i]
		}
		out = append(out, v.vals[flat])
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i] += sl[i].stride
			if idx[i] <= sl[i].stop {
				break
			}
			idx[i] = sl[i].start
		}
		if i < 0 {
			return out
		}
	}
}

func (d *dapServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.requests = append(d.requests, r.URL.String())
	d.mu.Unlock()
	ce, err := url.QueryUnescape(r.URL.RawQuery)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	base, ext, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), ".")
	if base != "sst" {
		w.Header().Set("XDODS-Server", "dods/3.2")
		http.Error(w, "Error {\n    code = 404;\n    message = \"no such dataset\";\n};", http.StatusNotFound)
		return
	}
	w.Header().Set("XDODS-Server", "dods/3.2")
	w.Header().Set("XOPeNDAP-Server", "climxai-test/1.0")
	w.Header().Set("XDAP", "2.0")
	vars, slices, err := d.parse(ce)
	if err != nil {
		http.Error(w, "Error {\n    code = 1005;\n    message = \""+err.Error()+"\";\n};", http.StatusBadRequest)
		return
	}
	switch ext {
	case "das":
		w.Header().Set("Content-Description", "dods-das")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, d.attrs)
	case "dds":
		w.Header().Set("Content-Description", "dods-dds")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, d.dds(vars, slices))
	case "dods":
		w.Header().Set("Content-Description", "dods-data")
		w.Header().Set("Content-Type", "application/octet-stream")
		var buf bytes.Buffer
		buf.WriteString(d.dds(vars, slices))
		buf.WriteString("\nData:\n")
		for i, v := range vars {
			vals := d.values(v, slices[i])
			// XDR arrays: the length twice, then the values big-endian.
			binary.Write(&buf, binary.BigEndian, uint32(len(vals)))
			binary.Write(&buf, binary.BigEndian, uint32(len(vals)))
			for _, x := range vals {
				if v.typ == "Float32" {
					binary.Write(&buf, binary.BigEndian, float32(x))
				} else {
					binary.Write(&buf, binary.BigEndian, x)
				}
			}
		}
		w.Write(buf.Bytes())
	default:
		http.Error(w, "unknown response "+ext, http.StatusBadRequest)
	}
}

// Open reads an OPeNDAP URL through libnetcdf's DAP client with the same decoding as a file:
// coordinates, calendar, fill values, descending latitude and 0..360 longitudes.
func TestOpenOPeNDAP(t *testing.T) {
	const nt = 48
	d := newDAPServer(nt)
	srv := httptest.NewServer(d)
	defer srv.Close()
	// libnetcdf caches nothing between tests here, but reads .daprc/.dodsrc from the home and
	// working directories: keep both empty.
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DAPRCFILE", "")

	done := make(chan struct{})
	var s *Series
	var err error
	go func() {
		defer close(done)
		s, err = Open(srv.URL+"/sst", OpenOptions{})
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("opening the OPeNDAP URL did not finish within 60 s")
	}
	if err != nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		t.Fatalf("Open(URL): %v\nrequests: %q", err, d.requests)
	}
	if s.N != nt || s.Start != NewMonth(1990, 1) || s.Calendar != "standard" {
		t.Fatalf("time axis: %d months from %v (%s), want %d from 1990-01", s.N, s.Start, s.Calendar, nt)
	}
	// The axes as served: latitude descending (as in HadISST), longitude in 0..360.
	wantLat, wantLon := []float64{15, 13, 11, 9, 7}, []float64{330, 332, 334, 336}
	for i, v := range wantLat {
		if s.Grid.Lat[i] != v {
			t.Fatalf("lat = %v, want %v", s.Grid.Lat, wantLat)
		}
	}
	for i, v := range wantLon {
		if s.Grid.Lon[i] != v {
			t.Fatalf("lon = %v, want %v", s.Grid.Lon, wantLon)
		}
	}
	// Every value, in the served order.
	sst := d.vars[3].vals
	for tt := 0; tt < nt; tt++ {
		for r := 0; r < 5; r++ {
			for c := 0; c < 4; c++ {
				want := sst[(tt*5+r)*4+c]
				got := float64(s.Values[tt*20+r*4+c])
				if want == -999 {
					if !math.IsNaN(got) {
						t.Fatalf("t=%d r=%d c=%d: fill value read as %v", tt, r, c, got)
					}
					continue
				}
				if math.Abs(got-want) > 1e-5 {
					t.Fatalf("t=%d r=%d c=%d: %v, served %v", tt, r, c, got, want)
				}
			}
		}
	}
	d.mu.Lock() // the requests come through libcurl, out of the race detector's sight
	requests := slices.Clone(d.requests)
	d.mu.Unlock()
	sawData := false
	for _, r := range requests {
		sawData = sawData || strings.Contains(r, ".dods")
	}
	if !sawData {
		t.Fatalf("no data request reached the server: %q", requests)
	}

	// climxai info on the URL.
	info, err := Inspect(srv.URL+"/sst", "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Variable != "sst" || info.Lat.Order != "descending" || info.Lon.Convention != "0..360" || math.Abs(info.OceanFraction-0.95) > 1e-9 {
		t.Fatalf("info: variable %q, lat %s, lon %s, ocean fraction %v", info.Variable, info.Lat.Order, info.Lon.Convention, info.OceanFraction)
	}
	// Cut to a card grid in -180..180 with latitude ascending.
	p, err := Prepare(s, GridSpec{LatStart: 9, LatStep: 2, NLat: 3, LonStart: -28, LonStep: 2, NLon: 2},
		PreprocessSpec{Anomaly: AnomalyTimeMean, Filter: "none", ScaleMean: 0, ScaleStd: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Series.Grid; got.Lat[0] != 9 || got.Lon[1] != -26 {
		t.Fatalf("prepared grid %v %v", got.Lat, got.Lon)
	}

	// A URL without a dataset is a clear error naming the URL, not a hang or a panic.
	_, err = Open(srv.URL+"/nothing", OpenOptions{})
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/nothing") {
		t.Fatalf("Open(missing URL) = %v, want an error naming the URL", err)
	}
}
