package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"climxai/dataset"
)

// Physical constants and the model's parameters; doc.go explains each.
const (
	earthRadius   = 6371e3             // m
	secondsPerMon = 365.0 / 12 * 86400 // s in a noleap month (30.42 days)

	lambda0    = 0.35  // month⁻¹, annual-mean mixed-layer damping
	lambda1    = 0.10  // month⁻¹, seasonal amplitude of the damping (max in late July)
	gammaE     = 1.0   // month⁻¹, entrainment of D into T, November-February
	gammaD     = 0.1   // month⁻¹, detrainment of T into D, March-May
	tauD       = 60.0  // months, e-folding of the deep anomaly
	sigmaDeep  = 0.4   // °C month⁻¹, subsurface (thermocline heave) forcing of D
	deepScale  = 400e3 // m, Gaussian smoothing scale of the subsurface forcing
	deepAdv    = 0.5   // speed of the subsurface current relative to the surface current's
	kappa      = 500.0 // m² s⁻¹, horizontal eddy diffusivity
	jetSpeed   = 0.08  // m s⁻¹, effective advection speed on the jet axis
	jetWidth   = 250e3 // m, Gaussian cross-jet half-width
	jetTaper   = 300e3 // m, Gaussian taper beyond the path's ends
	gyreSpeed  = 0.04  // m s⁻¹, effective speed of the subtropical gyre's return flow
	gyreWidth  = 400e3 // m, its Gaussian cross-stream half-width
	sigmaNAO   = 0.35  // °C month⁻¹, NAO forcing on the tripole's centres
	phiNAO     = 0.4   // lag-1 autocorrelation of the monthly NAO index
	sigmaLocal = 0.30  // °C month⁻¹, local forcing
	noiseScale = 250e3 // m, Gaussian smoothing scale of the local forcing
	spinupYrs  = 10    // years discarded from rest
	maxStepOut = 0.5   // largest outflow rate x sub-step allowed
)

// current is a mean current along a polyline: speed on its axis, a Gaussian cross-stream
// profile of half-width width, and a Gaussian taper of scale taper beyond the path's ends.
type current struct {
	path         []LatLon // degrees, in the direction of flow
	speed        float64  // m s⁻¹
	width, taper float64  // m
}

// currents are the effective mean currents that carry SST and subsurface anomalies (doc.go).
var currents = []current{
	// Gulf Stream from the Florida Straits past Cape Hatteras, the North Atlantic Current to
	// its north-west corner and on north-east towards the Norwegian Sea.
	{path: []LatLon{{25, -80}, {35, -75}, {40, -60}, {46, -46}, {53, -38}, {58, -26}, {63, -12}, {68, 0}},
		speed: jetSpeed, width: jetWidth, taper: jetTaper},
	// The subtropical gyre's eastern and southern limbs: Azores and Canary Currents
	// south-westward, the North Equatorial Current westward to the Caribbean.
	{path: []LatLon{{40, -30}, {32, -25}, {24, -32}, {17, -42}, {14, -58}, {16, -75}},
		speed: gyreSpeed, width: gyreWidth, taper: jetTaper},
}

// Config chooses a synthetic run.
type Config struct {
	Years int // simulated years kept (after the spin-up), at least 1
	Grid  int // grid spacing in degrees: 1 or 2
	Seed  int // seed of the random source; equal seeds give equal runs

	// Stream selects one of many independent runs for the same seed: 0 for the data, other
	// values for companion runs of the same model (a long run to fit the truth on).
	Stream uint64
	// AnomalyOnly skips the absolute SST (Result.SST is nil), saving its memory.
	AnomalyOnly bool
	// Subsurface also returns the subsurface anomaly D (Result.SubsurfaceAnomaly) and the
	// temperature below the mixed layer (Result.Subsurface, unless AnomalyOnly). It draws no
	// random number and changes no arithmetic of T: SST and anomalies stay the same bytes.
	Subsurface bool
}

// ErrConfig is the kind of every error about an invalid Config or FitTruth request.
var ErrConfig = errors.New("invalid synthetic-data request")

