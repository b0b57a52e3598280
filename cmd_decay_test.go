package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/dataset/synth"
)

// TestDecayKnownAggregate: an aggregate file written by hand with an exact exponential decay
// over lags (e-folding 4 months) concentrated on the target cell and a ring gives the exact
// e-folding time with a zero-width interval, and R50/R90 from the exact distances.
func TestDecayKnownAggregate(t *testing.T) {
	g := dataset.GridSpec{LatStart: 30, LatStep: 1, NLat: 21, LonStart: -50, LonStep: 1, NLon: 21}
	grid := g.Grid()
	n := g.NLat * g.NLon
	const lags = 36
	vals := make([]float32, lags*n)
	for k := range lags {
		w := math.Exp(-float64(k) / 4)
		vals[k*n+10*g.NLon+10] = float32(0.6 * w) // the target, 40°N 40°W
		vals[k*n+10*g.NLon+15] = float32(0.4 * w) // 5° east of it
	}
	vals[3] = float32(math.NaN()) // a land cell
	path := filepath.Join(t.TempDir(), "agg.nc")
	err := dataset.WriteAttribution(path, &dataset.AttributionFile{Grid: grid, Lags: seq(lags), Values: vals,
		Meta: dataset.AttributionMeta{Method: "saliency", Target: "40,-40", Lead: 6, Samples: 10, Other: map[string]string{}}})
	if err != nil {
		t.Fatal(err)
	}
	text := runVerb(t, cmdDecay, path, "--json")
	var got struct {
		Rows []struct {
			Lead          int
			Efold, Lo, Hi float64
			R50           float64   `json:"r50_km"`
			R90           float64   `json:"r90_km"`
			R50Uniform    float64   `json:"r50_uniform_km"`
			R90Uniform    float64   `json:"r90_uniform_km"`
			MaxKm         float64   `json:"max_distance_km"`
			LagImportance []float64 `json:"lag_importance"`
			Cumulative    []float64 `json:"distance_cumulative"`
		}
	}
	text = strings.NewReplacer(`"efold_months"`, `"efold"`, `"efold_lo"`, `"lo"`, `"efold_hi"`, `"hi"`).Replace(text)
	if err := json.Unmarshal([]byte(text), &got); err != nil || len(got.Rows) != 1 {
		t.Fatalf("%v\n%s", err, text)
	}
	r := got.Rows[0]
	d := 6371 * 5 * math.Pi / 180 * math.Cos(40*math.Pi/180) // ≈ along the parallel; haversine is slightly less
	if math.Abs(r.Efold-4) > 1e-4 || r.Hi-r.Lo > 1e-3 || r.Lead != 6 {
		t.Errorf("e-folding %g [%g, %g], want 4 with a zero-width interval (float32 storage)", r.Efold, r.Lo, r.Hi)
	}
	if r.R50 != 0 || math.Abs(r.R90-d) > 2 {
		t.Errorf("R50 %g R90 %g, want 0 and about %g", r.R50, r.R90, d)
	}
	// Uniform reference, literally: the smallest ocean-cell distance within which 50% / 90% of
	// the ocean cells lie (cell 3 is land).
	var dists []float64
	for i := range n {
		if i != 3 {
			dists = append(dists, attribution.DistanceKm(40, -40, grid.Lat[i/g.NLon], grid.Lon[i%g.NLon]))
		}
	}
	slices.Sort(dists)
	quantile := func(p float64) float64 { return dists[int(math.Ceil(p*float64(len(dists))))-1] }
	if math.Abs(r.R50Uniform-quantile(0.5)) > 1e-6 || math.Abs(r.R90Uniform-quantile(0.9)) > 1e-6 || math.Abs(r.MaxKm-dists[len(dists)-1]) > 1e-6 {
		t.Errorf("uniform R50 %g R90 %g max %g, want %g %g %g", r.R50Uniform, r.R90Uniform, r.MaxKm, quantile(0.5), quantile(0.9), dists[len(dists)-1])
	}
	if len(r.LagImportance) != lags || math.Abs(sum(r.LagImportance)-1) > 1e-9 || math.Abs(r.Cumulative[len(r.Cumulative)-1]-1) > 1e-9 {
		t.Errorf("curves: %v", r.LagImportance)
	}
	// Text: one row per file, the target found again from the target string (no target_lat).
	table := runVerb(t, cmdDecay, path, path)
	if strings.Count(table, "agg.nc") != 2 || !strings.Contains(table, "4.00") || !strings.Contains(table, "R90") {
		t.Errorf("table:\n%s", table)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}

// TestDecayOfAggregate runs decay on a real aggregate of the tiny card.
func TestDecayOfAggregate(t *testing.T) {
	card, data := predictFixture(t)
	dir := t.TempDir()
	var files []string
	for _, lead := range []string{"1", "6"} {
		p := filepath.Join(dir, "lead"+lead+".nc")
		runVerb(t, cmdAggregate, "--card", card, "--data", data, "--lead", lead, "--target", "45,-40", "--samples", "8", "--out", p, "--threads", "1")
		files = append(files, p)
	}
	table := runVerb(t, cmdDecay, files...)
	if !strings.Contains(table, "lead1.nc") || !strings.Contains(table, "lead6.nc") || !strings.Contains(table, "saliency") {
		t.Errorf("table:\n%s", table)
	}
	var stdout, stderr bytes.Buffer
	err := cmdDecay(context.Background(), []string{"--bin-km", "0", files[0]}, &stdout, &stderr)
	var ue *app.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("--bin-km 0: %v", err)
	}
	if err := cmdDecay(context.Background(), []string{data}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "attribution") {
		t.Errorf("not an aggregate: %v", err)
	}
}

