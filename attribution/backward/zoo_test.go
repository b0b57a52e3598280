package backward

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"climxai/onnx"
)

// zooEntry is one model of testdata/zoo.json (written by testdata/make_zoo.py).
type zooEntry struct {
	Name    string      `json:"name"`
	Model   string      `json:"model"`
	Weights int         `json:"weights"`
	Ops     []string    `json:"ops"`
	X       goldenArray `json:"x"`
	Seed    goldenArray `json:"seed"`
	Y       goldenArray `json:"y"`
	Grad    goldenArray `json:"grad"`
	// CP is x ⊙ ∂<seed, ỹ>/∂x for ỹ the model with its gates and normalisers detached
	// (conservative propagation), and Detached counts the detached functions torch called.
	CP       goldenArray    `json:"cp"`
	Detached map[string]int `json:"detached"`
}

// zooProves lists, per zoo model, the op types on its differentiated path whose backward steps
// its golden gradient checks: what the architecture is in the zoo for. A re-export that loses
// one of them fails the test rather than silently proving less.
var zooProves = map[string][]string{
	"unet":     {"InstanceNormalization", "Sigmoid", "MaxPool", "Resize", "ConvTranspose", "Pad", "Concat", "Reshape"},
	"resnet":   {"Pad", "Conv", "LeakyRelu", "Add", "DepthToSpace", "Slice", "Concat"},
	"vit":      {"Pad", "Gather", "MatMul", "Softmax", "LayerNormalization", "Erf", "Transpose", "Reshape", "Gemm", "Slice"},
	"convnext": {"Softplus", "Tanh", "ReduceMean", "Pow", "Sqrt", "Div", "LayerNormalization", "Erf", "HardSwish", "Resize"},
}

func readZoo(t *testing.T) []zooEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "zoo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Models []zooEntry `json:"models"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Models) != len(zooProves) {
		t.Fatalf("zoo.json has %d models, zooProves %d", len(idx.Models), len(zooProves))
	}
	return idx.Models
}

// pathOps returns the op types of the nodes that lie on a path from the input to the output.
func pathOps(g *Graph) []string {
	reaches := g.reachesOutput()
	set := map[string]bool{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if reaches[o] && g.Values[o].DependsOnInput {
				set[n.Op] = true
			}
		}
	}
	var ops []string
	for op := range set {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// TestZooMatchesPyTorchAutograd builds the backward graph of every zoo model (a U-Net, a ResNet,
// a vision transformer and a ConvNeXt, exported by torch.onnx at opset 17: testdata/make_zoo.py)
// and compares y and the input gradient for one-hot seeds with torch.autograd's, per sample.
func TestZooMatchesPyTorchAutograd(t *testing.T) {
	for _, z := range readZoo(t) {
		t.Run(z.Name, func(t *testing.T) {
			m, err := onnx.Load(filepath.Join("testdata", z.Model))
			if err != nil {
				t.Fatal(err)
			}
			g, err := NewGraph(m, "", "")
			if err != nil {
				t.Fatal(err)
			}
			ops := pathOps(g)
			for _, op := range zooProves[z.Name] {
				if !slices.Contains(ops, op) {
					t.Errorf("the model has no %s on its differentiated path (ops there: %v); re-export or update zooProves", op, ops)
				}
			}
			bm, err := BuildGraph(g, Options{})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			x, seed := readF32(t, "testdata", z.X), readF32(t, "testdata", z.Seed)
			wantY, wantGrad := readF32(t, "testdata", z.Y), readF32(t, "testdata", z.Grad)
			out, err := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"}).run(x, seed)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(out[1].shape) != fmt.Sprint(wantGrad.shape) {
				t.Fatalf("grad shape %v, want %v", out[1].shape, wantGrad.shape)
			}
			ey := relErr(out[0].data, wantY.data)
			if ey > goldenTol {
				t.Errorf("y differs from PyTorch's by %.3g relative", ey)
			}
			// Each sample's seed is one-hot at its own cell, so each sample's gradient is compared
			// on its own scale (no batch mixing, and a small map cannot hide behind a large one).
			per := len(x.data) / int(x.shape[0])
			worst := 0.0
			for k := 0; k < int(x.shape[0]); k++ {
				e := relErr(out[1].data[k*per:(k+1)*per], wantGrad.data[k*per:(k+1)*per])
				worst = max(worst, e)
				if e > goldenTol {
					t.Errorf("sample %d: grad differs from torch.autograd's by %.3g relative (tolerance %g)", k, e, goldenTol)
				}
			}
			t.Logf("%d weights, %d ops on the path: y %.2g, grad %.2g (max abs error / max |golden|)", z.Weights, len(ops), ey, worst)
		})
	}
}

