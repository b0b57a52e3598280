package plots

import (
	"math"

	"climxai/dataset"
	"climxai/resources"
)

// naGrid is the 2° North Atlantic grid of the demo card: lat 5..73, lon -100..24.
func naGrid() dataset.Grid {
	g := dataset.Grid{}
	for i := 0; i < 35; i++ {
		g.Lat = append(g.Lat, 5+2*float64(i))
	}
	for j := 0; j < 63; j++ {
		g.Lon = append(g.Lon, -100+2*float64(j))
	}
	return g
}

// landMask returns true for cells whose centre lies on land (even-odd rule over the rings).
func landMask(g dataset.Grid, rings []resources.Ring) []bool {
	m := make([]bool, g.Size())
	for i, lat := range g.Lat {
		for j, lon := range g.Lon {
			lon180 := math.Mod(lon+540, 360) - 180
			in := false
			for _, r := range rings {
				for a, b := 0, len(r)-1; a < len(r); b, a = a, a+1 {
					xa, ya, xb, yb := r[a][0], r[a][1], r[b][0], r[b][1]
					if (ya > lat) != (yb > lat) && lon180 < (xb-xa)*(lat-ya)/(yb-ya)+xa {
						in = !in
					}
				}
			}
			m[i*len(g.Lon)+j] = in
		}
	}
	return m
}

// synthAttribution is a Gaussian blob of importance around (tlat, tlon) that decays with lag
// with e-folding time tau months and widens with lag; a weak negative lobe to the south-east
// gives signed values. NaN on land.
func synthAttribution(g dataset.Grid, land []bool, tlat, tlon, tau float64, lags int, signed bool) []float32 {
	v := make([]float32, lags*g.Size())
	for k := 0; k < lags; k++ {
		amp := math.Exp(-float64(k) / tau)
		w := 6 + 0.5*float64(k)
		for i, lat := range g.Lat {
			for j, lon := range g.Lon {
				c := i*len(g.Lon) + j
				if land[c] {
					v[k*g.Size()+c] = float32(math.NaN())
					continue
				}
				dx := (lon - tlon) * math.Cos(tlat*math.Pi/180)
				dy := lat - tlat
				x := amp * math.Exp(-(dx*dx+dy*dy)/(2*w*w))
				if signed {
					ex, ey := lon-(tlon+15), lat-(tlat-12)
					x -= 0.5 * amp * math.Exp(-(ex*ex+ey*ey)/(2*8*8))
				}
				v[k*g.Size()+c] = float32(x * 1e-3)
			}
		}
	}
	return v
}

// synthDecay sums |v| over space per lag, normalises, and fits an e-folding time with a
// log-linear least-squares line and a rough band (test data only).
func synthDecay(g dataset.Grid, v []float32, lead int) DecaySeries {
	n := len(v) / g.Size()
	s := DecaySeries{Lead: lead}
	tot := 0.0
	for k := 0; k < n; k++ {
		sum := 0.0
		for _, x := range v[k*g.Size() : (k+1)*g.Size()] {
			if !math.IsNaN(float64(x)) {
				sum += math.Abs(float64(x))
			}
		}
		s.Lags = append(s.Lags, float64(k))
		s.Importance = append(s.Importance, sum)
		tot += sum
	}
	for k := range s.Importance {
		s.Importance[k] /= tot
	}
	fit := FitEFold(s.Lags, s.Importance)
	s.EFold, s.Amplitude, s.Lo, s.Hi = fit.EFold, fit.Amplitude, fit.Lo, fit.Hi
	return s
}

// synthDistance bins importance summed over lags by distance from (tlat, tlon).
func synthDistance(g dataset.Grid, v []float32, tlat, tlon float64, label string) DistanceSeries {
	w := make([]float64, g.Size())
	for k := 0; k < len(v)/g.Size(); k++ {
		for c := range w {
			if x := float64(v[k*g.Size()+c]); !math.IsNaN(x) {
				w[c] += math.Abs(x)
			}
		}
	}
	s := BinByDistance(g, w, tlat, tlon, 250)
	s.Label = label
	return s
}

