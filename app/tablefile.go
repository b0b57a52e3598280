package app

import (
	"time"

	"climxai/dataset"
	"climxai/dataset/netcdf"
)

// NCDim and NCVar describe a small table written by WriteTableNC (ablate, skill, fidelity).
type NCDim struct {
	Name string
	N    int
}

type NCVar struct {
	Name  string
	Dims  []string // none: a scalar
	Data  []float64
	Attrs map[string]string
}

// WriteTableNC writes a small NetCDF-4 file of double variables (NaN as the fill value is kept
// as NaN, which CF readers show as not-a-number) with climxai's provenance attributes, through
// a temporary file renamed into place (dataset.WriteAtomic).
func WriteTableNC(path string, dims []NCDim, vars []NCVar, global map[string]string) error {
	return dataset.WriteAtomic(path, func(tmp string) error {
		f, err := netcdf.Create(tmp, netcdf.NetCDF4)
		if err != nil {
			return err
		}
		defer f.Close()
		byName := map[string]netcdf.Dim{}
		for _, d := range dims {
			nd, err := f.DefDim(d.Name, max(d.N, 1))
			if err != nil {
				return err
			}
			byName[d.Name] = nd
		}
		defs := make([]*netcdf.Var, len(vars))
		for i, v := range vars {
			var ds []netcdf.Dim
			for _, name := range v.Dims {
				ds = append(ds, byName[name])
			}
			nv, err := f.DefVar(v.Name, netcdf.Double, ds)
			if err != nil {
				return err
			}
			if err := netcdf.PutAttrs(nv.PutAttr, v.Attrs); err != nil {
				return err
			}
			defs[i] = nv
		}
		g := map[string]string{"Conventions": "CF-1.8", "source": "climxai",
			"history": time.Now().UTC().Format(time.RFC3339) + " written by climxai"}
		for k, v := range global {
			g[k] = v
		}
		if err := netcdf.PutAttrs(f.PutAttr, g); err != nil {
			return err
		}
		if err := f.EndDef(); err != nil {
			return err
		}
		for i, v := range vars {
			if len(v.Data) == 0 {
				continue
			}
			if err := defs[i].WriteFloat64(nil, nil, v.Data); err != nil {
				return err
			}
		}
		return f.Close()
	})
}