// TestDecayTruth: a truth file written by hand whose coefficients decay exactly with e-folding
// times 2 and 5 months (leads 1 and 6) gives those times in rows of method "truth", one per
// target and lead, beside an aggregate's rows; without files it reports the truth alone.
func TestDecayTruth(t *testing.T) {
	g := dataset.GridSpec{LatStart: 30, LatStep: 1, NLat: 5, LonStart: -50, LonStep: 1, NLon: 6}
	grid := g.Grid()
	n := grid.Size()
	taus := []float64{2, 5}
	tr := &synth.Truth{Grid: grid, Requested: []synth.LatLon{{Lat: 32, Lon: -48}, {Lat: 33, Lon: -46}}, Targets: []synth.LatLon{{Lat: 32, Lon: -48}, {Lat: 33, Lon: -46}},
		TargetCells: []int{2*6 + 2, 3*6 + 4}, Leads: []int{1, 6}, RadiusKm: 200, Features: []int{1, 1},
		R2Test: make([]float64, 4), R2Train: make([]float64, 4)}
	for i := range tr.Targets {
		for _, tau := range taus {
			for k := range synth.Lags {
				slab := make([]float32, n)
				slab[tr.TargetCells[i]] = float32(-3 * math.Exp(-float64(k)/tau)) // signs must not matter
				slab[0] = float32(math.NaN())                                     // land
				tr.Coef = append(tr.Coef, slab...)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "truth.nc")
	if err := tr.WriteNetCDF(path, nil); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Rows []struct {
			Method, Target string
			Lead           int
			Efold          float64 `json:"efold_months"`
			R90            float64 `json:"r90_km"`
		}
	}
	if err := json.Unmarshal([]byte(runVerb(t, cmdDecay, "--truth", path, "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 4 {
		t.Fatalf("%d rows, want 2 targets x 2 leads", len(got.Rows))
	}
	for j, r := range got.Rows {
		tau := taus[j%2]
		if r.Method != "truth" || r.Lead != tr.Leads[j%2] || math.Abs(r.Efold-tau) > 1e-3*tau || r.R90 != 0 {
			t.Errorf("row %d: %+v, want lead %d, e-folding %g, R90 0", j, r, tr.Leads[j%2], tau)
		}
	}
	if got.Rows[2].Target != "33,-46" {
		t.Errorf("third row's target %q, want 33,-46", got.Rows[2].Target)
	}
	table := runVerb(t, cmdDecay, "--truth", path)
	if strings.Count(table, "truth.nc") != 4 || !strings.Contains(table, "5.00") {
		t.Errorf("table:\n%s", table)
	}
	var stdout, stderr bytes.Buffer
	if err := cmdDecay(context.Background(), []string{"--truth", path, "--variable", "tsub"}, &stdout, &stderr); !errors.As(err, new(*app.UsageError)) ||
		!strings.Contains(err.Error(), "synth --subsurface --truth") {
		t.Errorf("--variable tsub without a joint predictor: %v", err)
	}

	// A joint predictor from sst and tsub beside coef: --variable picks its block (e-folding 3
	// months for sst, 8 for tsub), no --variable keeps coef.
	joint := *tr
	joint.Vars, joint.Coef = []string{"sst", "tsub"}, nil
	for _, tau := range []float64{3, 8} {
		for i := range tr.Targets {
			for range tr.Leads {
				for k := range synth.Lags {
					slab := make([]float32, n)
					slab[tr.TargetCells[i]] = float32(math.Exp(-float64(k) / tau))
					slab[0] = float32(math.NaN())
					joint.Coef = append(joint.Coef, slab...)
				}
			}
		}
	}
	tr.Joint = &joint
	if err := tr.WriteNetCDF(path, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		variable string
		tau      []float64
		label    string
	}{{"sst", []float64{3, 3}, "sst (joint)"}, {"tsub", []float64{8, 8}, "tsub (joint)"}, {"", taus, ""}} {
		var got struct {
			Rows []struct {
				Variable string
				Efold    float64 `json:"efold_months"`
			}
		}
		args := []string{"--truth", path, "--json"}
		if tc.variable != "" {
			args = append(args, "--variable", tc.variable)
		}
		if err := json.Unmarshal([]byte(runVerb(t, cmdDecay, args...)), &got); err != nil || len(got.Rows) != 4 {
			t.Fatalf("--variable %q: %v, %d rows", tc.variable, err, len(got.Rows))
		}
		for j, r := range got.Rows {
			if tau := tc.tau[j%2]; math.Abs(r.Efold-tau) > 1e-3*tau || r.Variable != tc.label {
				t.Errorf("--variable %q row %d: e-folding %g (%q), want %g (%q)", tc.variable, j, r.Efold, r.Variable, tau, tc.label)
			}
		}
	}
	if err := cmdDecay(context.Background(), []string{"--truth", path, "--variable", "ohc"}, &stdout, &stderr); err == nil ||
		!strings.Contains(err.Error(), "joint predictor of sst, tsub") {
		t.Errorf("--variable ohc: %v", err)
	}
}
