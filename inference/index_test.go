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

// linearIndexModel writes a model forecasting k entries as linear maps of the whole window:
// Flatten, MatMul by w [months*nlat*nlon, k] (row-major), then (when flat, for k = 1) Reshape to
// [N]. Its output is [N, k], or [N] with flat.
func linearIndexModel(t *testing.T, path string, w []float32, k int, flat bool) {
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
		Initializer: []*onnx.TensorProto{onnx.FloatTensor("w", []int64{months * nlat * nlon, int64(k)}, w)},
		Input:       []*onnx.ValueInfoProto{vi("x", dim(0, "N"), dim(months, ""), dim(nlat, ""), dim(nlon, ""))},
		Output:      []*onnx.ValueInfoProto{vi("y", dim(0, "N"), dim(int64(k), ""))},
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

// TestIndexModel opens index emulators ([N, 1], [N] and [N, 3] outputs, the last with an
// output_entry per lead) as fields over their region: the index at every cell of the region, 0
// elsewhere, from one run of ONNX Runtime.
func TestIndexModel(t *testing.T) {
	const months, nlat, nlon, f = 36, 35, 63, 36 * 35 * 63
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	w := make([]float32, 3*f)
	for i := range w {
		w[i] = float32(r.NormFloat64()) / 100
	}
	const n = 3
	x := make([]float32, n*f)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, tc := range []struct {
		name    string
		k       int
		flat    bool
		entries [2]int // of leads 6 and 1
	}{{"index.onnx", 1, false, [2]int{0, 0}}, {"index_flat.onnx", 1, true, [2]int{0, 0}}, {"index3.onnx", 3, false, [2]int{2, 1}}} {
		model := filepath.Join(dir, tc.name)
		wk := w[:tc.k*f]
		linearIndexModel(t, model, wk, tc.k, tc.flat)
		edits := []string{`channel_order = "oldest-first"=>channel_order = "oldest-first"` + "\nindex = \"spg\"",
			"tiny_lead6.onnx=>" + model, "tiny.onnx=>" + model}
		if tc.k > 1 {
			edits = append(edits, "lead = 6=>lead = 6\noutput_entry = 2", `output = "y"=>output = "y"`+"\noutput_entry = 1")
		}
		c, err := ParseCard([]byte(card(t, edits...)), filepath.Join("testdata", "index.toml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range c.Models {
			entry := tc.entries[map[int]int{6: 0, 1: 1}[cm.Lead]]
			m, err := testRuntime(t).Open(c.Spec(cm), Options{Device: CPU, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			sig := m.Signature()
			if sig.Index != "spg" || sig.Entry != entry || dimString(sig.OutDims) != "[?, 1, 35, 63]" {
				t.Errorf("%s lead %d: index %q entry %d, output %s (file: %s)", tc.name, cm.Lead, sig.Index, sig.Entry, dimString(sig.OutDims), dimString(sig.IndexDims))
			}
			y, err := m.Run(context.Background(), x, n)
			if err != nil {
				t.Fatal(err)
			}
			region := c.Spec(cm).Region
			for s := range n {
				var want float64
				for i := range f {
					want += float64(wk[i*tc.k+entry]) * float64(x[s*f+i])
				}
				for k := range nlat * nlon {
					got := float64(y[s*nlat*nlon+k])
					if !region[k] && got != 0 || region[k] && math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
						t.Fatalf("%s lead %d, sample %d, cell %d (in region %v): %g, index %g", tc.name, cm.Lead, s, k, region[k], got, want)
					}
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
		if tc.k > 1 {
			bad, err := ParseCard([]byte(card(t, append(edits[:3:3], "lead = 6=>lead = 6\noutput_entry = 3")...)), filepath.Join("testdata", "index.toml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := bad.ValidateModels(); !errors.Is(err, ErrModelSignature) || !strings.Contains(err.Error(), "3 entries, output_entry = 3") {
				t.Errorf("output_entry beyond the output: %v", err)
			}
		}
	}
	// A field model under an index card, and output_entry without index or below 0.
	c, err := ParseCard([]byte(card(t, `channel_order = "oldest-first"=>channel_order = "oldest-first"`+"\nindex = \"spg\"")),
		filepath.Join("testdata", "index.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidateModels(); !errors.Is(err, ErrModelSignature) || !strings.Contains(err.Error(), "an index emulator") {
		t.Errorf("field model under an index card: %v", err)
	}
	if _, err := ParseCard([]byte(card(t, "lead = 6=>lead = 6\noutput_entry = 1")), filepath.Join("testdata", "x.toml")); !errors.Is(err, ErrBadCard) || !strings.Contains(err.Error(), "without index") {
		t.Errorf("output_entry without index: %v", err)
	}
	if _, err := ParseCard([]byte(card(t, `channel_order = "oldest-first"=>channel_order = "oldest-first"`+"\nindex = \"spg\"",
		"lead = 6=>lead = 6\noutput_entry = -1")), filepath.Join("testdata", "x.toml")); !errors.Is(err, ErrBadCard) || !strings.Contains(err.Error(), "output_entry = -1") {
		t.Errorf("negative output_entry: %v", err)
	}
}
