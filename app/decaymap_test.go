package app

import (
	"math"
	"testing"
)

func TestSummarise(t *testing.T) {
	st := Summarise([]float64{1, 2, 3, 4, math.Inf(1), math.NaN()})
	// Type 7 quartiles of 1..4: 1.75, 2.5, 3.25; mean 2.5, sd sqrt(5/3).
	if st.Cells != 4 || st.Infinite != 2 || st.Median != 2.5 || st.Q1 != 1.75 || st.Q3 != 3.25 || st.IQR != 1.5 ||
		math.Abs(st.CV-math.Sqrt(5.0/3)/2.5) > 1e-12 {
		t.Errorf("%+v", st)
	}
	if st := Summarise([]float64{7, 7, 7}); st.CV != 0 || st.IQR != 0 || st.Median != 7 {
		t.Errorf("constant: %+v", st)
	}
	if st := Summarise(nil); !math.IsNaN(st.Median) || st.Cells != 0 {
		t.Errorf("empty: %+v", st)
	}
}
