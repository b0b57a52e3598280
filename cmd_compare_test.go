package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"climxai/app"
	"climxai/dataset"
)

// TestCompare: compare explains one forecast with each method, writes a result file each with
// its provenance, and reports a symmetric agreement matrix with a unit diagonal; bad --methods
// are usage errors.
func TestCompare(t *testing.T) {
	card, data := predictFixture(t)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "cmp")
	common := []string{"--card", card, "--data", data, "--init", "0004-02", "--lead", "1", "--target", "45,-40", "--threads", "1"}
	var stdout, stderr bytes.Buffer
	args := append(append([]string{}, common...), "--methods", "saliency, ixg,ig", "--out", prefix, "--json", "--figure", filepath.Join(dir, "cmp.png"))
	if err := cmdCompare(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var got struct {
		Lead    int
		Methods []struct {
			Method, File string
			Spearman     []*float64
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if got.Lead != 1 || len(got.Methods) != 3 {
		t.Fatalf("%+v", got)
	}
	for i, m := range got.Methods {
		if want := []string{"saliency", "ixg", "ig"}[i]; m.Method != want || m.File != prefix+"-"+want+".nc" {
			t.Errorf("row %d: %s in %s", i, m.Method, m.File)
		}
		f, err := dataset.ReadAttribution(m.File)
		if err != nil {
			t.Fatal(err)
		}
		if f.Meta.Method != m.Method || f.Meta.Init != "0004-02" || f.Meta.Other["written_by"] != "climxai compare" {
			t.Errorf("%s: meta %+v", m.File, f.Meta)
		}
		for j, v := range m.Spearman {
			if v == nil || i == j && *v != 1 || *v != *got.Methods[j].Spearman[i] || *v < -1 || *v > 1 {
				t.Errorf("spearman[%d][%d] = %v", i, j, v)
			}
		}
	}
	if !strings.Contains(stderr.String(), "cmp.png") {
		t.Errorf("no figure reported: %s", stderr.String())
	}
	for _, tc := range []struct{ name, methods, says string }{
		{"one method", "saliency", "at least two"},
		{"unknown method", "saliency,gradcam", "unknown method"},
		{"twice", "ig,saliency,ig", "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, common...), "--methods", tc.methods, "--out", prefix)
			err := cmdCompare(context.Background(), args, &stdout, &stderr)
			var ue *app.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%v", err)
			}
		})
	}
}
