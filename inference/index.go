package inference

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"climxai/onnx"
)

// An index emulator forecasts one regional index (the area-weighted mean anomaly of a box, as
// the Niño-3.4 CNNs do) instead of a field: output [N, 1] (or [N], [N, 1, 1], [N, 1, 1, 1]). The
// card names the region (`index = "nino34"`). climxai opens such a model as a field emulator
// whose forecast is the index at every cell of its region and 0 elsewhere: the graph is extended
// by a Reshape to [N, 1, 1, 1] and a Mul by the region's 0/1 mask [1, 1, NLat, NLon]. A target
// inside the region (the region itself, a box or a cell in it) then explains the index exactly,
// since its weights sum to 1, and every method, analysis and backward graph works unchanged.

// indexMaskName and indexShapeName name the initializers the wrapper adds; indexRawSuffix is
// appended to the model's own output name.
const (
	indexMaskName  = "climxai_index_region"
	indexShapeName = "climxai_index_shape"
	indexRawSuffix = "_climxai_index"
)

// indexEntries is the number of entries per sample of an index output od: [N] has one, [N, K],
// [N, K, 1] and [N, K, 1, 1] have K (fixed); -1 when od is not an index output (a field
// [N, 1, nlat, nlon] is not).
func indexEntries(od []int64) int {
	switch {
	case len(od) < 1 || len(od) > 4:
		return -1
	case len(od) == 1:
		return 1
	case od[1] < 1 || od[1] > 1<<20:
		return -1
	}
	for _, d := range od[2:] {
		if d != 1 {
			return -1
		}
	}
	return int(od[1])
}

// indexModel returns the ONNX bytes of sig's model extended to a field over the region (see
// above); the output keeps its name, so sessions and backward graphs address it as before.
func indexModel(sig Signature) ([]byte, error) {
	m, err := onnx.Load(sig.Path)
	if err != nil {
		return nil, &Error{Model: sig.Path, Kind: ErrModelLoad, Err: err}
	}
	g := m.Graph
	out, raw := sig.Output, sig.Output+indexRawSuffix
	var vi *onnx.ValueInfoProto
	for _, o := range g.Output {
		if o.Name == out {
			vi = o
		}
	}
	if vi == nil {
		return nil, &Error{Model: sig.Path, Kind: ErrModelSignature, Msg: fmt.Sprintf("output %q not in the graph", out)}
	}
	// The value the model computes is renamed; the old name becomes the broadcast field.
	for _, n := range g.Node {
		for i, s := range n.Input {
			if s == out {
				n.Input[i] = raw
			}
		}
		for i, s := range n.Output {
			if s == out {
				n.Output[i] = raw
			}
		}
	}
	for _, in := range g.Input {
		if in.Name == out {
			return nil, &Error{Model: sig.Path, Kind: ErrModelSignature, Msg: fmt.Sprintf("output %q is also a graph input", out),
				Hint: "the index must be computed from the input window"}
		}
	}
	mask := make([]float32, len(sig.Region))
	for k, in := range sig.Region {
		if in {
			mask[k] = 1
		}
	}
	g.Initializer = append(g.Initializer,
		onnx.Int64Tensor(indexShapeName, []int64{4}, []int64{-1, 1, 1, 1}),
		onnx.FloatTensor(indexMaskName, []int64{1, 1, int64(sig.NLat), int64(sig.NLon)}, mask))
	if n := indexEntries(sig.IndexDims); n > 1 {
		// Several entries: flatten them and pick the card's.
		picked := raw + "_entry"
		g.Initializer = append(g.Initializer,
			onnx.Int64Tensor(indexShapeName+"_flat", []int64{2}, []int64{-1, int64(n)}),
			onnx.Int64Tensor(indexShapeName+"_entry", []int64{1}, []int64{int64(sig.Entry)}))
		g.Node = append(g.Node,
			&onnx.NodeProto{Name: "climxai_index_flatten", OpType: "Reshape",
				Input: []string{raw, indexShapeName + "_flat"}, Output: []string{raw + "_flat"}},
			&onnx.NodeProto{Name: "climxai_index_entry", OpType: "Gather",
				Input: []string{raw + "_flat", indexShapeName + "_entry"}, Output: []string{picked},
				Attribute: []*onnx.AttributeProto{{Name: "axis", Type: onnx.AttributeProto_INT, I: 1}}})
		raw = picked
	}
	g.Node = append(g.Node,
		&onnx.NodeProto{Name: "climxai_index_reshape", OpType: "Reshape",
			Input: []string{raw, indexShapeName}, Output: []string{raw + "_nchw"}},
		&onnx.NodeProto{Name: "climxai_index_field", OpType: "Mul",
			Input: []string{raw + "_nchw", indexMaskName}, Output: []string{out}})
	batch := &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	if t := vi.GetType().GetTensorType(); t != nil && len(t.GetShape().GetDim()) > 0 {
		batch = t.Shape.Dim[0]
	}
	dim := func(v int) *onnx.TensorShapeProto_Dimension {
		return &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(v)}}
	}
	vi.Type = &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: int32(onnx.TensorProto_FLOAT),
		Shape:    &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{batch, dim(1), dim(sig.NLat), dim(sig.NLon)}}}}}
	// Shape information recorded for the old output no longer fits the renamed value.
	kept := g.ValueInfo[:0]
	for _, v := range g.ValueInfo {
		if v.Name != out {
			kept = append(kept, v)
		}
	}
	g.ValueInfo = kept
	return proto.Marshal(m)
}
