package main

import (
	"math"
	"testing"
)

// TestQuantile: nearest-rank quantiles of an unsorted slice, left unsorted.
func TestQuantile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.2, 1}, {0.5, 3}, {0.9, 5}, {1, 5}} {
		if got := quantile(v, c.q); got != c.want {
			t.Errorf("quantile(%v) = %g, want %g", c.q, got, c.want)
		}
	}
	if v[0] != 5 {
		t.Error("quantile sorted its input")
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
	if got, err := ints("64, 256,"); err != nil || len(got) != 2 || got[1] != 256 {
		t.Errorf("ints: %v %v", got, err)
	}
}
