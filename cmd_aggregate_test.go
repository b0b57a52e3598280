package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"climxai/app"
	"climxai/dataset"
)

// runVerb runs a verb and fails the test on an error.
func runVerb(t *testing.T, verb func(context.Context, []string, io.Writer, io.Writer) error, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := verb(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return stdout.String()
}

// TestAggregateShardsMergeEndToEnd: three shards of an aggregation, merged, equal the unsharded
// run to 1e-6 (relative to the largest value) in every variable, for a batched method
// (saliency) and a per-sample one (lrp-epsilon).
func TestAggregateShardsMergeEndToEnd(t *testing.T) {
	card, data := predictFixture(t)
	dir := t.TempDir()
	for _, method := range [][]string{{"--method", "saliency"}, {"--method", "lrp-epsilon", "--epsilon", "0.01"}} {
		t.Run(method[1], func(t *testing.T) {
			base := append([]string{"--card", card, "--data", data, "--lead", "1", "--target", "45,-40", "--samples", "all",
				"--device", "cpu", "--threads", "1"}, method...)
			whole := filepath.Join(dir, method[1]+"_whole.nc")
			text := runVerb(t, cmdAggregate, append(base, "--out", whole)...)
			if !strings.Contains(text, "samples: 24 (all)") || !strings.Contains(text, "wrote") {
				t.Errorf("stdout:\n%s", text)
			}
			var parts []string
			for _, sh := range []string{"1/3", "2/3", "3/3"} {
				p := filepath.Join(dir, method[1]+"_part"+sh[:1]+".nc")
				runVerb(t, cmdAggregate, append(base, "--shard", sh, "--out", p, "--json")...)
				parts = append(parts, p)
			}
			merged := filepath.Join(dir, method[1]+"_merged.nc")
			runVerb(t, cmdMerge, append(parts, "--out", merged)...)
			a, err := dataset.ReadAttribution(whole)
			if err != nil {
				t.Fatal(err)
			}
			b, err := dataset.ReadAttribution(merged)
			if err != nil {
				t.Fatal(err)
			}
			if a.Meta.Samples != 24 || b.Meta.Samples != 24 || b.Meta.Other["shard"] != "" || b.Meta.Other["shards_merged"] != "3" {
				t.Fatalf("samples %d and %d, merged meta %v", a.Meta.Samples, b.Meta.Samples, b.Meta.Other)
			}
			fields := func(f *dataset.AttributionFile) map[string][]float32 {
				m := map[string][]float32{"attribution": f.Values}
				for _, e := range f.Extra {
					m[e.Name] = e.Values
				}
				return m
			}
			fa, fb := fields(a), fields(b)
			for _, name := range []string{"attribution", "signed_mean", "std", "signed_std", "sum_abs", "sum_signed", "sum_sq"} {
				va, vb := fa[name], fb[name]
				if va == nil || len(va) != len(vb) {
					t.Fatalf("%s: %d and %d values", name, len(va), len(vb))
				}
				// Spreads are compared on the attribution's scale: where the true spread is
				// nil (the tiny model is linear, so saliency is the same for every sample)
				// they are rounding noise.
				scale, worst := maxAbs(fa["attribution"]), 0.0
				for i := range va {
					if math.IsNaN(float64(va[i])) != math.IsNaN(float64(vb[i])) {
						t.Fatalf("%s: land differs at %d", name, i)
					}
					if va[i] == va[i] {
						scale = math.Max(scale, math.Abs(float64(va[i])))
						worst = math.Max(worst, math.Abs(float64(va[i])-float64(vb[i])))
					}
				}
				if !(scale > 0) || worst > 1e-6*scale {
					t.Errorf("%s: merged shards differ by %g (scale %g)", name, worst, scale)
				}
			}
			var total float64
			for _, v := range a.Values {
				if v == v {
					total += float64(v)
				}
			}
			if math.Abs(total-1) > 1e-4 {
				t.Errorf("mean normalised |attribution| sums to %g, want 1", total)
			}
		})
	}
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		if x == x {
			m = math.Max(m, math.Abs(float64(x)))
		}
	}
	return m
}

