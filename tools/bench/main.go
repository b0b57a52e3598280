package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"climxai/dataset"
	"climxai/dataset/synth"
)

func main() {
	only := flag.String("only", "", "comma-separated sections to run ("+strings.Join(sectionNames, ", ")+"); all when empty")
	years := flag.Int("years", 100, "years of the synthetic 1° field for the prepare section")
	repeat := flag.Int("repeat", 3, "timed repetitions of each measurement (after one warm-up); the best time of each side is compared")
	threads := flag.Int("threads", runtime.NumCPU(), "intra-op threads of ONNX Runtime and of PyTorch")
	aggSamples := flag.Int("agg-samples", 1280, "samples of the aggregate section")
	aggRepeat := flag.Int("agg-repeat", 1, "timed repetitions of the aggregate section")
	python := flag.String("python", "/usr/bin/python3", "Python with torch, onnx, xarray, netCDF4 and scipy")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sections := map[string]func(context.Context, *bench) ([]row, error){
		"prepare": benchPrepare, "forward": benchForward, "saliency": benchSaliency, "ig": benchIG, "aggregate": benchAggregate,
	}
	b := &bench{cfg: config{years: *years, repeat: *repeat, threads: *threads, python: *python,
		aggSamples: *aggSamples, aggRepeat: *aggRepeat}}
	selected := func(name string) bool { return *only == "" || strings.Contains(","+*only+",", ","+name+",") }
	for _, name := range strings.Split(*only, ",") {
		if _, ok := sections[name]; !ok && name != "" {
			fmt.Fprintf(os.Stderr, "bench: unknown section %q; sections: %s\n", name, strings.Join(sectionNames, ", "))
			os.Exit(2)
		}
	}
	if selected("aggregate") {
		b.seriesMonths = *aggSamples + months - 1
	}
	start := time.Now()
	var rows []row
	for _, name := range sectionNames {
		if !selected(name) {
			continue
		}
		r, err := sections[name](ctx, b)
		if err != nil {
			b.close()
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", name, err)
			os.Exit(1)
		}
		rows = append(rows, r...)
	}
	b.close()
	fmt.Printf("\n%-36s %16s %16s %6s %8s %14s %s\n", "benchmark", "climxai", "reference", "ratio", "speed-up", "target", "")
	for _, r := range rows {
		ratio := r.ours.Seconds() / r.ref.Seconds()
		verdict := "met"
		if ratio > r.target {
			verdict = "MISSED"
		}
		fmt.Printf("%-36s %16s %16s %6.2f %7.2fx %14s %s\n", r.name, fmtDur(r.ours)+r.unit, fmtDur(r.ref)+r.unit, ratio, 1/ratio, r.targetText, verdict)
	}
	fmt.Printf("\nratio = climxai time / reference time (lower is better; speed-up = its inverse), best of %d alternating runs each after a warm-up (batch 1: %d; aggregate: %d), same machine, same run, %d threads; %s in all\n",
		*repeat, rounds(*repeat, 1), *aggRepeat, *threads, time.Since(start).Round(time.Second))
}

// sectionNames are the sections in the order they run.
var sectionNames = []string{"prepare", "forward", "saliency", "ig", "aggregate"}

type config struct {
	years, repeat, threads int
	aggSamples, aggRepeat  int
	python                 string
}

// bench is one run: its configuration and the PyTorch reference, started on first use and
// shared by the sections that compare with PyTorch.
type bench struct {
	cfg          config
	seriesMonths int // months of the aggregate section's series (0: not needed)
	ref          *torchFixture
}

func (b *bench) torch(ctx context.Context) (*torchFixture, error) {
	if b.ref == nil {
		f, err := startTorch(ctx, b.cfg, b.seriesMonths)
		if err != nil {
			return nil, err
		}
		b.ref = f
	}
	return b.ref, nil
}

func (b *bench) close() {
	if b.ref != nil {
		b.ref.close()
		b.ref = nil
	}
}

// row is one line of the final table. Times are per unit ("/sample", or "" for the whole task).
type row struct {
	name       string
	ours, ref  time.Duration
	unit       string
	target     float64 // the largest ratio (climxai time / reference time) that meets the target
	targetText string
}

