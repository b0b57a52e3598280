// Package backward is climxai's backward-graph engine: it turns an emulator's forward ONNX graph
// into a new ONNX graph that computes the output y and a backward quantity with respect to the
// input x, so that ONNX Runtime (on the GPU when there is one) runs attribution methods.
//
// Three parts change independently, as in Zennit (chr5tphr/zennit, src/zennit/core.py, rules.py,
// composites.py):
//
//   - the IR (NewGraph): nodes in topological order, constants folded, static shapes with a
//     symbolic batch, partially known shape arithmetic (Shape/Gather/Slice/Concat/Cast chains);
//   - the builder (Build): one walk in reverse topological order emitting each node's backward
//     step, summing the cotangents of values used more than once;
//   - rules (Rule) picked per node by a rule map (Composite): Gradient is the exact
//     vector-Jacobian product; LRP rules reuse it through Step.Forward and Step.LinearVJP, and
//     through attention, gated activations and normalisations hold the gate constant (gate.go);
//     DeepLIFT's rules (deeplift.go) split products, quotients, softmax and normalisations
//     exactly, so its attributions sum to f(x) - f(reference) through them.
//
// Around them, rewrites that give the same numbers faster: canonizers (MergeBatchNorm), the
// scale fold (fold.go), the stem split (SplitInputConvs), the first layer cut off for sums of
// gradients (SplitHead), and the model's local tail cut off so that a target of a few cells
// runs it on windows (SplitCrop, Crop.Compose).
//
// Ops with a backward step (Gradient; vjp.go, rearrange.go): Conv, ConvTranspose, Gemm, MatMul,
// BatchNormalization (inference), InstanceNormalization (and torch's GroupNorm written with it),
// LayerNormalization, Relu, LeakyRelu, PRelu, Elu, Sigmoid, Tanh, Softplus, HardSigmoid,
// HardSwish, Clip, Exp, Log, Sqrt, Abs, Erf, Reciprocal, Pow, Max, Min, Where, Softmax, Add, Sub,
// Mul, Div, Sum, Neg, Identity, Dropout, Cast (to float), Concat, Split, Slice, Pad (constant,
// edge, reflect, wrap), Reshape, Flatten, Squeeze, Unsqueeze, Expand, Transpose, Gather (constant
// indices), DepthToSpace (DCR, CRD), SpaceToDepth, MaxPool, AveragePool, GlobalAveragePool,
// GlobalMaxPool, ReduceMean, ReduceSum, ReduceMax, ReduceMin, Resize (nearest, linear). Shape
// arithmetic around them (Shape, Gather, Slice, Concat, Cast, ConstantOfShape, Reshape,
// Transpose, Unsqueeze, Squeeze and integer Add/Sub/Mul/Div) is evaluated when building. Any
// other op on the path from input to output is an *UnsupportedError naming its type and node.
// The model zoo (zoo_test.go, testdata/make_zoo.py: a U-Net, a ResNet, a vision transformer and a
// ConvNeXt exported by torch.onnx) checks them against PyTorch autograd.
//
// The package imports only climxai/onnx (and, in tests, climxai/inference and ONNX Runtime).
package backward
