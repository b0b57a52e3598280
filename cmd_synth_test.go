package main

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/dataset"
	"climxai/dataset/netcdf"
)

func TestSynthUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "s.nc")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no --out", []string{"synth"}, "--out FILE.nc is required"},
		{"too few years", []string{"synth", "--out", out, "--years", "3"}, "at least 4 years are needed for 37 months"},
		{"too many years", []string{"synth", "--out", out, "--years", "1000000"}, "at most"},
		{"bad grid", []string{"synth", "--out", out, "--grid", "3"}, "use 1 or 2"},
		{"non-numeric years", []string{"synth", "--out", out, "--years", "many"}, "invalid value"},
		{"positional argument", []string{"synth", "--out", out, "extra"}, "unexpected argument"},
		{"targets without truth", []string{"synth", "--out", out, "--targets", "55,-35"}, "need --truth"},
		{"malformed target", []string{"synth", "--out", out, "--truth", filepath.Join(dir, "t.nc"), "--targets", "55;-35"}, "is not LAT,LON"},
		{"target off the grid", []string{"synth", "--out", out, "--years", "5", "--truth", filepath.Join(dir, "t.nc"), "--targets", "-40,100", "--truth-years", "0"}, "more than 500 km from every ocean cell"},
		{"too few years for the truth", []string{"synth", "--out", out, "--years", "4", "--truth", filepath.Join(dir, "t.nc"), "--truth-years", "0"}, "needs at least 5 years"},
		{"truth years without truth", []string{"synth", "--out", out, "--truth-years", "100"}, "need --truth"},
		{"negative truth years", []string{"synth", "--out", out, "--truth", filepath.Join(dir, "t.nc"), "--truth-years", "-1"}, "--truth-years -1"},
		{"too few truth years", []string{"synth", "--out", out, "--truth", filepath.Join(dir, "t.nc"), "--truth-years", "3"}, "got --truth-years 3"},
		{"bad lead", []string{"synth", "--out", out, "--truth", filepath.Join(dir, "t.nc"), "--truth-leads", "0"}, "is not a lead"},
		{"bad radius", []string{"synth", "--out", out, "--truth", filepath.Join(dir, "t.nc"), "--truth-radius", "-5"}, "--truth-radius"},
		{"truth over output", []string{"synth", "--out", out, "--truth", out}, "same file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, stderr.String())
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a usage error left an output file")
	}
}

