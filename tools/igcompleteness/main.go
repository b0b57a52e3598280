// Command igcompleteness measures how far Integrated Gradients is from completeness on an
// emulator, over many forecasts: for each lead of a card, each quadrature and each step count,
// it explains N test samples (evenly spaced over the test years) at each target and prints the
// distribution of the relative completeness error |Σ IG - (f(x) - f(b))| / |f(x) - f(b)|: median,
// 90th percentile, maximum, and the share of explanations within 1%. Beside it: the same error
// relative to Σ |IG| (a scale that does not shrink when f(x) and f(b) happen to be close), and the
// median |f(x) - f(b)| of the explanations that miss 1% against those that meet it.
//
// It answers whether an error seen on one forecast is a property of the method on this model or a
// fault: the IG of a ReLU network integrates a piecewise-constant gradient along the path, so the
// quadrature error falls only like 1/steps, erratically, and the relative error is large where
// f(x) - f(b) is small against the variation of f along the path.
//
//	go run ./tools/igcompleteness --card C --data D [--samples 50] [--steps 64,256]
//	    [--targets 39,-38;spg] [--leads 1,6,9] [--threads 2] [--quadratures riemann,gausslegendre,adaptive] [--reference 1024]
//
// Run by hand (minutes); the README quotes its output for the demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
)

func main() {
	cardPath := flag.String("card", "", "emulator card")
	dataPath := flag.String("data", "", "SST NetCDF file")
	samples := flag.Int("samples", 50, "test samples per lead, evenly spaced")
	stepsList := flag.String("steps", "64", "comma-separated step counts")
	targets := flag.String("targets", "39,-38", "semicolon-separated targets (LAT,LON, box:S,N,W,E or a named box)")
	leadsList := flag.String("leads", "", "comma-separated leads (default: every lead of the card)")
	threads := flag.Int("threads", 0, "intra-op threads")
	quads := flag.String("quadratures", "riemann,gausslegendre,adaptive", "comma-separated quadratures")
	reference := flag.Int("reference", 0, "also compare each map with the trapezoid's at this many steps (e.g. 1024): the map's own error")
	flag.Parse()
	var qs []attribution.Quadrature
	for _, f := range strings.Split(*quads, ",") {
		q, err := attribution.ParseQuadrature(strings.TrimSpace(f))
		if err != nil {
			fmt.Fprintln(os.Stderr, "igcompleteness:", err)
			os.Exit(2)
		}
		qs = append(qs, q)
	}
	if err := run(*cardPath, *dataPath, *samples, *stepsList, *targets, *leadsList, *threads, qs, *reference); err != nil {
		fmt.Fprintln(os.Stderr, "igcompleteness:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func run(cardPath, dataPath string, n int, stepsList, targetList, leadsList string, threads int, quads []attribution.Quadrature, reference int) error {
	ctx := context.Background()
	card, err := inference.LoadCard(cardPath)
	if err != nil {
		return err
	}
	p, err := card.Prepare(dataPath)
	if err != nil {
		return err
	}
	split, err := p.DefaultSplit()
	if err != nil {
		return err
	}
	steps, err := ints(stepsList)
	if err != nil {
		return err
	}
	leads := card.Leads()
	if leadsList != "" {
		if leads, err = ints(leadsList); err != nil {
			return err
		}
	}
	rt, err := inference.NewRuntime("")
	if err != nil {
		return err
	}
	defer rt.Close()
	fmt.Printf("%-5s %-16s %-14s %5s %7s %9s %9s %9s %9s %12s %12s %12s\n", "lead", "target", "quadrature", "steps", "samples",
		"median", "p90", "max", "<=1%", "med Δ/Σ|a|", "med|Δf| ok", "med|Δf| miss")
	for _, lead := range leads {
		e, err := attribution.OpenEmulator(rt, card, lead, inference.Options{Device: inference.CPU, Threads: threads})
		if err != nil {
			return err
		}
		test := split.Select(p.Inits(lead, card.InputMonths), lead, dataset.SubsetTest)
		if len(test) == 0 {
			return fmt.Errorf("lead %d: no test samples", lead)
		}
		var inits []dataset.Month
		for j := range min(n, len(test)) {
			inits = append(inits, test[(2*j+1)*len(test)/(2*min(n, len(test)))])
		}
		x := make([]float32, card.Channels()*card.Grid.NLat*card.Grid.NLon)
		for _, spec := range strings.Split(targetList, ";") {
			tg, err := attribution.ParseTarget(strings.TrimSpace(spec), card.Grid, p.Ocean)
			if err != nil {
				return err
			}
			refs := map[dataset.Month][]float32{} // the reference maps, made once per forecast
			for _, q := range quads {
				for _, st := range steps {
					var rel, scaled, okF, missF, mapErr []float64
					for _, init := range inits {
						if err := card.Window(p, init, x); err != nil {
							return err
						}
						req := attribution.Request{Emulator: e, X: x, Target: tg, Ocean: p.Ocean}
						m := attribution.IntegratedGradients{Steps: st, Quadrature: q}
						res, err := m.Attribute(ctx, req)
						if err != nil {
							return err
						}
						if reference > 0 {
							ref, ok := refs[init]
							if !ok {
								r, err := attribution.IntegratedGradients{Steps: reference}.Attribute(ctx, req)
								if err != nil {
									return err
								}
								ref, refs[init] = r.Values, r.Values
							}
							var d, scale float64
							for i, v := range ref {
								if v == v {
									d = max(d, math.Abs(float64(res.Values[i]-v)))
									scale = max(scale, math.Abs(float64(v)))
								}
							}
							mapErr = append(mapErr, d/scale)
						}
						c := res.Completeness
						var abs float64
						for _, v := range res.Values {
							if v == v {
								abs += math.Abs(float64(v))
							}
						}
						rel = append(rel, c.Relative)
						scaled = append(scaled, math.Abs(c.Delta)/abs)
						if c.Relative <= 0.01 {
							okF = append(okF, math.Abs(c.Expected))
						} else {
							missF = append(missF, math.Abs(c.Expected))
						}
					}
					fmt.Printf("%-5d %-16s %-14s %5d %7d %8.2f%% %8.2f%% %8.1f%% %8.0f%% %11.2g %12.3g %12.3g\n",
						lead, spec, q, st, len(rel), 100*quantile(rel, 0.5), 100*quantile(rel, 0.9), 100*quantile(rel, 1),
						100*float64(len(okF))/float64(len(rel)), quantile(scaled, 0.5), quantile(okF, 0.5), quantile(missF, 0.5))
					if reference > 0 {
						fmt.Printf("      map error against %d trapezoid steps, max |Δ| / max |IG|: median %.2g%%, 90th percentile %.2g%%\n",
							reference, 100*quantile(mapErr, 0.5), 100*quantile(mapErr, 0.9))
					}
				}
			}
		}
	}
	return nil
}

// quantile is the q-quantile of v (nearest rank; NaN for no values).
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1+boolInt(q == 0))]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
