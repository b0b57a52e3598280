package dataset

import "fmt"

// The time contract (DESIGN.md): the init month t is the last observed month; input channel c
// of a window of n months holds month t-(n-1)+c, so with n = 36 channel 0 is month t-35 and
// channel 35 is t itself (lag k = month t-k); lead L predicts month t+L.

// Window fills dst, laid out [months][lat][lon] on the card's grid, oldest month first, with the
// input of the emulator initialised at init: months init-(months-1) .. init. Missing values
// (land) are 0, as model inputs want them. len(dst) must be months*NLat*NLon.
func (p *Prepared) Window(init Month, months int, dst []float32) error {
	n := p.Series.Grid.Size()
	if months < 1 || len(dst) != months*n {
		return fmt.Errorf("dataset: Window: dst holds %d values, want %d months x %d cells", len(dst), months, n)
	}
	w, err := p.WindowView(init, months)
	if err != nil {
		return err
	}
	copy(dst, w)
	return nil
}

// WindowView returns the same values as Window without copying: consecutive months are
// contiguous in memory, so a window is a slice of the prepared inputs. The slice is shared by
// every caller and must not be modified.
func (p *Prepared) WindowView(init Month, months int) ([]float32, error) {
	n := p.Series.Grid.Size()
	if months < 1 {
		return nil, fmt.Errorf("dataset: WindowView: %d months", months)
	}
	if err := p.CheckLength(months, 0); err != nil {
		return nil, err
	}
	first := init - Month(months-1)
	if !p.Valid(first) || !p.Valid(init) {
		lo, hi := p.initRange(months, 0)
		return nil, p.outOfData(fmt.Sprintf("the input window %s..%s of init month %s", first, init, init),
			fmt.Sprintf("with %d input months choose an init month from %s to %s", months, lo, hi))
	}
	t := p.Series.Index(first)
	return p.inputValues()[t*n : (t+months)*n : (t+months)*n], nil
}

// Target returns the field the emulator initialised at init predicts at lead months: month
// init+lead, scaled and filtered like the inputs, NaN on land. The field is a copy.
func (p *Prepared) Target(init Month, lead int) (Field, error) {
	m := init + Month(lead)
	if !p.Valid(m) {
		first, last := p.ValidMonths()
		return Field{}, p.outOfData(fmt.Sprintf("target month %s (init %s, lead %d)", m, init, lead),
			fmt.Sprintf("with lead %d choose an init month from %s to %s", lead, first-Month(lead), last-Month(lead)))
	}
	f := p.Series.At(p.Series.Index(m))
	return Field{Grid: f.Grid, Values: append([]float32(nil), f.Values...)}, nil
}

// Inits returns, in order, every init month that has a full window of months valid input months
// and a valid target at lead: the samples the data allow. It is empty when the data are too
// short (CheckLength says why).
func (p *Prepared) Inits(lead, months int) []Month {
	lo, hi := p.initRange(months, lead)
	if hi < lo {
		return nil
	}
	out := make([]Month, 0, int(hi-lo)+1)
	for m := lo; m <= hi; m++ {
		out = append(out, m)
	}
	return out
}

// CheckLength returns an *Error of kind ErrTooShort when the valid months cannot hold a single
// sample of an emulator with the given input months and lead.
func (p *Prepared) CheckLength(months, lead int) error {
	have := p.last - p.first
	need := months + lead
	if have >= need {
		return nil
	}
	msg := fmt.Sprintf("the data hold %d months", p.Series.N)
	if e := p.Filter.Edge(); e > 0 {
		msg += fmt.Sprintf(" (%d after filter %s drops %d at each end)", have, p.Filter, e)
	}
	if lead > 0 {
		msg += fmt.Sprintf("; an emulator with %d input months and lead %d needs at least %d", months, lead, need)
	} else {
		msg += fmt.Sprintf("; an emulator with %d input months needs at least %d", months, need)
	}
	return errorf(p.Series.Source, ErrTooShort, "use a data file with more months", "%s", msg)
}

// initRange returns the first and last init month with a full input window and a valid target.
func (p *Prepared) initRange(months, lead int) (lo, hi Month) {
	first, last := p.ValidMonths()
	return first + Month(months-1), last - Month(lead)
}

// outOfData builds the ErrMonthOutOfData error for what, with the data's month range and advice.
func (p *Prepared) outOfData(what, advice string) error {
	s := p.Series
	first, last := p.ValidMonths()
	hint := fmt.Sprintf("the data run from %s to %s", s.Month(0), s.Month(s.N-1))
	if e := p.Filter.Edge(); e > 0 {
		hint += fmt.Sprintf(", of which %s to %s have values after filter %s", first, last, p.Filter)
	}
	return errorf(s.Source, ErrMonthOutOfData, hint+"; "+advice, "%s is not in the data", what)
}