// TestZooFiniteDifferences spot-checks the zoo's gradients without PyTorch: at the 6 largest
// and 10 random elements of each sample's gradient, the central difference of <seed, y> through
// the forward model in ONNX Runtime. Smooth ops (GELU, Softmax, LayerNorm, Mish) bound the
// step's truncation error; LeakyReLU and MaxPool kinks crossed by the step would show as single
// outliers, which fdZooTol's margin absorbs.
func TestZooFiniteDifferences(t *testing.T) {
	const h = 1e-2
	for _, z := range readZoo(t) {
		t.Run(z.Name, func(t *testing.T) {
			m, err := onnx.Load(filepath.Join("testdata", z.Model))
			if err != nil {
				t.Fatal(err)
			}
			bm, err := Build(m, Options{})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			x, seed := readF32(t, "testdata", z.X), readF32(t, "testdata", z.Seed)
			out, err := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"}).run(x, seed)
			if err != nil {
				t.Fatal(err)
			}
			grad := out[1].data
			fwd := newSession(t, m, []string{"x"}, []string{"y"})
			loss := seededLoss(t, fwd, x.shape, seed.data)
			rng := rand.New(rand.NewPCG(31, 32))
			per := len(x.data) / int(x.shape[0])
			worst := 0.0
			for k := 0; k < int(x.shape[0]); k++ {
				idx := make([]int, per)
				for i := range idx {
					idx[i] = k*per + i
				}
				sort.Slice(idx, func(i, j int) bool { return math.Abs(float64(grad[idx[i]])) > math.Abs(float64(grad[idx[j]])) })
				scale := math.Abs(float64(grad[idx[0]]))
				pick := append([]int{}, idx[:6]...)
				for _, r := range rng.Perm(per - 6)[:10] {
					pick = append(pick, idx[6+r])
				}
				xv := append([]float32{}, x.data...)
				for _, i := range pick {
					fd := centralDifference(loss, xv, i, h)
					e := math.Abs(float64(grad[i])-fd) / scale
					worst = max(worst, e)
					if e > fdZooTol {
						t.Errorf("sample %d, element %d: grad %.6g, finite difference %.6g (%.2g of max |grad|)", k, i-k*per, grad[i], fd, e)
					}
				}
			}
			t.Logf("max |grad - finite difference| / max |grad| = %.2g", worst)
		})
	}
}

// fdZooTol bounds |grad - fd| / max |grad| in TestZooFiniteDifferences.
const fdZooTol = 1e-2

// TestZooConservativeLRP checks LRP through attention, gated activations and normalisations
// (gate.go) on every zoo model: with ε → 0, LRP-ε must equal Input x Gradient of the model with
// its gates held constant, which make_zoo.py computes with torch autograd on the model with
// .detach() on the attention weights, SiLU's σ(x), GELU's Φ(x), Mish's tanh(softplus x),
// Hardswish's relu6(x+3)/6 and every normaliser σ (CP-LRP, Ali et al. 2022). The seed is the
// output itself at one cell per sample, as LRP starts.
func TestZooConservativeLRP(t *testing.T) {
	for _, z := range readZoo(t) {
		t.Run(z.Name, func(t *testing.T) {
			if z.Name != "resnet" && len(z.Detached) == 0 {
				t.Fatalf("zoo.json records no detached gates for %s; regenerate it with make_zoo.py", z.Name)
			}
			m, err := onnx.Load(filepath.Join("testdata", z.Model))
			if err != nil {
				t.Fatal(err)
			}
			x, seed := readF32(t, "testdata", z.X), readF32(t, "testdata", z.Seed)
			want := readF32(t, "testdata", z.CP)
			fwd, err := newSession(t, m, []string{"x"}, []string{"y"}).run(x)
			if err != nil {
				t.Fatal(err)
			}
			r0 := tensor{shape: seed.shape, data: make([]float32, len(seed.data))}
			for i, v := range seed.data {
				r0.data[i] = v * fwd[0].data[i]
			}
			g, err := NewGraph(m, "", "")
			if err != nil {
				t.Fatal(err)
			}
			bm, err := BuildGraph(g, Options{Rules: EpsilonComposite(g, 1e-9)})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			out, err := newSession(t, bm, []string{"x", "seed"}, []string{"y", "grad"}).run(x, r0)
			if err != nil {
				t.Fatal(err)
			}
			e := relErr(out[1].data, want.data)
			t.Logf("detached %v: max |LRP-ε(1e-9) - detached IxG| / max |detached IxG| = %.2g", z.Detached, e)
			if e > 1e-4 {
				t.Errorf("LRP-ε(1e-9) differs from Input x Gradient with gates detached by %.3g", e)
			}
			if z.Name == "resnet" {
				return
			}
			// The gates matter: plain Input x Gradient is a different map.
			grad := readF32(t, "testdata", z.Grad)
			ixg := make([]float32, len(x.data))
			for i := range ixg {
				ixg[i] = x.data[i] * grad.data[i]
			}
			if d := relErr(ixg, want.data); d < 1e-2 {
				t.Errorf("detaching the gates changed Input x Gradient by only %.2g; the test would not see a rule that ignores them", d)
			} else {
				t.Logf("plain Input x Gradient differs from it by %.2g", d)
			}
		})
	}
}

