// Command bench is climxai's own benchmark (`make bench`): it measures climxai's hot paths side by
// side with the reference Python implementation doing the same work in the same run on the same
// machine, and prints the ratios. Absolute times are not comparable across runs on a noisy
// machine; the ratios are. Each measurement is warmed up once, then the two sides are timed in
// turn, -repeat rounds (five times as many at batch 1), and the best time of each side is
// compared (the median is printed too): alternating gives both sides the same machine load.
//
// Sections (run all by default, or name some with -only):
//   - prepare: open and preprocess 100 years of the 1° North Atlantic SST field (read, monthly
//     climatology anomalies, 4th-order Butterworth low-pass forward and backward, scaling, every
//     36-month input window for lead 1) against xarray + netCDF4 + scipy doing the same
//     (tools/bench/xarray_prepare.py). Target: climxai at most half of xarray's time.
//   - forward: the 1° benchmark model (the reference DenseNet at 70 x 125, random weights) at
//     batch 1 and 32, climxai's inference.Model.Run on ONNX Runtime against PyTorch eager in eval
//     mode under no_grad, both on -threads intra-op threads (PyTorch: set_num_threads, one
//     inter-op thread). Target: ONNX Runtime at least 1.3x PyTorch's throughput.
//   - saliency: the input gradient of one output cell per sample at batch 1 and 32, through
//     attribution.Saliency against PyTorch autograd (y[:, 0, i, j].sum().backward()), measured
//     with and without weight gradients; the faster PyTorch variant is the reference. climxai's
//     batch 1 is one Saliency.Attribute call, its batch 32 one Saliency.AttributeBatch call
//     (batched backward runs under the default memory budget). Also
//     prints the whole grid's FLOP time: the convolutions' FLOPs counted from the ONNX graph
//     (forward, and the same again for the input gradient) at the sustained GEMM rate measured in
//     the run. It bounds a whole-grid run; climxai runs the decoder's last layers on windows
//     around a cell target (attribution/backward.Crop), which need fewer FLOPs, so the GFLOP/s it
//     prints for gradients are effective rates on the whole grid's count.
//     Target: at most 0.5x PyTorch's time.
//   - ig: Integrated Gradients, 32 trapezoid steps from the zero baseline, one explanation with
//     its completeness check, attribution.IntegratedGradients against a PyTorch loop doing the
//     same (steps in one batch, input-only autograd, f(x) and f(baseline)); climxai stops the
//     steps' gradients at the stem's output and applies the stem's adjoint once to their sum
//     (the same attributions, checked below). Target: at most 0.5x.
//   - aggregate: mean |saliency| (each sample normalised to sum 1) and the signed mean over the
//     36-month windows of a monthly series, -agg-samples of them (1280), through
//     attribution.AggregateSamples (the path of `climxai aggregate`: batches under the default
//     512 MiB budget), against PyTorch in batches of 32. Target: at most 0.5x.
//
// The PyTorch sections share one reference process, tools/bench/torch_ref.py: it builds the
// reference network of tools/emulator/densenet.py with seeded weights, exports the ONNX file the
// Go side runs (so both sides hold the same weights), writes inputs and expected outputs,
// gradients and attributions that the bench checks climxai against before timing (forward: max
// |Δ|/max|y| <= 1e-4; attributions: <= 1e-3 or correlation >= 0.999), and then answers timing
// requests over stdin/stdout (see its docstring).
//
// The references run under Debian's /usr/bin/python3 (python3-torch, python3-onnx,
// python3-xarray, python3-netcdf4, python3-scipy; `make bench` installs them through
// scripts/setup-bench.sh). ONNX Runtime is found as everywhere in climxai (CLIMXAI_ORT_LIB,
// which `make bench` sets).
package main
