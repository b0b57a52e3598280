package dataset

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// rampPrepared prepares 60 months (2000-01..2004-12) on a 2 x 3 grid whose cell 4 is land and
// whose other cells hold 100*t + c; with time-mean anomalies and scale_std 100 every ocean value
// of month t becomes t - 29.5.
func rampPrepared(t *testing.T, filter string) *Prepared {
	t.Helper()
	lat, lon := []float64{10, 11}, []float64{200, 201, 202}
	s := seriesOf(lat, lon, NewMonth(2000, 1), 60, func(tt int, y, x float64) float64 {
		c := (y-10)*3 + (x - 200)
		if c == 4 {
			return math.NaN()
		}
		return 100*float64(tt) + c
	})
	p, err := Prepare(s, GridSpec{10, 1, 2, 200, 1, 3},
		PreprocessSpec{Anomaly: AnomalyTimeMean, Filter: filter, ScaleMean: 0, ScaleStd: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWindowOldestFirstLandZero(t *testing.T) {
	p := rampPrepared(t, "none")
	dst := make([]float32, 36*6)
	for i := range dst {
		dst[i] = -999 // Window must overwrite everything
	}
	init := NewMonth(2002, 12) // t = 35: channels hold t = 0..35
	if err := p.Window(init, 36, dst); err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 36; c++ {
		for k := 0; k < 6; k++ {
			want := float32(c) - 29.5 // channel c holds month init-35+c = t c
			if k == 4 {
				want = 0
			}
			if got := dst[c*6+k]; math.Abs(float64(got-want)) > 1e-4 {
				t.Fatalf("channel %d cell %d: got %g, want %g", c, k, got, want)
			}
		}
	}
	view, err := p.WindowView(init, 36)
	if err != nil || len(view) != len(dst) || cap(view) != len(dst) {
		t.Fatalf("WindowView: %d values (cap %d), %v", len(view), cap(view), err)
	}
	if err := p.Window(init, 36, dst); err != nil {
		t.Fatal(err)
	}
	for i := range view {
		if view[i] != dst[i] {
			t.Fatalf("WindowView[%d] = %g, Window %g", i, view[i], dst[i])
		}
	}
	if _, err := p.WindowView(init, 0); err == nil {
		t.Error("WindowView of 0 months: no error")
	}
	if _, err := p.WindowView(init+1000, 36); !errors.Is(err, ErrMonthOutOfData) {
		t.Errorf("WindowView after the data: %v", err)
	}
	// lag k is month t-k: the last channel is the init month itself.
	if err := p.Window(NewMonth(2004, 12), 36, dst); err != nil || dst[35*6] != 59-29.5 {
		t.Errorf("last window: last channel %g (%v), want %g", dst[35*6], err, 59-29.5)
	}
}

func TestTargetAndInits(t *testing.T) {
	p := rampPrepared(t, "none")
	f, err := p.Target(NewMonth(2002, 12), 1) // month t = 36
	if err != nil {
		t.Fatal(err)
	}
	if f.At(0, 0) != 36-29.5 || f.At(1, 1) == f.At(1, 1) || f.Grid.Size() != 6 {
		t.Errorf("target (0,0) = %g, land = %g; want %g and NaN", f.At(0, 0), f.At(1, 1), 36-29.5)
	}
	f.Values[0] = 123
	if g, _ := p.Target(NewMonth(2002, 12), 1); g.Values[0] == 123 {
		t.Error("Target returned the series' memory, not a copy")
	}
	tests := []struct {
		name        string
		filter      string
		lead, month int
		n           int
		first, last Month
	}{
		{"lead 1, no filter", "none", 1, 36, 24, NewMonth(2002, 12), NewMonth(2004, 11)},
		{"lead 6", "none", 6, 36, 19, NewMonth(2002, 12), NewMonth(2004, 6)},
		{"lead 24: one sample", "none", 24, 36, 1, NewMonth(2002, 12), NewMonth(2002, 12)},
		{"lead 25: none", "none", 25, 36, 0, 0, 0},
		{"running mean 12 drops 6 months at each end", "running-mean:12", 1, 36, 12, NewMonth(2003, 6), NewMonth(2004, 5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := rampPrepared(t, tc.filter)
			inits := p.Inits(tc.lead, tc.month)
			if len(inits) != tc.n {
				t.Fatalf("%d inits, want %d", len(inits), tc.n)
			}
			if tc.n == 0 {
				if err := p.CheckLength(tc.month, tc.lead); !errors.Is(err, ErrTooShort) {
					t.Errorf("CheckLength: %v, want ErrTooShort", err)
				}
				return
			}
			if inits[0] != tc.first || inits[len(inits)-1] != tc.last {
				t.Errorf("inits %v..%v, want %v..%v", inits[0], inits[len(inits)-1], tc.first, tc.last)
			}
			dst := make([]float32, tc.month*6)
			for _, m := range inits {
				if err := p.Window(m, tc.month, dst); err != nil {
					t.Fatalf("Window(%v): %v", m, err)
				}
				if _, err := p.Target(m, tc.lead); err != nil {
					t.Fatalf("Target(%v, %d): %v", m, tc.lead, err)
				}
			}
		})
	}
}

func TestWindowErrors(t *testing.T) {
	plain := rampPrepared(t, "none")
	smooth := rampPrepared(t, "running-mean:12")
	tests := []struct {
		name string
		run  func() error
		kind error
		want []string // in the error text
	}{
		{"window starts before the data", func() error { return plain.Window(NewMonth(2002, 11), 36, make([]float32, 216)) },
			ErrMonthOutOfData, []string{"2000-01 to 2004-12", "from 2002-12 to 2004-12"}},
		{"init after the data", func() error { return plain.Window(NewMonth(2005, 1), 36, make([]float32, 216)) },
			ErrMonthOutOfData, []string{"2000-01 to 2004-12"}},
		{"window in the filter's edge", func() error { return smooth.Window(NewMonth(2002, 12), 36, make([]float32, 216)) },
			ErrMonthOutOfData, []string{"2000-07 to 2004-06 have values after filter running-mean:12"}},
		{"target after the data", func() error { _, err := plain.Target(NewMonth(2004, 12), 1); return err },
			ErrMonthOutOfData, []string{"target month 2005-01", "with lead 1 choose an init month from 1999-12 to 2004-11"}},
		{"too short for the window", func() error { return plain.Window(NewMonth(2004, 12), 61, make([]float32, 61*6)) },
			ErrTooShort, []string{"the data hold 60 months; an emulator with 61 input months needs at least 61"}},
		{"too short for the lead", func() error { return plain.CheckLength(36, 25) },
			ErrTooShort, []string{"the data hold 60 months; an emulator with 36 input months and lead 25 needs at least 61"}},
		{"too short after filtering", func() error { return smooth.CheckLength(36, 13) },
			ErrTooShort, []string{"the data hold 60 months (48 after filter running-mean:12 drops 6 at each end)", "needs at least 49"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var e *Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error of kind %v", err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q should contain %q", err, w)
				}
			}
		})
	}
	if err := plain.CheckLength(36, 24); err != nil {
		t.Errorf("CheckLength(36, 24) on 60 months: %v", err)
	}
	if err := plain.Window(NewMonth(2004, 12), 36, make([]float32, 10)); err == nil {
		t.Error("Window into a too small buffer: no error")
	}
}
