package dataset

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestOpenRaw: a further input variable is read in its own units, without SST's conversion.
func TestOpenRaw(t *testing.T) {
	path := fxFile(t, "tos_k")
	sst, err := Open(path, OpenOptions{Var: "tos"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Open(path, OpenOptions{Var: "tos", Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Units != "K" || sst.Units != "degC" {
		t.Errorf("units: raw %q, sst %q", raw.Units, sst.Units)
	}
	checked := 0
	for i, v := range raw.Values {
		if v == v {
			if d := float64(v) - float64(sst.Values[i]); math.Abs(d-273.15) > 1e-3 {
				t.Fatalf("value %d: raw %v, as SST %v: raw must be the stored kelvin", i, v, sst.Values[i])
			}
			checked++
		}
	}
	for _, n := range raw.Notices {
		if strings.Contains(n, "kelvin") || strings.Contains(n, "plausible") {
			t.Errorf("raw read converted or range-checked: %q", n)
		}
	}
	if checked == 0 {
		t.Fatal("no values")
	}
	if _, err := Open(path, OpenOptions{Raw: true}); !errors.Is(err, ErrNoVariable) {
		t.Errorf("raw read without a variable name: %v", err)
	}
}

// TestPrepareInputs: each variable is scaled by its own table, the ocean is where every
// variable has values, and variables on other months are refused.
func TestPrepareInputs(t *testing.T) {
	start := NewMonth(2000, 1)
	lat, lon := centres(10.5, 1, 2), centres(300.5, 1, 2)
	f := func(t int, y, x float64) float64 { return 10 + math.Sin(float64(t)) + y - x/100 }
	a := seriesOf(lat, lon, start, 48, f)
	b := seriesOf(lat, lon, start, 48, func(t int, y, x float64) float64 {
		if y == 11.5 && x == 300.5 && t == 7 {
			return math.NaN() // a gap in the second variable only
		}
		return 100 * f(t, y, x)
	})
	b.Name = "ohc"
	grid := GridSpec{10.5, 1, 2, -59.5, 1, 2}
	pp := PreprocessSpec{Anomaly: AnomalyTimeMean, Filter: "none", ScaleStd: 1}
	pb := pp
	pb.ScaleStd = 100
	p, err := PrepareInputs([]*Series{a, b}, grid, []PreprocessSpec{pp, pb})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Variables(), []string{"sst", "ohc"}) || len(p.Extra) != 1 {
		t.Fatalf("variables %v", p.Variables())
	}
	if want := []bool{true, true, false, true}; !slices.Equal(p.Ocean, want) || !slices.Equal(p.Extra[0].Ocean, want) {
		t.Errorf("ocean %v and %v, want %v: a cell without every variable is land", p.Ocean, p.Extra[0].Ocean, want)
	}
	if !slices.ContainsFunc(p.Notices, func(n string) bool { return strings.Contains(n, "1 cells with sst lack a value") }) {
		t.Errorf("notices %q", p.Notices)
	}
	wa, _ := p.WindowView(start+20, 3)
	wb, _ := p.Extra[0].WindowView(start+20, 3)
	for i := range wa {
		if i%4 == 2 {
			if wa[i] != 0 || wb[i] != 0 {
				t.Errorf("masked cell %d: inputs %v, %v, want 0", i, wa[i], wb[i])
			}
			continue
		}
		if math.Abs(float64(wa[i]-wb[i])) > 1e-4 || wa[i] == 0 {
			t.Errorf("value %d: %v and %v; 100 x the same anomaly over scale 100 must equal it", i, wa[i], wb[i])
		}
	}
	// Variables over other months are cut to the months they share, before anomalies: the
	// anomalies of a over months 1..46 (the cut) are those of the cut series prepared alone.
	late := seriesOf(lat, lon, start+1, 47, f)
	late.Name = "ohc"
	early := seriesOf(lat, lon, start, 47, f)
	c, err := PrepareInputs([]*Series{a, late, early}, grid, []PreprocessSpec{pp, pp, pp})
	if err != nil {
		t.Fatal(err)
	}
	if c.Series.Start != start+1 || c.Series.N != 46 || c.Extra[0].Series.N != 46 || c.Extra[1].Series.Start != start+1 {
		t.Errorf("cut to %s + %d months, want %s + 46", c.Series.Start, c.Series.N, start+1)
	}
	if !slices.ContainsFunc(c.Notices, func(n string) bool { return strings.Contains(n, "using the 46 months they share, 2000-02 to 2003-11") }) {
		t.Errorf("notices %q", c.Notices)
	}
	alone, err := Prepare(seriesOf(lat, lon, start+1, 46, func(t int, y, x float64) float64 { return f(t+1, y, x) }), grid, pp)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Series.Values, alone.Series.Values) {
		t.Error("the cut series' anomalies differ from those of the same months prepared alone")
	}
	if a.N != 48 || late.N != 47 {
		t.Error("PrepareInputs modified its series")
	}
	apart := seriesOf(lat, lon, start+48, 40, f)
	if _, err := PrepareInputs([]*Series{a, apart}, grid, []PreprocessSpec{pp, pp}); !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), "share no month") {
		t.Errorf("variables without a common month: %v", err)
	}
}

// TestAttributionFileInputVariable: a result of two input variables gives either block, their
// sum or a typed error; a result of one variable gives attribution under "", "all" and its name.
func TestAttributionFileInputVariable(t *testing.T) {
	two := &AttributionFile{Values: []float32{1, float32(math.NaN())},
		Extra: []LagField{{Name: "attribution_tsub", Values: []float32{2, float32(math.NaN())}}},
		Meta:  AttributionMeta{Other: map[string]string{"input_variables": "sst tsub"}}}
	for name, want := range map[string]float32{"": 1, "sst": 1, "attribution": 1, "tsub": 2, "all": 3} {
		v, err := two.InputVariable(name)
		if err != nil || v[0] != want || v[1] == v[1] {
			t.Errorf("%q: %v, %v; want %g and NaN on land", name, v, err, want)
		}
	}
	if _, err := two.InputVariable("ohc"); !errors.Is(err, ErrNoVariable) || !strings.Contains(err.Error(), "sst, tsub") {
		t.Errorf("ohc: %v", err)
	}
	two.Extra = nil
	if _, err := two.InputVariable("all"); !errors.Is(err, ErrNoVariable) || !strings.Contains(err.Error(), "attribution_tsub") {
		t.Errorf("a file without its second block: %v", err)
	}
	one := &AttributionFile{Values: []float32{5}, Meta: AttributionMeta{Other: map[string]string{}}}
	for _, name := range []string{"", "all", "attribution"} {
		if v, err := one.InputVariable(name); err != nil || v[0] != 5 {
			t.Errorf("one variable, %q: %v, %v", name, v, err)
		}
	}
	if _, err := one.InputVariable("tsub"); !errors.Is(err, ErrNoVariable) {
		t.Errorf("one variable, tsub: %v", err)
	}
}
