package ui

import (
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"climxai/dataset"
)

var regen = flag.Bool("regen", false, "rewrite the golden images in testdata/golden")

// TestFieldImageGolden draws a fixed field on the 2° North Atlantic grid (a dipole, a block of
// NaN, a marked cell, a box) with coastlines, once on the domain and once on a zoomed-out view
// where the domain is outlined on the world, and compares them with testdata/golden/field.png and
// field-world.png: at most 0.5% of the pixels may differ by more than 8 levels in a channel. Run
// with -regen after an intended change and look at the new images.
func TestFieldImageGolden(t *testing.T) {
	g := dataset.GridSpec{LatStart: 5, LatStep: 2, NLat: 35, LonStart: -100, LonStep: 2, NLon: 63}
	vals := make([]float32, g.NLat*g.NLon)
	for r := range g.NLat {
		for c := range g.NLon {
			lat, lon := g.LatStart+g.LatStep*float64(r), g.LonStart+g.LonStep*float64(c)
			v := math.Exp(-((lat-40)*(lat-40)+(lon+60)*(lon+60))/200) - math.Exp(-((lat-55)*(lat-55)+(lon+30)*(lon+30))/150)
			if r < 5 && c < 10 {
				v = math.NaN()
			}
			vals[r*g.NLon+c] = float32(v)
		}
	}
	f := MapField{Grid: g, Values: vals}
	c := gridCell(g, 17, 25)
	p := mapPicture{Field: f, Scale: fieldScale(f, "auto"), View: domainOf(g), Marker: &c,
		Box: &Box{S: 50, N: 65, W: -60, E: -10}} // the subpolar gyre's box, as a region target
	compareGolden(t, renderMap(p, 756, 420), filepath.Join("testdata", "golden", "field.png"))
	p.View, p.Scale = Box{S: -10, N: 85, W: -140, E: 40}, fieldScale(f, "sequential")
	compareGolden(t, renderMap(p, 720, 480), filepath.Join("testdata", "golden", "field-world.png"))
}

func compareGolden(t *testing.T, img image.Image, path string) {
	t.Helper()
	if *regen {
		writePNG(t, path, img)
		return
	}
	want := readPNG(t, path)
	if want.Bounds() != img.Bounds() {
		t.Fatalf("image %v, golden %v", img.Bounds(), want.Bounds())
	}
	if n, total := differing(img, want, 8); n*200 > total {
		t.Errorf("%d of %d pixels differ from %s (run with -regen after an intended change)", n, total, path)
	}
}

// differing counts the pixels where a channel differs by more than tol (of 255).
func differing(a, b image.Image, tol uint32) (n, total int) {
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, aa := a.At(x, y).RGBA()
			br, bg, bb, ba := b.At(x, y).RGBA()
			for _, d := range [][2]uint32{{ar, br}, {ag, bg}, {ab, bb}, {aa, ba}} {
				if max(d[0], d[1])-min(d[0], d[1]) > tol*257 {
					n++
					break
				}
			}
			total++
		}
	}
	return n, total
}

// TestWindowGolden captures the whole window (test driver, test theme) after the default cell
// of the random-weight 2° DenseNet on seed-11 synthetic data is explained, and compares it with
// testdata/golden/window.png. The status line carries timings that change from run to run, and
// ONNX Runtime's threads may round differently, so up to 1.5% of the pixels may differ.
func TestWindowGolden(t *testing.T) {
	w, _, _ := openedWindow(t, randomCard)
	var img image.Image
	onUI(func() { img = w.Win.Canvas().Capture() })
	path := filepath.Join("testdata", "golden", "window.png")
	if *regen {
		writePNG(t, path, img)
		return
	}
	want := readPNG(t, path)
	if want.Bounds() != img.Bounds() {
		t.Fatalf("window %v, golden %v", img.Bounds(), want.Bounds())
	}
	if n, total := differing(img, want, 8); n*1000 > 15*total {
		writePNG(t, filepath.Join(t.TempDir(), "window.png"), img)
		t.Errorf("%d of %d pixels differ from %s (run with -regen after an intended change)", n, total, path)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := png.Encode(out, img); err != nil {
		t.Fatal(err)
	}
	t.Log("wrote", path)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -run Golden -regen)", err)
	}
	defer in.Close()
	img, err := png.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
