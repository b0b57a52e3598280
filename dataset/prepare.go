package dataset

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// PreprocessSpec is an emulator card's [preprocess] table.
type PreprocessSpec struct {
	Anomaly       string  // AnomalyTimeMean or AnomalyMonthlyClimatology
	AnomalyPeriod string  // "" (all months) or "YYYY-MM/YYYY-MM"
	Filter        string  // "none", "running-mean:N", "butterworth-lowpass:MONTHS"
	ScaleMean     float64 // subtracted from anomalies...
	ScaleStd      float64 // ...which are then divided by this (> 0)
}

// Validate checks every field; errors are *Error of kind ErrBadPreprocess saying which key of
// the card to fix.
func (pp PreprocessSpec) Validate() error {
	if pp.Anomaly != AnomalyTimeMean && pp.Anomaly != AnomalyMonthlyClimatology {
		return errorf("", ErrBadPreprocess, anomalyHint, "unknown anomaly method %q", pp.Anomaly)
	}
	if pp.AnomalyPeriod != "" {
		if _, _, err := ParsePeriod(pp.AnomalyPeriod); err != nil {
			return err
		}
	}
	if _, err := ParseFilter(pp.Filter); err != nil {
		return err
	}
	if math.IsNaN(pp.ScaleMean) || math.IsInf(pp.ScaleMean, 0) {
		return errorf("", ErrBadPreprocess, "set the card's [preprocess] scale_mean to a finite number",
			"scale_mean is %v", pp.ScaleMean)
	}
	if !(pp.ScaleStd > 0) || math.IsInf(pp.ScaleStd, 0) {
		return errorf("", ErrBadPreprocess, "set the card's [preprocess] scale_std to a positive number (1 for no scaling)",
			"scale_std is %v", pp.ScaleStd)
	}
	return nil
}

// Prepared is a series preprocessed as an emulator card prescribes: on the card's grid, as
// scaled anomalies, filtered. It cuts model input windows and targets (window.go). It is not
// modified after Prepare and is safe for concurrent use.
type Prepared struct {
	// Series holds (anomaly - ScaleMean) / ScaleStd on the card's grid, NaN on land, in cells
	// masked by OceanMask and in the months the filter leaves without values.
	Series *Series
	// Ocean is OceanMask of the regridded data: true for cells with a value in every month.
	Ocean []bool
	// Partial counts cells dropped because they had values in some months only.
	Partial int
	// Notices are things the user should see about how the data were prepared (regridding,
	// dropped cells, months lost to the filter), including those of the source series.
	Notices []string
	Grid    GridSpec
	Spec    PreprocessSpec
	Filter  Filter
	// Extra are the emulator's further input variables (a card's [[input]] tables), each
	// prepared with its own scaling, on the same grid, months and ocean mask as this one
	// (PrepareInputs); nil for an emulator that reads one variable.
	Extra []*Prepared

	first, last int // valid time indices [first, last): months with values

	inputsOnce sync.Once
	inputs     []float32 // Series.Values with NaN replaced by 0, built on first Window
}

// Prepare regrids s to the card's grid, masks cells that are not ocean in every month, removes
// anomalies, filters and scales: (x - ScaleMean) / ScaleStd. s is not modified.
func Prepare(s *Series, grid GridSpec, pp PreprocessSpec) (*Prepared, error) {
	if err := pp.Validate(); err != nil {
		return nil, err
	}
	f, _ := ParseFilter(pp.Filter)
	r, err := Regrid(s, grid)
	if err != nil {
		return nil, err
	}
	if r.N < f.MinMonths() {
		return nil, errorf(s.Source, ErrTooShort, "use longer data or a shorter filter",
			"the data hold %d months; filter %s needs at least %d", r.N, f, f.MinMonths())
	}
	ocean, partial := OceanMask(r)
	if countTrue(ocean) == 0 {
		return nil, errorf(s.Source, ErrAllMissing,
			"check that the card's grid lies over ocean in the data (see climxai info on the data file)",
			"no cell of the card's grid has a value in every month")
	}
	if partial > 0 {
		applyMask(r, ocean)
		r.Notices = append(r.Notices, fmt.Sprintf(
			"%d cells of the card's grid have values in some months only (sea ice or gaps) and are treated as land", partial))
	}
	if err := anomaliesInPlace(r, pp.Anomaly, pp.AnomalyPeriod); err != nil {
		return nil, err
	}
	if err := f.applyInPlace(r); err != nil {
		return nil, err
	}
	if e := f.Edge(); e > 0 {
		r.Notices = append(r.Notices, fmt.Sprintf(
			"filter %s leaves the first and last %d months without values; the usable months are %s to %s",
			f, e, r.Month(e), r.Month(r.N-1-e)))
	}
	scaleInPlace(r.Values, pp.ScaleMean, pp.ScaleStd)
	return &Prepared{
		Series: r, Ocean: ocean, Partial: partial, Notices: r.Notices,
		Grid: grid, Spec: pp, Filter: f,
		first: f.Edge(), last: r.N - f.Edge(),
	}, nil
}