// ConfigError names the invalid setting and says what is allowed.
type ConfigError struct {
	Field string // the setting, e.g. "Grid"
	Msg   string
}

func (e *ConfigError) Error() string { return "synth: " + e.Field + ": " + e.Msg }

// Unwrap lets errors.Is match ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// Result is a synthetic run. Its series share grid and time axis; land is NaN in all of them.
type Result struct {
	SST         *dataset.Series // absolute SST, °C (variable "sst"); nil with Config.AnomalyOnly
	Anomaly     *dataset.Series // SST minus Climatology, °C: the linear model's state T
	Climatology *dataset.Series // the 12 calendar months of the climatology, °C
	// Subsurface is the temperature below the mixed layer, °C (variable "tsub"):
	// SubsurfaceClimatology plus SubsurfaceAnomaly. Nil unless Config.Subsurface, and with
	// Config.AnomalyOnly.
	Subsurface *dataset.Series
	// SubsurfaceAnomaly is the model's state D, monthly means like Anomaly, °C; nil unless
	// Config.Subsurface.
	SubsurfaceAnomaly *dataset.Series
	Land              []bool // land mask of the grid, row-major [lat][lon]
	Substeps          int    // Euler sub-steps per month used
}

// NorthAtlanticGrid returns the reference study's North Atlantic grid at 1° or 2° spacing.
func NorthAtlanticGrid(step int) (dataset.Grid, error) {
	var g dataset.Grid
	switch step {
	case 2:
		for i := 0; i < 35; i++ {
			g.Lat = append(g.Lat, 5+2*float64(i))
		}
		for j := 0; j < 63; j++ {
			g.Lon = append(g.Lon, -100+2*float64(j))
		}
	case 1:
		for i := 0; i < 70; i++ {
			g.Lat = append(g.Lat, 5.5+float64(i))
		}
		for j := 0; j < 125; j++ {
			g.Lon = append(g.Lon, -99.5+float64(j))
		}
	default:
		return g, &ConfigError{Field: "Grid", Msg: fmt.Sprintf("%d° is not available; use 1 or 2", step)}
	}
	return g, nil
}

