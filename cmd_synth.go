package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"climxai/app"
	"climxai/dataset/synth"
)

// defaultSynthTargets are the truth's default target points: the subpolar gyre, the Gulf
// Stream, the subtropical gyre and the tropical North Atlantic.
const defaultSynthTargets = "55,-35;38,-65;25,-40;12,-30"

// defaultTruthYears is the length of the independent run the truth is fitted on by default: on
// 1000 years the ridge coefficients and the held-out R² at leads 6 and 9 are visibly noisy, on
// 5000 they settle (package synth, "Ground truth"). It takes about 15 s at 2° and 0.5 GB
// (2 GB at 1°); with --subsurface the run holds tsub too and the joint fit has twice the
// features (1 GB at 2°, 4 GB at 1°).
const defaultTruthYears = 5000

// maxSynthYears bounds --years: the run is held in memory (about 0.3 MB a year at 2°, 1.3 MB at
// 1°, for SST and anomalies together; twice that with --subsurface).
const maxSynthYears = 10000

// cmdSynth is `climxai synth --out FILE.nc [--years N] [--grid 1|2] [--seed S] [--subsurface]
// [--truth T.nc [--targets ...] [--truth-radius KM] [--truth-leads L,...] [--truth-years N]]`:
// synthetic North Atlantic SST from a linear stochastic model (package dataset/synth), with
// --subsurface also the temperature below the mixed layer (variable tsub, a second input
// variable for multi-variable emulators), and optionally the ground-truth optimal linear
// predictor: from SST alone, and with --subsurface also the joint predictor from sst and tsub
// (synth.FitTruthJoint), written beside it.
func cmdSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("synth", "synth --out FILE.nc [--years N] [--grid 1|2] [--seed S] [--subsurface] [--truth TRUTH.nc [--targets \"LAT,LON;...\"] [--truth-radius KM] [--truth-leads 1,6,9] [--truth-years N]]", stderr)
	out := fs.String("out", "", "NetCDF file to write the monthly SST (°C, variable sst) to (required)")
	years := fs.Int("years", 1000, "simulated years after the spin-up (at least 4: 36 input months and a lead)")
	gridDeg := fs.Int("grid", 2, "grid spacing in degrees: 2 (35 x 63 cells) or 1 (70 x 125 cells)")
	seed := fs.Int("seed", 1, "seed of the random numbers; equal seeds give equal files")
	subsurface := fs.Bool("subsurface", false, "also write the temperature below the mixed layer (°C, variable tsub), the model's slow subsurface anomaly plus a time-constant climatology; sst is unchanged")
	truthPath := fs.String("truth", "", "also write the optimal linear predictor (ground truth) to this NetCDF file; with --subsurface also the joint predictor from sst and tsub (variables joint_coef_sst, joint_coef_tsub), the truth of emulators that read both")
	targets := fs.String("targets", defaultSynthTargets, "truth targets as LAT,LON pairs separated by ';', each snapped to the nearest ocean cell")
	radius := fs.Float64("truth-radius", 0, "truth neighbourhood radius in km (default 500 at --grid 2, 300 at --grid 1)")
	leadsFlag := fs.String("truth-leads", "1,6,9", "truth lead times in months, comma-separated")
	truthYears := fs.Int("truth-years", defaultTruthYears, "fit the truth on an independent run of this many years of the same model (same seed, another random stream); 0 fits on the written run instead (noisier coefficients unless it is long)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return app.Usagef("synth: unexpected argument %q (the output file is given with --out)", pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	switch {
	case *out == "":
		return app.Usagef("synth: --out FILE.nc is required")
	case *years < 4:
		return app.Usagef("synth: --years %d: at least 4 years are needed for 37 months (36 input months and a lead)", *years)
	case *years > maxSynthYears:
		return app.Usagef("synth: --years %d: at most %d (the run is held in memory)", *years, maxSynthYears)
	case *gridDeg != 1 && *gridDeg != 2:
		return app.Usagef("synth: --grid %d: use 1 or 2 (degrees)", *gridDeg)
	case *truthPath == "" && (set["targets"] || set["truth-radius"] || set["truth-leads"] || set["truth-years"]):
		return app.Usagef("synth: --targets, --truth-radius, --truth-leads and --truth-years need --truth FILE.nc")
	case *truthYears < 0 || *truthYears > maxSynthYears:
		return app.Usagef("synth: --truth-years %d: use 0 (the written run) or up to %d", *truthYears, maxSynthYears)
	case *truthPath != "" && filepath.Clean(*truthPath) == filepath.Clean(*out):
		return app.Usagef("synth: --truth and --out name the same file")
	}
	var tgts []synth.LatLon
	var leads []int
	if *truthPath != "" {
		if tgts, err = parseTargets(*targets); err != nil {
			return err
		}
		if leads, err = parseLeads(*leadsFlag); err != nil {
			return err
		}
		maxLead := 0
		for _, l := range leads {
			maxLead = max(maxLead, l)
		}
		fitYears, flag := *years, "--years"
		if *truthYears > 0 {
			fitYears, flag = *truthYears, "--truth-years"
		}
		if need := synth.TruthMinYears(maxLead); fitYears < need {
			return app.Usagef("synth: --truth with a lead of %d months needs at least %d years (36 input months and the lead in the fitting years, the last fifth held out); got %s %d", maxLead, need, flag, fitYears)
		}
		if set["truth-radius"] && !(*radius > 0 && *radius <= 5000) {
			return app.Usagef("synth: --truth-radius %g: use a distance in km above 0 and at most 5000", *radius)
		}
		if !set["truth-radius"] {
			*radius = synth.DefaultRadiusKm
			if *gridDeg == 1 {
				*radius = 300
			}
		}
	}
	// Fail before a long run, not after it, when an output cannot be written.
	for _, p := range []string{*out, *truthPath} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
			return fmt.Errorf("synth: cannot write %s: directory %s does not exist (create it or choose another path)", p, filepath.Dir(p))
		}
	}

	start := time.Now()
	cfg := synth.Config{Years: *years, Grid: *gridDeg, Seed: *seed, Subsurface: *subsurface}
	prog := app.NewProgress(stderr, "synth: simulating years")
	res, err := synth.Generate(ctx, cfg, prog.Func())
	prog.Done()
	if err != nil {
		return synthError(err)
	}
	params := map[string]string{
		"generator":          "climxai synth: linear stochastic mixed-layer / subsurface-anomaly model with winter re-emergence, advection by Gulf Stream / North Atlantic Current and subtropical-gyre currents, diffusion, NAO-like and subsurface forcing (see the Go package climxai/dataset/synth)",
		"generator_seed":     strconv.Itoa(*seed),
		"generator_grid":     fmt.Sprintf("%d degree North Atlantic (%d x %d)", *gridDeg, res.SST.Grid.NLat(), res.SST.Grid.NLon()),
		"generator_years":    strconv.Itoa(*years),
		"generator_spinup":   "10 years discarded",
		"generator_substeps": strconv.Itoa(res.Substeps),
		"climxai_version":    app.Version,
	}

	var truth *synth.Truth
	if *truthPath != "" {
		fitOn, fitOnDeep := res.Anomaly, res.SubsurfaceAnomaly
		fitRun := "the anomalies of the written run (sst minus the built-in climatology)"
		if *truthYears > 0 {
			prog := app.NewProgress(stderr, "synth: simulating the truth's fitting run, years")
			// With --subsurface the companion carries D too; its SST is the same either way.
			companion, err := synth.Generate(ctx, synth.Config{Years: *truthYears, Grid: *gridDeg, Seed: *seed, Stream: 1, AnomalyOnly: true, Subsurface: *subsurface}, prog.Func())
			prog.Done()
			if err != nil {
				return synthError(err)
			}
			fitOn, fitOnDeep = companion.Anomaly, companion.SubsurfaceAnomaly
			fitRun = fmt.Sprintf("an independent run of the same model: %d years, seed %d, stream 1", *truthYears, *seed)
		}
		prog := app.NewProgress(stderr, "synth: fitting the truth, targets")
		truth, err = synth.FitTruth(ctx, fitOn, tgts, leads, *radius, prog.Func())
		prog.Done()
		if err != nil {
			return synthError(err)
		}
		if *subsurface {
			prog := app.NewProgress(stderr, "synth: fitting the joint truth from sst and tsub, targets")
			truth.Joint, err = synth.FitTruthJoint(ctx, []synth.Predictor{{Name: "sst", Anomaly: fitOn}, {Name: "tsub", Anomaly: fitOnDeep}},
				tgts, leads, *radius, prog.Func())
			prog.Done()
			if err != nil {
				return synthError(err)
			}
		}
		fitOn, fitOnDeep = nil, nil
		tattrs := map[string]string{"data_file": filepath.Base(*out), "fit_run": fitRun}
		for k, v := range params {
			tattrs[k] = v
		}
		if err := truth.WriteNetCDF(*truthPath, tattrs); err != nil {
			return err
		}
	}
	res.Anomaly, res.SubsurfaceAnomaly = nil, nil // the SST is written next; let the anomalies go

	sattrs := map[string]string{
		"title":   "climxai synthetic North Atlantic SST (linear stochastic model with a known optimal predictor)",
		"comment": "anomaly = sst minus the built-in monthly climatology; land (Natural Earth 110 m at the cell centre) is missing",
	}
	for k, v := range params {
		sattrs[k] = v
	}
	if *truthPath != "" {
		sattrs["truth_file"] = filepath.Base(*truthPath)
	}
	if *subsurface {
		sattrs["comment"] += "; tsub = the model's subsurface anomaly plus a time-constant climatology (the SST climatology's seasonal minimum minus 0.5 degC)"
	}
	if err := res.WriteNetCDF(*out, sattrs); err != nil {
		return err
	}
	return writeSynthSummary(stdout, res, truth, *out, *truthPath, time.Since(start))
}

