// Package attribution explains an emulator's forecast: attribution methods behind one verb and
// one result type (Saliency, Input x Gradient, Integrated Gradients, SmoothGrad, LRP, DeepLIFT,
// Occlusion, backwards optimisation), targets (a cell, a box, a named region) as weights over
// the model's output, aggregation over samples, temporal-decay and spatial-extent analyses,
// ablation and fidelity metrics.
//
// What lives where:
//   - target.go: Target, a weight mask over the output [NLat][NLon] (ParseTarget: LAT,LON,
//     box:S,N,W,E, named boxes of NamedBoxes; NewMaskTarget for any mask);
//   - emulator.go: Emulator, one model opened for attribution (forward session, SHA-256, backward
//     graphs built on first use and cached in the inference.Runtime, batched streaming runs);
//   - method.go: the Method interface, Request, Result (values by lag, lag 0 first, NaN on land),
//     Completeness, Params;
//   - gradient.go, relevance.go, occlusion.go: the methods (gradient.go also BatchRequest and
//     BatchAttributor: saliency and input x gradient of many windows from batched backward runs);
//     baseline.go: baselines and IG's quadratures; registry.go: Methods, the explicit registry handed to the CLI and the GUI,
//     and Settings, every method's parameters as typed values;
//   - aggregate.go: Sums, streaming aggregation over samples (each normalised to sum 1), mergeable
//     across shards; decay.go: importance per lag and the e-folding fit with its interval;
//     distance.go: great-circle distances, importance against distance, R50 and R90;
//   - skill.go: correlation, RMSE, R², Spearman; ablate.go: skill with inputs beyond a radius or
//     older than a lag set to climatology; fidelity.go: correlation with a known linear truth,
//     the model-randomisation check, deletion and insertion curves.
//
// Time: input channel c of an oldest-first emulator holds month t-(Months-1)+c, so lag k is
// channel Months-1-k; results are stored by lag. Units: attributions are in model output units
// (scaled anomalies) per input feature; the output's sign is kept by every method.
//
// Gradient-based and relevance methods run on backward graphs built by the subpackage
// backward (the model's ONNX graph extended with a vector-Jacobian product or an LRP/DeepLIFT
// rule per node) and executed by ONNX Runtime through climxai/inference. The package may import
// climxai/inference, climxai/dataset, climxai/onnx and its own subpackages; never the UI. It has
// no package state: methods are values, and everything long takes a context.
package attribution
