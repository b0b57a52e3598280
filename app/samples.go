package app

import (
	"fmt"
	"strconv"
	"strings"

	"climxai/attribution"
	"climxai/dataset"
)

// SampleSet is a parsed --samples of aggregate and decaymap (and the GUI's analyses): a subset
// of the data's train/test split and, when N > 0, N samples evenly spaced in it.
type SampleSet struct {
	Sub dataset.Subset
	N   int
}

// ParseSampleSet parses train | test | all | N | SET:N.
func ParseSampleSet(s string) (SampleSet, error) {
	set, num, hasNum := strings.Cut(s, ":")
	if !hasNum {
		if _, err := strconv.Atoi(s); err == nil {
			set, num, hasNum = "all", s, true
		}
	}
	sub, err := dataset.ParseSubset(set)
	if err != nil {
		return SampleSet{}, fmt.Errorf("%q: want train, test, all, a count N or SET:N (e.g. test:24)", s)
	}
	sp := SampleSet{Sub: sub}
	if hasNum {
		if sp.N, err = strconv.Atoi(num); err != nil || sp.N < 1 {
			return SampleSet{}, fmt.Errorf("%q: the count must be a positive whole number", s)
		}
	}
	return sp, nil
}

// Inits returns the selected init months in time order and a description of the set. N evenly
// spaced of M samples are those with index floor((j + 1/2)·M/N), j = 0..N-1 (all M when N >= M).
func (sp SampleSet) Inits(p *dataset.Prepared, months, lead int) ([]dataset.Month, string, error) {
	if err := p.CheckLength(months, lead); err != nil {
		return nil, "", err
	}
	all := p.Inits(lead, months)
	inits, desc := all, "all"
	if sp.Sub != dataset.SubsetAll {
		split, err := p.DefaultSplit()
		if err != nil {
			return nil, "", err
		}
		inits = split.Select(all, lead, sp.Sub)
		desc = fmt.Sprintf("%s (%s)", sp.Sub, split)
	}
	if len(inits) == 0 {
		return nil, "", &attribution.Error{Kind: attribution.ErrNoSamples, Msg: fmt.Sprintf("the %s set holds no sample at lead %d", sp.Sub, lead),
			Hint: "use --samples all or longer data"}
	}
	if sp.N > 0 && sp.N < len(inits) {
		pick := make([]dataset.Month, sp.N)
		for j := range pick {
			pick[j] = inits[int((float64(j)+0.5)*float64(len(inits))/float64(sp.N))]
		}
		desc = fmt.Sprintf("%d evenly spaced of %d: %s", sp.N, len(inits), desc)
		inits = pick
	}
	return inits, desc, nil
}
