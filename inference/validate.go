package inference

import (
	"errors"
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Signature is a model's checked interface: input [N, Months, NLat, NLon] float32 named Input,
// output [N, 1, NLat, NLon] float32 named Output.
type Signature struct {
	Path                string // the ONNX file (absolute once opened through a Runtime)
	Input, Output       string
	Months, NLat, NLon  int
	FixedBatch          bool // the batch axis is fixed at 1 (runs go one sample at a time)
	InputDims, OutDims  []int64
	DynamicOutputExtent bool // the output's spatial sizes are symbolic in the file
	// Index names the region an index emulator forecasts ("" for a field emulator); its model
	// is opened as a field over Region (index.go), so OutDims are [N, 1, NLat, NLon] and
	// IndexDims the file's own output shape.
	Index     string
	Region    []bool
	Entry     int // the element of the file's output that is the index
	IndexDims []int64
	onnx      []byte // the extended model of an index emulator; nil: sessions open Path
}

// ValidateModel opens spec.Path in ONNX Runtime (LoadLibrary must have succeeded) and checks it
// against spec: input and output names, element type float32, input [N, Months, NLat, NLon] and
// output [N, 1, NLat, NLon] with N dynamic or 1. Zero sizes in spec are taken from the model. Each
// mismatch is an *Error of kind ErrModelSignature saying what to change; several are joined.
// Files that are missing, are not ONNX, or use an unsupported operator set give ErrModelMissing,
// ErrModelLoad and ErrUnsupportedOpset.
func ValidateModel(spec ModelSpec) (Signature, error) {
	if err := fileExists(spec.Path); err != nil {
		return Signature{}, &Error{Model: spec.Path, Kind: ErrModelMissing, Err: err,
			Hint: "check the file name in the card's [[model]] table (it is relative to the card's directory)"}
	}
	if !ort.IsInitialized() {
		return Signature{}, &Error{Model: spec.Path, Kind: ErrRuntimeLoad, Msg: "ONNX Runtime is not loaded",
			Hint: "call inference.LoadLibrary or NewRuntime first"}
	}
	ins, outs, err := ort.GetInputOutputInfo(spec.Path)
	if err != nil {
		return Signature{}, loadError(spec.Path, err)
	}
	return checkSignature(spec, ins, outs)
}

// loadError classifies ONNX Runtime's complaint about a model file. ONNX Runtime only gives
// messages, so the operator-set case is recognised by its wording.
func loadError(path string, err error) error {
	msg := err.Error()
	low := strings.ToLower(msg)
	if strings.Contains(low, "opset") || strings.Contains(low, "operator set") ||
		strings.Contains(low, "ir version") {
		return &Error{Model: path, Kind: ErrUnsupportedOpset, Err: err,
			Hint: "re-export the model with an opset ONNX Runtime " + RuntimeVersion +
				" supports (torch.onnx.export(..., opset_version=13..17))"}
	}
	if strings.Contains(msg, "Could not find an implementation") {
		return &Error{Model: path, Kind: ErrModelLoad, Err: err,
			Hint: "the model uses an operator or element type ONNX Runtime's CPU provider lacks (float64 convolutions, for example); export it in float32"}
	}
	return &Error{Model: path, Kind: ErrModelLoad, Err: err,
		Hint: "check that the file is a complete ONNX model (python: onnx.checker.check_model); re-export or re-download it"}
}

// checkSignature matches a model's input and output infos against spec.
func checkSignature(spec ModelSpec, ins, outs []ort.InputOutputInfo) (Signature, error) {
	sig := Signature{Path: spec.Path}
	var errs []error
	bad := func(hint, format string, a ...any) {
		errs = append(errs, &Error{Model: spec.Path, Kind: ErrModelSignature, Msg: fmt.Sprintf(format, a...), Hint: hint})
	}
	in, okIn := pick(ins, spec.Input)
	out, okOut := pick(outs, spec.Output)
	if !okIn {
		bad(`set input = "NAME" in the card's [[model]] table to one of the model's inputs`,
			"input %q not found; the model's inputs: %s", spec.Input, describe(ins))
	}
	if !okOut {
		bad(`set output = "NAME" in the card's [[model]] table to one of the model's outputs`,
			"output %q not found; the model's outputs: %s", spec.Output, describe(outs))
	}
	if len(errs) > 0 {
		return sig, errors.Join(errs...)
	}
	sig.Input, sig.Output = in.Name, out.Name
	sig.InputDims, sig.OutDims = []int64(in.Dimensions), []int64(out.Dimensions)
	const reexport = "re-export the model from float32 weights with a float32 input"
	for _, io := range []struct {
		what string
		info ort.InputOutputInfo
	}{{"input", in}, {"output", out}} {
		if io.info.OrtValueType != ort.ONNXTypeTensor {
			bad(reexport, "%s %q is a %s, not a tensor", io.what, io.info.Name, io.info.OrtValueType)
		} else if io.info.DataType != ort.TensorElementDataTypeFloat {
			bad(reexport, "%s %q has element type %s, need float32", io.what, io.info.Name, typeName(io.info.DataType))
		}
	}
	id, od := in.Dimensions, out.Dimensions
	if len(id) != 4 {
		bad("the emulator input must be [N, months, nlat, nlon]", "input %q has shape %s (rank %d), need rank 4", in.Name, dimString(id), len(id))
	}
	switch {
	case spec.Index != "" && indexEntries(od) < 0:
		bad(fmt.Sprintf("an index emulator (the card's index = %q) has output [N, 1] or [N, K] with fixed K; remove index from the card if the model forecasts a field", spec.Index),
			"output %q has shape %s", out.Name, dimString(od))
	case spec.Index != "" && spec.Entry >= indexEntries(od):
		bad("output_entry counts the output's elements from 0", "output %q has shape %s: %d entries, output_entry = %d",
			out.Name, dimString(od), indexEntries(od), spec.Entry)
	case spec.Index == "" && len(od) != 4:
		hint := "the emulator output must be [N, 1, nlat, nlon]"
		if len(od) < 4 && indexEntries(od) > 0 {
			hint += `; a model forecasting one regional index names the region in the card: index = "nino34" (or "box:S,N,W,E")`
		}
		bad(hint, "output %q has shape %s (rank %d), need rank 4", out.Name, dimString(od), len(od))
	}
	if len(errs) > 0 {
		return sig, errors.Join(errs...)
	}
	// Batch axis: dynamic (any negative or symbolic size) or 1; both must agree.
	const dynHint = "export with a dynamic batch axis: torch.onnx.export(..., dynamic_axes={'x': {0: 'N'}, 'y': {0: 'N'}})"
	switch {
	case id[0] < 0 && od[0] < 0:
	case id[0] == 1 && od[0] == 1:
		sig.FixedBatch = true
	default:
		bad(dynHint, "batch axis of input %s and output %s must be dynamic (or 1)", dimString(id), dimString(od))
	}
	size := func(want int, got int64, what, hint string) int {
		switch {
		case want > 0 && got >= 0 && int64(want) != got:
			bad(hint, "%s is %d in the model but %d in the card", what, got, want)
		case want > 0:
			return want
		case got > 0:
			return int(got)
		default:
			bad(hint, "%s is not fixed in the model; the card must give it", what)
		}
		return 0
	}
	const gridHint = "make the card's [grid] nlat/nlon match the model, or re-export the model for the card's grid"
	if spec.Vars > 1 {
		sig.Months = size(spec.Months, id[1], fmt.Sprintf("input %q channel count (input months x %d input variables)", in.Name, spec.Vars),
			"the channels are input_months for each input variable (the card's variable and its [[input]] tables): fix input_months or the [[input]] tables, or re-export the model")
	} else {
		sig.Months = size(spec.Months, id[1], fmt.Sprintf("input %q channel count (input months)", in.Name),
			"set input_months in the card to the model's channel count, or re-export the model")
	}
	sig.NLat = size(spec.NLat, id[2], fmt.Sprintf("input %q latitude size", in.Name), gridHint)
	sig.NLon = size(spec.NLon, id[3], fmt.Sprintf("input %q longitude size", in.Name), gridHint)
	if spec.Index != "" {
		if len(spec.Region) != sig.NLat*sig.NLon {
			bad("the card gives the index region on its grid", "index region has %d cells, the grid %d x %d", len(spec.Region), sig.NLat, sig.NLon)
		}
		sig.Index, sig.Region, sig.Entry, sig.IndexDims = spec.Index, spec.Region, spec.Entry, sig.OutDims
		sig.OutDims = []int64{od[0], 1, int64(sig.NLat), int64(sig.NLon)}
		return sig, errors.Join(errs...)
	}
	if od[1] != 1 && od[1] >= 0 {
		bad("the emulator must predict one field per lead: output [N, 1, nlat, nlon]",
			"output %q has %d channels, need 1", out.Name, od[1])
	}
	for k, want := range []int{sig.NLat, sig.NLon} {
		got := od[2+k]
		if got < 0 {
			sig.DynamicOutputExtent = true
		} else if want > 0 && got != int64(want) {
			bad("the output must be on the input's grid; "+gridHint,
				"output %q has shape %s but the grid is %d x %d", out.Name, dimString(od), sig.NLat, sig.NLon)
			break
		}
	}
	return sig, errors.Join(errs...)
}

// pick finds the tensor called name, or the only one when name is "".
func pick(infos []ort.InputOutputInfo, name string) (ort.InputOutputInfo, bool) {
	if name == "" {
		if len(infos) == 1 {
			return infos[0], true
		}
		return ort.InputOutputInfo{}, false
	}
	for _, in := range infos {
		if in.Name == name {
			return in, true
		}
	}
	return ort.InputOutputInfo{}, false
}

func describe(infos []ort.InputOutputInfo) string {
	var s []string
	for _, in := range infos {
		s = append(s, fmt.Sprintf("%q %s %s", in.Name, dimString(in.Dimensions), typeName(in.DataType)))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// dimString writes a shape with symbolic sizes as "?", e.g. [?, 36, 35, 63].
func dimString(d ort.Shape) string { return ShapeString(d) }

// ShapeString writes a tensor shape with symbolic (negative) sizes as "?", e.g. [?, 36, 35, 63].
func ShapeString(d []int64) string {
	s := make([]string, len(d))
	for i, v := range d {
		if v < 0 {
			s[i] = "?"
		} else {
			s[i] = fmt.Sprint(v)
		}
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// typeName names the element types emulators meet the way numpy does.
func typeName(t ort.TensorElementDataType) string {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return "float32"
	case ort.TensorElementDataTypeDouble:
		return "float64"
	case ort.TensorElementDataTypeFloat16:
		return "float16"
	}
	return t.String()
}
