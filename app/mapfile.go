package app

import (
	"math"
	"strconv"
	"time"

	"climxai/dataset"
	"climxai/dataset/netcdf"
)

// DecayMapProvenance says how a decay map was made, for its file's attributes.
type DecayMapProvenance struct {
	Method, Parameters     string
	Lead, Stride, Samples  int
	SampleSet              string
	ModelFile, ModelSHA256 string
	DataFile, Card, Device string
	Seconds                float64
}

// DecayMapAttrs are a decay-map file's global attributes: the provenance, and the median,
// quartiles, mean, standard deviation, CV and cell counts of efold (se) and r90 (sr).
func DecayMapAttrs(p DecayMapProvenance, d *DecayMaps, se, sr MapStat) map[string]any {
	attrs := map[string]any{
		"method": p.Method, "parameters": p.Parameters, "lead": strconv.Itoa(p.Lead), "stride": strconv.Itoa(p.Stride),
		"targets": strconv.Itoa(len(d.Targets)), "samples": strconv.Itoa(p.Samples), "sample_set": p.SampleSet,
		"model_file": p.ModelFile, "model_sha256": p.ModelSHA256, "data_file": p.DataFile, "card": p.Card,
		"climxai_version": Version, "device": p.Device, "duration_seconds": strconv.FormatFloat(p.Seconds, 'f', 3, 64),
		"normalisation": "each sample's attribution divided by its sum of |attribution|, then averaged (climxai aggregate)",
	}
	for _, q := range []struct {
		name string
		s    MapStat
	}{{"efold", se}, {"r90", sr}} {
		attrs[q.name+"_median"], attrs[q.name+"_iqr"], attrs[q.name+"_cv"] = q.s.Median, q.s.IQR, q.s.CV
		attrs[q.name+"_q1"], attrs[q.name+"_q3"], attrs[q.name+"_mean"], attrs[q.name+"_std"] = q.s.Q1, q.s.Q3, q.s.Mean, q.s.Std
		attrs[q.name+"_cells"], attrs[q.name+"_cells_without_value"] = q.s.Cells, q.s.Infinite
	}
	return attrs
}

// WriteDecayMapResult writes r as climxai decaymap writes its --out file, so climxai figure
// --kind decaymap draws it.
func (w *Workspace) WriteDecayMapResult(path string, r *DecayMapResult) error {
	if r == nil || r.Maps == nil {
		return selErr("no decay map to save: run one first")
	}
	modelFile, modelSHA, err := w.modelOf(r.Lead)
	if err != nil {
		return err
	}
	attrs := DecayMapAttrs(DecayMapProvenance{Method: r.Method, Parameters: r.Params, Lead: r.Lead, Stride: r.Stride,
		Samples: r.Samples, SampleSet: r.SampleSet, ModelFile: modelFile, ModelSHA256: modelSHA, DataFile: w.DataFile(),
		Card: w.CardPath, Device: r.Device, Seconds: r.Duration.Seconds()}, r.Maps, Summarise(r.Maps.Tau), Summarise(r.Maps.Radius90))
	attrs["written_by"] = w.writer()
	return WriteDecayMap(path, w.Card.Grid.Grid(), r.Maps, attrs)
}

// WriteDecayMap writes the maps of d as climxai decaymap does (efold with its 95% interval, R50
// and R90 on the card's grid) with the global attributes attrs (strings, float64 or int values).
func WriteDecayMap(path string, grid dataset.Grid, d *DecayMaps, attrs map[string]any) error {
	fields := []mapField{
		{"efold", "months", "e-folding time of importance against lag (log-linear least squares)", d.EFold},
		{"efold_lo", "months", "lower bound of the 95% interval of efold", d.EFoldLo},
		{"efold_hi", "months", "upper bound of the 95% interval of efold (inf: no decay not excluded)", d.EFoldHi},
		{"r50", "km", "radius around the target cell holding 50% of importance", d.R50},
		{"r90", "km", "radius around the target cell holding 90% of importance", d.R90},
	}
	return writeMap(path, grid, fields, attrs)
}

// mapField is one (lat, lon) variable of a map file.
type mapField struct {
	name, units, longName string
	values                []float32 // NaN: no value (written as the fill value)
}

// mapFill marks cells without a value (the CMIP convention, as climxai's other files).
const mapFill float32 = 1e20

// writeMap writes (lat, lon) fields on grid as a CF NetCDF-4 file, atomically, with global
// attributes (strings, float64 or int values).
func writeMap(path string, grid dataset.Grid, fields []mapField, attrs map[string]any) error {
	return dataset.WriteAtomic(path, func(tmp string) error {
		f, err := netcdf.Create(tmp, netcdf.NetCDF4)
		if err != nil {
			return err
		}
		defer f.Close()
		dlat, err := f.DefDim("lat", grid.NLat())
		if err != nil {
			return err
		}
		dlon, err := f.DefDim("lon", grid.NLon())
		if err != nil {
			return err
		}
		coord := func(name string, d netcdf.Dim, std, units, axis string) (*netcdf.Var, error) {
			v, err := f.DefVar(name, netcdf.Double, []netcdf.Dim{d})
			if err != nil {
				return nil, err
			}
			for _, kv := range [][2]string{{"standard_name", std}, {"long_name", std}, {"units", units}, {"axis", axis}} {
				if err := v.PutAttr(kv[0], kv[1]); err != nil {
					return nil, err
				}
			}
			return v, nil
		}
		vlat, err := coord("lat", dlat, "latitude", "degrees_north", "Y")
		if err != nil {
			return err
		}
		vlon, err := coord("lon", dlon, "longitude", "degrees_east", "X")
		if err != nil {
			return err
		}
		vars := make([]*netcdf.Var, len(fields))
		for i, fd := range fields {
			v, err := f.DefVar(fd.name, netcdf.Float, []netcdf.Dim{dlat, dlon})
			if err != nil {
				return err
			}
			for _, kv := range []struct {
				k string
				v any
			}{{"_FillValue", mapFill}, {"units", fd.units}, {"long_name", fd.longName}} {
				if err := v.PutAttr(kv.k, kv.v); err != nil {
					return err
				}
			}
			vars[i] = v
		}
		all := map[string]any{"Conventions": "CF-1.8", "title": "climxai decay map", "source": "climxai",
			"history": time.Now().UTC().Format(time.RFC3339) + " written by climxai decaymap"}
		for k, v := range attrs {
			if x, ok := v.(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
				v = strconv.FormatFloat(x, 'g', -1, 64) // NaN and Inf as text, readable everywhere
			}
			all[k] = v
		}
		if err := netcdf.PutAttrs(f.PutAttr, all); err != nil {
			return err
		}
		if err := f.EndDef(); err != nil {
			return err
		}
		if err := vlat.WriteFloat64(nil, nil, grid.Lat); err != nil {
			return err
		}
		if err := vlon.WriteFloat64(nil, nil, grid.Lon); err != nil {
			return err
		}
		for i, fd := range fields {
			vals := make([]float32, len(fd.values))
			for j, x := range fd.values {
				if x != x { // +Inf stays: an e-folding time without decay
					x = mapFill
				}
				vals[j] = x
			}
			if err := vars[i].WriteFloat32(nil, nil, vals); err != nil {
				return err
			}
		}
		return f.Close()
	})
}