// synthError turns the generator's request errors into usage errors (they come from flag
// values) and passes everything else through.
func synthError(err error) error {
	if errors.Is(err, synth.ErrConfig) {
		return app.Usagef("%v", err)
	}
	return err
}

// parseTargets parses "LAT,LON;LAT,LON".
func parseTargets(s string) ([]synth.LatLon, error) {
	var out []synth.LatLon
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ll := strings.Split(part, ",")
		if len(ll) != 2 {
			return nil, app.Usagef("synth: --targets: %q is not LAT,LON (for example 55,-35)", part)
		}
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(ll[0]), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(ll[1]), 64)
		if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 360 {
			return nil, app.Usagef("synth: --targets: %q is not LAT,LON in degrees (latitude -90..90, longitude -180..360)", part)
		}
		out = append(out, synth.LatLon{Lat: lat, Lon: lon})
	}
	if len(out) == 0 {
		return nil, app.Usagef("synth: --targets: no target given (for example \"55,-35;38,-65\")")
	}
	return out, nil
}

// parseLeads parses "1,6,9".
func parseLeads(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		l, err := strconv.Atoi(part)
		if err != nil || l < 1 || l > 120 {
			return nil, app.Usagef("synth: --truth-leads: %q is not a lead of 1 to 120 months", part)
		}
		out = append(out, l)
	}
	return out, nil
}

