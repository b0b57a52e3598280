package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSession(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "session", "good.climxai.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSession(good, "/proj/a.climxai.json")
	if err != nil {
		t.Fatal(err)
	}
	if s.Card != "/proj/card.toml" || s.Data != "/data/sst.nc" || s.Params["steps"] != "16" || s.Zoom.W != -80 || s.Tab != "compare" {
		t.Errorf("parsed %+v", s)
	}
	files, err := os.ReadFile(filepath.Join("testdata", "session", "files.climxai.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := ParseSession(files, "/proj/a.climxai.json"); err != nil || !slices.Equal(s.DataPaths(),
		[]string{"/data/tos_Omon_185001-189912.nc", "/proj/tos_Omon_190001-201412.nc", "/data/thetao_Omon_185001-201412.nc"}) || s.Variable != "thetao" {
		t.Errorf("version 2: %v %+v", err, s)
	}
	edit := func(old, new string) []byte { return []byte(strings.Replace(string(good), old, new, 1)) }
	tests := []struct {
		name  string
		b     []byte
		field string // the field the error names
		say   string
	}{
		{"empty file", nil, "", "not a climxai session"},
		{"not JSON", []byte("card = 'x'"), "", "not a climxai session"},
		{"a figure sidecar", []byte(`{"kind":"map","inputs":[]}`), "", "unknown field"},
		{"wrong format", edit(`"climxai-session"`, `"other"`), "format", "not a climxai session file"},
		{"newer version", edit(`"version": 1`, `"version": 7`), "version", "update climxai"},
		{"unknown field", edit(`"lag": 3`, `"lag": 3, "colour": "red"`), "", "unknown field"},
		{"lead 0", edit(`"lead": 6`, `"lead": 0`), "lead", "from 1"},
		{"negative lag", edit(`"lag": 3`, `"lag": -1`), "lag", "from 0"},
		{"unknown method", edit(`"method": "ig"`, `"method": "magic"`), "method", "magic"},
		{"bad parameter", edit(`"steps": "16"`, `"steps": "lots"`), "method", "whole number"},
		{"bad init", edit(`"0004-06"`, `"June"`), "init", "YYYY-MM"},
		{"bad target", edit(`"box:50,65,-60,-10"`, `"box:65,50,-60,-10"`), "target", "S < N"},
		{"unknown box", edit(`"box:50,65,-60,-10"`, `"atlantis"`), "target", "nino34"},
		{"bad view", edit(`"attribution"`, `"3d"`), "view", "input, attribution"},
		{"bad tab", edit(`"compare"`, `"settings"`), "tab", "map, compare"},
		{"bad compare scale", edit(`"lag": 3`, `"lag": 3, "compare_scale": "log"`), "compare_scale", "shared, lead"},
		{"unknown method to compare", edit(`"lag": 3`, `"lag": 3, "compare_methods": ["saliency", "gradcam"]`), "compare_methods", "gradcam"},
		{"bad aggregate samples", edit(`"lag": 3`, `"lag": 3, "analyses": {"aggregate_samples": "most"}`), "analyses.aggregate_samples", "SET:N"},
		{"bad decay map stride", edit(`"lag": 3`, `"lag": 3, "analyses": {"decaymap_stride": -2}`), "analyses.decaymap_stride", "1 or more"},
		{"bad decay map max lag", edit(`"lag": 3`, `"lag": 3, "analyses": {"decaymap_max_lag": -1}`), "analyses.decaymap_max_lag", "0: all lags"},
		{"aggregate fit over two lags", edit(`"lag": 3`, `"lag": 3, "analyses": {"aggregate_fit_max_lag": 1}`), "analyses.aggregate_fit_max_lag", "three lags"},
		{"bad ablation radii", edit(`"lag": 3`, `"lag": 3, "analyses": {"ablation_radii": "0,near"}`), "analyses.ablation_radii", "not a distance"},
		{"bad ablation lags", edit(`"lag": 3`, `"lag": 3, "analyses": {"ablation_lags": "1,0"}`), "analyses.ablation_lags", "from 1"},
		{"unknown analysis setting", edit(`"lag": 3`, `"lag": 3, "analyses": {"samples": "test"}`), "", "unknown field"},
		{"inverted zoom", edit(`"south": 20, "north": 60`, `"south": 60, "north": 20`), "zoom", "south < north"},
		{"no data", edit(`"/data/sst.nc"`, `""`), "card", "required"},
		{"further data in version 1", edit(`"lag": 3`, `"lag": 3, "data_more": ["tsub.nc"]`), "version", "version 2"},
		{"variable in version 1", edit(`"lag": 3`, `"lag": 3, "variable": "tsub"`), "version", "version 2"},
		{"empty further data file", []byte(strings.Replace(string(files), `"tos_Omon_190001-201412.nc"`, `""`, 1)), "data_more", "empty path"},
		{"two objects", append(append([]byte{}, good...), good...), "", "extra data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSession(tc.b, "x.climxai.json")
			var se *SessionError
			if !errors.As(err, &se) || !errors.Is(err, ErrSession) {
				t.Fatalf("error %v (%T), want a *SessionError", err, err)
			}
			if se.Field != tc.field || !strings.Contains(err.Error(), tc.say) || !strings.Contains(err.Error(), "x.climxai.json") {
				t.Errorf("error %q (field %q), want field %q saying %q and naming the file", err, se.Field, tc.field, tc.say)
			}
		})
	}
}

