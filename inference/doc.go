// Package inference runs climate emulators exported to ONNX through ONNX Runtime, and reads the
// emulator card that describes them.
//
// What lives here:
//   - library discovery and loading of ONNX Runtime's shared library (ortlib.go): the one place
//     where climxai's Go code meets ONNX Runtime's C API (through github.com/yalue/onnxruntime_go);
//   - devices ("auto", "cpu", "cuda[:N]") and the CUDA -> CPU fallback (device.go);
//   - a Runtime that opens and caches one Model per (model file, device, threads), and the Model's
//     forward runs, single and batched under a memory budget (session.go, batch.go), and the
//     in-memory graphs of attribution (graph.go);
//   - lanes: on the CPU, runs of several samples go to one single-threaded run per thread at
//     once on a second session (lanes.go);
//   - the emulator card (card.go) and the check of its ONNX models against it (validate.go).
//
// Imports: the standard library, dataset (grid and preprocessing specs), onnxruntime_go and
// BurntSushi/toml. Nothing here knows about the GUI, plots or attribution methods.
//
// Concurrency: a *Model may be shared by any number of goroutines (see Model.Run). The ONNX
// Runtime environment is process-wide; see LoadLibrary.
package inference