// model is the discretised linear system on the ocean cells of a grid.
type model struct {
	grid      dataset.Grid
	land      []bool
	cells     []int        // grid index of each ocean cell
	lat       []float64    // latitude of each ocean cell
	nbr       [][4]int32   // neighbour ocean-cell index per slot (self when absent)
	w         [][4]float64 // transport rate towards each neighbour, month⁻¹
	sea       []float64    // seasonal weight w(φ) per cell
	nao       []float64    // tripole pattern P per cell
	nsub      int          // Euler sub-steps per month
	noise     smoother
	deepNoise smoother
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// seasonalWeight is w(φ) of doc.go.
func seasonalWeight(lat float64) float64 { return 0.3 + 0.7*clamp01((lat-10)/25) }

// tripole is the NAO-like SST pattern P of doc.go.
func tripole(lat, lon float64) float64 {
	g := func(lat0, lon0, slat, slon float64) float64 {
		return math.Exp(-(lat-lat0)*(lat-lat0)/(2*slat*slat) - (lon-lon0)*(lon-lon0)/(2*slon*slon))
	}
	return g(35, -60, 7, 18) - g(57, -35, 7, 20) - 0.8*g(15, -35, 6, 22)
}

// currentVelocity returns the mean current (eastward u, northward v, m s⁻¹) at a point: the
// sum over currents of the speed at the nearest point of each path, along that segment.
func currentVelocity(lat, lon float64) (u, v float64) {
	k := math.Pi / 180 * earthRadius
	for _, cu := range currents {
		best, bx, by, fac := math.Inf(1), 0.0, 0.0, 1.0
		for s := 0; s+1 < len(cu.path); s++ {
			p0, p1 := cu.path[s], cu.path[s+1]
			c := math.Cos((p0.Lat + p1.Lat) / 2 * math.Pi / 180)
			ax, ay := (p1.Lon-p0.Lon)*k*c, (p1.Lat-p0.Lat)*k
			length := math.Hypot(ax, ay)
			ex, ey := ax/length, ay/length
			px, py := (lon-p0.Lon)*k*c, (lat-p0.Lat)*k
			along := px*ex + py*ey
			cross := -px*ey + py*ex
			f, d := 1.0, math.Abs(cross)
			switch {
			case along < 0 && s == 0:
				f = math.Exp(-along * along / (2 * cu.taper * cu.taper))
			case along > length && s+2 == len(cu.path):
				e := along - length
				f = math.Exp(-e * e / (2 * cu.taper * cu.taper))
			case along < 0:
				d = math.Hypot(px, py)
			case along > length:
				d = math.Hypot(px-ax, py-ay)
			}
			if d < best {
				best, bx, by, fac = d, ex, ey, f
			}
		}
		sp := cu.speed * fac * math.Exp(-best*best/(2*cu.width*cu.width))
		u += sp * bx
		v += sp * by
	}
	return u, v
}

// Climatology returns the climatological SST (°C) at a point for calendar month m (1..12);
// doc.go gives the formula.
func Climatology(lat, lon float64, m int) float64 {
	s := float64(m) - 0.5
	return climMean(lat, lon) + climAmp(lat)*math.Cos(2*math.Pi*(s-8)/12)
}

// climMean is the annual mean of the SST climatology, °C.
func climMean(lat, lon float64) float64 {
	x := math.Max(0, (lat-5)/65)
	return 27 - 22*math.Pow(x, 1.3) + 2.5*math.Exp(-(lon+15)*(lon+15)/(2*15*15))*clamp01((lat-40)/20)
}

// climAmp is the amplitude of the SST climatology's seasonal cycle, °C.
func climAmp(lat float64) float64 { return 1 + 3*math.Exp(-(lat-40)*(lat-40)/(2*12*12)) }

// subsurfaceOffset is how much colder than the SST's seasonal minimum the water below the
// mixed layer is in the climatology, °C (doc.go).
const subsurfaceOffset = 0.5

// SubsurfaceClimatology returns the climatological temperature below the mixed layer (°C) at a
// point: the minimum of the SST climatology's seasonal cycle minus 0.5 °C, the same in every
// month (doc.go).
func SubsurfaceClimatology(lat, lon float64) float64 {
	return climMean(lat, lon) - climAmp(lat) - subsurfaceOffset
}

// newModel discretises the dynamics on grid g.
func newModel(g dataset.Grid) *model {
	m := &model{grid: g, land: dataset.LandMask(g)}
	nlat, nlon := g.NLat(), g.NLon()
	index := make([]int32, g.Size())
	for k := range index {
		index[k] = -1
		if !m.land[k] {
			index[k] = int32(len(m.cells))
			m.cells = append(m.cells, k)
		}
	}
	dlat := math.Abs(g.Lat[1]-g.Lat[0]) * math.Pi / 180
	dlon := math.Abs(g.Lon[1]-g.Lon[0]) * math.Pi / 180
	perMonth := secondsPerMon
	maxOut := 0.0
	for c, k := range m.cells {
		i, j := k/nlon, k%nlon
		lat, lon := g.Lat[i], g.Lon[j]
		m.lat = append(m.lat, lat)
		m.sea = append(m.sea, seasonalWeight(lat))
		m.nao = append(m.nao, tripole(lat, lon))
		cosc := math.Cos(lat * math.Pi / 180)
		dx := earthRadius * cosc * dlon
		dy := earthRadius * dlat
		u, v := currentVelocity(lat, lon)
		var nb [4]int32
		var w [4]float64
		// Slots: west, east, south, north (in index order of the grid).
		type side struct {
			ii, jj int
			diff   float64 // diffusion rate, s⁻¹
			adv    float64 // advection rate if this neighbour is upstream, s⁻¹
		}
		sides := [4]side{
			{i, j - 1, kappa / (dx * dx), math.Max(u, 0) / dx},
			{i, j + 1, kappa / (dx * dx), math.Max(-u, 0) / dx},
		}
		for s, di := range []int{-1, 1} {
			ii := i + di
			diff := 0.0
			if ii >= 0 && ii < nlat {
				half := math.Cos((lat+g.Lat[ii])/2*math.Pi/180) / cosc
				diff = kappa * half / (dy * dy)
			}
			// Northward flow brings water from the cell with the smaller latitude.
			up := math.Max(v, 0)
			if (ii >= 0 && ii < nlat) && (g.Lat[ii] > lat) {
				up = math.Max(-v, 0)
			}
			sides[2+s] = side{ii, j, diff, up / dy}
		}
		out := 0.0
		for s, sd := range sides {
			nb[s] = int32(c)
			if sd.ii < 0 || sd.ii >= nlat || sd.jj < 0 || sd.jj >= nlon {
				continue
			}
			n := index[sd.ii*nlon+sd.jj]
			if n < 0 {
				continue // land: no flux
			}
			nb[s] = n
			w[s] = (sd.diff + sd.adv) * perMonth
			out += w[s]
		}
		m.nbr = append(m.nbr, nb)
		m.w = append(m.w, w)
		total := out + max(lambda0+lambda1+gammaE, 1/tauD+gammaD)
		maxOut = math.Max(maxOut, total)
	}
	m.nsub = max(2, int(math.Ceil(maxOut/maxStepOut)))
	m.noise = newSmoother(g, noiseScale)
	m.deepNoise = newSmoother(g, deepScale)
	return m
}

// monthRates returns the damping, entrainment and detrainment rates (month⁻¹, before the
// latitude weight) for calendar month mo (1..12).
func monthRates(mo int) (damp, ent, det float64) {
	s := float64(mo) - 0.5
	damp = lambda1 * math.Cos(2*math.Pi*(s-7)/12)
	switch mo {
	case 11, 12, 1, 2:
		ent = gammaE
	case 3, 4, 5:
		det = gammaD
	}
	return damp, ent, det
}

// Generate runs the synthetic model for cfg.Years years after a spin-up and returns SST and
// anomalies, with cfg.Subsurface also the subsurface anomaly D and tsub. progress, if not nil,
// is called with (years done, cfg.Years); ctx is checked every simulated year.
func Generate(ctx context.Context, cfg Config, progress func(done, total int)) (*Result, error) {
	if cfg.Years < 1 || cfg.Years > 100000 {
		return nil, &ConfigError{Field: "Years", Msg: fmt.Sprintf("%d years; use 1 to 100000", cfg.Years)}
	}
	g, err := NorthAtlanticGrid(cfg.Grid)
	if err != nil {
		return nil, err
	}
	m := newModel(g)
	nc := len(m.cells)
	size := g.Size()
	months := 12 * cfg.Years
	anom := &dataset.Series{
		Name: "sst_anomaly", Units: "degC", Calendar: "noleap", Source: "climxai synth",
		Grid: g, Start: dataset.NewMonth(1, 1), N: months, Values: make([]float32, months*size),
	}
	var deep *dataset.Series
	if cfg.Subsurface {
		deep = &dataset.Series{
			Name: "tsub_anomaly", Units: "degC", Calendar: "noleap", Source: "climxai synth",
			Grid: g, Start: dataset.NewMonth(1, 1), N: months, Values: make([]float32, months*size),
		}
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x636c696d78616921^cfg.Stream))
	T := make([]float64, nc)
	D := make([]float64, nc)
	dT := make([]float64, nc)
	dD := make([]float64, nc)
	mean := make([]float64, nc)
	meanD := make([]float64, nc) // D's monthly mean: read by nothing that computes T
	white := make([]float64, size)
	eta := make([]float64, size)
	force := make([]float64, nc)
	zeta := make([]float64, size)
	forceD := make([]float64, nc)
	h := 1 / float64(m.nsub)
	naoIndex := 0.0
	naoInnov := math.Sqrt(1 - phiNAO*phiNAO)
	nan := float32(math.NaN())

	total := spinupYrs + cfg.Years
	if progress != nil {
		progress(0, cfg.Years)
	}
	for y := 0; y < total; y++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for mo := 1; mo <= 12; mo++ {
			// Forcing of this month.
			naoIndex = phiNAO*naoIndex + naoInnov*rng.NormFloat64()
			for k := range white {
				white[k] = rng.NormFloat64()
			}
			m.noise.apply(white, eta)
			for k := range white {
				white[k] = rng.NormFloat64()
			}
			m.deepNoise.apply(white, zeta)
			for c, k := range m.cells {
				force[c] = sigmaNAO*m.nao[c]*naoIndex + sigmaLocal*eta[k]
				forceD[c] = sigmaDeep * zeta[k]
			}
			damp, ent, det := monthRates(mo)
			clear(mean)
			clear(meanD)
			for range m.nsub {
				for c := range T {
					tc := T[c]
					nb, w := &m.nbr[c], &m.w[c]
					dc := D[c]
					tr := w[0]*(T[nb[0]]-tc) + w[1]*(T[nb[1]]-tc) + w[2]*(T[nb[2]]-tc) + w[3]*(T[nb[3]]-tc)
					trD := deepAdv * (w[0]*(D[nb[0]]-dc) + w[1]*(D[nb[1]]-dc) + w[2]*(D[nb[2]]-dc) + w[3]*(D[nb[3]]-dc))
					s := m.sea[c]
					dT[c] = tr - (lambda0+damp*s)*tc + ent*s*(dc-tc) + force[c]
					dD[c] = trD - dc/tauD + det*s*(tc-dc) + forceD[c]
				}
				for c := range T {
					T[c] += h * dT[c]
					D[c] += h * dD[c]
					mean[c] += T[c]
					meanD[c] += D[c]
				}
			}
			if y < spinupYrs {
				continue
			}
			t := 12*(y-spinupYrs) + mo - 1
			out := anom.Values[t*size : (t+1)*size]
			for k := range out {
				out[k] = nan
			}
			for c, k := range m.cells {
				out[k] = float32(mean[c] * h)
			}
			if deep != nil {
				out := deep.Values[t*size : (t+1)*size]
				for k := range out {
					out[k] = nan
				}
				for c, k := range m.cells {
					out[k] = float32(meanD[c] * h)
				}
			}
		}
		if y >= spinupYrs && progress != nil {
			progress(y-spinupYrs+1, cfg.Years)
		}
	}

	clim := &dataset.Series{
		Name: "sst_climatology", Units: "degC", Calendar: "noleap", Source: "climxai synth",
		Grid: g, Start: dataset.NewMonth(1, 1), N: 12, Values: make([]float32, 12*size),
	}
	for mo := 1; mo <= 12; mo++ {
		f := clim.Values[(mo-1)*size : mo*size]
		for k := range f {
			i, j := k/g.NLon(), k%g.NLon()
			if m.land[k] {
				f[k] = nan
			} else {
				f[k] = float32(Climatology(g.Lat[i], g.Lon[j], mo))
			}
		}
	}
	res := &Result{Anomaly: anom, Climatology: clim, SubsurfaceAnomaly: deep, Land: m.land, Substeps: m.nsub}
	if cfg.AnomalyOnly {
		return res, nil
	}
	sst := &dataset.Series{
		Name: "sst", Units: "degC", Calendar: "noleap", Source: "climxai synth",
		Grid: g, Start: anom.Start, N: months, Values: make([]float32, len(anom.Values)),
	}
	for t := 0; t < months; t++ {
		c := clim.Values[(t%12)*size : (t%12+1)*size]
		a := anom.Values[t*size : (t+1)*size]
		s := sst.Values[t*size : (t+1)*size]
		for k := range s {
			s[k] = c[k] + a[k]
		}
	}
	res.SST = sst
	if deep != nil {
		res.Subsurface = addClimatology(deep, SubsurfaceClimatology, "tsub")
	}
	return res, nil
}