// writeSynthSummary prints what was written, in one paragraph (plus the truth's skill).
func writeSynthSummary(w io.Writer, res *synth.Result, truth *synth.Truth, out, truthPath string, took time.Duration) error {
	s := res.SST
	ocean := 0
	for _, land := range res.Land {
		if !land {
			ocean++
		}
	}
	size := "?"
	if fi, err := os.Stat(out); err == nil {
		size = fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6)
	}
	what := "synthetic SST"
	if res.Subsurface != nil {
		what = "synthetic SST and subsurface temperature (sst, tsub)"
	}
	fmt.Fprintf(w, "Wrote %s (%s): %s on a %d x %d grid (lat %g..%g, lon %g..%g), %d months from %s to %s (noleap calendar), %d ocean cells, in %.1f s.\n",
		out, size, what, s.Grid.NLat(), s.Grid.NLon(), s.Grid.Lat[0], s.Grid.Lat[s.Grid.NLat()-1], s.Grid.Lon[0], s.Grid.Lon[s.Grid.NLon()-1],
		s.N, s.Month(0), s.Month(s.N-1), ocean, took.Seconds())
	if truth == nil {
		return nil
	}
	fmt.Fprintf(w, "Wrote %s: optimal linear predictor for %d targets x leads %v over 36 lags, %g km neighbourhoods; R² on the held-out last %d years of the fitting run:\n",
		truthPath, len(truth.Targets), truth.Leads, truth.RadiusKm, truth.TestYears)
	for i, p := range truth.Targets {
		fmt.Fprintf(w, "  %6.2f, %7.2f  (%2d cells)", p.Lat, p.Lon, truth.Features[i])
		for li, l := range truth.Leads {
			fmt.Fprintf(w, "  lead %d: %.3f", l, truth.R2Test[i*len(truth.Leads)+li])
		}
		fmt.Fprintln(w)
	}
	if j := truth.Joint; j != nil {
		fmt.Fprintf(w, "and beside it the joint predictor from %s (joint_coef_*), R² on the same held-out years:\n", strings.Join(j.Vars, " and "))
		for i, p := range j.Targets {
			fmt.Fprintf(w, "  %6.2f, %7.2f  (%2d cells)", p.Lat, p.Lon, j.Features[i])
			for li, l := range j.Leads {
				fmt.Fprintf(w, "  lead %d: %.3f", l, j.R2Test[i*len(j.Leads)+li])
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}