// benchPrepare writes a synthetic 1° North Atlantic field and times the read-and-preprocess
// pipeline in climxai and in xarray, checking that both produce the same windows.
func benchPrepare(ctx context.Context, b *bench) ([]row, error) {
	cfg := b.cfg
	dir, err := os.MkdirTemp("", "climxai-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sst_1deg.nc")
	fmt.Printf("prepare: generating %d years of synthetic 1° SST ...\n", cfg.years)
	res, err := synth.Generate(ctx, synth.Config{Years: cfg.years, Grid: 1, Seed: 1}, nil)
	if err != nil {
		return nil, err
	}
	if err := dataset.WriteSeries(path, res.SST, map[string]string{"title": "climxai bench"}); err != nil {
		return nil, err
	}
	g := res.SST.Grid
	spec := dataset.GridSpec{LatStart: g.Lat[0], LatStep: 1, NLat: g.NLat(), LonStart: g.Lon[0], LonStep: 1, NLon: g.NLon()}
	pp := dataset.PreprocessSpec{Anomaly: dataset.AnomalyMonthlyClimatology, Filter: "butterworth-lowpass:12", ScaleMean: 0, ScaleStd: 1}
	const months, lead, batch = 36, 1, 32

	var best time.Duration = math.MaxInt64
	var checksum float64
	var nwin int
	for i := 0; i < cfg.repeat; i++ {
		start := time.Now()
		s, err := dataset.Open(path, dataset.OpenOptions{})
		if err != nil {
			return nil, err
		}
		p, err := dataset.Prepare(s, spec, pp)
		if err != nil {
			return nil, err
		}
		// Model inputs are contiguous [batch, months, H, W] blocks, made batch by batch into
		// one buffer, as attribution and aggregation runs stream them.
		inits := p.Inits(lead, months)
		n := months * g.Size()
		buf := make([]float32, batch*n)
		checksum, nwin = 0, len(inits)
		for b0 := 0; b0 < len(inits); b0 += batch {
			k := min(batch, len(inits)-b0)
			for i := 0; i < k; i++ {
				if err := p.Window(inits[b0+i], months, buf[i*n:(i+1)*n]); err != nil {
					return nil, err
				}
				for _, v := range buf[i*n+(months-1)*g.Size() : (i+1)*n] {
					checksum += math.Abs(float64(v))
				}
			}
		}
		if d := time.Since(start); d < best {
			best = d
		}
	}
	fmt.Printf("prepare: climxai  best %.3fs, %d windows of %dx%dx%d\n", best.Seconds(), nwin, months, g.NLat(), g.NLon())

	script := filepath.Join(sourceDir(), "xarray_prepare.py")
	out, err := exec.CommandContext(ctx, cfg.python, script, path, "--repeat", fmt.Sprint(cfg.repeat),
		"--lat", fmt.Sprint(g.Lat[0]-0.5), fmt.Sprint(g.Lat[g.NLat()-1]+0.5),
		"--lon", fmt.Sprint(g.Lon[0]-0.5), fmt.Sprint(g.Lon[g.NLon()-1]+0.5)).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("xarray reference failed: %v\n%s\n(install python3-xarray python3-netcdf4 python3-scipy: scripts/setup-bench.sh)", err, ee.Stderr)
		}
		return nil, fmt.Errorf("xarray reference: %v", err)
	}
	var ref struct {
		Seconds  float64 `json:"seconds"`
		Shape    []int   `json:"shape"`
		Checksum float64 `json:"checksum_last_month_abs_sum"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		return nil, fmt.Errorf("xarray reference printed %q: %v", out, err)
	}
	rel := math.Abs(checksum-ref.Checksum) / math.Max(ref.Checksum, 1e-12)
	fmt.Printf("prepare: xarray   best %.3fs, windows %v; same values: checksum relative difference %.2g\n", ref.Seconds, ref.Shape, rel)
	if len(ref.Shape) == 0 || ref.Shape[0] != nwin || rel > 1e-3 {
		return nil, fmt.Errorf("climxai and xarray disagree: %d vs %v windows, checksum %g vs %g", nwin, ref.Shape, checksum, ref.Checksum)
	}
	return []row{{name: fmt.Sprintf("prepare %dy 1° (read..windows)", cfg.years), ours: best, ref: time.Duration(ref.Seconds * float64(time.Second)),
		target: 0.5, targetText: "<= 0.50"}}, nil
}

// sourceDir is the directory of the reference scripts: tools/bench relative to the module root
// (the bench runs from the repository via `make bench` or `go run ./tools/bench`).
func sourceDir() string {
	if _, err := os.Stat("tools/bench/xarray_prepare.py"); err == nil {
		return "tools/bench"
	}
	exe, _ := os.Executable()
	return filepath.Dir(exe)
}