func TestAggregateJSONAndSamples(t *testing.T) {
	card, data := predictFixture(t)
	out := filepath.Join(t.TempDir(), "a.nc")
	text := runVerb(t, cmdAggregate, "--card", card, "--data", data, "--lead", "6", "--target", "spg", "--method", "ixg",
		"--samples", "test:5", "--out", out, "--json", "--threads", "1")
	var got struct {
		Samples       int
		SampleSet     string    `json:"sample_set"`
		LagImportance []float64 `json:"lag_importance"`
		Method        string
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if got.Samples != 5 || !strings.HasPrefix(got.SampleSet, "5 evenly spaced of") || len(got.LagImportance) != 36 || got.Method != "ixg" {
		t.Errorf("%+v", got)
	}
}

// TestSampleSelection: N evenly spaced, subsets and shards.
func TestSampleSelection(t *testing.T) {
	inits := make([]dataset.Month, 10)
	for i := range inits {
		inits[i] = dataset.Month(100 + i)
	}
	sh, err := parseShard("2/3")
	if err != nil {
		t.Fatal(err)
	}
	if got := sh.pick(inits); len(got) != 3 || got[0] != 101 || got[1] != 104 || got[2] != 107 {
		t.Errorf("shard 2/3 picked %v", got)
	}
	for _, bad := range []string{"0/3", "4/3", "3", "a/b", "1/0"} {
		if _, err := parseShard(bad); err == nil {
			t.Errorf("shard %q accepted", bad)
		}
	}
	for _, c := range []struct {
		s   string
		sub dataset.Subset
		n   int
	}{{"train", dataset.SubsetTrain, 0}, {"12", dataset.SubsetAll, 12}, {"test:24", dataset.SubsetTest, 24}, {"all:3", dataset.SubsetAll, 3}} {
		sp, err := parseSampleSpec(c.s)
		if err != nil || sp.Sub != c.sub || sp.N != c.n {
			t.Errorf("%q: %+v %v", c.s, sp, err)
		}
	}
	for _, bad := range []string{"0", "-3", "val", "test:x", "test:0"} {
		if _, err := parseSampleSpec(bad); err == nil {
			t.Errorf("samples %q accepted", bad)
		}
	}
}

func TestAggregateMergeErrors(t *testing.T) {
	card, data := predictFixture(t)
	dir := t.TempDir()
	base := []string{"--card", card, "--data", data, "--lead", "1", "--target", "45,-40", "--samples", "6", "--threads", "1"}
	p1, p2, other := filepath.Join(dir, "p1.nc"), filepath.Join(dir, "p2.nc"), filepath.Join(dir, "o.nc")
	runVerb(t, cmdAggregate, append(base, "--shard", "1/3", "--out", p1)...)
	runVerb(t, cmdAggregate, append(base, "--shard", "2/3", "--out", p2)...)
	runVerb(t, cmdAggregate, append(base[:len(base):len(base)], "--method", "ixg", "--shard", "3/3", "--out", other)...)
	out := filepath.Join(dir, "m.nc")
	for _, tc := range []struct {
		name  string
		verb  func(context.Context, []string, io.Writer, io.Writer) error
		args  []string
		usage bool
		says  string
	}{
		{"bad shard", cmdAggregate, append(base, "--shard", "4/3", "--out", out), true, "1 <= i <= n"},
		{"bad samples", cmdAggregate, append(base[:len(base):len(base)], "--samples", "most", "--out", out), true, "SET:N"},
		{"flag of another method", cmdAggregate, append(base, "--steps", "8", "--out", out), true, "--steps not used by --method saliency"},
		{"missing target", cmdAggregate, []string{"--card", card, "--data", data, "--out", out}, true, "required"},
		{"empty shard", cmdAggregate, append(base[:len(base):len(base)], "--samples", "2", "--shard", "3/3", "--out", out), false, "empty"},
		{"missing shard", cmdMerge, []string{p1, p2, "--out", out}, false, "shards 3/3 are missing"},
		{"duplicate shard", cmdMerge, []string{p1, p1, p2, "--out", out}, false, "count twice"},
		{"other method", cmdMerge, []string{p1, p2, other, "--out", out}, false, "has method"},
		{"not an aggregate", cmdMerge, []string{data, "--out", out}, false, "attribution"},
		{"no parts", cmdMerge, []string{"--out", out}, true, "part files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := tc.verb(context.Background(), tc.args, &stdout, &stderr)
			var ue *app.UsageError
			if err == nil || errors.As(err, &ue) != tc.usage || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v (usage error: %v); want usage %v saying %q", err, errors.As(err, &ue), tc.usage, tc.says)
			}
		})
	}
	// --partial merges what is there and says what is missing.
	runVerb(t, cmdMerge, p1, p2, "--partial", "--out", out)
	a, err := dataset.ReadAttribution(out)
	if err != nil {
		t.Fatal(err)
	}
	if a.Meta.Samples != 4 || a.Meta.Other["shards_missing"] != "3/3" {
		t.Errorf("partial merge: %d samples, missing %q", a.Meta.Samples, a.Meta.Other["shards_missing"])
	}
}

// TestAggregateCancelled: a cancelled run (Ctrl-C) stops and leaves no output file.
func TestAggregateCancelled(t *testing.T) {
	card, data := predictFixture(t)
	out := filepath.Join(t.TempDir(), "a.nc")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	err := cmdAggregate(ctx, []string{"--card", card, "--data", data, "--lead", "1", "--target", "45,-40", "--samples", "all",
		"--out", out, "--threads", "1"}, &stdout, &stderr)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if fileExists(out) {
		t.Error("a cancelled aggregate wrote its output")
	}
}
