package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"climxai/attribution"
	"climxai/inference"
)

// The 1° benchmark model: the reference DenseNet on the 70 x 125 North Atlantic grid, 36 input
// months, explained at one ocean cell near the grid's centre (the cell of attribution's own
// benchmarks).
const (
	months, nlat, nlon = 36, 70, 125
	targetRow          = 35
	targetCol          = 60
	igSteps            = 32
	batchSmall         = 1
	batchLarge         = 32
)

// torchFixture is the PyTorch reference process (torch_ref.py, which exports the model both sides
// run) and climxai's side of the same model: one Runtime, the forward Model and the attribution
// Emulator, on the same number of intra-op threads.
type torchFixture struct {
	dir  string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	errb *syncBuffer
	info struct {
		Torch          string  `json:"torch"`
		Threads        int     `json:"threads"`
		ConvGFLOP      float64 `json:"conv_gflop"`
		ConvFromOutput int     `json:"conv_sized_from_output"`
		ConvGFLOPTorch float64 `json:"conv_gflop_torch"`
		GEMMGFLOPS     float64 `json:"gemm_gflops"`
		IGSum          float64 `json:"ig_sum"`
		IGExpected     float64 `json:"ig_expected"`
	}

	rt     *inference.Runtime
	model  *inference.Model
	emu    *attribution.Emulator
	x      []float32 // batchLarge inputs [batchLarge][months][nlat][nlon]
	series []float32 // [seriesMonths][nlat][nlon] for the aggregate section (nil when not asked)
	target attribution.Target
}

// syncBuffer collects the reference's stderr (torch's export warnings, a traceback on failure).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTorch starts the reference, waits for its export and check files, and opens the exported
// model in climxai. seriesMonths > 0 also has it write the monthly series of the aggregate section.
func startTorch(ctx context.Context, cfg config, seriesMonths int) (*torchFixture, error) {
	dir, err := os.MkdirTemp("", "climxai-bench-torch-")
	if err != nil {
		return nil, err
	}
	f := &torchFixture{dir: dir, errb: &syncBuffer{}}
	script := filepath.Join(sourceDir(), "torch_ref.py")
	f.cmd = exec.CommandContext(ctx, cfg.python, script, "--dir", dir, "--threads", fmt.Sprint(cfg.threads),
		"--nlat", fmt.Sprint(nlat), "--nlon", fmt.Sprint(nlon), "--target", fmt.Sprint(targetRow), fmt.Sprint(targetCol),
		"--ig-steps", fmt.Sprint(igSteps), "--series-months", fmt.Sprint(seriesMonths))
	f.cmd.Stderr = f.errb
	if f.in, err = f.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	f.out = bufio.NewReader(stdout)
	fmt.Printf("torch: starting the PyTorch reference (%s, %d threads): export of the 1° model, check files ...\n", cfg.python, cfg.threads)
	if err := f.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("PyTorch reference: %v", err)
	}
	if err := f.readLine(&f.info); err != nil {
		f.close()
		return nil, err
	}
	fmt.Printf("torch: PyTorch %s on %d threads; 1° model: %.2f GFLOP of convolutions per forward sample (ONNX graph; %.2f by torch hooks), sustained GEMM %.0f GFLOP/s\n",
		f.info.Torch, f.info.Threads, f.info.ConvGFLOP, f.info.ConvGFLOPTorch, f.info.GEMMGFLOPS)

	if f.x, err = readF32(filepath.Join(dir, "x.f32"), batchLarge*months*nlat*nlon); err == nil && seriesMonths > 0 {
		f.series, err = readF32(filepath.Join(dir, "series.f32"), seriesMonths*nlat*nlon)
	}
	if err != nil {
		f.close()
		return nil, err
	}
	if f.rt, err = inference.NewRuntime(""); err != nil {
		f.close()
		return nil, err
	}
	spec := inference.ModelSpec{Path: filepath.Join(dir, "model.onnx"), Input: "x", Output: "y", Months: months, NLat: nlat, NLon: nlon}
	opts := inference.Options{Device: inference.CPU, Threads: cfg.threads}
	if f.emu, err = attribution.NewEmulator(f.rt, spec, opts); err != nil {
		f.close()
		return nil, err
	}
	f.model = f.emu.Forward()
	w := make([]float32, nlat*nlon)
	w[targetRow*nlon+targetCol] = 1
	f.target = attribution.NewMaskTarget(fmt.Sprintf("cell %d,%d", targetRow, targetCol), w)
	return f, nil
}