// TestSessionAnalyses: the analysis tabs' settings are read as written, and Valid leaves out
// exactly the settings a session could not be read back with.
func TestSessionAnalyses(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "session", "analyses.climxai.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSession(b, "")
	if err != nil {
		t.Fatal(err)
	}
	want := SessionAnalyses{AggregateSamples: "train:480", AggregateFitLag: 11, DecayMapSamples: "test:6", DecayMapStride: 4, DecayMapMaxLag: 11,
		AblationSamples: "480", AblationRadii: "0,890,2023,inf", AblationLags: "11,33"}
	if s.Analyses == nil || *s.Analyses != want {
		t.Fatalf("analyses %+v, want %+v", s.Analyses, want)
	}
	if got := want.Valid(); got != want {
		t.Errorf("Valid changed valid settings: %+v", got)
	}
	typed := SessionAnalyses{AggregateSamples: "most", AggregateFitLag: 1, DecayMapSamples: "test:6", DecayMapStride: -1, DecayMapMaxLag: 11,
		AblationSamples: "", AblationRadii: "0,near", AblationLags: "0,12"}
	if got, w := typed.Valid(), (SessionAnalyses{DecayMapSamples: "test:6", DecayMapMaxLag: 11}); got != w {
		t.Errorf("Valid kept %+v, want %+v", got, w)
	}
}

// FuzzParseSession checks that the session reader never panics and that whatever it accepts
// is written back and read again to the same session.
func FuzzParseSession(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "session", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"climxai-session","version":1}`))
	f.Add([]byte(`{"format":"climxai-session","version":1,"card":"c","data":"d","lead":1,"method":"saliency","init":"0001-01","target":"nino34","lag":0,"view":"input","tab":"map","zoom":{"south":-1e308,"north":1e308,"west":0,"east":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSession(b, "")
		if err != nil {
			if !errors.Is(err, ErrSession) {
				t.Fatalf("error %v is not a SessionError", err)
			}
			return
		}
		path := filepath.Join(t.TempDir(), "s"+SessionExt)
		if err := WriteSession(path, *s); err != nil {
			t.Fatalf("accepted session cannot be written: %v", err)
		}
		if _, err := ReadSession(path); err != nil {
			t.Fatalf("written session cannot be read: %v", err)
		}
	})
}

// TestSessionRoundTrip saves a workspace's session, reads it back and applies it to a fresh
// workspace, which then selects the same; a session the data refuse leaves the selection alone.
func TestSessionRoundTrip(t *testing.T) {
	w := openTestWorkspace(t)
	inits := w.Inits(1)
	if err := w.SetInit(inits[3]); err != nil {
		t.Fatal(err)
	}
	if err := w.SetMethodParams("smoothgrad", map[string]string{"noise-samples": "3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SetTarget("spg"); err != nil {
		t.Fatal(err)
	}
	s := w.Session()
	s.Lag, s.Tab, s.Zoom = 5, "compare", &Extent{S: 30, N: 70, W: -70, E: 0}
	path := filepath.Join(t.TempDir(), "view"+SessionExt)
	if err := WriteSession(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(randomCard)
	if got.Card != abs || got.Lag != 5 || got.Tab != "compare" || *got.Zoom != *s.Zoom {
		t.Errorf("read back %+v", got)
	}
	w2 := openTestWorkspace(t)
	if err := w2.ApplySession(got, path); err != nil {
		t.Fatal(err)
	}
	a, b := w.Selection(), w2.Selection()
	if a.Init != b.Init || a.Method != b.Method || a.Params["noise-samples"] != b.Params["noise-samples"] || a.Target.Spec != b.Target.Spec || a.Target.Cells != b.Target.Cells {
		t.Errorf("applied %+v, want %+v", b, a)
	}
	if _, err := w2.ExplainSelection(context.Background(), b, nil); err != nil {
		t.Errorf("explaining the restored selection: %v", err)
	}

	before := w2.Selection()
	bad := *got
	bad.Init = "1999-01"
	err = w2.ApplySession(&bad, path)
	var se *SessionError
	if !errors.As(err, &se) || se.Field != "init" || !strings.Contains(err.Error(), "allow init months") {
		t.Errorf("init outside the data: %v", err)
	}
	if after := w2.Selection(); after.Init != before.Init || after.Method != before.Method {
		t.Error("a refused session changed the selection")
	}
	bad = *got
	bad.Version, bad.Variable = 2, "thetao"
	if err := w2.ApplySession(&bad, path); !errors.As(err, &se) || se.Field != "variable" || !strings.Contains(err.Error(), `"thetao": the emulator reads sst`) {
		t.Errorf("a variable the emulator does not read: %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `"version": 1`) || strings.Contains(string(b), "data_more") {
		t.Errorf("a session of one data file and one variable is not written as version 1:\n%s", b)
	}
	if _, err := ReadSession(filepath.Join(t.TempDir(), "none"+SessionExt)); !errors.Is(err, ErrSession) {
		t.Errorf("missing file: %v", err)
	}
}