func TestSynthMissingDirectoryIsUserError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "no", "such", "dir", "s.nc")
	if code := run([]string{"synth", "--out", out, "--years", "4"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "does not exist") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

func TestSynthWritesSeriesAndTruth(t *testing.T) {
	dir := t.TempDir()
	out, truth := filepath.Join(dir, "sst.nc"), filepath.Join(dir, "truth.nc")
	var stdout, stderr bytes.Buffer
	code := run([]string{"synth", "--out", out, "--years", "5", "--seed", "3", "--truth", truth, "--targets", "55,-35;38,-65", "--truth-years", "20"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"Wrote " + out, "35 x 63", "60 months from 0001-01 to 0005-12", "ocean cells", "Wrote " + truth, "lead 9"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}

	f, err := netcdf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.Var("sst")
	if err != nil {
		t.Fatal(err)
	}
	if shape := v.Shape(); len(shape) != 3 || shape[0] != 60 || shape[1] != 35 || shape[2] != 63 {
		t.Fatalf("sst shape %v, want [60 35 63]", shape)
	}
	if a, err := v.Attr("units"); err != nil || a.Text != "degC" {
		t.Errorf("sst units %+v, %v; want degC", a, err)
	}
	for name, want := range map[string]string{"generator_seed": "3", "generator_years": "5"} {
		if a, err := f.Attr(name); err != nil || a.Text != want {
			t.Errorf("global attribute %s = %+v, %v; want %q", name, a, err, want)
		}
	}
	vals, err := v.ReadFloat32(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ocean := 0
	for _, x := range vals[:35*63] {
		if x > -3 && x < 35 {
			ocean++
		}
	}
	if ocean < 1000 {
		t.Errorf("first month has %d plausible SST values, want the ~1300 ocean cells", ocean)
	}

	// The series reads back through the dataset package like any SST file.
	if s, err := dataset.Inspect(out, ""); err != nil {
		t.Errorf("dataset.Inspect: %v", err)
	} else if s.Time.Months != 60 {
		t.Errorf("dataset.Inspect sees %d months", s.Time.Months)
	}

	tf, err := netcdf.Open(truth)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	cv, err := tf.Var("coef")
	if err != nil {
		t.Fatal(err)
	}
	if shape := cv.Shape(); len(shape) != 5 || shape[0] != 2 || shape[1] != 3 || shape[2] != 36 {
		t.Fatalf("coef shape %v, want [2 3 36 35 63]", shape)
	}
	if a, err := tf.Attr("fit_run"); err != nil || !strings.Contains(a.Text, "20 years") {
		t.Errorf("truth attribute fit_run = %+v, %v; want the 20-year companion run", a, err)
	}
	r2, err := tf.Var("r2_test")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r2.ReadFloat64(nil, nil); err != nil || len(got) != 6 || math.IsNaN(got[0]) {
		t.Errorf("r2_test = %v, %v", got, err)
	}
}

// TestSynthSubsurface checks --subsurface: the file holds tsub beside an sst that is the same,
// value for value and attribute for attribute, as the file written without the flag, on the
// same time axis and grid; tsub is missing exactly where sst is and reads back like any series.
func TestSynthSubsurface(t *testing.T) {
	dir := t.TempDir()
	plain, sub := filepath.Join(dir, "plain.nc"), filepath.Join(dir, "sub.nc")
	for _, a := range [][]string{
		{"synth", "--out", plain, "--years", "5", "--seed", "3"},
		{"synth", "--out", sub, "--years", "5", "--seed", "3", "--subsurface"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(a, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d; stderr:\n%s", a, code, stderr.String())
		}
		if want := "(sst, tsub)"; strings.Contains(stdout.String(), want) != (a[len(a)-1] == "--subsurface") {
			t.Errorf("%v: summary and %q:\n%s", a, want, stdout.String())
		}
	}
	fp, err := netcdf.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	fs, err := netcdf.Open(sub)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()

	read := func(f *netcdf.File, name string) (*netcdf.Var, []float64) {
		t.Helper()
		v, err := f.Var(name)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := v.ReadFloat64(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v, vals
	}
	attrs := func(v *netcdf.Var) map[string]string {
		t.Helper()
		as, err := v.Attrs()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, a := range as {
			m[a.Name] = fmt.Sprint(a.Type, a.Text, a.Values)
		}
		return m
	}
	for _, name := range []string{"sst", "time", "time_bnds", "lat", "lon"} {
		vp, a := read(fp, name)
		vs, b := read(fs, name)
		if !slices.Equal(vp.Shape(), vs.Shape()) || vp.Type != vs.Type {
			t.Errorf("%s: %v %v with --subsurface, %v %v without", name, vs.Type, vs.Shape(), vp.Type, vp.Shape())
			continue
		}
		for k := range a {
			if math.Float64bits(a[k]) != math.Float64bits(b[k]) {
				t.Errorf("%s[%d] = %v with --subsurface, %v without", name, k, b[k], a[k])
				break
			}
		}
		if pa, sa := attrs(vp), attrs(vs); !maps.Equal(pa, sa) {
			t.Errorf("%s: attributes %v with --subsurface, %v without", name, sa, pa)
		}
	}
	gp, err := fp.Attrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range gp {
		b, err := fs.Attr(a.Name)
		if a.Name == "history" || a.Name == "comment" {
			continue
		}
		if err != nil || b.Text != a.Text {
			t.Errorf("global attribute %s = %q with --subsurface, %q without (%v)", a.Name, b.Text, a.Text, err)
		}
	}

	vt, tsub := read(fs, "tsub")
	if shape := vt.Shape(); !slices.Equal(shape, []int{60, 35, 63}) || vt.Type != netcdf.Float {
		t.Fatalf("tsub: %v %v, want float [60 35 63]", vt.Type, shape)
	}
	ta := attrs(vt)
	for name, want := range map[string]string{"units": "degC", "long_name": "temperature below the mixed layer"} {
		if a, err := vt.Attr(name); err != nil || a.Text != want {
			t.Errorf("tsub:%s = %+v, %v; want %q", name, a, err, want)
		}
	}
	vsst, sst := read(fs, "sst")
	if got, want := ta["_FillValue"], attrs(vsst)["_FillValue"]; got != want || want == "" {
		t.Errorf("tsub:_FillValue %s, sst's %s", got, want)
	}
	for k := range tsub {
		if (float32(sst[k]) == 1e20) != (float32(tsub[k]) == 1e20) {
			t.Fatalf("value %d: sst %v, tsub %v: missing in one only", k, sst[k], tsub[k])
		}
		if float32(tsub[k]) != 1e20 && (tsub[k] < -8 || tsub[k] > 32) {
			t.Fatalf("value %d: tsub %v °C is implausible", k, tsub[k])
		}
	}

	// Readers find sst by default and tsub by name, both in °C.
	if s, err := dataset.Open(sub, dataset.OpenOptions{}); err != nil || s.Name != "sst" {
		t.Errorf("dataset.Open picks %v (%v), want sst", s, err)
	}
	s, err := dataset.Open(sub, dataset.OpenOptions{Var: "tsub"})
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 60 || s.Units != "degC" || s.Calendar != "noleap" || s.Start != dataset.NewMonth(1, 1) {
		t.Errorf("tsub reads back as %d months from %v, %s, %s calendar", s.N, s.Start, s.Units, s.Calendar)
	}
}

// TestSynthSubsurfaceTruth: with --subsurface, --truth adds the joint predictor from sst and tsub
// (joint_coef_sst, joint_coef_tsub, joint R²) beside a coef that is the predictor from SST alone,
// the same bytes as without the flag; the summary gives both R².
func TestSynthSubsurfaceTruth(t *testing.T) {
	dir := t.TempDir()
	var coefs [2][]float32
	for i, sub := range []bool{false, true} {
		out, truth := filepath.Join(dir, fmt.Sprintf("s%d.nc", i)), filepath.Join(dir, fmt.Sprintf("t%d.nc", i))
		args := []string{"synth", "--out", out, "--years", "5", "--seed", "3", "--truth", truth, "--targets", "55,-35", "--truth-leads", "1,6", "--truth-years", "20"}
		if sub {
			args = append(args, "--subsurface")
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d; stderr:\n%s", args, code, stderr.String())
		}
		if got := strings.Contains(stdout.String(), "joint predictor from sst and tsub"); got != sub {
			t.Errorf("--subsurface %v: summary names the joint predictor: %v\n%s", sub, got, stdout.String())
		}
		f, err := netcdf.Open(truth)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		v, err := f.Var("coef")
		if err != nil {
			t.Fatal(err)
		}
		if coefs[i], err = v.ReadFloat32(nil, nil); err != nil {
			t.Fatal(err)
		}
		_, err = f.Var("joint_coef_tsub")
		a, aerr := f.Attr("joint_predictors")
		if !sub {
			if err == nil || aerr == nil {
				t.Errorf("without --subsurface the truth holds joint_coef_tsub (%v) or joint_predictors (%v)", err, aerr)
			}
			continue
		}
		if err != nil || aerr != nil || a.Text != "sst tsub" {
			t.Fatalf("joint_coef_tsub: %v; joint_predictors %q, %v", err, a.Text, aerr)
		}
		for _, name := range []string{"joint_coef_sst", "joint_r2_test", "joint_r2_train"} {
			v, err := f.Var(name)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := v.ReadFloat64(nil, nil)
			if err != nil || len(vals) == 0 {
				t.Errorf("%s: %d values, %v", name, len(vals), err)
			}
		}
	}
	if !slices.Equal(coefs[0], coefs[1]) {
		t.Error("coef differs with --subsurface: it must stay the predictor from SST alone")
	}
}