// call sends one request to the reference and returns the time it reports.
func (f *torchFixture) call(req map[string]any) (time.Duration, error) {
	b, _ := json.Marshal(req)
	if _, err := f.in.Write(append(b, '\n')); err != nil {
		return 0, fmt.Errorf("PyTorch reference: %v\n%s", err, f.errb)
	}
	var resp struct {
		Seconds float64 `json:"seconds"`
		Error   string  `json:"error"`
	}
	if err := f.readLine(&resp); err != nil {
		return 0, err
	}
	if resp.Error != "" {
		return 0, fmt.Errorf("PyTorch reference: %s", resp.Error)
	}
	return time.Duration(resp.Seconds * float64(time.Second)), nil
}

func (f *torchFixture) readLine(v any) error {
	line, err := f.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("PyTorch reference stopped (%v); its stderr:\n%s\n(install python3-torch python3-onnx: scripts/setup-bench.sh)", err, f.errb)
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("PyTorch reference printed %q: %v", line, err)
	}
	return nil
}

func (f *torchFixture) close() {
	if f.in != nil {
		f.in.Write([]byte(`{"op": "quit"}` + "\n"))
		f.in.Close()
	}
	if f.cmd != nil && f.cmd.Process != nil {
		done := make(chan struct{})
		go func() { f.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			f.cmd.Process.Kill()
			<-done
		}
	}
	if f.rt != nil {
		f.rt.Close()
	}
	os.RemoveAll(f.dir)
}

// sample returns input sample i of the fixture's inputs.
func (f *torchFixture) sample(i int) []float32 {
	s := months * nlat * nlon
	return f.x[i*s : (i+1)*s]
}

// timing is one side's repeated measurement.
type timing struct{ best, median time.Duration }

func (t timing) String() string {
	return fmt.Sprintf("best %s median %s", fmtDur(t.best), fmtDur(t.median))
}

// per divides both times by n (samples in one timed run).
func (t timing) per(n int) timing {
	return timing{t.best / time.Duration(n), t.median / time.Duration(n)}
}

// alternate warms every side up once (not timed), then times the sides in turn, repeat rounds:
// on a shared machine whose load changes by the second, alternating gives each side the same
// conditions, and the best of the rounds is the least disturbed run.
func alternate(ctx context.Context, repeat int, warm bool, sides ...func() (time.Duration, error)) ([]timing, error) {
	if warm {
		for _, s := range sides {
			if _, err := s(); err != nil {
				return nil, err
			}
		}
	}
	times := make([][]time.Duration, len(sides))
	for range repeat {
		for i, s := range sides {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			// Each side gets a machine the other has left: ONNX Runtime's and PyTorch's pools
			// spin-wait for a while after a run, and spinning threads of one process slowed the
			// other's next run by up to a quarter (PyTorch at batch 1: 42 ms a sample right
			// after climxai's runs, 32 ms with ONNX Runtime's spinning off).
			time.Sleep(settle)
			d, err := s()
			if err != nil {
				return nil, err
			}
			times[i] = append(times[i], d)
		}
	}
	out := make([]timing, len(sides))
	for i, ts := range times {
		slices.Sort(ts)
		out[i] = timing{best: ts[0], median: ts[len(ts)/2]}
	}
	return out, nil
}

// settle is the pause before each timed run.
const settle = 300 * time.Millisecond

// rounds is the number of timed rounds at batch n: batch-1 runs are short and, on a shared
// machine, the most disturbed (a descheduled thread stalls the whole run), so they get five
// times as many rounds for the best of them to be an undisturbed one.
func rounds(repeat, n int) int {
	if n == 1 {
		return 5 * repeat
	}
	return repeat
}

// measure times fn on the Go side.
func measure(fn func() error) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		start := time.Now()
		err := fn()
		return time.Since(start), err
	}
}

