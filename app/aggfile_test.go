package app

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"climxai/attribution"
	"climxai/dataset"
)

// TestAggregateFileVariables: the sums of an emulator with two input variables survive the
// file exactly, the second variable's block under _NAME, and the shares add up to 1.
func TestAggregateFileVariables(t *testing.T) {
	grid := dataset.Grid{Lat: []float64{10, 12, 14}, Lon: []float64{-40, -38}}
	s := attribution.NewSums(4, 3, 2, "sst", "tsub")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5 {
		v := make([]float32, 2*4*6)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * float64(1+i/24)) // tsub larger
		}
		v[1], v[25] = float32(math.NaN()), float32(math.NaN()) // land in both blocks
		if ok, err := s.Add(v); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	path := filepath.Join(t.TempDir(), "agg.nc")
	meta := dataset.AttributionMeta{Method: "saliency", Target: "12,-40", Lead: 9, Other: map[string]string{}}
	agg, err := WriteAggregate(path, grid, s, meta)
	if err != nil {
		t.Fatal(err)
	}
	got, af, err := ReadAggregateSums(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Vars, []string{"sst", "tsub"}) || got.Samples != 5 || len(got.Abs) != len(s.Abs) {
		t.Fatalf("read %v, %d samples, %d values", got.Vars, got.Samples, len(got.Abs))
	}
	for i := range s.Abs {
		for k, pair := range [][2][]float64{{s.Abs, got.Abs}, {s.Signed, got.Signed}, {s.Sq, got.Sq}} {
			a, b := pair[0][i], pair[1][i]
			if math.IsNaN(a) != math.IsNaN(b) || math.Abs(a-b) > 1e-13*math.Abs(a) {
				t.Fatalf("sum %d at %d: wrote %v, read %v", k, i, a, b)
			}
		}
	}
	var tsub []float32
	for _, e := range af.Extra {
		if e.Name == "attribution_tsub" {
			tsub = e.Values
		}
	}
	if tsub == nil || tsub[3] != agg.MeanAbs[24+3] || af.Values[3] != agg.MeanAbs[3] {
		t.Fatalf("attribution_tsub missing or not the second block")
	}
	a, _ := strconv.ParseFloat(af.Meta.Other["share_sst"], 64)
	b, _ := strconv.ParseFloat(af.Meta.Other["share_tsub"], 64)
	if math.Abs(a+b-1) > 1e-5 || !(b > a) {
		t.Errorf("shares sst %g, tsub %g: must add to 1, tsub the larger", a, b)
	}
	// Parts of another emulator do not merge.
	if err := got.Merge(attribution.NewSums(4, 3, 2)); err == nil {
		t.Error("merged one-variable sums into two-variable sums")
	}
}
