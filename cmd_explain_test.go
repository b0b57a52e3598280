package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"climxai/app"
	"climxai/dataset"
	"climxai/inference"
)

// TestExplainEndToEnd runs explain on the tiny card with synthetic data for several methods and
// reads the result files back in the contract's layout.
func TestExplainEndToEnd(t *testing.T) {
	if _, err := inference.FindLibrary(); err != nil {
		t.Fatal(err)
	}
	card, data := predictFixture(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		says []string
	}{
		{"ig cell", []string{"--method", "ig", "--steps", "16", "--target", "45,-40"}, []string{"completeness:", "delta", "top lags"}},
		{"saliency box", []string{"--method", "saliency", "--target", "box:40,50,-50,-30"}, []string{"area-weighted mean"}},
		{"smoothgrad named", []string{"--method", "vargrad", "--noise-samples", "4", "--target", "spg"}, []string{"spg"}},
		{"occlusion", []string{"--method", "occlusion", "--occlude", "block:8x12", "--target", "45,-40"}, []string{"occlude=block:8x12"}},
		{"lrp", []string{"--method", "lrp-epsilon", "--epsilon", "0.01", "--target", "45,-40"}, []string{"completeness:"}},
		{"backopt", []string{"--method", "backopt", "--iters", "5", "--target", "45,-40"}, []string{"objective:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".nc")
			var stdout, stderr bytes.Buffer
			args := append([]string{"--card", card, "--data", data, "--init", "0004-02", "--lead", "1",
				"--out", out, "--device", "cpu", "--threads", "1"}, tc.args...)
			if err := cmdExplain(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			for _, s := range tc.says {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			a, err := dataset.ReadAttribution(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Lags) != 36 || a.Lags[0] != 0 || a.Lags[35] != 35 || a.Grid.NLat() != 35 || a.Grid.NLon() != 63 {
				t.Fatalf("layout: lags %v, grid %dx%d", a.Lags, a.Grid.NLat(), a.Grid.NLon())
			}
			m := a.Meta
			sha, _ := fileSHA256(filepath.Join("inference", "testdata", "tiny.onnx"))
			if m.Method == "" || m.Init != "0004-02" || m.Lead != 1 || m.ModelSHA256 != sha || m.DataFile != data ||
				m.Target == "" || m.Other["device"] == "" || m.Other["duration_seconds"] == "" || m.Version == "" {
				t.Errorf("metadata %+v", m)
			}
			if strings.HasPrefix(tc.name, "ig") || tc.name == "lrp" {
				if _, err := strconv.ParseFloat(m.Other["completeness_delta"], 64); err != nil {
					t.Errorf("completeness_delta %q", m.Other["completeness_delta"])
				}
			}
			// Land is NaN; the synthetic data have land in the west of the grid.
			nan, finite := 0, 0
			for _, v := range a.Values {
				if math.IsNaN(float64(v)) {
					nan++
				} else {
					finite++
				}
			}
			if nan == 0 || finite == 0 || nan%36 != 0 {
				t.Errorf("%d NaN and %d finite values", nan, finite)
			}
		})
	}
}

func TestExplainJSON(t *testing.T) {
	card, data := predictFixture(t)
	out := filepath.Join(t.TempDir(), "a.nc")
	var stdout, stderr bytes.Buffer
	err := cmdExplain(context.Background(), []string{"--card", card, "--data", data, "--init", "0004-02", "--lead", "6",
		"--target", "45,-40", "--method", "ig", "--steps", "8", "--quadrature", "gausslegendre", "--out", out, "--json", "--threads", "1"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var got struct {
		Method, Parameters, Device string
		Lead                       int
		Completeness               struct{ Relative float64 }
		TopLags                    []struct{ Lag int } `json:"top_lags"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if got.Method != "ig" || got.Lead != 6 || !strings.Contains(got.Parameters, "quadrature=gausslegendre") ||
		len(got.TopLags) != 5 || got.Completeness.Relative > 1e-3 || got.Device == "" {
		t.Errorf("%+v", got)
	}
}

func TestExplainErrors(t *testing.T) {
	card, data := predictFixture(t)
	out := filepath.Join(t.TempDir(), "a.nc")
	base := []string{"--card", card, "--data", data, "--init", "0004-02", "--lead", "1", "--out", out, "--target", "45,-40"}
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		says  string
	}{
		{"missing target", []string{"--card", card, "--data", data, "--init", "0004-02", "--out", out}, true, "required"},
		{"unknown method", append(base, "--method", "gradcam"), true, "unknown attribution method"},
		{"flag of another method", append(base, "--method", "saliency", "--steps", "8"), true, "--steps not used by --method saliency"},
		{"bad quadrature", append(base, "--method", "ig", "--quadrature", "simpson"), true, "riemann, gausslegendre or adaptive"},
		{"bad steps", append(base, "--method", "ig", "--steps", "1"), true, "steps = 1"},
		{"bad occlusion", append(base, "--method", "occlusion", "--occlude", "patch:0"), true, "patch:K"},
		{"bad baseline", append(base, "--method", "ig", "--baseline", "mean:lag"), true, "mean:time"},
		{"bad init", append(base[:len(base):len(base)], "--init", "2000-13"), true, "YYYY-MM"},
		{"missing baseline file", append(base, "--method", "ig", "--baseline", "nothere.nc"), false, "nothere.nc"},
		{"land target", append(base[:len(base):len(base)], "--target", "40,-98"), false, "nearest ocean cell"},
		{"missing data", []string{"--card", card, "--data", "nothere.nc", "--init", "0004-02", "--lead", "1", "--out", out, "--target", "45,-40"}, false, "nothere.nc"},
		{"lead not in card", append(base[:len(base):len(base)], "--lead", "3"), false, "pass --lead with one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := cmdExplain(context.Background(), tc.args, &stdout, &stderr)
			var ue *app.UsageError
			if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v (usage error: %v); want usage %v saying %q", err, errors.As(err, &ue), tc.usage, tc.says)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed explain wrote its output")
	}
}

// TestExplainCustomBaseline: a result file (here backwards optimisation's optimal input) serves
// as IG's baseline, and completeness holds against it.
func TestExplainCustomBaseline(t *testing.T) {
	card, data := predictFixture(t)
	dir := t.TempDir()
	common := []string{"--card", card, "--data", data, "--init", "0004-02", "--lead", "1", "--target", "45,-40", "--threads", "1"}
	base := filepath.Join(dir, "opt.nc")
	var stdout, stderr bytes.Buffer
	if err := cmdExplain(context.Background(), append(common, "--method", "backopt", "--iters", "3", "--out", base), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	stdout.Reset()
	out := filepath.Join(dir, "ig.nc")
	if err := cmdExplain(context.Background(), append(common, "--method", "ig", "--steps", "4", "--baseline", base, "--out", out, "--json"), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var got struct {
		Parameters   string
		Completeness struct{ Expected, Relative float64 }
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Parameters, "baseline=file:"+base) || got.Completeness.Expected == 0 || got.Completeness.Relative > 1e-3 {
		t.Errorf("%+v", got)
	}
}

// TestExplainMeanBaselines: --baseline mean, mean:time and mean:space reach IG, are named in the
// result's parameters, and each compares the input with another field (f(x) - f(b) differs).
func TestExplainMeanBaselines(t *testing.T) {
	card, data := predictFixture(t)
	dir := t.TempDir()
	common := []string{"--card", card, "--data", data, "--init", "0004-02", "--lead", "1", "--target", "45,-40", "--threads", "1",
		"--method", "ig", "--steps", "4", "--json"}
	seen := map[float64]string{}
	for _, b := range []string{"zero", "mean", "mean:time", "mean:space"} {
		var stdout, stderr bytes.Buffer
		out := filepath.Join(dir, strings.ReplaceAll(b, ":", "_")+".nc")
		if err := cmdExplain(context.Background(), append(common, "--baseline", b, "--out", out), &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v\n%s", b, err, stderr.String())
		}
		var got struct {
			Parameters   string
			Completeness struct{ Expected, Relative float64 }
		}
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.Parameters, "baseline="+b+" ") && !strings.HasSuffix(got.Parameters, "baseline="+b) {
			t.Errorf("%s: parameters %q", b, got.Parameters)
		}
		if got.Completeness.Relative > 1e-3 {
			t.Errorf("%s: completeness off by %.3g%%", b, 100*got.Completeness.Relative)
		}
		if prev, ok := seen[got.Completeness.Expected]; ok {
			t.Errorf("%s and %s give the same f(x) - f(b) = %g", prev, b, got.Completeness.Expected)
		}
		seen[got.Completeness.Expected] = b
	}
}