// benchForward: forward throughput at batch 1 and 32, climxai (inference.Model.Run on ONNX
// Runtime) against PyTorch eager under no_grad.
func benchForward(ctx context.Context, b *bench) ([]row, error) {
	f, err := b.torch(ctx)
	if err != nil {
		return nil, err
	}
	y, err := f.model.Run(ctx, f.x, batchLarge)
	if err != nil {
		return nil, err
	}
	want, err := readF32(filepath.Join(f.dir, "y.f32"), len(y))
	if err != nil {
		return nil, err
	}
	rel := maxRel(y, want)
	fmt.Printf("forward: same model on both sides: max |Δy| / max |y| = %.2g over %d samples\n", rel, batchLarge)
	if rel > 1e-4 {
		return nil, fmt.Errorf("forward: climxai and PyTorch disagree (relative difference %.3g > 1e-4)", rel)
	}
	var rows []row
	for _, n := range []int{batchSmall, batchLarge} {
		in := f.x[:n*months*nlat*nlon]
		t, err := alternate(ctx, rounds(b.cfg.repeat, n), true,
			measure(func() error { _, err := f.model.Run(ctx, in, n); return err }),
			func() (time.Duration, error) { return f.call(map[string]any{"op": "forward", "batch": n}) })
		if err != nil {
			return nil, err
		}
		ours, ref := t[0].per(n), t[1].per(n)
		gf := f.info.ConvGFLOP
		fmt.Printf("forward batch %2d: climxai %s /sample (%.1f GFLOP/s); PyTorch %s /sample (%.1f GFLOP/s); throughput ratio %.2fx (target >= 1.3x)\n",
			n, ours, gflops(gf, ours.best), ref, gflops(gf, ref.best), ref.best.Seconds()/ours.best.Seconds())
		rows = append(rows, row{name: fmt.Sprintf("forward 1° batch %d", n), ours: ours.best, ref: ref.best,
			unit: "/sample", target: 1 / 1.3, targetText: "thrpt >= 1.3x"})
	}
	fmt.Printf("forward: FLOP lower bound %s /sample (%.2f GFLOP at %.0f GFLOP/s sustained GEMM)\n",
		fmtDur(flopTime(f.info.ConvGFLOP, f.info.GEMMGFLOPS)), f.info.ConvGFLOP, f.info.GEMMGFLOPS)
	return rows, nil
}

// benchSaliency: the input gradient of the one-hot target cell per sample at batch 1 and 32,
// climxai (attribution.Saliency through its backward graph) against PyTorch autograd with and
// without weight gradients; the faster PyTorch variant is the reference.
func benchSaliency(ctx context.Context, b *bench) ([]row, error) {
	f, err := b.torch(ctx)
	if err != nil {
		return nil, err
	}
	sal := attribution.Saliency{}
	explain := func(i int) (*attribution.Result, error) {
		return sal.Attribute(ctx, attribution.Request{Emulator: f.emu, X: f.sample(i), Target: f.target})
	}
	res, err := explain(0) // also builds the backward graph, outside the timings
	if err != nil {
		return nil, err
	}
	want, err := readF32(filepath.Join(f.dir, "sal.f32"), months*nlat*nlon)
	if err != nil {
		return nil, err
	}
	got := channelOrder(res.Values)
	rel, r := maxRel(got, want), corr(got, want)
	fmt.Printf("saliency: same gradient on both sides: max |Δ| / max |g| = %.2g, correlation %.7f\n", rel, r)
	if rel > 1e-3 && r < 0.999 {
		return nil, fmt.Errorf("saliency: climxai and PyTorch disagree (relative difference %.3g, correlation %.6f)", rel, r)
	}
	// Batch 1 is one Saliency.Attribute call; batch n is one Saliency.AttributeBatch call over n
	// windows (backward runs batched under the emulator's memory budget), whose first map must be
	// the single call's.
	batch := func(n int) ([]*attribution.Result, error) {
		return sal.AttributeBatch(ctx, attribution.BatchRequest{Emulator: f.emu, X: f.x[:n*months*nlat*nlon],
			Targets: []attribution.Target{f.target}})
	}
	rs, err := batch(batchLarge)
	if err != nil {
		return nil, err
	}
	if d := maxRel(rs[0].Values, res.Values); d > 1e-5 {
		return nil, fmt.Errorf("saliency: the batched map of sample 0 differs from the single one by %.3g", d)
	}
	fmt.Printf("saliency: climxai's batch %d is one Saliency.AttributeBatch call (sample 0 as the single call to %.1g)\n",
		batchLarge, maxRel(rs[0].Values, res.Values))
	gf := f.info.ConvGFLOP
	var rows []row
	for _, n := range []int{batchSmall, batchLarge} {
		t, err := alternate(ctx, rounds(b.cfg.repeat, n), true,
			measure(func() error {
				if n == 1 {
					_, err := explain(0)
					return err
				}
				_, err := batch(n)
				return err
			}),
			func() (time.Duration, error) {
				return f.call(map[string]any{"op": "saliency", "batch": n, "weight_grads": false})
			},
			func() (time.Duration, error) {
				return f.call(map[string]any{"op": "saliency", "batch": n, "weight_grads": true})
			})
		if err != nil {
			return nil, err
		}
		ours, refIn, refW := t[0].per(n), t[1].per(n), t[2].per(n)
		ref := refIn
		if refW.best < ref.best {
			ref = refW
		}
		fmt.Printf("saliency batch %2d: climxai %s /sample (%.1f GFLOP/s); PyTorch input-only %s, with weight gradients %s /sample; ratio %.2f (target <= 0.5)\n",
			n, ours, gflops(2*gf, ours.best), refIn, refW, ours.best.Seconds()/ref.best.Seconds())
		rows = append(rows, row{name: fmt.Sprintf("saliency 1° batch %d", n), ours: ours.best, ref: ref.best,
			unit: "/sample", target: 0.5, targetText: "<= 0.50"})
	}
	fmt.Printf("saliency: whole-grid FLOP time %s /sample: forward %.2f + input gradient %.2f GFLOP at %.0f GFLOP/s (weight gradients, which climxai never computes, would add %.2f; a cell target's windows need less, so GFLOP/s above are effective rates)\n",
		fmtDur(flopTime(2*gf, f.info.GEMMGFLOPS)), gf, gf, f.info.GEMMGFLOPS, gf)
	return rows, nil
}

