package dataset

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// levelCDL is a file of ocean temperature on three depth levels (thetao(time, lev, lat, lon),
// value 10·level + month + cell/10) and SST beside it; deflate adds NetCDF-4 compression and
// chunks of two levels, which climxai reads chunk by chunk itself.
func levelCDL(deflate bool) string {
	var vals []string
	for t := range 4 {
		for z := range 3 {
			for c := range 4 {
				vals = append(vals, fmt.Sprint(float64(10*(z+1)+t)+float64(c)/10))
			}
		}
	}
	var sst []string
	for t := range 4 {
		for c := range 4 {
			sst = append(sst, fmt.Sprint(float64(20+t)+float64(c)/10))
		}
	}
	compress := ""
	if deflate {
		compress = "thetao:_DeflateLevel = 1 ; thetao:_ChunkSizes = 2, 2, 2, 2 ;"
	}
	return `netcdf levels {
dimensions: time = 4 ; lev = 3 ; lat = 2 ; lon = 2 ;
variables:
	double time(time) ; time:units = "days since 2000-01-01" ; time:calendar = "noleap" ;
	double lev(lev) ; lev:units = "m" ; lev:positive = "down" ; lev:standard_name = "depth" ;
	float lat(lat) ; lat:units = "degrees_north" ;
	float lon(lon) ; lon:units = "degrees_east" ;
	float thetao(time, lev, lat, lon) ; thetao:units = "degC" ; ` + compress + `
	float sst(time, lat, lon) ; sst:units = "degC" ;
data:
	time = 15, 45, 74, 105 ;
	lev = 5, 100, 300 ;
	lat = 40.5, 41.5 ;
	lon = -30.5, -29.5 ;
	thetao = ` + strings.Join(vals, ", ") + ` ;
	sst = ` + strings.Join(sst, ", ") + ` ;
}
`
}

// TestOpenLevel: a variable on depth levels is read at the level nearest to the one asked for
// (classic and compressed NetCDF-4, whose chunks span two levels), refused without one with a
// hint that names the card's level key, and a level asked of a one-level variable is noted.
func TestOpenLevel(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		deflate bool
	}{{"classic", false}, {"nc4", true}} {
		path := cdlFile(t, levelCDL(tc.deflate), tc.kind)
		for _, lv := range []struct {
			want  float64
			level int // 1-based level expected
		}{{90, 2}, {0, 1}, {1000, 3}, {210, 3}} {
			want := lv.want
			s, err := Open(path, OpenOptions{Var: "thetao", Raw: true, Level: &want})
			if err != nil {
				t.Fatalf("%s level %g: %v", tc.kind, want, err)
			}
			if s.N != 4 || len(s.Values) != 16 {
				t.Fatalf("%s level %g: %d months, %d values", tc.kind, want, s.N, len(s.Values))
			}
			for i, v := range s.Values {
				tm, c := i/4, i%4
				if exp := float32(10*lv.level+tm) + float32(c)/10; v != exp {
					t.Fatalf("%s level %g: value %d is %g, want %g (level %d)", tc.kind, want, i, v, exp, lv.level)
				}
			}
			if !slices.ContainsFunc(s.Notices, func(n string) bool {
				return strings.Contains(n, fmt.Sprintf("(level %d of 3), the nearest to %g", lv.level, want))
			}) {
				t.Errorf("%s: notices %q", tc.kind, s.Notices)
			}
		}
		_, err := Open(path, OpenOptions{Var: "thetao", Raw: true})
		if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), "3 levels") || !strings.Contains(err.Error(), "level = DEPTH") {
			t.Errorf("%s without a level: %v", tc.kind, err)
		}
		lvl := 100.0
		s, err := Open(path, OpenOptions{Var: "sst", Level: &lvl})
		if err != nil || !slices.ContainsFunc(s.Notices, func(n string) bool { return strings.Contains(n, "level 100 not used") }) || s.Values[0] != 20 {
			t.Errorf("%s sst with a level: %v %q", tc.kind, err, s.Notices)
		}
	}
}
