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
	f.Add(strings.Replace(string(b), "[[model]]", "[[input]]\nvariable = \"tsub\"\nscale_std = 2.0\n[[input]]\nvariable = \"ohc\"\n[[model]]", 1))
	f.Add(strings.Replace(string(b), "[[model]]", "[[input]]\nname = \"t100\"\nvariable = \"thetao\"\nlevel = 100\n[[input]]\nname = \"t0_300\"\nvariable = \"thetao\"\nlayer = [0, 300]\n[[model]]", 1))
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
		seen := map[string]bool{c.Variable: true}
		for _, in := range c.Inputs {
			if in.Variable == "" || in.Name == "" || seen[in.Name] || in.Preprocess.Validate() != nil ||
				in.Level != nil && in.Layer != nil || in.Layer != nil && !goodLayer(in.Layer[:]) {
				t.Fatalf("accepted an invalid [[input]]: %+v", c.Inputs)
			}
			seen[in.Name] = true
		}
		if (c.InputLayout != VariableMajor && c.InputLayout != MonthMajor) || c.Channels() != c.InputMonths*len(seen) {
			t.Fatalf("layout %q, %d channels of %d variables", c.InputLayout, c.Channels(), len(seen))
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

// multiVar is the tiny card with a second input variable.
const multiVar = `[[model]]=>[[input]]
variable = "tsub"
scale_mean = 0.5
scale_std = 2.0
[[model]]`

func TestParseCardInputs(t *testing.T) {
	path := filepath.Join("testdata", "x.toml")
	c, err := ParseCard([]byte(card(t, multiVar)), path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Variables(), []string{"sst", "tsub"}) || c.Channels() != 72 || c.InputLayout != VariableMajor {
		t.Fatalf("variables %v, channels %d, layout %q", c.Variables(), c.Channels(), c.InputLayout)
	}
	in := c.Inputs[0].Preprocess
	if in.ScaleMean != 0.5 || in.ScaleStd != 2 || in.Anomaly != c.Preprocess.Anomaly || in.Filter != c.Preprocess.Filter {
		t.Errorf("[[input]] preprocessing %+v: its own scale, the card's anomaly and filter", in)
	}
	if s := c.Spec(c.Models[0]); s.Months != 72 || s.Vars != 2 {
		t.Errorf("spec: %d channels of %d variables", s.Months, s.Vars)
	}
	// The tiny models take 36 channels: the error says channels are months per variable.
	if err := c.ValidateModels(); !errors.Is(err, ErrModelSignature) || !strings.Contains(err.Error(), "2 input variables") {
		t.Errorf("72-channel card over 36-channel models: %v", err)
	}
	c, err = ParseCard([]byte(card(t, `[[model]]=>[[input]]
variable = "ssh"
[[model]]`, "input_months = 36=>input_months = 36\ninput_layout = \"month-major\"")), path)
	if err != nil {
		t.Fatal(err)
	}
	if c.InputLayout != MonthMajor || c.Inputs[0].Preprocess.ScaleStd != 1 || c.Inputs[0].Preprocess.ScaleMean != 0 || c.Inputs[0].Level != nil {
		t.Errorf("defaults: %+v, %q", c.Inputs[0], c.InputLayout)
	}
	c, err = ParseCard([]byte(card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlevel = 97.5", 1))), path)
	if err != nil || c.Inputs[0].Level == nil || *c.Inputs[0].Level != 97.5 {
		t.Errorf("level: %v %+v", err, c.Inputs)
	}
	c, err = ParseCard([]byte(card(t, strings.Replace(multiVar, "variable = \"tsub\"", "name = \"t_300m\"\nvariable = \"tsub\"", 1))), path)
	if err != nil || c.Inputs[0].Name != "t_300m" || c.Inputs[0].Variable != "tsub" || !slices.Equal(c.Variables(), []string{"sst", "t_300m"}) {
		t.Errorf("name: %v %+v", err, c.Inputs)
	}
	c, err = ParseCard([]byte(card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlayer = [0, 300.5]", 1))), path)
	if err != nil || c.Inputs[0].Layer == nil || *c.Inputs[0].Layer != [2]float64{0, 300.5} || c.Inputs[0].Depth() != "averaged over 0 to 300.5" {
		t.Errorf("layer: %v %+v", err, c.Inputs)
	}
	for name, tc := range map[string]struct {
		toml  string
		words []string
	}{
		"no variable":     {card(t, strings.Replace(multiVar, "variable = \"tsub\"\n", "", 1)), []string{"[[input]] entry 1", "variable is missing"}},
		"repeated":        {card(t, strings.Replace(multiVar, "tsub", "sst", 1)), []string{`"sst" is already an input`}},
		"zero std":        {card(t, strings.Replace(multiVar, "2.0", "0.0", 1)), []string{"[[input]] entry 1 (tsub)", "scale_std"}},
		"unknown key":     {card(t, strings.Replace(multiVar, "scale_mean", "offset", 1)), []string{"input.offset", "[[input]] name variable scale_mean scale_std level layer"}},
		"bad layout":      {card(t, multiVar, "input_months = 36=>input_months = 36\ninput_layout = \"interleaved\""), []string{"input_layout", "month-major"}},
		"nan level":       {card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlevel = nan", 1)), []string{"[[input]] entry 1", "level = NaN"}},
		"text level":      {card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlevel = \"100 m\"", 1)), []string{"level"}},
		"level and layer": {card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlevel = 100\nlayer = [0, 300]", 1)), []string{"[[input]] entry 1", "not both"}},
		"flat layer":      {card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlayer = [300, 300]", 1)), []string{"layer = [300 300]", "two different numbers"}},
		"short layer":     {card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlayer = [300]", 1)), []string{"layer = [300]", "top and bottom"}},
		"nan layer":       {card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlayer = [0, nan]", 1)), []string{"layer = [0 NaN]"}},
		"bad name":        {card(t, strings.Replace(multiVar, "variable = \"tsub\"", "name = \"t sub\"\nvariable = \"tsub\"", 1)), []string{`name = "t sub"`, "letters, digits and underscores"}},
		"name of sst":     {card(t, strings.Replace(multiVar, "variable = \"tsub\"", "name = \"sst\"\nvariable = \"tsub\"", 1)), []string{`name "sst" is already an input's`}},
		"text layer":      {card(t, strings.Replace(multiVar, "scale_std = 2.0", "scale_std = 2.0\nlayer = \"0-300\"", 1)), []string{"layer"}},
	} {
		_, err := ParseCard([]byte(tc.toml), path)
		if !errors.Is(err, ErrBadCard) && !errors.Is(err, dataset.ErrBadPreprocess) {
			t.Errorf("%s: err = %v", name, err)
			continue
		}
		for _, w := range tc.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message lacks %q: %v", name, w, err)
			}
		}
	}
}

// TestCardWindowLayouts checks where Window puts each variable's months, against the channel
// formulas written out for each channel order and layout.
func TestCardWindowLayouts(t *testing.T) {
	const months, nt = 3, 8
	g := dataset.GridSpec{LatStart: 0, LatStep: 1, NLat: 1, LonStart: 0, LonStep: 1, NLon: 2}
	series := func(name string, base float32) *dataset.Series {
		s := &dataset.Series{Name: name, Grid: g.Grid(), Start: dataset.NewMonth(2000, 1), N: nt}
		for tm := range nt {
			for c := range 2 {
				s.Values = append(s.Values, base+float32(tm*tm)+float32(10*c))
			}
		}
		return s
	}
	pp := dataset.PreprocessSpec{Anomaly: dataset.AnomalyTimeMean, Filter: "none", ScaleStd: 1}
	pp2 := pp
	pp2.ScaleStd = 4
	p, err := dataset.PrepareInputs([]*dataset.Series{series("sst", 0), series("tsub", 100)}, g, []dataset.PreprocessSpec{pp, pp2})
	if err != nil {
		t.Fatal(err)
	}
	init := dataset.NewMonth(2000, 6)
	var own [2][]float32 // each variable's window, oldest first
	for v, pv := range []*dataset.Prepared{p, p.Extra[0]} {
		if own[v], err = pv.WindowView(init, months); err != nil {
			t.Fatal(err)
		}
	}
	if own[0][0] == own[1][0] || own[1][0] != own[0][0]/4 {
		t.Fatalf("the second variable's scaling was not its own: %v, %v", own[0], own[1])
	}
	for _, order := range []ChannelOrder{OldestFirst, NewestFirst} {
		for _, layout := range []InputLayout{VariableMajor, MonthMajor} {
			c := &Card{InputMonths: months, ChannelOrder: order, InputLayout: layout, Grid: g,
				Variable: "sst", Inputs: []CardInput{{Variable: "tsub"}}}
			dst := make([]float32, 2*months*2)
			if err := c.Window(p, init, dst); err != nil {
				t.Fatal(err)
			}
			for v := range 2 {
				for k := range months { // k oldest first
					pos := k
					if order == NewestFirst {
						pos = months - 1 - k
					}
					ch := v*months + pos
					if layout == MonthMajor {
						ch = pos*2 + v
					}
					for cell := range 2 {
						if got, want := dst[ch*2+cell], own[v][k*2+cell]; got != want {
							t.Errorf("%s %s: variable %d month %d cell %d in channel %d = %v, want %v", order, layout, v, k, cell, ch, got, want)
						}
					}
				}
			}
		}
	}
	one := &Card{InputMonths: months, ChannelOrder: NewestFirst, Grid: g, Variable: "sst"}
	if err := one.Window(p, init, make([]float32, months*2)); err == nil || !strings.Contains(err.Error(), "sst, tsub") {
		t.Errorf("a one-variable card over two prepared variables: %v", err)
	}
}