// benchIG: Integrated Gradients, 32 trapezoid steps from the zero baseline, with the
// completeness check's two forward runs, per explanation.
func benchIG(ctx context.Context, b *bench) ([]row, error) {
	f, err := b.torch(ctx)
	if err != nil {
		return nil, err
	}
	ig := attribution.IntegratedGradients{Steps: igSteps, Quadrature: attribution.Riemann,
		Baseline: attribution.Baseline{Kind: attribution.BaselineZero}}
	req := attribution.Request{Emulator: f.emu, X: f.sample(0), Target: f.target}
	res, err := ig.Attribute(ctx, req)
	if err != nil {
		return nil, err
	}
	want, err := readF32(filepath.Join(f.dir, "ig.f32"), months*nlat*nlon)
	if err != nil {
		return nil, err
	}
	got := channelOrder(res.Values)
	rel, r := maxRel(got, want), corr(got, want)
	fmt.Printf("ig: same attributions on both sides: max |Δ| / max |a| = %.2g, correlation %.7f; completeness Σa = %.5g vs f(x)-f(b) = %.5g (climxai), %.5g vs %.5g (PyTorch)\n",
		rel, r, res.Completeness.Sum, res.Completeness.Expected, f.info.IGSum, f.info.IGExpected)
	if rel > 1e-3 && r < 0.999 {
		return nil, fmt.Errorf("ig: climxai and PyTorch disagree (relative difference %.3g, correlation %.6f)", rel, r)
	}
	t, err := alternate(ctx, b.cfg.repeat, true,
		measure(func() error { _, err := ig.Attribute(ctx, req); return err }),
		func() (time.Duration, error) { return f.call(map[string]any{"op": "ig", "steps": igSteps}) })
	if err != nil {
		return nil, err
	}
	ours, ref := t[0], t[1]
	work := float64(igSteps)*2*f.info.ConvGFLOP + 2*f.info.ConvGFLOP
	fmt.Printf("ig %d steps: climxai %s (%.1f GFLOP/s); PyTorch (input-only autograd, steps in one batch) %s; ratio %.2f (target <= 0.5); whole-grid FLOP time %s (%.0f GFLOP)\n",
		igSteps, ours, gflops(work, ours.best), ref, ours.best.Seconds()/ref.best.Seconds(), fmtDur(flopTime(work, f.info.GEMMGFLOPS)), work)
	return []row{{name: fmt.Sprintf("ig %d steps 1° (one explanation)", igSteps), ours: ours.best, ref: ref.best,
		unit: "", target: 0.5, targetText: "<= 0.50"}}, nil
}

