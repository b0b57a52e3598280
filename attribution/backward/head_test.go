package backward

import "testing"

// TestSplitHead: a first convolution the input feeds alone is cut off; an input that also feeds
// another node, or a first node that is not a convolution, leaves the model whole.
func TestSplitHead(t *testing.T) {
	g := newTestGraph()
	c := g.op("Conv", []string{"x", g.w([]int64{4, 3, 3, 3}, -1, 1), g.w([]int64{4}, -1, 1)}, "", ia("pads", 1, 1, 1, 1))
	r := g.op("Relu", []string{c}, "")
	g.op("Conv", []string{r, g.w([]int64{1, 4, 3, 3}, -1, 1)}, "y", ia("pads", 1, 1, 1, 1))
	h, ok, err := SplitHead(g.model(13, []int64{Unknown, 3, 5, 6}), "x")
	if err != nil || !ok {
		t.Fatalf("conv chain: ok %v, %v", ok, err)
	}
	if h.Hidden != c || len(h.Shape) != 3 || h.Shape[0] != 4 || h.Shape[1] != 5 || h.Shape[2] != 6 {
		t.Errorf("hidden %s %v, want %s [4 5 6]", h.Hidden, h.Shape, c)
	}
	if len(h.Conv.Graph.Node) != 1 || len(h.Conv.Graph.Initializer) != 2 || len(h.Tail.Graph.Node) != 2 ||
		h.Tail.Graph.Input[0].Name != c {
		t.Errorf("parts: conv %d nodes %d initializers, tail %d nodes with input %s",
			len(h.Conv.Graph.Node), len(h.Conv.Graph.Initializer), len(h.Tail.Graph.Node), h.Tail.Graph.Input[0].Name)
	}
	// The tail's gradient graph with the convolution in front takes x and returns ∇h.
	ir, err := NewGraph(h.Tail, h.Hidden, "y")
	if err != nil {
		t.Fatal(err)
	}
	bm, err := BuildGraph(ir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	full := h.PrependHead(bm, h.Conv)
	if full.Graph.Input[0].Name != "x" || full.Graph.Node[0].OpType != "Conv" {
		t.Errorf("prepended: input %s, first node %s", full.Graph.Input[0].Name, full.Graph.Node[0].OpType)
	}
	x := tensor{shape: []int64{2, 3, 5, 6}, data: make([]float32, 180)}
	seed := tensor{shape: []int64{2, 1, 5, 6}, data: make([]float32, 60)}
	seed.data[7] = 1
	out, err := newSession(t, full, []string{"x", "seed"}, []string{"y", "grad"}).run(x, seed)
	if err != nil || len(out[1].data) != 2*4*5*6 {
		t.Fatalf("run: %v, grad of %d values", err, len(out[1].data))
	}

	for name, build := range map[string]func(g *testGraph){
		"input used twice": func(g *testGraph) {
			c := g.op("Conv", []string{"x", g.w([]int64{3, 3, 1, 1}, -1, 1)}, "")
			g.op("Add", []string{c, "x"}, "y")
		},
		"first node not a conv": func(g *testGraph) {
			r := g.op("Relu", []string{"x"}, "")
			g.op("Conv", []string{r, g.w([]int64{1, 3, 1, 1}, -1, 1)}, "y")
		},
	} {
		g := newTestGraph()
		build(g)
		if _, ok, err := SplitHead(g.model(13, []int64{Unknown, 3, 5, 6}), "x"); ok || err != nil {
			t.Errorf("%s: ok %v, %v; want the model left whole", name, ok, err)
		}
	}
}
