package inference

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"climxai/dataset"
	"climxai/onnx"
)

func TestParseCardIndex(t *testing.T) {
	path := filepath.Join("testdata", "edited.toml")
	withIndex := func(v string) string {
		return card(t, `channel_order = "oldest-first"=>channel_order = "oldest-first"`+"\nindex = "+v)
	}
	c, err := ParseCard([]byte(withIndex(`"SPG"`)), path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Index != "SPG" || c.IndexRegion.Name != "spg" || c.IndexRegion.Box != (dataset.Box{S: 50, N: 65, W: -60, E: -10}) {
		t.Errorf("index %q, region %+v", c.Index, c.IndexRegion)
	}
	s := c.Spec(c.Models[0])
	cells := 0
	for k, in := range s.Region {
		if in {
			cells++
			lat, lon := 5+2*float64(k/63), -100+2*float64(k%63)
			if lat < 50 || lat > 65 || lon < -60 || lon > -10 {
				t.Fatalf("cell %g,%g marked in spg", lat, lon)
			}
		}
	}
	// Latitudes 51..65 (8 rows) by longitudes -60..-10 (26 columns).
	if s.Index != "SPG" || len(s.Region) != 35*63 || cells != 8*26 {
		t.Errorf("spec index %q, %d cells of %d", s.Index, cells, len(s.Region))
	}
	if c, err := ParseCard([]byte(withIndex(`"box:40,42,-30,-28"`)), path); err != nil || c.IndexRegion.Name != "" {
		t.Errorf("box index: %+v, %v", c, err)
	}
	if c, _ := ParseCard([]byte(card(t)), path); c.Index != "" || c.Spec(c.Models[0]).Region != nil {
		t.Errorf("a card without index forecasts a field: %+v", c.Spec(c.Models[0]))
	}
	for _, tc := range []struct{ value, words string }{
		{`"nino34"`, "holds no cell of the grid"},
		{`"box:60,50,-40,-20"`, "south must not exceed north"},
		{`"box:1,2,3"`, "want 4"},
		{`"atlantis"`, "neither a named region nor a box"},
		{`""`, "neither"},
		{`3`, "TOML"},
	} {
		_, err := ParseCard([]byte(withIndex(tc.value)), path)
		if !errors.Is(err, ErrBadCard) || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("index = %s: %v, want %q", tc.value, err, tc.words)
		}
		if err != nil && tc.value != "3" && !strings.Contains(err.Error(), "box:S,N,W,E") && !strings.Contains(err.Error(), "inside the card's [grid]") {
			t.Errorf("index = %s: the error does not say what to write: %v", tc.value, err)
		}
	}
}

// linearIndexModel writes a model forecasting an index as a linear map of the whole window:
// Flatten, MatMul by w [months*nlat*nlon, 1], then (when flat) Reshape to [N]. Its output is
// [N, 1], or [N] with flat.
func linearIndexModel(t *testing.T, path string, w []float32, flat bool) {
	t.Helper()
	const months, nlat, nlon = 36, 35, 63
	dim := func(v int64, param string) *onnx.TensorShapeProto_Dimension {
		if param != "" {
			return &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: param}}
		}
		return &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	vi := func(name string, d ...*onnx.TensorShapeProto_Dimension) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
			TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: &onnx.TensorShapeProto{Dim: d}}}}}
	}
	g := &onnx.GraphProto{
		Name: "linear_index",
		Node: []*onnx.NodeProto{
			{OpType: "Flatten", Input: []string{"x"}, Output: []string{"flat"}},
			{OpType: "MatMul", Input: []string{"flat", "w"}, Output: []string{"y"}},
		},
		Initializer: []*onnx.TensorProto{onnx.FloatTensor("w", []int64{months * nlat * nlon, 1}, w)},
		Input:       []*onnx.ValueInfoProto{vi("x", dim(0, "N"), dim(months, ""), dim(nlat, ""), dim(nlon, ""))},
		Output:      []*onnx.ValueInfoProto{vi("y", dim(0, "N"), dim(1, ""))},
	}
	if flat {
		g.Node[1].Output[0] = "y2"
		g.Node = append(g.Node, &onnx.NodeProto{OpType: "Reshape", Input: []string{"y2", "shape"}, Output: []string{"y"}})
		g.Initializer = append(g.Initializer, onnx.Int64Tensor("shape", []int64{1}, []int64{-1}))
		g.Output[0] = vi("y", dim(0, "N"))
	}
	m := &onnx.ModelProto{IrVersion: 8, OpsetImport: []*onnx.OperatorSetIdProto{{Version: 13}}, Graph: g}
	if err := onnx.Save(path, m); err != nil {
		t.Fatal(err)
	}
}

// TestIndexModel opens index emulators ([N, 1] and [N] outputs) as fields over their region:
// the index at every cell of the region, 0 elsewhere, from one run of ONNX Runtime.
func TestIndexModel(t *testing.T) {
	const months, nlat, nlon = 36, 35, 63
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	w := make([]float32, months*nlat*nlon)
	for i := range w {
		w[i] = float32(r.NormFloat64()) / 100
	}
	for _, flat := range []bool{false, true} {
		model := filepath.Join(dir, map[bool]string{false: "index.onnx", true: "index_flat.onnx"}[flat])
		linearIndexModel(t, model, w, flat)
		c, err := ParseCard([]byte(card(t, `channel_order = "oldest-first"=>channel_order = "oldest-first"`+"\nindex = \"spg\"",
			"tiny_lead6.onnx=>"+model, "tiny.onnx=>"+model)), filepath.Join("testdata", "index.toml"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := testRuntime(t).Open(c.Spec(c.Models[0]), Options{Device: CPU, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		sig := m.Signature()
		if sig.Index != "spg" || dimString(sig.OutDims) != "[?, 1, 35, 63]" {
			t.Errorf("signature: index %q, output %s (file: %s)", sig.Index, dimString(sig.OutDims), dimString(sig.IndexDims))
		}
		const n = 3
		x := make([]float32, n*len(w))
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		y, err := m.Run(context.Background(), x, n)
		if err != nil {
			t.Fatal(err)
		}
		region := c.Spec(c.Models[0]).Region
		for s := range n {
			var want float64
			for i, v := range w {
				want += float64(v) * float64(x[s*len(w)+i])
			}
			for k := range nlat * nlon {
				got := float64(y[s*nlat*nlon+k])
				if !region[k] && got != 0 || region[k] && math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("flat %v, sample %d, cell %d (in region %v): %g, index %g", flat, s, k, region[k], got, want)
				}
			}
		}
		// The same file under a field card: the message says how to declare an index.
		fc, err := ParseCard([]byte(card(t, "tiny_lead6.onnx=>"+model)), filepath.Join("testdata", "field.toml"))
		if err != nil {
			t.Fatal(err)
		}
		err = fc.ValidateModels()
		if !errors.Is(err, ErrModelSignature) || !strings.Contains(err.Error(), `index = "nino34"`) {
			t.Errorf("index model under a field card: %v", err)
		}
	}
	// A field model under an index card.
	c, err := ParseCard([]byte(card(t, `channel_order = "oldest-first"=>channel_order = "oldest-first"`+"\nindex = \"spg\"")),
		filepath.Join("testdata", "index.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateModels(); !errors.Is(err, ErrModelSignature) || !strings.Contains(err.Error(), "an index emulator") {
		t.Errorf("field model under an index card: %v", err)
	}
}
