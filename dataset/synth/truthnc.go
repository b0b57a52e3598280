package synth

import (
	"fmt"
	"math"
	"time"

	"climxai/dataset"
	"climxai/dataset/netcdf"
)

// truthFill marks land in the coefficient file (the CMIP convention climxai writes everywhere).
const truthFill float32 = 1e20

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
func (tr *Truth) WriteNetCDF(path string, attrs map[string]string) error {
	g := tr.Grid
	nt, nl := len(tr.Targets), len(tr.Leads)
	if len(tr.Coef) != nt*nl*Lags*g.Size() {
		return fmt.Errorf("synth: cannot write %s: truth holds %d coefficients, want %d", path, len(tr.Coef), nt*nl*Lags*g.Size())
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
		vars := map[string]*netcdf.Var{}
		for _, d := range defs {
			v, err := f.DefVar(d.name, d.typ, d.dims)
			if err != nil {
				return err
			}
			if d.name == "coef" {
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
		coef := make([]float32, len(tr.Coef))
		for i, v := range tr.Coef {
			if math.IsNaN(float64(v)) {
				v = truthFill
			}
			coef[i] = v
		}
		for _, w := range []func() error{
			func() error { return vars["lat"].WriteFloat64(nil, nil, g.Lat) },
			func() error { return vars["lon"].WriteFloat64(nil, nil, g.Lon) },
			func() error { return vars["lag"].WriteInt32(nil, nil, lags) },
			func() error { return vars["lead"].WriteInt32(nil, nil, leads) },
			func() error { return vars["target_lat"].WriteFloat64(nil, nil, tlat) },
			func() error { return vars["target_lon"].WriteFloat64(nil, nil, tlon) },
			func() error { return vars["r2_test"].WriteFloat64(nil, nil, tr.R2Test) },
			func() error { return vars["r2_train"].WriteFloat64(nil, nil, tr.R2Train) },
			func() error { return vars["coef"].WriteFloat32(nil, nil, coef) },
		} {
			if err := w(); err != nil {
				return err
			}
		}
		return f.Close()
	})
}
