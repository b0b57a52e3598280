package backward

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"climxai/onnx"
)

// directionalTol bounds |<grad, v> - (L(x+hv) - L(x-hv)) / 2h| / |<grad, v>| on the full-width
// reference emulators: float32 round-off through ~40 layers and ReLU kinks crossed by the step
// make the finite difference itself uncertain at the 1e-3 level.
const directionalTol = 1e-2

// TestReferenceEmulatorsDirectionalDerivative builds the backward graph of the full-width
// reference DenseNets (random weights, written by tools/emulator for the inference tests),
// checks that the backward model's y equals the PyTorch golden output, and compares the
// gradient's directional derivative along random directions with a central finite difference.
func TestReferenceEmulatorsDirectionalDerivative(t *testing.T) {
	if testing.Short() {
		t.Skip("full-width emulators in -short mode")
	}
	for _, name := range []string{"golden2deg", "golden1deg"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "inference", "testdata")
			b, err := os.ReadFile(filepath.Join(dir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				Model  string      `json:"model"`
				Input  goldenArray `json:"input"`
				Output goldenArray `json:"output"`
			}
			if err := json.Unmarshal(b, &meta); err != nil {
				t.Fatal(err)
			}
			m, err := onnx.Load(filepath.Join(dir, meta.Model))
			if err != nil {
				t.Fatal(err)
			}
			bm, err := Build(m, Options{})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			x, wantY := readF32(t, dir, meta.Input), readF32(t, dir, meta.Output)
			rng := rand.New(rand.NewPCG(5, 6))
			// One-hot seeds (a cell target, as saliency uses), a different cell per sample.
			seed := tensor{shape: wantY.shape, data: make([]float32, len(wantY.data))}
			per := len(seed.data) / int(seed.shape[0])
			for k := 0; k < int(seed.shape[0]); k++ {
				seed.data[k*per+rng.IntN(per)] = 1
			}
			bwd := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"})
			out, err := bwd.run(x, seed)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(out[0].data, wantY.data); e > goldenTol {
				t.Errorf("y differs from PyTorch's by %.3g relative", e)
			}
			fwd := newSession(t, m, []string{"x"}, []string{"y"})
			loss := seededLoss(t, fwd, x.shape, seed.data)
			const h = 1e-2
			// Directions along the signs of the largest gradient elements, a few hundred at a
			// time: the network is piecewise linear (Conv, BatchNorm, ReLU, Concat, nearest
			// Resize) and so small a perturbation seldom crosses a ReLU kink, so the central
			// difference is exact up to float32 round-off.
			order := make([]int, len(x.data))
			for i := range order {
				order[i] = i
			}
			sort.Slice(order, func(i, j int) bool {
				return math.Abs(float64(out[1].data[order[i]])) > math.Abs(float64(out[1].data[order[j]]))
			})
			for k := 0; k < 3; k++ {
				xp, xm := append([]float32{}, x.data...), append([]float32{}, x.data...)
				var dot float64
				for _, i := range order[k*200 : (k+1)*200] {
					v := math.Copysign(1, float64(out[1].data[i]))
					xp[i], xm[i] = xp[i]+float32(h*v), xm[i]-float32(h*v)
					dot += v * float64(out[1].data[i])
				}
				fd := (loss(xp) - loss(xm)) / (2 * h)
				e := math.Abs(fd-dot) / math.Abs(dot)
				t.Logf("direction %d: <grad, v> = %.6g, finite difference %.6g, relative difference %.2g", k, dot, fd, e)
				if e > directionalTol {
					t.Errorf("direction %d: <grad, v> = %.6g, finite difference %.6g", k, dot, fd)
				}
			}
		})
	}
}
