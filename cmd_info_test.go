package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/app"
	"climxai/dataset"
	"climxai/dataset/synth"
	"climxai/inference"
)

// infoFixture writes dataset/testdata/NAME.cdl as a NetCDF file with ncgen.
func infoFixture(t *testing.T, name, kind string) string {
	t.Helper()
	if _, err := exec.LookPath("ncgen"); err != nil {
		t.Fatal("ncgen not found: install netcdf-bin (make setup)")
	}
	out := filepath.Join(t.TempDir(), name+".nc")
	if msg, err := exec.Command("ncgen", "-k", kind, "-o", out, filepath.Join("dataset", "testdata", name+".cdl")).CombinedOutput(); err != nil {
		t.Fatalf("ncgen: %v\n%s", err, msg)
	}
	return out
}

func TestInfoText(t *testing.T) {
	path := infoFixture(t, "hadisst", "nc3")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"info", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"file       " + path,
		"format     NetCDF-3 classic",
		"variable   sst (read as degC)",
		"latitude   59.5 .. 54.5, step -1, descending",
		"longitude  -179.5 .. -172.5, step 1, convention -180..180, regional",
		`time       2000-01 .. 2003-04 (40 months), calendar standard, units "days since 1870-1-1 0:0:0"`,
		"missing    _FillValue -1e+30; missing_value -1e+30; 24 sea-ice values (-1000) set to -1.8 °C",
		"ocean      93.8% of cells",
		"* sst",
		"notices:\n  - 24 values at or below -999 °C",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInfoJSON(t *testing.T) {
	path := infoFixture(t, "oisst", "nc4")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"info", "--json", path, "--var", "sst"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "{\n  \"file\": ") {
		t.Errorf("JSON not indented by 2:\n%s", stdout.String())
	}
	var m struct {
		File     string
		Format   string
		Variable string
		Lat      struct{ Order string }
		Time     struct{ First, Last string }
		Missing  struct {
			Packed      bool
			ScaleFactor float64 `json:"scale_factor"`
		}
		OceanFraction float64 `json:"ocean_fraction"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.File != path || m.Format != "NetCDF-4/HDF5" || m.Variable != "sst" || m.Lat.Order != "descending" ||
		m.Time.First != "1981-12" || m.Time.Last != "1985-03" || !m.Missing.Packed || m.Missing.ScaleFactor != 0.01 {
		t.Errorf("got %+v", m)
	}
}

func TestInfoErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "readme.txt")
	if err := os.WriteFile(text, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"not NetCDF", []string{"info", text}, 1, text + ": not a NetCDF file"},
		{"missing variable", []string{"info", infoFixture(t, "ersst", "nc4"), "--var", "tos"}, 1, "variables in file: time, lev, lat, lon, sst"},
		{"no file", []string{"info"}, 2, "give exactly one FILE"},
		{"two files", []string{"info", "a.nc", "b.nc"}, 2, "give exactly one FILE"},
		{"bad flag", []string{"info", text, "--bogus"}, 2, "flag provided but not defined"},
		{"help", []string{"info", "-h"}, 0, "usage: climxai info FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.msg)
			}
		})
	}
}

// TestInfoCard: info on a card opens every model and prints what climxai read: the demo's
// three field models, the index emulator's region and [N, 1] output; JSON carries the same; a
// model that does not fit the card is the card's error; --var does not apply.
func TestInfoCard(t *testing.T) {
	var out, errb bytes.Buffer
	demo := filepath.Join("resources", "emulators", "demo", "card.toml")
	if err := cmdInfo(context.Background(), []string{demo}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"North Atlantic SST emulator (demo)", "35 x 63 cells", "a field on the grid",
		"lead01.onnx  x [?, 36, 35, 63]  y [?, 1, 35, 63]  13", "lead09.onnx", "663 k"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("info on the demo card lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	index := filepath.Join("resources", "emulators", "index", "card.toml")
	if err := cmdInfo(context.Background(), []string{index, "--json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var ci cardInfo
	if err := json.Unmarshal(out.Bytes(), &ci); err != nil {
		t.Fatal(err)
	}
	if ci.Index != "spg" || ci.IndexCells != 8*26 || len(ci.Models) != 1 || ci.Models[0].OutputShape != "[?, 1]" ||
		ci.Models[0].Entries != 1 || ci.Models[0].Weights != 49809 || len(ci.Models[0].SHA256) != 64 {
		t.Errorf("info --json on the index card: %+v", ci)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	text, _ := os.ReadFile(demo)
	model, _ := filepath.Abs(filepath.Join("resources", "emulators", "demo", "lead01.onnx"))
	os.WriteFile(bad, []byte(strings.NewReplacer("nlat = 35", "nlat = 30", `file = "lead01.onnx"`, fmt.Sprintf("file = %q", model),
		`file = "lead06.onnx"`, fmt.Sprintf("file = %q", model), `file = "lead09.onnx"`, fmt.Sprintf("file = %q", model)).Replace(string(text))), 0o644)
	if err := cmdInfo(context.Background(), []string{bad}, &out, &errb); !errors.Is(err, inference.ErrModelSignature) || !strings.Contains(err.Error(), "30 in the card") {
		t.Errorf("info on a card whose grid does not fit its model: %v", err)
	}
	var ue *app.UsageError
	if err := cmdInfo(context.Background(), []string{demo, "--var", "sst"}, &out, &errb); !errors.As(err, &ue) {
		t.Errorf("--var with a card: %v", err)
	}
}

// TestInfoRaw: --raw shows a further input variable as a card's [[input]] reads it, in its
// own units, where reading it as SST would take heat content for implausible temperatures.
func TestInfoRaw(t *testing.T) {
	s := &dataset.Series{Name: "ohc", Units: "J m-2", Calendar: "noleap", Start: dataset.NewMonth(1, 1), N: 3,
		Grid: dataset.Grid{Lat: []float64{10, 12}, Lon: []float64{-40, -38}}}
	for i := range 12 {
		s.Values = append(s.Values, 1e9+float32(i)*1e7)
	}
	path := filepath.Join(t.TempDir(), "ohc.nc")
	if err := dataset.WriteSeriesVars(path, []dataset.SeriesVar{{Series: s, Attrs: map[string]string{"units": "J m-2"}}}, nil); err != nil {
		t.Fatal(err)
	}
	read := func(args ...string) (units string, notices []string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := cmdInfo(context.Background(), append(args, "--json", path), &stdout, &stderr); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		var info struct {
			Units   string
			Notices []string
		}
		if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
			t.Fatal(err)
		}
		return info.Units, info.Notices
	}
	units, notices := read("--var", "ohc", "--raw")
	if units != "J m-2" || len(notices) != 0 {
		t.Errorf("--raw: units %q, notices %q", units, notices)
	}
	if units, notices := read("--var", "ohc"); units != "degC" || len(notices) == 0 {
		t.Errorf("as SST: units %q, notices %q; want the conversion or range noticed", units, notices)
	}
	var stdout, stderr bytes.Buffer
	var ue *app.UsageError
	if err := cmdInfo(context.Background(), []string{"--raw", path}, &stdout, &stderr); !errors.As(err, &ue) {
		t.Errorf("--raw without --var: %v", err)
	}
}

// TestInfoCardData: info CARD --data describes the data as the card reads them: each variable's
// files and months (tsub from two files of six years, the later one first), the months they
// share, the ocean cells and each lead's samples, in text and JSON; --data without a card is a
// usage error.
func TestInfoCardData(t *testing.T) {
	dir := t.TempDir()
	syn, err := synth.Generate(context.Background(), synth.Config{Years: 12, Grid: 2, Seed: 7, Subsurface: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sst, tsub := splitFiles(t, dir, syn)
	card, _, _ := goldenCard(t, dir, multivarDir, "lead09.onnx", "0001-01/0012-12")
	out := runVerb(t, cmdInfo, card, "--data", sst, "--data", tsub[1], "--data", tsub[0], "--json")
	var got struct {
		Data struct {
			Variables []struct {
				Name, Source string
				Months       int
				First        string `json:"first_month"`
			}
			First  string `json:"first_month"`
			Last   string `json:"last_month"`
			Ocean  int    `json:"ocean_cells"`
			Leads  []struct{ Lead, Samples, Train, Test int }
			Window struct{ Min, Max float64 }
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d := got.Data
	if len(d.Variables) != 2 || d.Variables[1].Name != "tsub" || d.Variables[1].Months != 144 || d.Variables[1].Source != tsub[0]+" + "+tsub[1] ||
		d.Variables[0].Source != sst || d.First != "0001-01" || d.Last != "0012-12" {
		t.Errorf("variables %+v, months %s to %s", d.Variables, d.First, d.Last)
	}
	// 144 months: inits from month 36 (0003-12) to 144-9 (0012-03), 100 samples at lead 9.
	if len(d.Leads) != 1 || d.Leads[0].Lead != 9 || d.Leads[0].Samples != 100 || d.Leads[0].Train+d.Leads[0].Test != 100 ||
		d.Ocean == 0 || !(d.Window.Min < 0 && d.Window.Max > 0) {
		t.Errorf("leads %+v, ocean %d, window %+v", d.Leads, d.Ocean, d.Window)
	}
	// With the later half of tsub only, the months shared are its six years: the card's
	// anomaly period must lie in them; info says what it found and why the card cannot use it.
	var stdout, stderr bytes.Buffer
	err = cmdInfo(context.Background(), []string{card, "--data", sst, "--data", tsub[1]}, &stdout, &stderr)
	if !errors.Is(err, dataset.ErrMonthOutOfData) || !strings.Contains(stdout.String(), "0007-01 to 0012-12 (72 months, degC) from "+tsub[1]) ||
		!strings.Contains(stdout.String(), "cannot use them  dataset:") {
		t.Errorf("info with the later half of tsub: %v\n%s", err, stdout.String())
	}
	late, _, _ := goldenCard(t, t.TempDir(), multivarDir, "lead09.onnx", "0007-01/0012-12")
	text := runVerb(t, cmdInfo, late, "--data", sst, "--data", tsub[1])
	for _, want := range []string{"0007-01 to 0012-12, anomalies over 0007-01/0012-12", "using the 72 months they share", "28 samples (init 0009-12 to 0012-03)"} {
		if !strings.Contains(text, want) {
			t.Errorf("info with the later half of tsub lacks %q:\n%s", want, text)
		}
	}
	if err := cmdInfo(context.Background(), []string{sst, "--data", sst}, &stdout, &stderr); !errors.As(err, new(*app.UsageError)) {
		t.Errorf("--data with a data file: %v", err)
	}
}

// TestInfoLayer: info --var thetao --raw --layer 0,300 reads ocean temperature on depth levels as
// a card's [[input]] layer does and says which levels the mean takes; --layer needs --var, two
// different numbers and no --level.
func TestInfoLayer(t *testing.T) {
	s := &dataset.Series{Name: "thetao", Units: "degC", Calendar: "noleap", Start: dataset.NewMonth(1, 1), N: 3,
		Grid: dataset.Grid{Lat: []float64{10, 12}, Lon: []float64{-40, -38}}}
	for i := range 12 {
		s.Values = append(s.Values, 10+float32(i)/10)
	}
	path := filepath.Join(t.TempDir(), "thetao.nc")
	writeLevels(t, path, s, []float64{5, 100, 300}, 1)
	var stdout, stderr bytes.Buffer
	if err := cmdInfo(context.Background(), []string{"--var", "thetao", "--raw", "--layer", "0,300", "--json", path}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var info struct{ Notices []string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(info.Notices, func(n string) bool {
		return strings.Contains(n, "thetao averaged over lev = 0 to 300 m: 3 of 3 levels (5 to 300 m)")
	}) {
		t.Errorf("notices %q do not say which levels the mean takes", info.Notices)
	}
	for _, args := range [][]string{
		{"--layer", "0,300", path},
		{"--var", "thetao", "--layer", "0", path},
		{"--var", "thetao", "--layer", "300,300", path},
		{"--var", "thetao", "--layer", "0,deep", path},
		{"--var", "thetao", "--layer", "0,300", "--level", "100", path},
	} {
		var ue *app.UsageError
		if err := cmdInfo(context.Background(), args, &stdout, &stderr); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--layer") {
			t.Errorf("%q: %v, want a usage error about --layer", args, err)
		}
	}
}
