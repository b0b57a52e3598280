package inference

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/dataset"
)

func TestLoadCard(t *testing.T) {
	c, err := LoadCard(filepath.Join("testdata", "tiny.toml"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata")
	if c.Name != "tiny test emulator" || c.Variable != "sst" || c.InputMonths != 36 || c.ChannelOrder != OldestFirst {
		t.Errorf("header: %+v", c)
	}
	if c.Grid != (dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}) {
		t.Errorf("grid: %+v", c.Grid)
	}
	if c.Preprocess.Anomaly != "monthly-climatology" || c.Preprocess.ScaleStd != 1 || c.Preprocess.Filter != "none" {
		t.Errorf("preprocess: %+v", c.Preprocess)
	}
	want := []CardModel{
		{Lead: 1, File: filepath.Join(abs, "tiny.onnx"), Input: "x", Output: "y"},
		{Lead: 6, File: filepath.Join(abs, "tiny_lead6.onnx"), Input: "x", Output: "y"},
	}
	if len(c.Models) != 2 || c.Models[0] != want[0] || c.Models[1] != want[1] {
		t.Errorf("models = %+v, want %+v (sorted by lead, files relative to the card, default names)", c.Models, want)
	}
	if m, err := c.Model(6); err != nil || m.Lead != 6 {
		t.Errorf("Model(6) = %v, %v", m, err)
	}
	if _, err := c.Model(9); !errors.Is(err, ErrBadCard) || !strings.Contains(err.Error(), "[1 6]") {
		t.Errorf("Model(9): %v", err)
	}
	if err := c.ValidateModels(); err != nil {
		t.Errorf("ValidateModels: %v", err)
	}
}

// card builds a card's TOML from the valid tiny card with edits: each "old=>new" replaces text.
func card(t *testing.T, edits ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "tiny.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, e := range edits {
		old, new, _ := strings.Cut(e, "=>")
		if !strings.Contains(s, old) {
			t.Fatalf("edit %q: %q not in the card", e, old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	return s
}

func TestParseCardErrors(t *testing.T) {
	// Cards are parsed as if they lived in testdata, so that relative model files resolve.
	path := filepath.Join("testdata", "edited.toml")
	tests := []struct {
		name  string
		toml  string
		kind  error
		words []string // the message must contain each
	}{
		{"syntax", card(t, "nlat = 35=>nlat = = 35"), ErrBadCard, []string{"TOML"}},
		{"unknown keys", card(t, "nlat = 35=>nlat = 35\nnlatt = 3", "lead = 6=>lead = 6\nfiel = \"a\""), ErrBadCard,
			[]string{"unknown keys", "grid.nlatt", "model.fiel", "known keys"}},
		{"missing key", card(t, "variable = \"sst\"\n=>"), ErrBadCard, []string{"missing keys: variable"}},
		{"missing grid keys", card(t, "lat_step = 2.0\n=>", "nlon = 63\n=>"), ErrBadCard, []string{"grid.lat_step", "grid.nlon"}},
		{"empty name", card(t, `name = "tiny test emulator"=>name = " "`), ErrBadCard, []string{"name is empty"}},
		{"bad channel order", card(t, "oldest-first=>latest-first"), ErrBadCard, []string{"channel_order", "oldest-first"}},
		{"zero months", card(t, "input_months = 36=>input_months = 0"), ErrBadCard, []string{"input_months"}},
		{"bad grid", card(t, "nlat = 35=>nlat = 0"), dataset.ErrIrregularGrid, []string{"[grid]", "nlat"}},
		{"grid beyond the pole", card(t, "lat_step = 2.0=>lat_step = 3.0"), dataset.ErrIrregularGrid, []string{"90"}},
		{"bad anomaly", card(t, `anomaly = "monthly-climatology"=>anomaly = "daily"`), dataset.ErrBadPreprocess, []string{"[preprocess]", "daily"}},
		{"bad scale", card(t, "scale_std = 1.0=>scale_std = 0.0"), dataset.ErrBadPreprocess, []string{"[preprocess]"}},
		{"no models", strings.Split(card(t), "[[model]]")[0], ErrBadCard, []string{"no [[model]]"}},
		{"duplicate lead", card(t, "lead = 6=>lead = 1"), ErrBadCard, []string{"lead 1 appears twice"}},
		{"lead zero", card(t, "lead = 6=>lead = 0"), ErrBadCard, []string{"lead = 0"}},
		{"missing model file", card(t, "tiny_lead6.onnx=>lead06.onnx"), ErrModelMissing,
			[]string{"lead06.onnx", "lead 6", "relative to the card's directory"}},
		{"empty file", card(t, `file = "tiny_lead6.onnx"=>file = ""`), ErrBadCard, []string{"file is missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCard([]byte(tc.toml), path)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) || e.Card != path {
				t.Errorf("error does not name the card: %v", err)
			}
			for _, w := range tc.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %v", w, err)
				}
			}
		})
	}
}