// TestZooRules runs the LRP composites and DeepLIFT on the zoo. Where every nonlinearity is one
// the rules handle (the ResNet: LeakyReLU, with reflect pads, inference BatchNorm, residual Adds,
// PixelShuffle's DepthToSpace, crops and a concatenation around it), they must keep their
// identities on the exported model: LRP-ε(1e-9) equals Input x Gradient (Ancona et al. 2018) and
// DeepLIFT-Rescale sums to y - y_ref. On every model every composite must run, attention and
// gates included (TestZooConservativeLRP checks their numbers), with finite relevance, not all
// zero.
func TestZooRules(t *testing.T) {
	composites := []struct {
		name string
		comp func(g *Graph) Composite
	}{
		{"epsilon", func(g *Graph) Composite { return EpsilonComposite(g, 1e-3) }},
		{"epsilon-plus-flat", func(g *Graph) Composite { return EpsilonPlus(g, 1e-3, Flat()) }},
		{"alpha2beta1", func(g *Graph) Composite { return AlphaBetaComposite(g, 2, 1, 1e-3) }},
	}
	for _, z := range readZoo(t) {
		m, err := onnx.Load(filepath.Join("testdata", z.Model))
		if err != nil {
			t.Fatal(err)
		}
		x, seed := readF32(t, "testdata", z.X), readF32(t, "testdata", z.Seed)
		var cells []int // the seeded output elements
		for i, v := range seed.data {
			if v != 0 {
				cells = append(cells, i)
			}
		}
		for _, c := range composites {
			t.Run(z.Name+"/"+c.name, func(t *testing.T) {
				g, err := NewGraph(m, "", "")
				if err != nil {
					t.Fatal(err)
				}
				_, err = BuildGraph(g, Options{Rules: c.comp(g)})
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				_, r := runLRP(t, m, c.comp, x, cells[0])
				nonzero := false
				for _, v := range r {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("relevance has %v", v)
					}
					nonzero = nonzero || v != 0
				}
				if !nonzero {
					t.Fatal("relevance is all zero")
				}
			})
		}
		t.Run(z.Name+"/deeplift", func(t *testing.T) {
			bm, err := Build(m, Options{Rules: DeepLift(), Reference: "x_ref"})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			ref := tensor{shape: x.shape, data: make([]float32, len(x.data))}
			out, err := newSession(t, bm, []string{"x", "seed", "x_ref"}, []string{"y", "grad"}).run(x, seed, ref)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range out[1].data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("multipliers have %v", v)
				}
			}
		})
		t.Run(z.Name+"/deeplift_sums_to_delta", func(t *testing.T) {
			sess, fwd := deepLiftSessions(t, m)
			wantGrad := readF32(t, "testdata", z.Grad)
			ref := inputFor(opCase{x: x.shape}, rand.New(rand.NewPCG(33, 34)))
			mult := checkDeepLiftSums(t, sess, fwd, x, seed, ref)
			if relErr(mult, wantGrad.data) < 1e-2 {
				t.Errorf("DeepLIFT multipliers equal the gradient; the reference had no effect")
			}
		})
		if z.Name != "resnet" {
			continue
		}
		t.Run(z.Name+"/epsilon-to-0_is_input_x_gradient", func(t *testing.T) {
			for _, k := range cells {
				y, r := runLRP(t, m, func(g *Graph) Composite { return EpsilonComposite(g, 1e-9) }, x, k)
				_, grad := runLRP(t, m, nil, x, k)
				ixg := make([]float32, len(grad))
				for i := range grad {
					ixg[i] = x.data[i] * grad[i] / y[k] // grad was seeded with y[k]
				}
				e := relErr(r, ixg)
				t.Logf("output %d: max |LRP-ε - IxG| / max |IxG| = %.2g", k, e)
				if e > 1e-4 {
					t.Errorf("output %d: LRP-ε(1e-9) differs from Input x Gradient by %.3g", k, e)
				}
			}
		})
	}
}
