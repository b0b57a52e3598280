package app

import (
	"strconv"
	"strings"

	"climxai/attribution"
	"climxai/dataset"
)

// Aggregate files (climxai aggregate, merge and the GUI's Aggregate view): the result-file
// layout of DESIGN.md with the mean |attribution| as attribution, plus the float64 running sums
// that let shards merge exactly.

// Names of the aggregate file's variables beside attribution (mean |a|).
var sumNames = [3]string{"sum_abs", "sum_signed", "sum_sq"}

// WriteAggregate writes sums as an aggregate file and returns the means it wrote. The float64
// sums are stored as float32 pairs, NAME + NAME_residual (the float32 rounding of NAME's
// remainder), which add back to the sum within about 1e-14 relative: merging shards then
// loses nothing against the whole run.
func WriteAggregate(path string, grid dataset.Grid, sums *attribution.Sums, meta dataset.AttributionMeta) (*attribution.Aggregate, error) {
	agg, err := sums.Mean()
	if err != nil {
		return nil, err
	}
	lags := make([]int, sums.Lags)
	for k := range lags {
		lags[k] = k
	}
	meta.Samples = sums.Samples
	meta.Other["skipped"] = strconv.Itoa(sums.Skipped)
	what := " of each sample's attribution divided by its sum of |attribution|"
	m := sums.Lags * sums.NLat * sums.NLon
	var extra []dataset.LagField
	var values []float32
	// Each input variable's block: the first under the plain names, the others' with _NAME.
	for v := range max(1, len(sums.Vars)) {
		suffix, of := "", ""
		if v > 0 {
			suffix, of = "_"+sums.Vars[v], " ("+sums.Vars[v]+")"
		}
		blk := func(x []float32) []float32 { return x[v*m : (v+1)*m] }
		if v == 0 {
			values = blk(agg.MeanAbs)
		} else {
			extra = append(extra, dataset.LagField{Name: "attribution" + suffix, Units: "1",
				LongName: "mean over samples of |attribution| / sum |attribution|" + of, Values: blk(agg.MeanAbs)})
		}
		extra = append(extra,
			dataset.LagField{Name: "signed_mean" + suffix, Units: "1", LongName: "mean over samples" + what + of, Values: blk(agg.Signed)},
			dataset.LagField{Name: "std" + suffix, Units: "1", LongName: "sample standard deviation of |attribution| (normalised as attribution)" + of, Values: blk(agg.Std)},
			dataset.LagField{Name: "signed_std" + suffix, Units: "1", LongName: "sample standard deviation" + what + of, Values: blk(agg.SignedStd)})
		for i, s := range [][]float64{sums.Abs, sums.Signed, sums.Sq} {
			s = s[v*m : (v+1)*m]
			hi, lo := make([]float32, len(s)), make([]float32, len(s))
			for j, v := range s {
				hi[j] = float32(v)
				lo[j] = float32(v - float64(hi[j]))
			}
			desc := [3]string{"|a|", "a", "a²"}[i]
			extra = append(extra,
				dataset.LagField{Name: sumNames[i] + suffix, Units: "1", LongName: "sum over samples of normalised " + desc + " (add " + sumNames[i] + "_residual" + suffix + " for float64 precision)" + of, Values: hi},
				dataset.LagField{Name: sumNames[i] + "_residual" + suffix, Units: "1", LongName: "float64 sum minus " + sumNames[i] + suffix, Values: lo})
		}
	}
	af := &dataset.AttributionFile{Grid: grid, Lags: lags, Values: values, Extra: extra, Meta: meta}
	af.Meta.Other["attribution_units"] = "mean over samples of |attribution| / sum |attribution| (sums to 1)"
	if len(sums.Vars) > 1 {
		af.Meta.Other["attribution_units"] += " over every input variable (attribution, attribution_NAME)"
		af.Meta.Other["input_variables"] = strings.Join(sums.Vars, " ")
		shares := agg.VarShares()
		for v, name := range sums.Vars {
			af.Meta.Other["share_"+name] = strconv.FormatFloat(shares[v], 'g', 6, 64)
		}
	}
	return agg, dataset.WriteAttribution(path, af)
}

// ReadAggregateSums reads the running sums of an aggregate file written by WriteAggregate.
func ReadAggregateSums(path string) (*attribution.Sums, *dataset.AttributionFile, error) {
	a, err := dataset.ReadAttribution(path)
	if err != nil {
		return nil, nil, err
	}
	field := func(name string) []float32 {
		for _, e := range a.Extra {
			if e.Name == name {
				return e.Values
			}
		}
		return nil
	}
	vars := strings.Fields(a.Meta.Other["input_variables"])
	s := attribution.NewSums(len(a.Lags), a.Grid.NLat(), a.Grid.NLon(), vars...)
	m := len(a.Lags) * a.Grid.Size()
	for v := range max(1, len(s.Vars)) {
		suffix := ""
		if v > 0 {
			suffix = "_" + s.Vars[v]
		}
		for i, dst := range [][]float64{s.Abs, s.Signed, s.Sq} {
			dst = dst[v*m : (v+1)*m]
			hi, lo := field(sumNames[i]+suffix), field(sumNames[i]+"_residual"+suffix)
			if hi == nil || a.Meta.Samples < 1 {
				return nil, nil, &dataset.Error{Path: path, Kind: dataset.ErrNoVariable, Msg: "no running sums (" + sumNames[i] + suffix + ") or no samples count",
					Hint: "merge files written by climxai aggregate"}
			}
			for j := range dst {
				dst[j] = float64(hi[j])
				if lo != nil {
					dst[j] += float64(lo[j])
				}
			}
		}
	}
	s.Samples = a.Meta.Samples
	s.Skipped, _ = strconv.Atoi(a.Meta.Other["skipped"])
	return s, a, nil
}

// WriteAggregateResult writes r as climxai aggregate writes its --out file (same variables and
// provenance), so decay, merge and figure read it.
func (w *Workspace) WriteAggregateResult(path string, r *AggregateResult) error {
	if r == nil || r.Sums == nil || len(r.Inits) == 0 {
		return selErr("no aggregate to save: run one first")
	}
	modelFile, modelSHA, err := w.modelOf(r.Lead)
	if err != nil {
		return err
	}
	t := r.Target
	other := map[string]string{
		"sample_set":       r.SampleSet,
		"first_init":       r.Inits[0].String(),
		"last_init":        r.Inits[len(r.Inits)-1].String(),
		"target_resolved":  t.String(),
		"target_lat":       strconv.FormatFloat(t.Lat, 'g', 10, 64),
		"target_lon":       strconv.FormatFloat(t.Lon, 'g', 10, 64),
		"device":           r.Device,
		"duration_seconds": strconv.FormatFloat(r.Duration.Seconds(), 'f', 3, 64),
		"card":             w.CardPath,
		"normalisation":    "each sample's attribution divided by its sum of |attribution| over ocean cells and lags",
		"written_by":       w.writer(),
	}
	meta := dataset.AttributionMeta{Method: r.Method, Parameters: r.Params, Target: t.Spec, Lead: r.Lead,
		ModelFile: modelFile, ModelSHA256: modelSHA, DataFile: w.DataFile(), Version: Version, Other: other}
	_, err = WriteAggregate(path, w.Card.Grid.Grid(), r.Sums, meta)
	return err
}
