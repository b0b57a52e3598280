package inference

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/dataset"
)

// golden is a PyTorch input/output pair written by tools/emulator/export.py (write_golden):
// raw little-endian float32 arrays with a JSON sidecar.
type golden struct {
	Model  string `json:"model"`
	Input  goldenArray
	Output goldenArray
	Torch  string   `json:"torch"`
	Data   string   `json:"data"`  // train.py: the NetCDF file the samples come from
	Inits  []string `json:"inits"` // train.py: their init months, YYYY-MM
}

type goldenArray struct {
	File  string `json:"file"`
	Shape []int  `json:"shape"`
	data  []float32
}

func readGolden(t testing.TB, dir, name string) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatalf("%v (regenerate: /usr/bin/python3 tools/emulator/make_testdata.py inference/testdata)", err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*goldenArray{&g.Input, &g.Output} {
		raw, err := os.ReadFile(filepath.Join(dir, a.File))
		if err != nil {
			t.Fatal(err)
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if len(raw) != 4*n {
			t.Fatalf("%s: %d bytes for shape %v", a.File, len(raw), a.Shape)
		}
		a.data = make([]float32, n)
		for i := range a.data {
			a.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	return g
}

// maxRelErr is max |got - want| / max |want|: the error relative to the output's scale (a
// per-element relative error is meaningless where outputs cross zero).
func maxRelErr(got, want []float32) float64 {
	var maxErr, scale float64
	for i := range want {
		maxErr = max(maxErr, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	return maxErr / scale
}

// TestGolden checks that ONNX Runtime reproduces PyTorch's outputs of the reference DenseNet
// (random weights, randomised BatchNorm statistics) on the 2- and 1-degree grids to 1e-4, as a
// batch and sample by sample.
func TestGolden(t *testing.T) {
	rt := testRuntime(t)
	for _, name := range []string{"golden2deg", "golden1deg"} {
		t.Run(name, func(t *testing.T) {
			g := readGolden(t, "testdata", name)
			m, err := rt.Open(ModelSpec{Path: filepath.Join("testdata", g.Model), Input: "x", Output: "y",
				Months: 36, NLat: g.Input.Shape[2], NLon: g.Input.Shape[3]}, Options{Device: CPU, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			n := g.Input.Shape[0]
			got, err := m.Run(context.Background(), g.Input.data, n)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxRelErr(got, g.Output.data); e > 1e-4 {
				t.Errorf("batch of %d: max error %.3g of the output scale, want <= 1e-4", n, e)
			} else {
				t.Logf("batch of %d: max error %.3g of the output scale (PyTorch %s)", n, e, g.Torch)
			}
			s, o := m.SampleLen(), len(got)/n
			for i := range n {
				one, err := m.Run(context.Background(), g.Input.data[i*s:(i+1)*s], 1)
				if err != nil {
					t.Fatal(err)
				}
				if e := maxRelErr(one, g.Output.data[i*o:(i+1)*o]); e > 1e-4 {
					t.Errorf("sample %d alone: max error %.3g, want <= 1e-4", i, e)
				}
			}
		})
	}
}

// TestEmulatorGoldens checks trained emulator directories written by tools/emulator/train.py
// (card.toml, leadLL.onnx, goldenLL.*): the card validates against its models, and each model
// reproduces PyTorch's outputs to 1e-4. It covers the demo emulators under resources/emulators
// when they exist, and any directories listed in CLIMXAI_TEST_EMULATORS (a path list), e.g. the
// output of `train.py --smoke`.
func TestEmulatorGoldens(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "resources", "emulators", "*"))
	if env := os.Getenv("CLIMXAI_TEST_EMULATORS"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	}
	rt := testRuntime(t)
	tested := 0
	for _, dir := range dirs {
		cardPath := filepath.Join(dir, "card.toml")
		if _, err := os.Stat(cardPath); err != nil {
			continue
		}
		tested++
		t.Run(dir, func(t *testing.T) {
			c, err := LoadCard(cardPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.ValidateModels(); err != nil {
				t.Fatal(err)
			}
			for _, cm := range c.Models {
				name := strings.Replace(filepath.Base(cm.File), "lead", "golden", 1)
				name = strings.TrimSuffix(name, ".onnx")
				if _, err := os.Stat(filepath.Join(dir, name+".json")); err != nil {
					t.Errorf("lead %d: no golden file %s.json", cm.Lead, name)
					continue
				}
				g := readGolden(t, dir, name)
				checkPreprocessing(t, c, g)
				m, err := rt.Open(c.Spec(cm), Options{Device: CPU})
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.Run(context.Background(), g.Input.data, g.Input.Shape[0])
				if err != nil {
					t.Fatal(err)
				}
				if region := m.Signature().Region; region != nil {
					// An index emulator's goldens hold the index [N, 1]; its field holds it at
					// every cell of the region.
					k, cells := slices.Index(region, true), len(region)
					for i := range g.Input.Shape[0] {
						got[i] = got[i*cells+k]
					}
					got = got[:g.Input.Shape[0]]
				}
				if e := maxRelErr(got, g.Output.data); e > 1e-4 {
					t.Errorf("lead %d: max error %.3g of the output scale, want <= 1e-4", cm.Lead, e)
				}
			}
		})
	}
	if tested == 0 {
		t.Skip("no emulator directories (resources/emulators/* or CLIMXAI_TEST_EMULATORS)")
	}
}

// checkPreprocessing compares train.py's golden inputs with dataset.Prepare's windows of the same
// file and init months under the card's preprocessing: the emulator must see in climxai exactly
// what it saw in training. Skipped when the data file is not on this machine.
func checkPreprocessing(t *testing.T, c *Card, g golden) {
	t.Helper()
	if g.Data == "" || len(g.Inits) == 0 {
		return
	}
	if _, err := os.Stat(g.Data); err != nil {
		t.Logf("training data %s not here; preprocessing not compared", g.Data)
		return
	}
	s, err := dataset.Open(g.Data, dataset.OpenOptions{Var: c.Variable})
	if err != nil {
		t.Fatal(err)
	}
	p, err := dataset.Prepare(s, c.Grid, c.Preprocess)
	if err != nil {
		t.Fatal(err)
	}
	n := c.InputMonths * c.Grid.NLat * c.Grid.NLon
	for i, init := range g.Inits {
		m, err := dataset.ParseMonth(init)
		if err != nil {
			t.Fatal(err)
		}
		w := make([]float32, n)
		if err := p.Window(m, c.InputMonths, w); err != nil {
			t.Fatal(err)
		}
		e := maxRelErr(w, g.Input.data[i*n:(i+1)*n])
		t.Logf("init %s: preprocessing matches train.py to %.3g", init, e)
		if e > 1e-5 {
			t.Errorf("init %s: climxai's preprocessing differs from train.py's by %.3g of the input scale", init, e)
		}
	}
}
