package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"climxai/app"
	"climxai/dataset/netcdf"
	"climxai/inference"
)

// readNCVar reads a double variable of a file written by app.WriteTableNC.
func readNCVar(t *testing.T, path, name string) []float64 {
	t.Helper()
	f, err := netcdf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.Var(name)
	if err != nil {
		t.Fatal(err)
	}
	x, err := v.ReadFloat64(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestAblateEndToEnd runs ablate on the tiny card over five synthetic years (one test year)
// and checks the file's layout and the summary's consistency: an infinite radius and all 36
// months are the full input.
func TestAblateEndToEnd(t *testing.T) {
	if _, err := inference.FindLibrary(); err != nil {
		t.Fatal(err)
	}
	card, data := predictFixture(t)
	out := filepath.Join(t.TempDir(), "abl.nc")
	var stdout, stderr bytes.Buffer
	err := cmdAblate(context.Background(), []string{"--card", card, "--data", data, "--lead", "1", "--target", "45,-40",
		"--radii", "0,500,inf", "--lags", "1,12,36", "--out", out, "--json", "--device", "cpu", "--threads", "1"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var sum struct {
		Samples     int `json:"samples"`
		Full        struct{ Corr, R2 float64 }
		Persistence struct{ Corr float64 }
		Radius      []struct {
			RadiusKm  any     `json:"radius_km"`
			CellsKept int     `json:"cells_kept"`
			Corr      float64 `json:"corr"`
		}
		Lag []struct {
			Lag  int     `json:"lag"`
			Corr float64 `json:"corr"`
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if sum.Samples != 12 || len(sum.Radius) != 3 || len(sum.Lag) != 3 || sum.Radius[2].RadiusKm != "inf" || sum.Radius[0].CellsKept != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Radius[2].Corr != sum.Full.Corr || sum.Lag[2].Corr != sum.Full.Corr || !(sum.Full.Corr >= -1 && sum.Full.Corr <= 1) {
		t.Errorf("inf radius %g, 36 lags %g, full %g", sum.Radius[2].Corr, sum.Lag[2].Corr, sum.Full.Corr)
	}
	radius := readNCVar(t, out, "radius")
	if len(radius) != 3 || radius[0] != 0 || radius[1] != 500 || radius[2] != app.RadiusInfKm {
		t.Errorf("radius %v", radius)
	}
	if lag := readNCVar(t, out, "lag"); len(lag) != 3 || lag[0] != 1 || lag[2] != 36 {
		t.Errorf("lag %v", lag)
	}
	corr := readNCVar(t, out, "corr_radius")
	full := readNCVar(t, out, "full_corr")
	if math.Abs(corr[2]-full[0]) > 1e-12 || math.Abs(full[0]-sum.Full.Corr) > 1e-12 {
		t.Errorf("corr_radius %v, full_corr %v", corr, full)
	}
	for _, name := range []string{"rmse_radius", "r2_radius", "corr_lag", "rmse_lag", "r2_lag", "persistence_corr", "persistence_rmse", "persistence_r2", "cells_kept_radius"} {
		readNCVar(t, out, name)
	}

	// Text output and --samples N.
	stdout.Reset()
	err = cmdAblate(context.Background(), []string{"--card", card, "--data", data, "--lead", "1", "--target", "spg",
		"--samples", "4", "--out", out, "--device", "cpu", "--threads", "1"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, s := range []string{"over 4 samples", "persistence", "within 0 km", "within inf km", "last 12 months", "wrote"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
		}
	}
}

// TestAblateUsage: malformed flags are usage errors (exit status 2).
func TestAblateUsage(t *testing.T) {
	card, data := predictFixture(t)
	base := []string{"--card", card, "--data", data, "--lead", "1", "--target", "45,-40", "--out", filepath.Join(t.TempDir(), "a.nc")}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"missing out", []string{"--card", card, "--data", data, "--target", "45,-40"}},
		{"bad radius", append(base, "--radii", "0,-5")},
		{"bad lag", append(base, "--lags", "0")},
		{"lag beyond the input", append(base, "--lags", "37")},
		{"bad samples", append(base, "--samples", "some")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := cmdAblate(context.Background(), tc.args, &stdout, &stderr)
			var ue *app.UsageError
			if !errors.As(err, &ue) {
				t.Errorf("error %v, want a usage error", err)
			}
		})
	}
}

// TestAblateLinearTruth: on an emulator that is the truth's linear predictor (coefficients 0
// beyond the truth's 300 km neighbourhood), keeping 320 km around the target gives exactly the
// full input's forecasts, while keeping the target cell alone does not.
func TestAblateLinearTruth(t *testing.T) {
	card, data, _ := fidelityFixture(t)
	var stdout, stderr bytes.Buffer
	err := cmdAblate(context.Background(), []string{"--card", card, "--data", data, "--target", "45,-40",
		"--radii", "0,320", "--lags", "36", "--samples", "all", "--out", filepath.Join(t.TempDir(), "a.nc"), "--json",
		"--device", "cpu", "--threads", "1"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var sum struct {
		Samples int
		Full    struct{ Corr, R2 float64 }
		Radius  []struct {
			Corr float64 `json:"corr"`
			R2   float64 `json:"r2"`
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d samples: full corr %.4f R² %.4f; target cell only %.4f; within 320 km %.4f", sum.Samples, sum.Full.Corr, sum.Full.R2, sum.Radius[0].Corr, sum.Radius[1].Corr)
	if math.Abs(sum.Radius[1].Corr-sum.Full.Corr) > 1e-6 || math.Abs(sum.Radius[1].R2-sum.Full.R2) > 1e-6 {
		t.Errorf("within 320 km: corr %.8f R² %.8f, full %.8f %.8f", sum.Radius[1].Corr, sum.Radius[1].R2, sum.Full.Corr, sum.Full.R2)
	}
	if math.Abs(sum.Radius[0].Corr-sum.Full.Corr) < 1e-4 {
		t.Errorf("the target cell alone gives the full skill %.6f", sum.Full.Corr)
	}
}
