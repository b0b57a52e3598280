package backward

import (
	"math"
	"testing"

	"climxai/onnx"
)

// cropNet is x [N, 3, 8, 10] -> stride-2 conv -> nearest x2 -> a local tail of two convolutions
// (3 x 3, then 3 x 3 with dilation 2) with BatchNorm, ReLU and a per-channel shift: y [N, 2, 8, 10].
// The tail reads 1 + 2 = 3 cells of the frontier on each side.
func cropNet(g *testGraph) {
	c := g.op("Conv", []string{"x", g.w([]int64{4, 3, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1), ia("strides", 2, 2))
	f := g.op("Resize", []string{c, "", scales(g, 1, 1, 2, 2)}, "", StringAttr("mode", "nearest"),
		StringAttr("coordinate_transformation_mode", "asymmetric"), StringAttr("nearest_mode", "floor"))
	h := g.op("Conv", []string{f, g.w([]int64{5, 4, 3, 3}, -1, 1), g.w([]int64{5}, -0.5, 0.5)}, "", ia("pads", 1, 1, 1, 1))
	b := g.op("BatchNormalization", []string{h, g.w([]int64{5}, 0.5, 1.5), g.w([]int64{5}, -0.3, 0.3),
		g.w([]int64{5}, -0.2, 0.2), g.w([]int64{5}, 0.5, 1.5)}, "")
	r := g.op("Relu", []string{b}, "")
	o := g.op("Conv", []string{r, g.w([]int64{2, 5, 3, 3}, -1, 1)}, "", ia("pads", 2, 2, 2, 2), ia("dilations", 2, 2))
	g.op("Add", []string{o, g.w([]int64{2, 1, 1}, -1, 1)}, "y")
}

// TestCropMatchesWholeModel: the gradient graph that runs the tail on a window around the
// target gives the whole graph's gradient and the target's output, for cells in the corners, on
// the edges and inside, and for a box.
func TestCropMatchesWholeModel(t *testing.T) {
	g := newTestGraph()
	cropNet(g)
	m := g.model(13, []int64{Unknown, 3, 8, 10})
	c, ok, err := SplitCrop(m, "x", "y")
	if err != nil || !ok {
		t.Fatalf("SplitCrop: ok %v, %v", ok, err)
	}
	if c.Lo != [2]int64{3, 3} || c.Hi != [2]int64{3, 3} || c.FShape[0] != 4 || len(c.tail) != 5 {
		t.Fatalf("crop: lo %v hi %v, F %s %v, %d tail nodes; want 3, 3, 4 channels, 5 nodes", c.Lo, c.Hi, c.Frontier, c.FShape, len(c.tail))
	}
	whole, err := Build(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	full := newSession(t, whole, []string{"x", "seed"}, []string{"y", "grad"})
	const n = 2
	x := tensor{shape: []int64{n, 3, 8, 10}, data: g.uniform([]int64{n, 3, 8, 10}, -2, 2)}
	boxes := [][4]int64{{0, 0, 0, 0}, {7, 7, 9, 9}, {0, 0, 5, 5}, {4, 4, 9, 9}, {3, 3, 4, 4}, {2, 3, 3, 5}, {6, 7, 0, 2}}
	for b, box := range boxes {
		// Sample 0 explains box, sample 1 the next one: each sample has its own window.
		pair := [n][4]int64{box, boxes[(b+1)%len(boxes)]}
		var rows, cols int64
		for _, p := range pair {
			rows, cols = max(rows, p[1]-p[0]+1), max(cols, p[3]-p[2]+1)
		}
		size := c.Size(rows, cols)
		cm := windowedModel(t, c, size)
		// F is a nearest Resize's output: the windows come from its input, and the
		// whole-grid Resize is gone.
		for _, nd := range cm.Graph.Node {
			if nd.OpType == "Resize" {
				t.Fatalf("the windowed model still runs the whole-grid Resize %s", nd.Name)
			}
		}
		seed := tensor{shape: []int64{n, 2, 8, 10}, data: make([]float32, n*2*80)}
		win := tensor{shape: []int64{n, int64(c.WindowWidth())}}
		for k, p := range pair {
			for ch := range 2 {
				for i := p[0]; i <= p[1]; i++ {
					for j := p[2]; j <= p[3]; j++ {
						seed.data[((k*2+ch)*8+int(i))*10+int(j)] = float32(1 + k + ch + int(i+j)%3)
					}
				}
			}
			for _, v := range c.Starts(p[0], p[2], size) {
				win.data = append(win.data, float32(v))
			}
		}
		got, err := newSession(t, cm, []string{"x", "seed", "win"}, []string{"y", "grad"}).run(x, seed, win)
		if err != nil {
			t.Fatalf("boxes %v: windowed run: %v", pair, err)
		}
		want, err := full.run(x, seed)
		if err != nil {
			t.Fatal(err)
		}
		per := len(want[1].data) / n
		for k := range n {
			scale, worst := 0.0, 0.0
			for i, v := range want[1].data[k*per : (k+1)*per] {
				scale = max(scale, math.Abs(float64(v)))
				worst = max(worst, math.Abs(float64(got[1].data[k*per+i]-v)))
			}
			if scale == 0 || worst > 1e-6*scale {
				t.Errorf("box %v (window at %v, size %v): gradient differs by %.3g of %.3g", pair[k], win.data[2*k:2*k+2], size, worst, scale)
			}
		}
		for i, s := range seed.data {
			if s != 0 && math.Abs(float64(got[0].data[i]-want[0].data[i])) > 1e-5*(1+math.Abs(float64(want[0].data[i]))) {
				t.Errorf("boxes %v: y[%d] = %g, want %g", pair, i, got[0].data[i], want[0].data[i])
			}
		}
	}
}

// windowedModel is c's gradient model with the tail on windows of the given size: inputs x,
// seed and win, outputs y and grad.
func windowedModel(t *testing.T, c *Crop, size [2]int64) *onnx.ModelProto {
	t.Helper()
	body, err := Build(c.Body, Options{Output: c.BodyOut, Seed: "fseed"})
	if err != nil {
		t.Fatal(err)
	}
	tail, err := Build(c.Tail(size), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var low *onnx.ModelProto
	if lm := c.Low(size); lm != nil {
		if low, err = Build(lm, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := c.Compose(body, tail, low, size, CropNames{Seed: "seed", Grad: "grad", Window: "win", BodySeed: "fseed"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSplitCropLeavesNonLocalTailsWhole: an output made by a dense layer, a strided convolution
// or arithmetic with a map that varies over the grid has no local tail to crop.
func TestSplitCropLeavesNonLocalTailsWhole(t *testing.T) {
	for name, build := range map[string]func(g *testGraph){
		"dense head": func(g *testGraph) {
			c := g.op("Conv", []string{"x", g.w([]int64{2, 3, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
			f := g.op("Flatten", []string{c}, "")
			d := g.op("MatMul", []string{f, g.w([]int64{2 * 8 * 10, 80}, -1, 1)}, "")
			g.op("Reshape", []string{d, g.ints(-1, 1, 8, 10)}, "y")
		},
		"strided last conv": func(g *testGraph) {
			c := g.op("Conv", []string{"x", g.w([]int64{2, 3, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
			g.op("Conv", []string{c, g.w([]int64{1, 2, 3, 3}, -1, 1)}, "y", ia("pads", 1, 1, 1, 1), ia("strides", 2, 2))
		},
		"map-valued shift": func(g *testGraph) {
			c := g.op("Conv", []string{"x", g.w([]int64{2, 3, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
			o := g.op("Conv", []string{c, g.w([]int64{1, 2, 3, 3}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
			g.op("Add", []string{o, g.w([]int64{1, 8, 10}, -1, 1)}, "y")
		},
		"only the input before the tail": func(g *testGraph) {
			g.op("Conv", []string{"x", g.w([]int64{1, 3, 3, 3}, -1, 1)}, "y", ia("pads", 1, 1, 1, 1))
		},
	} {
		g := newTestGraph()
		build(g)
		if _, ok, err := SplitCrop(g.model(13, []int64{Unknown, 3, 8, 10}), "x", "y"); ok || err != nil {
			t.Errorf("%s: ok %v, %v; want no crop", name, ok, err)
		}
	}
}

// TestCropWindow: the window covers the target and Lo/Hi cells around it, and keeps its size
// at the grid's edges by moving inwards.
func TestCropWindow(t *testing.T) {
	c := &Crop{YShape: []int64{1, 35, 63}, Lo: [2]int64{2, 2}, Hi: [2]int64{2, 2}}
	for _, tc := range []struct {
		box         [4]int64
		start, size [2]int64
	}{
		{[4]int64{10, 10, 20, 20}, [2]int64{8, 18}, [2]int64{5, 5}},
		{[4]int64{0, 0, 0, 0}, [2]int64{0, 0}, [2]int64{5, 5}},
		{[4]int64{34, 34, 62, 62}, [2]int64{30, 58}, [2]int64{5, 5}},
		{[4]int64{1, 3, 60, 62}, [2]int64{0, 56}, [2]int64{7, 7}},
		{[4]int64{0, 34, 0, 62}, [2]int64{0, 0}, [2]int64{35, 63}},
	} {
		start, size := c.Window(tc.box[0], tc.box[1], tc.box[2], tc.box[3])
		if start != tc.start || size != tc.size {
			t.Errorf("box %v: window at %v size %v, want %v %v", tc.box, start, size, tc.start, tc.size)
		}
	}
}