// addClimatology returns anom plus the time-constant climatology clim of each cell, as a
// series named name; land stays NaN.
func addClimatology(anom *dataset.Series, clim func(lat, lon float64) float64, name string) *dataset.Series {
	g := anom.Grid
	size := g.Size()
	c := make([]float32, size)
	for k := range c {
		c[k] = float32(clim(g.Lat[k/g.NLon()], g.Lon[k%g.NLon()]))
	}
	out := &dataset.Series{
		Name: name, Units: anom.Units, Calendar: anom.Calendar, Source: anom.Source,
		Grid: g, Start: anom.Start, N: anom.N, Values: make([]float32, len(anom.Values)),
	}
	for t := 0; t < anom.N; t++ {
		a := anom.Values[t*size : (t+1)*size]
		s := out.Values[t*size : (t+1)*size]
		for k := range s {
			s[k] = c[k] + a[k] // NaN on land, as anom
		}
	}
	return out
}

// smoother applies a separable Gaussian kernel (scale in metres) on the full rectangular grid,
// normalised so that white noise of unit variance comes out with unit variance everywhere.
type smoother struct {
	nlat, nlon int
	latK       [][]float64 // per output row i: weights over rows latLo[i]...
	latLo      []int
	lonK       [][][]float64 // per row i, per output column j: weights over columns lonLo[i][j]...
	lonLo      [][]int
	tmp        []float64
}