// benchAggregate: mean |saliency| over samples, each normalised to sum 1 (and the signed mean),
// over the 36-month windows of a monthly series, streamed.
func benchAggregate(ctx context.Context, b *bench) ([]row, error) {
	f, err := b.torch(ctx)
	if err != nil {
		return nil, err
	}
	n := b.cfg.aggSamples
	sal := attribution.Saliency{}
	cells, s := nlat*nlon, months*nlat*nlon
	// climxai's side is attribution.AggregateSamples, the path of `climxai aggregate` with its
	// default memory budget: samples streamed in batches through the backward graph, each
	// normalised to sum 1 and added into float64 sums.
	req := attribution.AggregateRequest{Emulator: f.emu, Method: sal, Target: f.target, Samples: n,
		Fill: func(k int, dst []float32) error { copy(dst, f.series[k*cells:k*cells+s]); return nil }}
	var agg []float32
	var st attribution.AggregateStats
	run := func() error {
		sums, stats, err := attribution.AggregateSamples(ctx, req)
		if err != nil {
			return err
		}
		mean, err := sums.Mean()
		if err != nil {
			return err
		}
		agg, st = mean.MeanAbs, stats
		return nil
	}
	// The backward graph is built and warmed up by a short aggregation, outside the timing; each
	// side runs the whole aggregation aggRepeat times.
	warm := req
	warm.Samples = min(n, batchLarge)
	if _, _, err := attribution.AggregateSamples(ctx, warm); err != nil {
		return nil, err
	}
	fmt.Printf("aggregate: %d samples, climxai = attribution.AggregateSamples (as climxai aggregate, budget %d MiB); PyTorch in batches of %d\n",
		n, inference.DefaultBudget>>20, batchLarge)
	t, err := alternate(ctx, b.cfg.aggRepeat, false, measure(run),
		func() (time.Duration, error) {
			return f.call(map[string]any{"op": "aggregate", "samples": n, "batch": batchLarge})
		})
	if err != nil {
		return nil, err
	}
	want, err := readF32(filepath.Join(f.dir, "agg.f32"), s)
	if err != nil {
		return nil, err
	}
	got := channelOrder(agg)
	rel, r := maxRel(got, want), corr(got, want)
	ours, ref := t[0], t[1]
	work := float64(n) * 2 * f.info.ConvGFLOP
	fmt.Printf("aggregate %d samples: climxai %s (%.1f GFLOP/s, batches of %d); PyTorch %s; ratio %.2f (target <= 0.5); same mean |saliency|: max |Δ| / max = %.2g, correlation %.7f; whole-grid FLOP time %s\n",
		n, ours, gflops(work, ours.best), st.Batch, ref, ours.best.Seconds()/ref.best.Seconds(), rel, r, fmtDur(flopTime(work, f.info.GEMMGFLOPS)))
	if rel > 1e-3 && r < 0.999 {
		return nil, fmt.Errorf("aggregate: climxai and PyTorch disagree (relative difference %.3g, correlation %.6f)", rel, r)
	}
	return []row{{name: fmt.Sprintf("aggregate saliency 1° %d samples", n), ours: ours.best, ref: ref.best,
		unit: "", target: 0.5, targetText: "<= 0.50"}}, nil
}

// channelOrder turns a result's lag-order values (lag 0 first; the emulator is oldest-first) back
// into the model's channel order, as the reference writes them.
func channelOrder(v []float32) []float32 {
	n := nlat * nlon
	out := make([]float32, len(v))
	for k := range months {
		copy(out[(months-1-k)*n:(months-k)*n], v[k*n:(k+1)*n])
	}
	return out
}

// readF32 reads n little-endian float32 values.
func readF32(path string, n int) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != 4*n {
		return nil, fmt.Errorf("%s: %d bytes, want %d float32 values", path, len(b), n)
	}
	v := make([]float32, n)
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, v); err != nil {
		return nil, err
	}
	return v, nil
}

// maxRel is max |a - b| / max |b|: a relative difference that near-zero values cannot inflate.
func maxRel(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// corr is Pearson's correlation of a and b.
func corr(a, b []float32) float64 {
	n := float64(len(a))
	var sa, sb float64
	for i := range a {
		sa += float64(a[i])
		sb += float64(b[i])
	}
	ma, mb := sa/n, sb/n
	var sab, saa, sbb float64
	for i := range a {
		x, y := float64(a[i])-ma, float64(b[i])-mb
		sab += x * y
		saa += x * x
		sbb += y * y
	}
	return sab / math.Sqrt(saa*sbb)
}

func gflops(gflop float64, d time.Duration) float64 { return gflop / d.Seconds() }

func flopTime(gflop, rate float64) time.Duration {
	return time.Duration(gflop / rate * float64(time.Second))
}

// fmtDur prints ms below 10 s, else s.
func fmtDur(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