// synthDecayMap maps a made-up e-folding time (growing northwards) and R90 at every 4th ocean
// cell, with one far-out e-folding time (the scale is clipped) and two cells without decay.
func synthDecayMap(g dataset.Grid, land []bool) DecayMap {
	const stride = 4
	nan := float32(math.NaN())
	ef, r9 := make([]float32, g.Size()), make([]float32, g.Size())
	for c := range ef {
		ef[c], r9[c] = nan, nan
	}
	k := 0
	for i := 0; i < len(g.Lat); i += stride {
		for j := 0; j < len(g.Lon); j += stride {
			c := i*len(g.Lon) + j
			if land[c] {
				continue
			}
			lat, lon := g.Lat[i], g.Lon[j]
			ef[c] = float32(2 + 0.06*lat + 0.5*math.Sin(lon/15))
			r9[c] = float32(600 + 12*lat + 150*math.Cos(lon/20))
			switch k {
			case 7:
				ef[c] = 40 // far out: the scale ends at the fence
			case 11, 23:
				ef[c] = float32(math.Inf(1))
			}
			k++
		}
	}
	d := DecayMap{EFold: dataset.Field{Grid: g, Values: ef}, R90: dataset.Field{Grid: g, Values: r9}, Stride: stride,
		Header: "lead 1, saliency: synthetic"}
	d.EFoldStat, d.R90Stat = summary(ef), summary(r9)
	return d
}

// synthFidelity is a fidelity table of the two references and six methods on two targets,
// with curves that fall (deletion) and rise (insertion) faster for better methods.
func synthFidelity() Fidelity {
	f := Fidelity{Lead: 1, Samples: 4, Targets: []string{"45,-40", "55,-30"}}
	for i := 0; i <= 8; i++ {
		f.Fractions = append(f.Fractions, float64(i)/8)
	}
	names := []string{"truth", "random", "saliency", "ixg", "ig", "smoothgrad", "lrp-epsilon-plus-flat", "occlusion"}
	quality := []float64{1, 0, 0.5, 0.95, 0.93, 0.6, 0.4, 0.8}
	for k, name := range names {
		q := quality[k]
		r := FidelityRow{Method: name}
		for t := 0; t < 2; t++ {
			d := 0.04 * float64(t)
			r.SamplePearson = append(r.SamplePearson, Num(q-d))
			r.SampleSpearman = append(r.SampleSpearman, Num(q-0.1-d))
			r.AggPearson = append(r.AggPearson, Num(math.Min(1, q+0.03-d)))
			r.AggSpearman = append(r.AggSpearman, Num(q-0.05))
			rnd := Num(0.1 + 0.5*(1-q))
			if name == "truth" || name == "random" {
				rnd = Num(math.NaN()) // no randomisation for the references
			}
			r.RandomAbs = append(r.RandomAbs, rnd)
			r.RandomSigned = append(r.RandomSigned, rnd*0.5)
			var del, ins []Num
			for _, x := range f.Fractions {
				del = append(del, Num(math.Exp(-x*(1+6*q))-0.1*x))
				ins = append(ins, Num(1-math.Exp(-x*(1+6*q))+0.1*x*(1-q)))
			}
			r.Deletion, r.Insertion = append(r.Deletion, del), append(r.Insertion, ins)
			r.DeletionAUC = append(r.DeletionAUC, Num(trapz(f.Fractions, del)))
			r.InsertionAUC = append(r.InsertionAUC, Num(trapz(f.Fractions, ins)))
		}
		f.Rows = append(f.Rows, r)
	}
	return f
}

// synthFidelityVars is synthFidelity for an emulator that also reads tsub: each method's share
// of Σ|attribution| on it, and |w|'s.
func synthFidelityVars() Fidelity {
	f := synthFidelity()
	f.FurtherVars, f.WeightShare = []string{"tsub"}, []Num{0.62, 0.58}
	shares := []float64{0.45, 0.5, 0.6, 0.47, 0.44, 0.55, 0.3, 0.35}
	for k := range f.Rows {
		f.Rows[k].FurtherShare = []Num{Num(shares[k]), Num(shares[k] + 0.05)}
	}
	return f
}

func trapz(x []float64, y []Num) float64 {
	s := 0.0
	for i := 1; i < len(x); i++ {
		s += (x[i] - x[i-1]) * float64(y[i]+y[i-1]) / 2
	}
	return s
}
