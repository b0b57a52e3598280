package app

import (
	"slices"
	"strconv"
	"strings"

	"climxai/attribution"
	"climxai/dataset"
)

// ResultFile lays out an attribution result as the contract's result file: attribution(lag,
// lat, lon) with lags 0..Lags-1. An emulator that reads several input variables gives the
// forecast variable's attributions as attribution, each further variable's as
// attribution_NAME(lag, lat, lon), and names them in the global attribute input_variables,
// with each variable's share of Σ|attribution| in share_NAME; a script that reads attribution
// keeps working.
func ResultFile(r *attribution.Result, grid dataset.Grid, meta dataset.AttributionMeta) *dataset.AttributionFile {
	lags := make([]int, r.Lags)
	for k := range lags {
		lags[k] = k
	}
	af := &dataset.AttributionFile{Grid: grid, Lags: lags, Values: r.Values, Meta: meta}
	if len(r.Vars) == 0 {
		return af
	}
	af.Values = r.Block(0)
	shares := r.VarShares()
	attributed := slices.ContainsFunc(shares, func(s float64) bool { return s > 0 }) // no shares of nothing
	if af.Meta.Other == nil {
		af.Meta.Other = map[string]string{}
	}
	af.Meta.Other["input_variables"] = strings.Join(r.Vars, " ")
	for v, name := range r.Vars {
		if attributed {
			af.Meta.Other["share_"+name] = strconv.FormatFloat(shares[v], 'g', 6, 64)
		}
		if v == 0 {
			continue
		}
		af.Extra = append(af.Extra, dataset.LagField{Name: "attribution_" + name, Units: "1",
			LongName: "attribution of the target's forecast to each value of input variable " + name + " (" + r.Method + ")",
			Values:   r.Block(v)})
	}
	return af
}
