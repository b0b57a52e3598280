package synth

import (
	"fmt"

	"climxai/dataset"
)

// tsubAttrs are the attributes of the variable tsub.
var tsubAttrs = map[string]string{
	"units":     "degC",
	"long_name": "temperature below the mixed layer",
	"comment": "the synthetic model's subsurface anomaly D (monthly mean) plus a time-constant " +
		"climatology: the minimum of the SST climatology's seasonal cycle minus 0.5 degC " +
		"(see the Go package climxai/dataset/synth)",
}

// WriteNetCDF writes the run's absolute SST (variable sst) as dataset.WriteSeries does, through a
// temporary file renamed over path once complete; with Subsurface the file holds tsub(time,
// lat, lon) beside it on the same axes (dataset.WriteSeriesVars). attrs are global attributes
// added to climxai's provenance.
func (r *Result) WriteNetCDF(path string, attrs map[string]string) error {
	if r.SST == nil {
		return fmt.Errorf("synth: cannot write %s: the run was made with AnomalyOnly and holds no SST", path)
	}
	vars := []dataset.SeriesVar{{Series: r.SST}}
	if r.Subsurface != nil {
		vars = append(vars, dataset.SeriesVar{Series: r.Subsurface, Attrs: tsubAttrs})
	}
	return dataset.WriteSeriesVars(path, vars, attrs)
}