func TestParseCardNewestFirst(t *testing.T) {
	c, err := ParseCard([]byte(card(t, "oldest-first=>newest-first", "input_months = 36=>input_months = 12")),
		filepath.Join("testdata", "x.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ChannelOrder != NewestFirst || c.InputMonths != 12 {
		t.Errorf("got %q, %d", c.ChannelOrder, c.InputMonths)
	}
	// The tiny models take 36 months, so a 12-month card does not fit them.
	err = c.ValidateModels()
	if !errors.Is(err, ErrModelSignature) || !strings.Contains(err.Error(), "input_months") {
		t.Errorf("12-month card over 36-channel models: %v", err)
	}
}

// TestValidateModels checks every kind of model that does not fit its card.
func TestValidateModels(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.onnx")
	r := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(r.UintN(256))
	}
	os.WriteFile(corrupt, junk, 0o644)
	truncated := filepath.Join(dir, "truncated.onnx")
	whole, _ := os.ReadFile(filepath.Join("testdata", "tiny.onnx"))
	os.WriteFile(truncated, whole[:len(whole)/2], 0o644)
	abs := func(name string) string { p, _ := filepath.Abs(filepath.Join("testdata", name)); return p }

	tests := []struct {
		name  string
		edits []string
		kind  error
		words []string
	}{
		{"wrong input name", []string{"tiny_lead6.onnx=>" + abs("bad_inputname.onnx")}, ErrModelSignature,
			[]string{`input "x" not found`, `"input"`, "set input ="}},
		{"wrong output name", []string{`output = "y"=>output = "out"`}, ErrModelSignature, []string{`output "out" not found`}},
		{"wrong channel count", []string{"tiny_lead6.onnx=>" + abs("bad_channels.onnx")}, ErrModelSignature,
			[]string{"12 in the model but 36 in the card", "input_months"}},
		{"wrong grid", []string{"nlat = 35=>nlat = 30"}, ErrModelSignature, []string{"latitude size is 35 in the model but 30 in the card", "[grid]"}},
		{"fixed batch", []string{"tiny_lead6.onnx=>" + abs("bad_fixedbatch.onnx")}, ErrModelSignature, []string{"dynamic", "dynamic_axes"}},
		{"float64", []string{"tiny_lead6.onnx=>" + abs("bad_float64.onnx")}, ErrModelLoad, []string{"float32"}},
		{"unsupported opset", []string{"tiny_lead6.onnx=>" + abs("bad_opset.onnx")}, ErrUnsupportedOpset, []string{"1000", "opset_version"}},
		{"corrupt file", []string{"tiny_lead6.onnx=>" + corrupt}, ErrModelLoad, []string{"corrupt.onnx", "check_model"}},
		{"truncated file", []string{"tiny_lead6.onnx=>" + truncated}, ErrModelLoad, []string{"truncated.onnx"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", "edited.toml")
			c, err := ParseCard([]byte(card(t, tc.edits...)), path)
			if err != nil {
				t.Fatal(err)
			}
			err = c.ValidateModels()
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) || e.Card != path || e.Model == "" || e.Hint == "" {
				t.Errorf("error must name card, model and what to do: %#v", e)
			}
			for _, w := range append(tc.words, "lead ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %v", w, err)
				}
			}
			t.Log(err)
		})
	}
}

// FuzzParseCard checks that no card text makes the parser panic, and that every accepted card
// keeps the invariants the rest of climxai relies on.
func FuzzParseCard(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "tiny.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(strings.Replace(string(b), "oldest-first", "newest-first", 1))
	f.Add("name = 1\n[grid]\nnlat = -1\n[[model]]\nlead = 0\n")
	f.Add(strings.Replace(string(b), "[grid]", "index = \"box:50,52,-40,-30\"\n[grid]", 1))
	path := filepath.Join("testdata", "fuzz.toml")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCard([]byte(text), path)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		if c.Name == "" || c.Variable == "" || c.InputMonths < 1 || len(c.Models) == 0 ||
			c.Grid.Validate() != nil || c.Preprocess.Validate() != nil {
			t.Fatalf("accepted an invalid card: %+v", c)
		}
		if c.Index != "" && !slices.Contains(c.Grid.BoxCells(c.IndexRegion.Box), true) {
			t.Fatalf("accepted an index region without a grid cell: %+v", c.IndexRegion)
		}
		for i, m := range c.Models {
			if m.Lead < 1 || (i > 0 && m.Lead <= c.Models[i-1].Lead) || !filepath.IsAbs(m.File) {
				t.Fatalf("bad models: %+v", c.Models)
			}
		}
	})
}

func TestCardWindowNewestFirst(t *testing.T) {
	c := &Card{InputMonths: 3, ChannelOrder: NewestFirst, Grid: dataset.GridSpec{NLat: 1, NLon: 2}}
	// Reversal alone, without data: the helper reverses channel blocks in place.
	dst := []float32{0, 1, 10, 11, 20, 21}
	reverseChannels(c, dst)
	want := []float32{20, 21, 10, 11, 0, 1}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("reversed = %v, want %v", dst, want)
		}
	}
}
