package dataset

import (
	"math"
	"path/filepath"
	"testing"

	"climxai/dataset/netcdf"
)

// benchFile writes a variable of steps time steps (days since 2000-01-01, noleap, each step
// days apart), levels depth levels (none when 0) and a 35 x 63 grid, with 2-D latitude and
// longitude when curvi, and returns its path.
func benchFile(b *testing.B, steps int, days float64, levels int, curvi bool) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.nc")
	f, err := netcdf.Create(path, netcdf.NetCDF4)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const ny, nx = 35, 63
	dt, _ := f.DefDim("time", steps)
	dims := []netcdf.Dim{dt}
	var vz *netcdf.Var
	if levels > 0 {
		dz, _ := f.DefDim("lev", levels)
		vz, _ = f.DefVar("lev", netcdf.Double, []netcdf.Dim{dz})
		_ = netcdf.PutAttrs(vz.PutAttr, map[string]string{"units": "m", "standard_name": "depth"})
		dims = append(dims, dz)
	}
	dy, _ := f.DefDim("lat", ny)
	dx, _ := f.DefDim("lon", nx)
	dims = append(dims, dy, dx)
	vt, _ := f.DefVar("time", netcdf.Double, []netcdf.Dim{dt})
	_ = netcdf.PutAttrs(vt.PutAttr, map[string]string{"units": "days since 2000-01-01", "calendar": "noleap"})
	coord := []netcdf.Dim{dy}
	if curvi {
		coord = []netcdf.Dim{dy, dx}
	}
	vy, _ := f.DefVar("lat", netcdf.Double, coord)
	_ = netcdf.PutAttrs(vy.PutAttr, map[string]string{"units": "degrees_north"})
	if curvi {
		coord = []netcdf.Dim{dy, dx}
	} else {
		coord = []netcdf.Dim{dx}
	}
	vx, _ := f.DefVar("lon", netcdf.Double, coord)
	_ = netcdf.PutAttrs(vx.PutAttr, map[string]string{"units": "degrees_east"})
	vv, _ := f.DefVar("thetao", netcdf.Float, dims)
	_ = netcdf.PutAttrs(vv.PutAttr, map[string]string{"units": "degC"})
	if err := f.EndDef(); err != nil {
		b.Fatal(err)
	}
	t := make([]float64, steps)
	for k := range t {
		t[k] = (float64(k) + 0.5) * days
	}
	lat, lon := make([]float64, ny), make([]float64, nx)
	for i := range lat {
		lat[i] = 5 + 2*float64(i)
	}
	for j := range lon {
		lon[j] = -100 + 2*float64(j)
	}
	if curvi {
		lat2, lon2 := make([]float64, ny*nx), make([]float64, ny*nx)
		for i := range ny {
			for j := range nx {
				lat2[i*nx+j], lon2[i*nx+j] = lat[i]+0.3*math.Sin(float64(j)), lon[j]+0.3*math.Cos(float64(i))
			}
		}
		lat, lon = lat2, lon2
	}
	n := steps * max(1, levels) * ny * nx
	vals := make([]float32, n)
	for k := range vals {
		vals[k] = float32(15 + 5*math.Sin(float64(k)/997))
	}
	errs := []error{vt.WriteFloat64(nil, nil, t), vy.WriteFloat64(nil, nil, lat), vx.WriteFloat64(nil, nil, lon), vv.WriteFloat32(nil, nil, vals)}
	if vz != nil {
		z := make([]float64, levels)
		for k := range z {
			z[k] = 5 + 10*float64(k)
		}
		errs = append(errs, vz.WriteFloat64(nil, nil, z))
	}
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// BenchmarkOpenMeans reads 2° North Atlantic data as the means climxai takes while reading,
// beside a plain read of the same number of stored values: 10 years of daily values as monthly
// means, 10 years of 30 monthly levels as the 0-300 m mean, and 10 years of daily values on a
// curvilinear grid.
func BenchmarkOpenMeans(b *testing.B) {
	spec := GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	for _, bc := range []struct {
		name          string
		steps, levels int
		days          float64
		curvi         bool
		opt           OpenOptions
	}{
		{"monthly 3650 steps (plain read)", 3650, 0, 365.0 / 12, false, OpenOptions{Var: "thetao", Raw: true}},
		{"daily 10 years", 3650, 0, 1, false, OpenOptions{Var: "thetao", Raw: true}},
		{"30 levels 10 years, 0-300 m", 120, 30, 365.0 / 12, false, OpenOptions{Var: "thetao", Raw: true, Layer: &[2]float64{0, 300}}},
		{"daily 10 years curvilinear", 3650, 0, 1, true, OpenOptions{Var: "thetao", Raw: true, Grid: &spec}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := benchFile(b, bc.steps, bc.days, bc.levels, bc.curvi)
			b.SetBytes(int64(bc.steps * max(1, bc.levels) * 35 * 63 * 4))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Open(path, bc.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
