package synth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"testing"

	"climxai/dataset"
)

// run200 is a 200-year 2° run for the statistical tests (a fifth of a second).
func run200(t testing.TB) *Result {
	t.Helper()
	r, err := Generate(context.Background(), Config{Years: 200, Grid: 2, Seed: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// cellSeries returns the anomaly time series of the cell nearest (lat, lon).
func cellSeries(s *dataset.Series, lat, lon float64) []float64 {
	bi, bj := 0, 0
	for i, v := range s.Grid.Lat {
		if math.Abs(v-lat) < math.Abs(s.Grid.Lat[bi]-lat) {
			bi = i
		}
	}
	for j, v := range s.Grid.Lon {
		if math.Abs(v-lon) < math.Abs(s.Grid.Lon[bj]-lon) {
			bj = j
		}
	}
	k := bi*s.Grid.NLon() + bj
	out := make([]float64, s.N)
	for t := range out {
		out[t] = float64(s.Values[t*s.Grid.Size()+k])
	}
	return out
}

func autocorr(x []float64, lag int) float64 {
	mean := 0.0
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	num, den := 0.0, 0.0
	for t := range x {
		d := x[t] - mean
		den += d * d
		if t >= lag {
			num += d * (x[t-lag] - mean)
		}
	}
	return num / den
}

func std(x []float64) float64 {
	m, s := 0.0, 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestGenerateGridAndAxis(t *testing.T) {
	for _, tc := range []struct{ grid, nlat, nlon int }{{2, 35, 63}, {1, 70, 125}} {
		r, err := Generate(context.Background(), Config{Years: 1, Grid: tc.grid, Seed: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		g := r.SST.Grid
		if g.NLat() != tc.nlat || g.NLon() != tc.nlon || r.SST.N != 12 {
			t.Fatalf("grid %d: %d x %d x %d months", tc.grid, g.NLat(), g.NLon(), r.SST.N)
		}
		if r.SST.Start != dataset.NewMonth(1, 1) || r.SST.Month(11).String() != "0001-12" {
			t.Errorf("time axis starts %v", r.SST.Start)
		}
		wantLat, wantLon := 5.0, -100.0
		if tc.grid == 1 {
			wantLat, wantLon = 5.5, -99.5
		}
		if g.Lat[0] != wantLat || g.Lon[0] != wantLon || g.Lat[tc.nlat-1] != 74.5-float64(tc.grid-1)*1.5 || g.Lon[tc.nlon-1] != 24.5-float64(tc.grid-1)*0.5 {
			t.Errorf("grid %d spans lat %g..%g lon %g..%g", tc.grid, g.Lat[0], g.Lat[tc.nlat-1], g.Lon[0], g.Lon[tc.nlon-1])
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	gen := func(seed int) *Result {
		r, err := Generate(context.Background(), Config{Years: 3, Grid: 2, Seed: seed}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := gen(1), gen(1), gen(2)
	same, differ := true, false
	for k := range a.SST.Values {
		x, y, z := a.SST.Values[k], b.SST.Values[k], c.SST.Values[k]
		if x != y && !(math.IsNaN(float64(x)) && math.IsNaN(float64(y))) {
			same = false
		}
		if x != z && !math.IsNaN(float64(x)) {
			differ = true
		}
	}
	if !same {
		t.Error("the same seed gave different runs")
	}
	if !differ {
		t.Error("different seeds gave the same run")
	}
}

func TestGenerateStreamsAndAnomalyOnly(t *testing.T) {
	gen := func(cfg Config) *Result {
		r, err := Generate(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	data := gen(Config{Years: 2, Grid: 2, Seed: 1})
	same := gen(Config{Years: 2, Grid: 2, Seed: 1, AnomalyOnly: true})
	other := gen(Config{Years: 2, Grid: 2, Seed: 1, Stream: 1, AnomalyOnly: true})
	if same.SST != nil {
		t.Error("AnomalyOnly returned an SST series")
	}
	equal, differ := true, false
	for k, v := range data.Anomaly.Values {
		if math.IsNaN(float64(v)) {
			continue
		}
		equal = equal && same.Anomaly.Values[k] == v
		differ = differ || other.Anomaly.Values[k] != v
	}
	if !equal {
		t.Error("AnomalyOnly changed the anomalies")
	}
	if !differ {
		t.Error("stream 1 repeated stream 0")
	}
}

func TestGenerateLandAndOcean(t *testing.T) {
	r, err := Generate(context.Background(), Config{Years: 2, Grid: 2, Seed: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	size := r.SST.Grid.Size()
	ocean := 0
	for k, land := range r.Land {
		if !land {
			ocean++
		}
		for tt := 0; tt < r.SST.N; tt++ {
			v := float64(r.SST.Values[tt*size+k])
			a := float64(r.Anomaly.Values[tt*size+k])
			if land != math.IsNaN(v) || land != math.IsNaN(a) {
				t.Fatalf("cell %d month %d: land %v but sst %v anomaly %v", k, tt, land, v, a)
			}
			if !land && (v < -2 || v > 35) {
				t.Fatalf("cell %d month %d: sst %v °C is implausible", k, tt, v)
			}
		}
	}
	if ocean < 1000 {
		t.Errorf("only %d ocean cells", ocean)
	}
}

func TestGenerateStatistics(t *testing.T) {
	r := run200(t)
	a := r.Anomaly
	tests := []struct {
		name      string
		lat, lon  float64
		reemerges bool // deep winter mixed layers: lag-12 memory expected
	}{
		{"subpolar gyre", 55, -35, true},
		{"Gulf Stream", 39, -65, true},
		{"subtropics", 25, -40, false},
		{"north-east Atlantic", 47, -20, true},
		{"Norwegian Sea", 65, -10, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := cellSeries(a, tc.lat, tc.lon)
			s, r1, r12 := std(x), autocorr(x, 1), autocorr(x, 12)
			t.Logf("std %.2f °C, lag-1 %.2f, lag-12 %.2f", s, r1, r12)
			if s < 0.2 || s > 1.5 {
				t.Errorf("std %.2f °C outside 0.2..1.5", s)
			}
			if r1 < 0.6 || r1 > 0.95 {
				t.Errorf("lag-1 autocorrelation %.2f outside 0.6..0.95", r1)
			}
			if tc.reemerges && r12 <= 0.1 {
				t.Errorf("lag-12 autocorrelation %.2f, want positive (re-emergence)", r12)
			}
		})
	}
	// Re-emergence: at mid-latitudes, the correlation of March with the next March exceeds
	// that of March with the preceding September (summer breaks the memory, winter brings it
	// back).
	x := cellSeries(a, 55, -35)
	var mar, sep, mar1 []float64
	for y := 0; y+1 < a.N/12; y++ {
		mar = append(mar, x[12*y+2])
		sep = append(sep, x[12*y+8])
		mar1 = append(mar1, x[12*(y+1)+2])
	}
	if cMar, cSep := corr(mar, mar1), corr(mar, sep); cMar <= cSep {
		t.Errorf("March-to-March correlation %.2f not above March-to-September %.2f", cMar, cSep)
	}
}

func corr(x, y []float64) float64 {
	mx, my := 0.0, 0.0
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	sxy, sxx, syy := 0.0, 0.0, 0.0
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestAnomalyClimatologyNearZero(t *testing.T) {
	r := run200(t)
	a := r.Anomaly
	size := a.Grid.Size()
	years := a.N / 12
	worst, sd := 0.0, 0.0
	n := 0
	for k, land := range r.Land {
		if land {
			continue
		}
		for mo := 0; mo < 12; mo++ {
			m := 0.0
			for y := 0; y < years; y++ {
				v := float64(a.Values[(12*y+mo)*size+k])
				m += v
				sd += v * v
				n++
			}
			worst = math.Max(worst, math.Abs(m/float64(years)))
		}
	}
	sd = math.Sqrt(sd / float64(n))
	// Mean of 200 strongly autocorrelated values: a few tenths of the std at worst over cells.
	if worst > sd {
		t.Errorf("largest monthly-mean anomaly %.2f °C exceeds the anomaly std %.2f °C", worst, sd)
	}
	// The average over cells of the monthly means must be much closer to zero.
	for mo := 0; mo < 12; mo++ {
		m, c := 0.0, 0
		for k, land := range r.Land {
			if land {
				continue
			}
			for y := 0; y < years; y++ {
				m += float64(a.Values[(12*y+mo)*size+k])
				c++
			}
		}
		if math.Abs(m/float64(c)) > 0.25*sd {
			t.Errorf("month %d: domain-mean anomaly %.3f °C", mo+1, m/float64(c))
		}
	}
}

func TestClimatologyShape(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		lo, hi   float64 // annual mean bounds, °C
	}{
		{"tropics", 8, -40, 25.5, 28.5},
		{"70N", 70, -10, 3, 10},
		{"Labrador Sea", 60, -55, 3, 10},
	}
	for _, tc := range tests {
		mean, mn, mx := 0.0, 100.0, -100.0
		for m := 1; m <= 12; m++ {
			v := Climatology(tc.lat, tc.lon, m)
			mean += v / 12
			mn, mx = math.Min(mn, v), math.Max(mx, v)
		}
		if mean < tc.lo || mean > tc.hi {
			t.Errorf("%s: annual mean %.1f °C outside %g..%g", tc.name, mean, tc.lo, tc.hi)
		}
		if mx-mn < 1.5 || mx-mn > 8.5 {
			t.Errorf("%s: seasonal range %.1f °C", tc.name, mx-mn)
		}
	}
	if Climatology(40, -40, 8)-Climatology(40, -40, 2) < 5 {
		t.Error("40N: August not clearly warmer than February")
	}
}

// sameBits reports whether a and b hold the same float32 bit patterns (NaN equal to NaN).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if math.Float32bits(a[k]) != math.Float32bits(b[k]) {
			return false
		}
	}
	return true
}

// TestGenerateSSTPinned pins the SST of short runs to the bytes the generator wrote before the
// subsurface output existed: goldens and a study depend on them. The pins are for amd64; Go may
// fuse multiply-adds on other architectures, which changes the last bits.
func TestGenerateSSTPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("pins are amd64 bytes; %s may fuse multiply-adds", runtime.GOARCH)
	}
	tests := []struct {
		name string
		cfg  Config
		want string // SHA-256 of SST.Values, little-endian float32
	}{
		{"2 degrees, 3 years", Config{Years: 3, Grid: 2, Seed: 1}, "bc928c8335ea6ea4a3d975f5db5049372117c7b699300fbf4a1b1f8c9e122690"},
		{"1 degree, 1 year", Config{Years: 1, Grid: 1, Seed: 5}, "f7c129328009150c9b7fda45437cbeb2592ed1c08f5fc5d5b1ede2800b53d3dd"},
	}
	for _, tc := range tests {
		for _, sub := range []bool{false, true} {
			cfg := tc.cfg
			cfg.Subsurface = sub
			r, err := Generate(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			if err := binary.Write(h, binary.LittleEndian, r.SST.Values); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != tc.want {
				t.Errorf("%s, Subsurface %v: SST hash %s, want %s", tc.name, sub, got, tc.want)
			}
		}
	}
}

func TestGenerateSubsurfaceLeavesSSTUnchanged(t *testing.T) {
	gen := func(cfg Config) *Result {
		r, err := Generate(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	plain := gen(Config{Years: 20, Grid: 2, Seed: 4})
	sub := gen(Config{Years: 20, Grid: 2, Seed: 4, Subsurface: true})
	if plain.Subsurface != nil || plain.SubsurfaceAnomaly != nil {
		t.Error("a run without Subsurface returned subsurface series")
	}
	if sub.Subsurface == nil || sub.SubsurfaceAnomaly == nil {
		t.Fatal("a run with Subsurface returned no subsurface series")
	}
	if !sameBits(plain.SST.Values, sub.SST.Values) {
		t.Error("Subsurface changed the SST")
	}
	if !sameBits(plain.Anomaly.Values, sub.Anomaly.Values) {
		t.Error("Subsurface changed the anomalies")
	}
	only := gen(Config{Years: 20, Grid: 2, Seed: 4, Subsurface: true, AnomalyOnly: true})
	if only.Subsurface != nil || only.SST != nil {
		t.Error("AnomalyOnly returned absolute series")
	}
	if !sameBits(only.SubsurfaceAnomaly.Values, sub.SubsurfaceAnomaly.Values) {
		t.Error("AnomalyOnly changed the subsurface anomalies")
	}
	if s := sub.Subsurface; s.Name != "tsub" || s.Units != "degC" || s.Calendar != "noleap" || s.N != sub.SST.N || s.Start != sub.SST.Start {
		t.Errorf("subsurface series %q in %s, %s calendar, %d months from %v", s.Name, s.Units, s.Calendar, s.N, s.Start)
	}
}

func TestGenerateSubsurfaceDeterministic(t *testing.T) {
	gen := func(seed int) *Result {
		r, err := Generate(context.Background(), Config{Years: 3, Grid: 2, Seed: seed, Subsurface: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := gen(1), gen(1), gen(2)
	if !sameBits(a.Subsurface.Values, b.Subsurface.Values) {
		t.Error("the same seed gave different tsub")
	}
	if sameBits(a.Subsurface.Values, c.Subsurface.Values) {
		t.Error("different seeds gave the same tsub")
	}
}

func TestGenerateSubsurfaceLand(t *testing.T) {
	r, err := Generate(context.Background(), Config{Years: 2, Grid: 2, Seed: 3, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	size := r.SST.Grid.Size()
	for k, land := range r.Land {
		for tt := 0; tt < r.SST.N; tt++ {
			v := float64(r.Subsurface.Values[tt*size+k])
			d := float64(r.SubsurfaceAnomaly.Values[tt*size+k])
			if land != math.IsNaN(v) || land != math.IsNaN(d) || math.IsInf(v, 0) || math.IsInf(d, 0) {
				t.Fatalf("cell %d month %d: land %v but tsub %v, its anomaly %v", k, tt, land, v, d)
			}
		}
	}
}

// TestSubsurfaceClimatology checks that tsub is the documented climatology plus D: the
// difference is D to float32 rounding, and D has no climatology left (its time mean is small
// against its spread at every cell). The climatology itself is plausible: colder than the SST
// in every month (stable stratification), about 25 °C in the tropics, above 1 °C at 73°N.
func TestSubsurfaceClimatology(t *testing.T) {
	r, err := Generate(context.Background(), Config{Years: 200, Grid: 2, Seed: 7, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := r.Subsurface.Grid
	size := g.Size()
	var rms, domain float64 // over cells: squared time mean over std; time mean (°C)
	cells := 0
	for k, land := range r.Land {
		if land {
			continue
		}
		lat, lon := g.Lat[k/g.NLon()], g.Lon[k%g.NLon()]
		c := SubsurfaceClimatology(lat, lon)
		for m := 1; m <= 12; m++ {
			if sst := Climatology(lat, lon, m); c > sst-0.4 {
				t.Fatalf("%g°N %g°E: tsub climatology %.2f °C not below the SST climatology %.2f °C of month %d", lat, lon, c, sst, m)
			}
		}
		if lat < 10 && (c < 24 || c > 27) || lat > 72 && c < 1 {
			t.Errorf("%g°N %g°E: tsub climatology %.2f °C is implausible", lat, lon, c)
		}
		mean, ss := 0.0, 0.0
		for tt := 0; tt < r.Subsurface.N; tt++ {
			v := float64(r.Subsurface.Values[tt*size+k])
			d := float64(r.SubsurfaceAnomaly.Values[tt*size+k])
			if math.Abs(v-c-d) > 4e-6*math.Max(1, math.Abs(v)) {
				t.Fatalf("%g°N %g°E month %d: tsub %v minus climatology %v is not D %v", lat, lon, tt, v, c, d)
			}
			mean += v - c
			ss += (v - c) * (v - c)
		}
		n := float64(r.Subsurface.N)
		mean /= n
		sd := math.Sqrt(ss/n - mean*mean)
		rms += (mean / sd) * (mean / sd)
		domain += mean
		cells++
	}
	rms, domain = math.Sqrt(rms/float64(cells)), domain/float64(cells)
	t.Logf("%d ocean cells: time mean of tsub minus its climatology %.3f °C on average, %.2f standard deviations rms", cells, domain, rms)
	// D decorrelates over two to three years, so the mean of 200 years is about a fifth of
	// its spread at a cell; over the whole domain it nearly cancels. An offset of the
	// climatology by half a degree would show in both.
	if rms > 0.3 {
		t.Errorf("tsub minus its climatology has time means of %.2f standard deviations (rms over cells), want below 0.3", rms)
	}
	if math.Abs(domain) > 0.15 {
		t.Errorf("tsub minus its climatology has a domain-average time mean of %.3f °C, want near 0", domain)
	}
}

// TestSubsurfaceReemergence checks that tsub carries the physics of doc.go: at mid and high
// latitudes the winter (January-March) mixed-layer anomaly entrains the previous autumn's
// (September-November) subsurface anomaly, so it correlates with it far better than with the
// previous autumn's own surface anomaly, which summer has damped.
func TestSubsurfaceReemergence(t *testing.T) {
	r, err := Generate(context.Background(), Config{Years: 200, Grid: 2, Seed: 7, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		lat, lon float64
	}{
		{"subpolar gyre", 55, -35},
		{"Labrador Sea", 60, -50},
		{"north-east Atlantic", 47, -20},
		{"Norwegian Sea", 65, -10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := cellSeries(r.Anomaly, tc.lat, tc.lon)
			d := cellSeries(r.SubsurfaceAnomaly, tc.lat, tc.lon)
			mean3 := func(s []float64, t0 int) float64 { return (s[t0] + s[t0+1] + s[t0+2]) / 3 }
			var winterT, autumnD, autumnT []float64
			for y := 1; y < r.Anomaly.N/12; y++ {
				winterT = append(winterT, mean3(x, 12*y))
				autumnD = append(autumnD, mean3(d, 12*(y-1)+8))
				autumnT = append(autumnT, mean3(x, 12*(y-1)+8))
			}
			cD, cT := corr(winterT, autumnD), corr(winterT, autumnT)
			t.Logf("winter T with the previous autumn's D: %.2f, with its T: %.2f; std of D %.2f °C", cD, cT, std(d))
			if cD < 0.6 {
				t.Errorf("winter T correlates %.2f with the previous autumn's D, want above 0.6", cD)
			}
			if cD < cT+0.2 {
				t.Errorf("winter T correlates %.2f with the previous autumn's D, not clearly more than %.2f with its T", cD, cT)
			}
			if s := std(d); s < 0.8 || s > 2.5 {
				t.Errorf("std of D %.2f °C outside 0.8..2.5", s)
			}
		})
	}
}

func TestGenerateRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Years: 0, Grid: 2}, {Years: 10, Grid: 3}, {Years: -1, Grid: 1}} {
		if _, err := Generate(context.Background(), cfg, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err = %v, want ErrConfig", cfg, err)
		}
	}
}

func TestGenerateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Generate(ctx, Config{Years: 100, Grid: 2, Seed: 1}, func(done, total int) {
		calls++
		if done == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls > 4 {
		t.Errorf("%d progress calls after cancelling at year 2", calls)
	}
}

// BenchmarkGenerate2Degree100Years measures the generator; 1000 years take ten times as long.
func BenchmarkGenerate2Degree100Years(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(context.Background(), Config{Years: 100, Grid: 2, Seed: 1}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerate1Degree100Years measures the generator on the 1° grid.
func BenchmarkGenerate1Degree100Years(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(context.Background(), Config{Years: 100, Grid: 1, Seed: 1}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
