package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"climxai/inference"
)

// TestExplainTransformer runs `climxai explain` with every gradient, LRP and DeepLIFT method on an
// emulator of another kind: the model zoo's vision transformer (attribution/backward/testdata,
// exported by torch.onnx at opset 17: 2 x 2 patches, attention written out and through
// nn.MultiheadAttention, LayerNorm, GELU), 4 input months on a 9 x 13 window of the North
// Atlantic, under a card of its own. The LRP composites pass attention, GELU and the layer norms
// by holding their gates constant (attribution/backward/gate.go; its numbers are checked against
// PyTorch in TestZooConservativeLRP); here the whole command must run and write a finite map, and
// DeepLIFT, whose rules split products, softmax and normalisations exactly, must sum to
// f(x) - f(reference).
func TestExplainTransformer(t *testing.T) {
	if _, err := inference.FindLibrary(); err != nil {
		t.Fatal(err)
	}
	_, data := predictFixture(t)
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join("attribution", "backward", "testdata", "zoo_vit.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vit.onnx"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(dir, "card.toml")
	if err := os.WriteFile(card, []byte(`name = "tiny vision transformer"
variable = "sst"
input_months = 4
channel_order = "oldest-first"
[grid]
lat_start = 41.0
lat_step = 2.0
nlat = 9
lon_start = -50.0
lon_step = 2.0
nlon = 13
[preprocess]
anomaly = "time-mean"
filter = "none"
scale_mean = 0.0
scale_std = 1.0
[[model]]
lead = 1
file = "vit.onnx"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"saliency", "ig", "deeplift", "lrp-epsilon", "lrp-zplus", "lrp-alpha1beta0",
		"lrp-alpha2beta1", "lrp-epsilon-plus", "lrp-epsilon-plus-flat"} {
		t.Run(method, func(t *testing.T) {
			out := filepath.Join(dir, method+".nc")
			sum, a, err := runExplain(t, []string{"--card", card, "--data", data, "--init", "0004-02", "--lead", "1", "--target", "49,-40",
				"--method", method, "--out", out, "--json", "--device", "cpu", "--threads", "1"}, out)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Lags) != 4 || a.Grid.NLat() != 9 || a.Grid.NLon() != 13 {
				t.Fatalf("layout: %d lags, %d x %d", len(a.Lags), a.Grid.NLat(), a.Grid.NLon())
			}
			nonzero := 0
			for _, v := range a.Values {
				if math.IsInf(float64(v), 0) {
					t.Fatalf("infinite relevance")
				}
				if v == v && v != 0 {
					nonzero++
				}
			}
			if nonzero < len(a.Values)/4 {
				t.Errorf("only %d of %d values are non-zero", nonzero, len(a.Values))
			}
			if c := sum.Completeness; c != nil {
				t.Logf("f(x) %.4g, Σ attribution %.4g, expected %.4g (%.2g%% off)", sum.Output, c.Sum, c.Expected, 100*c.Relative)
				if method == "deeplift" && !(math.Abs(c.Relative) < 1e-4) {
					t.Errorf("DeepLIFT sums to %.6g, not f(x) - f(reference) = %.6g", c.Sum, c.Expected)
				}
			}
		})
	}
}
