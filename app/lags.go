package app

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseLags reads lags as `climxai figure --lags` takes them: "0", "0-11" or "0,6,12" (empty:
// nil, the figure kind's default). A range spans at most 10000 lags.
func ParseLags(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var lags []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if a, b, ok := strings.Cut(part, "-"); ok {
			lo, err1 := strconv.Atoi(strings.TrimSpace(a))
			hi, err2 := strconv.Atoi(strings.TrimSpace(b))
			if err1 != nil || err2 != nil || lo < 0 || hi < lo || hi-lo > 10000 {
				return nil, fmt.Errorf("bad range %q (want e.g. 0-11)", part)
			}
			for k := lo; k <= hi; k++ {
				lags = append(lags, k)
			}
			continue
		}
		k, err := strconv.Atoi(part)
		if err != nil || k < 0 {
			return nil, fmt.Errorf("bad lag %q (want e.g. 0, 0-11 or 0,6,12)", part)
		}
		lags = append(lags, k)
	}
	return lags, nil
}

// ParseRadii reads comma-separated distances in km; "inf" keeps every cell.
func ParseRadii(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.EqualFold(part, "inf") {
			out = append(out, math.Inf(1))
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a distance in km (0 or more, or inf)", part)
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseInts reads comma-separated whole numbers.
func ParseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", part)
		}
		out = append(out, v)
	}
	return out, nil
}
