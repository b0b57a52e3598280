package app

import (
	"fmt"
	"math"
	"strconv"

	"climxai/attribution"
	"climxai/dataset"
)

// RadiusInfKm is how an infinite radius (no spatial masking) is stored in ablation files: a
// distance beyond the largest great-circle distance on Earth (about 20 015 km), so every cell
// lies within it, and plots on a distance axis stay readable.
const RadiusInfKm = 40000.0

// AblationProvenance says where an ablation's numbers come from, for its file's attributes.
type AblationProvenance struct {
	Card, DataFile, ModelFile, ModelSHA256 string
	Lead                                   int
	TargetSpec                             string // as the user gave it
	Target                                 attribution.Target
	SampleSet, Split                       string
	Inits                                  []dataset.Month // the scored init months, in time order
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

// WriteAblation writes an ablation's skill table as climxai ablate does: correlation, RMSE (°C;
// scaleStd undoes the model units) and R² per radius and per lag, and those of the full input
// and of persistence, with the provenance.
func WriteAblation(path string, res *attribution.AblationResult, radii []float64, lags []int, scaleStd float64, prov AblationProvenance) error {
	if len(prov.Inits) == 0 {
		return &SelectionError{Msg: "an ablation without samples"}
	}
	std := scaleStd
	degC := func(s attribution.Skill) attribution.Skill { s.RMSE *= std; return s }
	stored := make([]float64, len(radii))
	for i, r := range radii {
		stored[i] = r
		if math.IsInf(r, 1) {
			stored[i] = RadiusInfKm
		}
	}
	col := func(sk []attribution.Skill, f func(attribution.Skill) float64) []float64 {
		v := make([]float64, len(sk))
		for i, s := range sk {
			v[i] = f(s)
		}
		return v
	}
	corr := func(s attribution.Skill) float64 { return s.Corr }
	rmse := func(s attribution.Skill) float64 { return s.RMSE * std }
	r2 := func(s attribution.Skill) float64 { return s.R2 }
	kept := make([]float64, len(res.CellsKept))
	for i, c := range res.CellsKept {
		kept[i] = float64(c)
	}
	lagv := make([]float64, len(lags))
	for i, k := range lags {
		lagv[i] = float64(k)
	}
	full, pers := degC(res.Full), degC(res.Persistence)
	first, last := prov.Inits[0], prov.Inits[len(prov.Inits)-1]
	global := map[string]string{
		"title":            "climxai ablation: skill of the target's forecast with inputs outside a radius, or older than a lag, set to a zero anomaly",
		"card":             prov.Card,
		"data_file":        prov.DataFile,
		"model_file":       prov.ModelFile,
		"model_sha256":     prov.ModelSHA256,
		"lead":             strconv.Itoa(prov.Lead),
		"target":           prov.TargetSpec,
		"target_resolved":  prov.Target.String(),
		"samples":          strconv.Itoa(res.Samples),
		"sample_set":       prov.SampleSet,
		"init_months":      fmt.Sprintf("%s..%s", first, last),
		"split":            prov.Split,
		"device":           res.Device,
		"duration_seconds": strconv.FormatFloat(res.Duration.Seconds(), 'f', 3, 64),
		"climxai_version":  Version,
		"masking":          "masked inputs are set to a zero anomaly ((0 - scale_mean) / scale_std in model units) on ocean cells; land stays 0",
		"radius_masking":   "radius r: cells farther than r km (great circle) from the nearest target cell are masked in every month; r = 0 keeps the target's own cells",
		"lag_masking":      "lag k: the k most recent months (lags 0..k-1, months t-k+1..t of init month t) are kept, older months masked; k = input months keeps all",
		"radius_inf":       fmt.Sprintf("an infinite radius (no spatial masking) is stored as %g km, beyond any distance on Earth", RadiusInfKm),
		"persistence":      "the target's anomaly at the init month (lag 0), weighted like the forecast, as the forecast of month init+lead",
		"skill":            "over the samples: Pearson correlation, RMSE (degC), R2 = 1 - SSE/SST about the truth's mean",
		"full_corr":        fmtFloat(full.Corr), "full_rmse": fmtFloat(full.RMSE), "full_r2": fmtFloat(full.R2),
		"persistence_corr": fmtFloat(pers.Corr), "persistence_rmse": fmtFloat(pers.RMSE), "persistence_r2": fmtFloat(pers.R2),
	}
	vars := []NCVar{
		{Name: "radius", Dims: []string{"radius"}, Data: stored, Attrs: map[string]string{"long_name": "radius around the target outside which inputs are set to a zero anomaly", "units": "km", "comment": global["radius_inf"]}},
		{Name: "lag", Dims: []string{"lag"}, Data: lagv, Attrs: map[string]string{"long_name": "number of most recent input months kept (lags 0..lag-1)", "units": "months"}},
		{Name: "cells_kept_radius", Dims: []string{"radius"}, Data: kept, Attrs: map[string]string{"long_name": "ocean cells within the radius", "units": "1"}},
		{Name: "corr_radius", Dims: []string{"radius"}, Data: col(res.Radius, corr), Attrs: map[string]string{"long_name": "Pearson correlation of forecast and truth, inputs outside the radius masked", "units": "1"}},
		{Name: "rmse_radius", Dims: []string{"radius"}, Data: col(res.Radius, rmse), Attrs: map[string]string{"long_name": "root-mean-square error, inputs outside the radius masked", "units": "degC"}},
		{Name: "r2_radius", Dims: []string{"radius"}, Data: col(res.Radius, r2), Attrs: map[string]string{"long_name": "coefficient of determination, inputs outside the radius masked", "units": "1"}},
		{Name: "corr_lag", Dims: []string{"lag"}, Data: col(res.Lag, corr), Attrs: map[string]string{"long_name": "Pearson correlation of forecast and truth, months older than the lag masked", "units": "1"}},
		{Name: "rmse_lag", Dims: []string{"lag"}, Data: col(res.Lag, rmse), Attrs: map[string]string{"long_name": "root-mean-square error, months older than the lag masked", "units": "degC"}},
		{Name: "r2_lag", Dims: []string{"lag"}, Data: col(res.Lag, r2), Attrs: map[string]string{"long_name": "coefficient of determination, months older than the lag masked", "units": "1"}},
		{Name: "full_corr", Dims: nil, Data: []float64{full.Corr}, Attrs: map[string]string{"long_name": "Pearson correlation with the full input", "units": "1"}},
		{Name: "full_rmse", Dims: nil, Data: []float64{full.RMSE}, Attrs: map[string]string{"long_name": "RMSE with the full input", "units": "degC"}},
		{Name: "full_r2", Dims: nil, Data: []float64{full.R2}, Attrs: map[string]string{"long_name": "R2 with the full input", "units": "1"}},
		{Name: "persistence_corr", Dims: nil, Data: []float64{pers.Corr}, Attrs: map[string]string{"long_name": "Pearson correlation of persistence", "units": "1"}},
		{Name: "persistence_rmse", Dims: nil, Data: []float64{pers.RMSE}, Attrs: map[string]string{"long_name": "RMSE of persistence", "units": "degC"}},
		{Name: "persistence_r2", Dims: nil, Data: []float64{pers.R2}, Attrs: map[string]string{"long_name": "R2 of persistence", "units": "1"}},
	}
	// An emulator of several input variables: the skill without each (scalars without_NAME_*).
	for i, sk := range res.Variable {
		name := res.Vars[i]
		global["variable_masking"] = "without_NAME: input variable NAME set to a zero anomaly in every month and ocean cell, the other input variables kept"
		vars = append(vars,
			NCVar{Name: "without_" + name + "_corr", Data: []float64{sk.Corr}, Attrs: map[string]string{"long_name": "Pearson correlation without input variable " + name, "units": "1"}},
			NCVar{Name: "without_" + name + "_rmse", Data: []float64{sk.RMSE * std}, Attrs: map[string]string{"long_name": "RMSE without input variable " + name, "units": "degC"}},
			NCVar{Name: "without_" + name + "_r2", Data: []float64{sk.R2}, Attrs: map[string]string{"long_name": "R2 without input variable " + name, "units": "1"}})
	}
	return WriteTableNC(path, []NCDim{{Name: "radius", N: len(radii)}, {Name: "lag", N: len(lags)}}, vars, global)
}

// WriteAblationOutcome writes o as climxai ablate writes its --out file.
func (w *Workspace) WriteAblationOutcome(path string, o *AblationOutcome) error {
	if o == nil || o.Result == nil {
		return selErr("no ablation to save: run one first")
	}
	modelFile, modelSHA, err := w.modelOf(o.Lead)
	if err != nil {
		return err
	}
	return WriteAblation(path, o.Result, o.RadiiKm, o.Lags, w.Card.Preprocess.ScaleStd, AblationProvenance{Card: w.CardPath,
		DataFile: w.DataFile(), ModelFile: modelFile, ModelSHA256: modelSHA, Lead: o.Lead, TargetSpec: o.Target.Spec, Target: o.Target,
		SampleSet: o.SampleSet, Split: o.Description, Inits: o.Inits})
}
