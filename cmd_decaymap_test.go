package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"climxai/dataset/netcdf"
	"climxai/plots"
)

// TestDecaymapEndToEnd maps e-folding time and R90 over every 8th ocean cell of the tiny card.
func TestDecaymapEndToEnd(t *testing.T) {
	card, data := predictFixture(t)
	out := filepath.Join(t.TempDir(), "map.nc")
	text := runVerb(t, cmdDecaymap, "--card", card, "--data", data, "--lead", "1", "--stride", "8", "--samples", "test:3",
		"--out", out, "--json", "--threads", "1")
	var got struct {
		Targets, Samples int
		Efold            struct {
			Cells      int
			Median, CV *float64
		} `json:"efold_months"`
		R90 struct {
			Cells  int
			Median *float64
		} `json:"r90_km"`
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if got.Samples != 3 || got.Targets < 5 || got.R90.Cells != got.Targets || got.R90.Median == nil {
		t.Errorf("%s", text)
	}
	f, err := netcdf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, name := range []string{"efold", "efold_lo", "efold_hi", "r50", "r90"} {
		v, err := f.Var(name)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := v.ReadFloat32(nil, nil)
		if err != nil || len(vals) != 35*63 {
			t.Fatalf("%s: %d values, %v", name, len(vals), err)
		}
		set := 0
		for i, x := range vals {
			if x != 1e20 {
				set++
				if r, c := i/63, i%63; r%8 != 0 || c%8 != 0 {
					t.Errorf("%s has a value off the stride at row %d col %d", name, r, c)
				}
			}
		}
		if name == "r90" && set != got.Targets {
			t.Errorf("r90 set at %d cells, %d targets", set, got.Targets)
		}
	}
	for _, a := range []string{"efold_median", "efold_iqr", "efold_cv", "r90_median", "r90_iqr", "r90_cv", "method", "lead", "stride"} {
		if _, err := f.Attr(a); err != nil {
			t.Errorf("global attribute %s: %v", a, err)
		}
	}
	// Text output names median, IQR and CV; --figure writes the maps and a sidecar that redraws them.
	fig := filepath.Join(t.TempDir(), "decaymap.pdf")
	text = runVerb(t, cmdDecaymap, "--card", card, "--data", data, "--lead", "1", "--stride", "16", "--samples", "2",
		"--out", out, "--threads", "1", "--figure", fig)
	for _, s := range []string{"median", "IQR", "CV", "R90", "wrote"} {
		if !strings.Contains(text, s) {
			t.Errorf("stdout lacks %q:\n%s", s, text)
		}
	}
	checkFigure(t, fig, plots.KindDecayMap)
	var stdout, stderr strings.Builder
	if code := run([]string{"decaymap", "--card", card, "--data", data, "--out", out, "--figure", "map.gif"}, &stdout, &stderr); code != 2 {
		t.Errorf("--figure map.gif: exit %d, want 2 (usage)\n%s", code, stderr.String())
	}
}

// checkFigure checks that fig and its sidecar of the given kind exist, and that `climxai figure
// --spec` draws the same file again from the sidecar.
func checkFigure(t *testing.T, fig, kind string) {
	t.Helper()
	for _, p := range []string{fig, plots.SidecarPath(fig)} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("%s not written (%v)", p, err)
		}
	}
	s, err := plots.ReadSpec(plots.SidecarPath(fig))
	if err != nil || s.Kind != kind {
		t.Fatalf("sidecar: kind %q, %v; want %q", s.Kind, err, kind)
	}
	again := filepath.Join(t.TempDir(), "again"+filepath.Ext(fig))
	var stdout, stderr strings.Builder
	if code := run([]string{"figure", "--spec", plots.SidecarPath(fig), "--out", again}, &stdout, &stderr); code != 0 {
		t.Fatalf("figure --spec: exit %d\n%s", code, stderr.String())
	}
	a, _ := os.ReadFile(fig)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("%s drawn again from its sidecar differs (%d vs %d bytes)", fig, len(a), len(b))
	}
}