// PrepareInputs prepares the variables an emulator reads: series[0] is the variable it
// forecasts (the card's variable), the others its further inputs, each with its own
// preprocessing (specs[i]). They are first cut to the months they all cover (CommonMonths: the
// variables may come from different files), so anomalies and filters see the same months; a
// cell is ocean only where every variable has a value in every month, and cells that only some
// variables cover are masked in all of them, with a notice. The result is series[0] prepared,
// with the others in Extra.
func PrepareInputs(series []*Series, grid GridSpec, specs []PreprocessSpec) (*Prepared, error) {
	if len(series) == 0 || len(series) != len(specs) {
		return nil, fmt.Errorf("dataset: PrepareInputs: %d series for %d preprocessing tables", len(series), len(specs))
	}
	whole := series
	series, err := CommonMonths(series)
	if err != nil {
		return nil, err
	}
	ps := make([]*Prepared, len(series))
	for i, s := range series {
		p, err := Prepare(s, grid, specs[i])
		if err != nil && s.N != whole[i].N {
			return nil, fmt.Errorf("%w; the data are the %s to %s that every input variable covers", err, s.Start, s.Month(s.N-1))
		}
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	head := ps[0]
	if len(ps) == 1 {
		return head, nil
	}
	s0 := head.Series // CommonMonths cut every series to its time axis
	ocean := slices.Clone(head.Ocean)
	for _, p := range ps[1:] {
		for c, o := range p.Ocean {
			ocean[c] = ocean[c] && o
		}
	}
	first, last := head.first, head.last
	for _, p := range ps[1:] {
		first, last = max(first, p.first), min(last, p.last)
	}
	dropped := 0
	for c, o := range head.Ocean {
		if o && !ocean[c] {
			dropped++
		}
	}
	for _, p := range ps {
		p.Ocean, p.first, p.last = ocean, first, last
		applyMask(p.Series, ocean)
	}
	if dropped > 0 {
		head.Notices = append(head.Notices, fmt.Sprintf(
			"%d cells with %s lack a value of another input variable in some months and are treated as land", dropped, s0.Name))
	}
	if !slices.Contains(ocean, true) {
		return nil, errorf(s0.Source, ErrAllMissing, "check that every input variable covers the card's grid (climxai info on the data file)",
			"no cell of the card's grid has a value of every input variable in every month")
	}
	for _, p := range ps[1:] {
		for _, n := range p.Notices {
			if !slices.Contains(head.Notices, n) { // the same file's notes, e.g. regridding
				if !strings.HasPrefix(n, p.Series.Name+" ") { // "tsub joined from 5 files" names it
					n = p.Series.Name + ": " + n
				}
				head.Notices = append(head.Notices, n)
			}
		}
	}
	head.Extra = ps[1:]
	return head, nil
}

// Variables names the prepared input variables: the forecast variable, then Extra's.
func (p *Prepared) Variables() []string {
	out := []string{p.Series.Name}
	for _, e := range p.Extra {
		out = append(out, e.Series.Name)
	}
	return out
}

// scaleInPlace maps v to (v - mean) / std.
func scaleInPlace(v []float32, mean, std float64) {
	if mean == 0 && std == 1 {
		return
	}
	m, inv := float32(mean), float32(1/std)
	for i := range v {
		v[i] = (v[i] - m) * inv
	}
}

// OceanCells is the number of the grid's cells that are ocean in every variable (Ocean).
func (p *Prepared) OceanCells() int { return countTrue(p.Ocean) }

// countTrue is the number of true values in b.
func countTrue(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

// ValidMonths returns the first and last month with values (the data's months less the
// filter's edges).
func (p *Prepared) ValidMonths() (first, last Month) {
	return p.Series.Month(p.first), p.Series.Month(p.last - 1)
}

// Valid reports whether month m has values.
func (p *Prepared) Valid(m Month) bool {
	t := int(m - p.Series.Start)
	return t >= p.first && t < p.last
}

// inputValues returns the series with missing values as 0, as model inputs want them.
func (p *Prepared) inputValues() []float32 {
	p.inputsOnce.Do(func() {
		p.inputs = make([]float32, len(p.Series.Values))
		for i, v := range p.Series.Values {
			if v == v {
				p.inputs[i] = v
			}
		}
	})
	return p.inputs
}