// gaussWeights returns the weights of a Gaussian of scale sigma (in index units) centred on
// out, truncated to 3 sigma and to 0..n-1, normalised to unit sum of squares.
func gaussWeights(out, n int, sigma float64) (lo int, w []float64) {
	r := int(math.Ceil(3 * sigma))
	lo, hi := max(0, out-r), min(n-1, out+r)
	ss := 0.0
	for k := lo; k <= hi; k++ {
		d := float64(k-out) / sigma
		v := math.Exp(-d * d / 2)
		w = append(w, v)
		ss += v * v
	}
	for k := range w {
		w[k] /= math.Sqrt(ss)
	}
	return lo, w
}

func newSmoother(g dataset.Grid, scale float64) smoother {
	s := smoother{nlat: g.NLat(), nlon: g.NLon(), tmp: make([]float64, g.Size())}
	dlat := math.Abs(g.Lat[1]-g.Lat[0]) * math.Pi / 180 * earthRadius
	dlon := math.Abs(g.Lon[1]-g.Lon[0]) * math.Pi / 180 * earthRadius
	for i := 0; i < s.nlat; i++ {
		lo, w := gaussWeights(i, s.nlat, scale/dlat)
		s.latLo = append(s.latLo, lo)
		s.latK = append(s.latK, w)
		sig := scale / (dlon * math.Cos(g.Lat[i]*math.Pi/180))
		var los []int
		var ws [][]float64
		for j := 0; j < s.nlon; j++ {
			lo, w := gaussWeights(j, s.nlon, sig)
			los = append(los, lo)
			ws = append(ws, w)
		}
		s.lonLo = append(s.lonLo, los)
		s.lonK = append(s.lonK, ws)
	}
	return s
}

// apply smooths in (white noise on the grid, row-major) into out. Latitude first: rows of the
// result are then independent across columns, so the longitude pass keeps unit variance.
func (s *smoother) apply(in, out []float64) {
	nlon := s.nlon
	for i := 0; i < s.nlat; i++ {
		row := s.tmp[i*nlon : (i+1)*nlon]
		clear(row)
		for k, w := range s.latK[i] {
			src := in[(s.latLo[i]+k)*nlon : (s.latLo[i]+k+1)*nlon]
			for j := range row {
				row[j] += w * src[j]
			}
		}
	}
	for i := 0; i < s.nlat; i++ {
		row := s.tmp[i*nlon : (i+1)*nlon]
		dst := out[i*nlon : (i+1)*nlon]
		for j := range dst {
			lo := s.lonLo[i][j]
			v := 0.0
			for k, w := range s.lonK[i][j] {
				v += w * row[lo+k]
			}
			dst[j] = v
		}
	}
}
