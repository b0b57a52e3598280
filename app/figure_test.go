package app

import (
	"context"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/attribution"
	"climxai/inference"
	"climxai/plots"
)

func TestMethodSettings(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		params  map[string]string
		wantErr string // "" for success
	}{
		{"saliency without parameters", "saliency", nil, ""},
		{"ig defaults written out", "ig", DefaultParams("ig"), ""},
		{"ig gauss-legendre on a blurred baseline", "ig", map[string]string{"steps": "16", "quadrature": "gausslegendre", "baseline": "blur:2"}, ""},
		{"smoothgrad with its seed", "smoothgrad", map[string]string{"noise-samples": "4", "sigma": "0.3", "noise-seed": "9"}, ""},
		{"a parameter the method does not read", "saliency", map[string]string{"steps": "4"}, "takes no parameters"},
		{"another method's parameter", "ig", map[string]string{"epsilon": "1"}, "does not read"},
		{"steps not a number", "ig", map[string]string{"steps": "many"}, "whole number"},
		{"steps out of range", "ig", map[string]string{"steps": "0"}, "ig"},
		{"a baseline file", "ig", map[string]string{"baseline": "base.nc"}, "command line"},
		{"unknown method", "magic", nil, "magic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MethodSettings(tc.method, tc.params)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatal("accepted")
			case tc.wantErr != "" && (!strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrSelection)):
				t.Fatalf("error %q (%T), want one saying %q of kind ErrSelection", err, err, tc.wantErr)
			}
		})
	}
	s, _ := MethodSettings("ig", map[string]string{"steps": "16", "quadrature": "gausslegendre"})
	if s.Steps != 16 || s.Quadrature.String() != "gausslegendre" {
		t.Errorf("settings %+v", s)
	}
	if got := DefaultParams("smoothgrad"); got["noise-seed"] != "1" || got["sigma"] != "0.15" {
		t.Errorf("smoothgrad defaults %v", got)
	}
}

// TestParamChoices: every value the parameters dialog lists is accepted, and kept as listed,
// by each method that reads the parameter; the default is among them.
func TestParamChoices(t *testing.T) {
	listed := 0
	for _, m := range attribution.Methods() {
		for _, name := range MethodParams(m.Name) {
			choices := ParamChoices(name)
			if choices == nil {
				continue
			}
			listed++
			if def := DefaultParams(m.Name)[name]; !slices.Contains(choices, def) {
				t.Errorf("%s %s: the default %q is not listed in %v", m.Name, name, def, choices)
			}
			for _, v := range choices {
				s, err := MethodSettings(m.Name, map[string]string{name: v})
				if err != nil {
					t.Errorf("%s %s = %q: %v", m.Name, name, v, err)
					continue
				}
				if got := paramsOf(m.Name, s)[name]; got != v {
					t.Errorf("%s %s = %q reads back as %q", m.Name, name, v, got)
				}
			}
		}
	}
	if listed < 4 { // ig's baseline and quadrature, deeplift's baseline, occlusion's occlude
		t.Errorf("choices listed for %d parameters", listed)
	}
}

// TestExplainWithParams checks that the selection's parameters reach the method.
func TestExplainWithParams(t *testing.T) {
	w := openTestWorkspace(t)
	if err := w.SetMethodParams("ig", map[string]string{"steps": "0"}); err == nil {
		t.Fatal("ig with 0 steps accepted")
	}
	if err := w.SetMethodParams("ig", map[string]string{"steps": "4"}); err != nil {
		t.Fatal(err)
	}
	ex, err := w.Explain(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := ex.Result.Params.String(); !strings.Contains(p, "steps=4") {
		t.Errorf("result parameters %q, want steps=4", p)
	}
}

// TestWriteFigure writes a map PNG at a chosen preset and dpi and a leads PDF over two leads, as
// --figure would, and checks result files, sidecars and the PNG's size.
func TestWriteFigure(t *testing.T) {
	w, err := Open(filepath.Join("..", "inference", "testdata", "tiny.toml"), []string{synthFile(t)}, inference.Options{Device: inference.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	exs, err := w.ExplainLeads(context.Background(), w.Selection(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	png1 := filepath.Join(dir, "map.png")
	ncs, err := w.WriteFigure(png1, exs[:1], FigureOptions{Kind: plots.KindMap, Lags: []int{2}, Preset: "ams1", DPI: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ncs) != 1 || ncs[0] != filepath.Join(dir, "map.nc") {
		t.Fatalf("result files %v", ncs)
	}
	f, err := os.Open(png1)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := 3.2 * 100; math.Abs(float64(cfg.Width)-want) > 2 {
		t.Errorf("PNG %d px wide, want %g (3.2 in at 100 dpi)", cfg.Width, want)
	}
	s, err := plots.ReadSpec(plots.SidecarPath(png1))
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != plots.KindMap || s.Preset != "ams1" || s.DPI != 100 || len(s.Lags) != 1 || s.Lags[0] != 2 || s.Inputs[0].Path != "map.nc" {
		t.Errorf("sidecar %+v", s)
	}

	pdf := filepath.Join(dir, "leads.pdf")
	ncs, err = w.WriteFigure(pdf, exs, FigureOptions{Kind: plots.KindLeads, Lags: []int{0, 3}, Preset: "agu2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ncs) != 2 || !strings.HasSuffix(ncs[1], "leads-lead06.nc") {
		t.Fatalf("result files %v", ncs)
	}
	b, err := os.ReadFile(pdf)
	if err != nil || !strings.HasPrefix(string(b), "%PDF") {
		t.Fatalf("not a PDF: %v", err)
	}
	if s, err := plots.ReadSpec(plots.SidecarPath(pdf)); err != nil || s.Kind != plots.KindLeads || len(s.Inputs) != 2 || s.Normalize != "" {
		t.Errorf("sidecar %+v, %v", s, err)
	}
	// Each lead on its own scale (the GUI's comparison toggle): the sidecar records it.
	norm := filepath.Join(dir, "leads-norm.png")
	if _, err := w.WriteFigure(norm, exs, FigureOptions{Kind: plots.KindLeads, Lags: []int{0}, DPI: 72, Normalize: "lead"}); err != nil {
		t.Fatal(err)
	}
	if s, err := plots.ReadSpec(plots.SidecarPath(norm)); err != nil || s.Normalize != "lead" {
		t.Errorf("normalised leads sidecar %+v, %v", s, err)
	}

	for _, bad := range []struct {
		name string
		path string
		exs  []*Explanation
		o    FigureOptions
		want string
	}{
		{"unknown format", filepath.Join(dir, "x.jpg"), exs[:1], FigureOptions{Kind: plots.KindMap}, ".png, .pdf"},
		{"map of two leads", filepath.Join(dir, "x.png"), exs, FigureOptions{Kind: plots.KindMap}, "one explanation"},
		{"no explanation", filepath.Join(dir, "x.png"), nil, FigureOptions{Kind: plots.KindMap}, "nothing explained"},
		{"unknown preset", filepath.Join(dir, "x.png"), exs[:1], FigureOptions{Kind: plots.KindMap, Preset: "nature"}, "presets"},
		{"missing folder", filepath.Join(dir, "nope", "x.png"), exs[:1], FigureOptions{Kind: plots.KindMap}, "does not exist"},
	} {
		if _, err := w.WriteFigure(bad.path, bad.exs, bad.o); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one saying %q", bad.name, err, bad.want)
		}
	}
}
