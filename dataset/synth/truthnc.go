package synth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"climxai/dataset"
	"climxai/dataset/netcdf"
)

// truthFill marks land in the coefficient file (the CMIP convention climxai writes everywhere).
const truthFill = dataset.FillValue

// WriteNetCDF writes the truth as a CF NetCDF-4 file through a temporary file in the same
// directory that is renamed over path once complete. Layout:
//
//	coef(target, lead, lag, lat, lon)  float32, 1/1 (°C per °C), _FillValue on land,
//	                                   0 outside the target's neighbourhood
//	r2_test(target, lead), r2_train(target, lead)   double
//	target_lat(target), target_lon(target)          the target cells' centres
//	lead(lead), lag(lag)                            months; lag k is month t-k
//	lat(lat), lon(lon)                              the grid
//
// Global attributes: title, Conventions, history, the fit's parameters, and attrs (the
// caller's: generator parameters, seed, years, climxai version).
//
// With a Joint predictor (FitTruthJoint on the same run, same targets and leads) the file adds,
// and changes nothing of the above:
//
//	joint_coef_NAME(target, lead, lag, lat, lon)   float32, one per predictor variable NAME
//	                                               (°C of the target per unit of NAME)
//	joint_r2_test(target, lead), joint_r2_train(target, lead)
//
// and the global attributes joint_predictors (the variables, space-separated, the predicted
// one first), joint_method and joint_ridge_fraction. Readers that know only coef read the
// predictor from the predicted variable alone, as before.
func (tr *Truth) WriteNetCDF(path string, attrs map[string]string) error {
	g := tr.Grid
	nt, nl := len(tr.Targets), len(tr.Leads)
	if tr.NVars() > 1 {
		return fmt.Errorf("synth: cannot write %s: the truth's coef is the predictor from %s alone; write a predictor from several variables as the Joint of that one", path, tr.Vars[0])
	}
	if len(tr.Coef) != nt*nl*Lags*g.Size() {
		return fmt.Errorf("synth: cannot write %s: truth holds %d coefficients, want %d", path, len(tr.Coef), nt*nl*Lags*g.Size())
	}
	j := tr.Joint
	if j != nil {
		switch {
		case !slices.Equal(j.TargetCells, tr.TargetCells) || !slices.Equal(j.Leads, tr.Leads) ||
			!slices.Equal(j.Grid.Lat, g.Lat) || !slices.Equal(j.Grid.Lon, g.Lon):
			return fmt.Errorf("synth: cannot write %s: the joint predictor's targets, leads or grid differ from the truth's", path)
		case len(j.Coef) != j.NVars()*nt*nl*Lags*g.Size():
			return fmt.Errorf("synth: cannot write %s: joint truth holds %d coefficients, want %d", path, len(j.Coef), j.NVars()*nt*nl*Lags*g.Size())
		case len(j.Vars) < 2:
			return fmt.Errorf("synth: cannot write %s: a joint predictor names its variables (FitTruthJoint)", path)
		}
	}
	global := map[string]string{
		"Conventions":     "CF-1.8",
		"title":           "climxai synthetic SST: optimal linear predictor (ground truth)",
		"source":          "climxai",
		"history":         time.Now().UTC().Format(time.RFC3339) + " written by climxai synth",
		"method":          "ridge regression of the target cell's anomaly at t+lead on the anomalies at t-lag, lag 0..35, of the ocean cells within radius_km",
		"radius_km":       fmt.Sprintf("%g", tr.RadiusKm),
		"ridge_fraction":  fmt.Sprintf("%g (lambda = ridge_fraction * trace(XtX) / features)", tr.RidgeFraction),
		"fit_init_months": fmt.Sprintf("time index %d..%d of the run", tr.TrainMonths[0], tr.TrainMonths[1]),
		"test_years":      fmt.Sprintf("%d (the last years, init month in them)", tr.TestYears),
		"lag_convention":  "lag k is month t-k; emulator input channel c = 35 - k (oldest first)",
	}
	if j != nil {
		global["joint_predictors"] = strings.Join(j.Vars, " ")
		global["joint_method"] = "ridge regression of the target cell's " + j.Vars[0] + " anomaly at t+lead on the anomalies of " +
			strings.Join(j.Vars, " and ") + " at t-lag, lag 0..35, of the ocean cells within radius_km: joint_coef_NAME per variable NAME"
		global["joint_ridge_fraction"] = fmt.Sprintf("%g (lambda_v = ridge_fraction * trace_v / features_v, each variable's own features)", j.RidgeFraction)
	}
	for k, v := range attrs {
		global[k] = v
	}
	return dataset.WriteAtomic(path, func(tmp string) error {
		f, err := netcdf.Create(tmp, netcdf.NetCDF4)
		if err != nil {
			return err
		}
		defer f.Close()
		dim := func(name string, n int) netcdf.Dim {
			if err != nil {
				return netcdf.Dim{}
			}
			var d netcdf.Dim
			d, err = f.DefDim(name, n)
			return d
		}
		dT, dL, dK := dim("target", nt), dim("lead", nl), dim("lag", Lags)
		dY, dX := dim("lat", g.NLat()), dim("lon", g.NLon())
		if err != nil {
			return err
		}
		type varDef struct {
			name  string
			typ   netcdf.Type
			dims  []netcdf.Dim
			attrs map[string]any
		}
		defs := []varDef{
			{"lat", netcdf.Double, []netcdf.Dim{dY}, map[string]any{"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north", "axis": "Y"}},
			{"lon", netcdf.Double, []netcdf.Dim{dX}, map[string]any{"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east", "axis": "X"}},
			{"lag", netcdf.Int, []netcdf.Dim{dK}, map[string]any{"long_name": "lag k: month t-k of init month t", "units": "months"}},
			{"lead", netcdf.Int, []netcdf.Dim{dL}, map[string]any{"long_name": "lead L: the prediction is for month t+L", "units": "months"}},
			{"target_lat", netcdf.Double, []netcdf.Dim{dT}, map[string]any{"long_name": "latitude of the target cell's centre", "units": "degrees_north"}},
			{"target_lon", netcdf.Double, []netcdf.Dim{dT}, map[string]any{"long_name": "longitude of the target cell's centre", "units": "degrees_east"}},
			{"r2_test", netcdf.Double, []netcdf.Dim{dT, dL}, map[string]any{"long_name": "coefficient of determination on the held-out last years", "units": "1"}},
			{"r2_train", netcdf.Double, []netcdf.Dim{dT, dL}, map[string]any{"long_name": "coefficient of determination on the fitting years", "units": "1"}},
			{"coef", netcdf.Float, []netcdf.Dim{dT, dL, dK, dY, dX}, map[string]any{
				"long_name":   "coefficient of the anomaly at (lag, lat, lon) in the optimal linear prediction of the target's anomaly",
				"units":       "1",
				"_FillValue":  truthFill,
				"comment":     "prediction(t+lead) = sum over lag, lat, lon of coef * anomaly(t-lag, lat, lon); 0 outside the neighbourhood; fill value on land",
				"coordinates": "target_lat target_lon",
			}},
		}
		var coefNames []string // every coefficient variable, in Coef's order: coef, then joint_coef_NAME
		if j != nil {
			for _, name := range j.Vars {
				coefNames = append(coefNames, "joint_coef_"+name)
				defs = append(defs, varDef{"joint_coef_" + name, netcdf.Float, []netcdf.Dim{dT, dL, dK, dY, dX}, map[string]any{
					"long_name": fmt.Sprintf("coefficient of the %s anomaly at (lag, lat, lon) in the optimal linear prediction of the target's anomaly from %s",
						name, strings.Join(j.Vars, " and ")),
					"units":       "1",
					"predictor":   name,
					"_FillValue":  truthFill,
					"comment":     "prediction(t+lead) = sum over the variables NAME of joint_predictors, and over lag, lat, lon, of joint_coef_NAME * anomaly of NAME(t-lag, lat, lon); 0 outside the neighbourhood; fill value on land",
					"coordinates": "target_lat target_lon",
				}})
			}
			defs = append(defs,
				varDef{"joint_r2_test", netcdf.Double, []netcdf.Dim{dT, dL}, map[string]any{"long_name": "coefficient of determination of the joint predictor on the held-out last years", "units": "1"}},
				varDef{"joint_r2_train", netcdf.Double, []netcdf.Dim{dT, dL}, map[string]any{"long_name": "coefficient of determination of the joint predictor on the fitting years", "units": "1"}})
		}
		vars := map[string]*netcdf.Var{}
		for _, d := range defs {
			v, err := f.DefVar(d.name, d.typ, d.dims)
			if err != nil {
				return err
			}
			if d.name == "coef" || slices.Contains(coefNames, d.name) {
				if err := v.SetDeflate(true, 4); err != nil {
					return err
				}
			}
			if err := netcdf.PutAttrs(v.PutAttr, d.attrs); err != nil {
				return err
			}
			vars[d.name] = v
		}
		if err := netcdf.PutAttrs(f.PutAttr, global); err != nil {
			return err
		}
		if err := f.EndDef(); err != nil {
			return err
		}

		lags := make([]int32, Lags)
		for k := range lags {
			lags[k] = int32(k)
		}
		leads := make([]int32, nl)
		for i, l := range tr.Leads {
			leads[i] = int32(l)
		}
		tlat := make([]float64, nt)
		tlon := make([]float64, nt)
		for i, p := range tr.Targets {
			tlat[i], tlon[i] = p.Lat, p.Lon
		}
		coef := dataset.WithFill(tr.Coef)
		writes := []func() error{
			func() error { return vars["lat"].WriteFloat64(nil, nil, g.Lat) },
			func() error { return vars["lon"].WriteFloat64(nil, nil, g.Lon) },
			func() error { return vars["lag"].WriteInt32(nil, nil, lags) },
			func() error { return vars["lead"].WriteInt32(nil, nil, leads) },
			func() error { return vars["target_lat"].WriteFloat64(nil, nil, tlat) },
			func() error { return vars["target_lon"].WriteFloat64(nil, nil, tlon) },
			func() error { return vars["r2_test"].WriteFloat64(nil, nil, tr.R2Test) },
			func() error { return vars["r2_train"].WriteFloat64(nil, nil, tr.R2Train) },
			func() error { return vars["coef"].WriteFloat32(nil, nil, coef) },
		}
		if j != nil {
			block := nt * nl * Lags * g.Size()
			for v, name := range coefNames {
				c := dataset.WithFill(j.Coef[v*block : (v+1)*block])
				writes = append(writes, func() error { return vars[name].WriteFloat32(nil, nil, c) })
			}
			writes = append(writes,
				func() error { return vars["joint_r2_test"].WriteFloat64(nil, nil, j.R2Test) },
				func() error { return vars["joint_r2_train"].WriteFloat64(nil, nil, j.R2Train) })
		}
		for _, w := range writes {
			if err := w(); err != nil {
				return err
			}
		}
		return f.Close()
	})
}
