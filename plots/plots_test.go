package plots

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"climxai/dataset"
	"climxai/resources"
)

var regen = flag.Bool("regen", false, "rewrite the golden images in testdata/golden")

// needTool fails (not skips) when a checker is missing: make setup installs them.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: install poppler-utils/libxml2-utils/ghostscript (make setup)", name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	needTool(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// testFigures are small versions of every default figure on the synthetic North Atlantic
// field, shared by the golden and format tests.
func testFigures(t *testing.T, width vg.Length) map[string]*Figure {
	t.Helper()
	rings, err := resources.LandRings()
	if err != nil {
		t.Fatal(err)
	}
	g := naGrid()
	land := landMask(g, rings)
	signed := synthAttribution(g, land, 55, -35, 4, 13, true)
	f0 := dataset.Field{Grid: g, Values: signed[:g.Size()]}
	figs := map[string]*Figure{}
	figs["map"] = MapFigure(MapPanel{Field: f0, Scale: DivergingScale("attribution (K⁻¹)", f0.Values), Coast: rings,
		Target: &Marker{Lat: 55, Lon: -35}, Title: "lead 1, lag 0"}, width, DefaultStyle())
	box := Marker{Box: true, South: 20, North: 40, West: -60, East: -30}
	imp := synthAttribution(g, land, 30, -45, 4, 1, false)
	ct := &Contour{Field: dataset.Field{Grid: g, Values: imp}, Levels: []float64{2e-4, 6e-4}}
	figs["map_box"] = MapFigure(MapPanel{Field: f0, Scale: SequentialScale("importance", f0.Values), Coast: rings, Target: &box, Contour: ct}, width, DefaultStyle())
	var ds []DecaySeries
	var dist []DistanceSeries
	var rows [][]MapPanel
	var all [][]float32
	for k, lead := range []int{1, 9} {
		v := synthAttribution(g, land, 55, -35, []float64{2, 8}[k], 13, false)
		ds = append(ds, synthDecay(g, v, lead))
		dist = append(dist, synthDistance(g, v, 55, -35, fmt.Sprintf("lead %d", lead)))
		for r, lag := range []int{0, 12} {
			if len(rows) <= r {
				rows = append(rows, nil)
			}
			f := dataset.Field{Grid: g, Values: v[lag*g.Size() : (lag+1)*g.Size()]}
			rows[r] = append(rows[r], MapPanel{Field: f, Coast: rings, Target: &Marker{Lat: 55, Lon: -35}})
			all = append(all, f.Values)
		}
	}
	if figs["decay"], err = DecayFigure(ds, width, 0, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	if figs["distance"], err = DistanceFigure(dist, width, 0, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	if figs["leads"], err = LeadsFigure(LeadsGrid{Panels: rows, ColLabels: []string{"lead 1", "lead 9"},
		RowLabels: []string{"lag 0", "lag 12"}, Scale: AutoScale("importance", all...)}, width, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	h := LagLatitude{Lat: g.Lat}
	for lag := 0; lag < 13; lag++ {
		h.Lags = append(h.Lags, float64(lag))
	}
	h.Values = make([]float32, 13*len(g.Lat))
	for k := range h.Lags {
		for i, lat := range g.Lat {
			h.Values[k*len(g.Lat)+i] = float32(math.Exp(-float64(k)/4 - (lat-55)*(lat-55)/100))
		}
	}
	if figs["laglat"], err = LagLatitudeFigure(h, AutoScale("importance", h.Values), "lead 1", width, 0, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	if figs["decaymap"], err = DecayMapFigure(synthDecayMap(g, land), rings, width, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	if figs["fidelity"], err = FidelityFigure(synthFidelity(), width, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	if figs["fidelity_vars"], err = FidelityFigure(synthFidelityVars(), width, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	r := []float64{250, 500, 1000, 2000, 4000}
	if figs["lines"], err = LinesFigure(Lines{
		Series: []Series{
			{Label: "lead 1", X: r, Y: []float64{0.62, 0.80, 0.88, 0.90, 0.91}},
			{Label: "lead 9", X: r, Y: []float64{0.20, 0.35, 0.52, 0.60, 0.62}},
		},
		References: []Reference{{Label: "full input, lead 1", Y: 0.91}, {Label: "persistence, lead 1", Y: 0.55}},
		XLabel:     "inputs kept within radius (km)", YLabel: "correlation skill",
	}, width, 0, DefaultStyle()); err != nil {
		t.Fatal(err)
	}
	return figs
}

// diffImages returns the fraction of pixels whose largest channel difference exceeds 40/255.
func diffImages(a, b image.Image) (float64, error) {
	if a.Bounds() != b.Bounds() {
		return 1, fmt.Errorf("size %v, want %v", a.Bounds(), b.Bounds())
	}
	bad, n := 0, 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c1, c2 := color.RGBAModel.Convert(a.At(x, y)).(color.RGBA), color.RGBAModel.Convert(b.At(x, y)).(color.RGBA)
			d := max(absDiff(c1.R, c2.R), absDiff(c1.G, c2.G), absDiff(c1.B, c2.B))
			if d > 40 {
				bad++
			}
			n++
		}
	}
	return float64(bad) / float64(n), nil
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestGolden compares every default figure (AGU single column at 100 dpi, to keep the
// images small) with testdata/golden; `go test ./plots -regen` rewrites them after a
// deliberate change (look at them before committing).
func TestGolden(t *testing.T) {
	for name, fig := range testFigures(t, 95*vg.Millimeter) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := fig.Encode(&buf, "png", 100); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".png")
			if *regen {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readPNG(t, golden)
			got, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			frac, err := diffImages(got, want)
			if err != nil || frac > 0.002 {
				out := filepath.Join(t.TempDir(), name+".png")
				_ = os.WriteFile(out, buf.Bytes(), 0o644)
				t.Fatalf("%s differs from %s in %.2f%% of pixels (%v); got written to %s; if the change is deliberate, look at it and run go test ./plots -regen", name, golden, 100*frac, err, out)
			}
		})
	}
}

// TestFormats writes every figure in every format and checks each with an independent reader:
// pdfinfo (one page, size of the preset, fonts embedded) and pdftoppm for PDF, xmllint for
// SVG, Ghostscript for EPS (header, bounding box, renders); PNG decodes at the asked dpi.
func TestFormats(t *testing.T) {
	dir := t.TempDir()
	width := 95 * vg.Millimeter
	for name, fig := range testFigures(t, width) {
		t.Run(name, func(t *testing.T) {
			base := filepath.Join(dir, name)
			for _, ext := range []string{"png", "pdf", "svg", "eps"} {
				if err := fig.Save(base+"."+ext, 150); err != nil {
					t.Fatal(err)
				}
			}
			img := readPNG(t, base+".png")
			if w, want := img.Bounds().Dx(), int(math.Ceil(width.Points()/72*150)); absInt(w-want) > 1 {
				t.Errorf("PNG width %d px at 150 dpi, want %d", w, want)
			}
			info := string(run(t, "pdfinfo", base+".pdf"))
			if !strings.Contains(info, "Pages:           1") {
				t.Errorf("pdfinfo: not one page:\n%s", info)
			}
			m := regexp.MustCompile(`Page size:\s+([0-9.]+) x ([0-9.]+) pts`).FindStringSubmatch(info)
			if m == nil || math.Abs(atof(m[1])-width.Points()) > 0.5 || math.Abs(atof(m[2])-fig.Height.Points()) > 0.5 {
				t.Errorf("pdfinfo page size %v, want %.2f x %.2f pts", m, width.Points(), fig.Height.Points())
			}
			fonts := string(run(t, "pdffonts", base+".pdf"))
			for _, l := range strings.Split(fonts, "\n")[2:] {
				if f := strings.Fields(l); len(f) > 4 && f[len(f)-5] != "yes" {
					t.Errorf("pdffonts: font not embedded: %s", l)
				}
			}
			run(t, "pdftoppm", "-r", "50", "-png", "-singlefile", base+".pdf", base+"_pdf")
			readPNG(t, base+"_pdf.png")
			run(t, "xmllint", "--noout", base+".svg")
			eps, _ := os.ReadFile(base + ".eps")
			if !bytes.HasPrefix(eps, []byte("%!PS-Adobe-3.0 EPSF-3.0\n")) {
				t.Errorf("EPS header %q", eps[:min(30, len(eps))])
			}
			if !regexp.MustCompile(`(?m)^%%BoundingBox: 0 0 [0-9]+ [0-9]+$`).Match(eps) {
				t.Error("EPS has no integer %%BoundingBox")
			}
			run(t, "gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dEPSCrop", "-r50", "-sDEVICE=png16m", "-sOutputFile="+base+"_eps.png", base+".eps")
			readPNG(t, base+"_eps.png")
		})
	}
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func atof(s string) float64 {
	var f float64
	fmt.Sscanf(s, "%g", &f)
	return f
}

// barFigure is a colour bar alone, vertical, on a 20 x 60 mm canvas.
func barFigure(s Scale) *Figure {
	return &Figure{Width: 20 * vg.Millimeter, Height: 60 * vg.Millimeter, draw: func(c draw.Canvas) {
		c = draw.Crop(c, 2*vg.Millimeter, 0, 5*vg.Millimeter, -5*vg.Millimeter)
		ColorBar{Scale: s, Vertical: true}.Draw(c, DefaultStyle())
	}}
}

// checkBarOrientation checks in a rendered bar that the colour just below the top of the bar
// is the map's maximum and just above its bottom the minimum. The bar spans x 2..5.5 mm and
// y 5..55 mm of the 20 x 60 mm figure.
func checkBarOrientation(t *testing.T, img image.Image, s Scale, format string) {
	t.Helper()
	b := img.Bounds()
	px := func(xmm, ymmFromTop float64) color.RGBA {
		x := b.Min.X + int(xmm/20*float64(b.Dx()))
		y := b.Min.Y + int(ymmFromTop/60*float64(b.Dy()))
		return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
	}
	near := func(a, c color.RGBA) bool {
		return absDiff(a.R, c.R) < 30 && absDiff(a.G, c.G) < 30 && absDiff(a.B, c.B) < 30
	}
	top, bottom := px(3.75, 6), px(3.75, 54)
	if !near(top, s.Map.At(1)) || !near(bottom, s.Map.At(0)) {
		t.Errorf("%s %s bar: top %v bottom %v, want top ≈ max colour %v and bottom ≈ min colour %v", format, s.Map.Name, top, bottom, s.Map.At(1), s.Map.At(0))
	}
}

// TestColorBarOrientation renders the bar alone and checks that its top has the maximum colour:
// in PNG, in the PDF rendered by pdftoppm, in the EPS rendered by Ghostscript, and in the SVG
// by reading the fill of the top-most cell.
func TestColorBarOrientation(t *testing.T) {
	dir := t.TempDir()
	extended := SequentialScale("x", []float32{0, 1})
	extended.ExtendMax = true // decaymap's clipped scale: the bar ends in a triangle
	for _, s := range []Scale{DivergingScale("x", []float32{-1, 1}), SequentialScale("x", []float32{0, 1}), extended} {
		name := s.Map.Name
		if s.ExtendMax {
			name += "_extended"
		}
		hfig := hbarFigure(s)
		hbase := filepath.Join(dir, "h"+name)
		for _, ext := range []string{"png", "pdf", "eps"} {
			if err := hfig.Save(hbase+"."+ext, 200); err != nil {
				t.Fatal(err)
			}
		}
		checkHBar(t, readPNG(t, hbase+".png"), s, "PNG")
		run(t, "pdftoppm", "-r", "200", "-png", "-singlefile", hbase+".pdf", hbase+"_pdf")
		checkHBar(t, readPNG(t, hbase+"_pdf.png"), s, "PDF")
		run(t, "gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dEPSCrop", "-r200", "-sDEVICE=png16m", "-sOutputFile="+hbase+"_eps.png", hbase+".eps")
		checkHBar(t, readPNG(t, hbase+"_eps.png"), s, "EPS")

		fig := barFigure(s)
		base := filepath.Join(dir, name)
		for _, ext := range []string{"png", "pdf", "eps", "svg"} {
			if err := fig.Save(base+"."+ext, 200); err != nil {
				t.Fatal(err)
			}
		}
		checkBarOrientation(t, readPNG(t, base+".png"), s, "PNG")
		run(t, "pdftoppm", "-r", "200", "-png", "-singlefile", base+".pdf", base+"_pdf")
		checkBarOrientation(t, readPNG(t, base+"_pdf.png"), s, "PDF")
		run(t, "gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dEPSCrop", "-r200", "-sDEVICE=png16m", "-sOutputFile="+base+"_eps.png", base+".eps")
		checkBarOrientation(t, readPNG(t, base+"_eps.png"), s, "EPS")
		svg, _ := os.ReadFile(base + ".svg")
		checkSVGBar(t, svg, s)
	}
}

// checkSVGBar finds the filled cells of the bar in the SVG (paths filled with the map's end
// colours) and checks that the maximum colour's cell is the one highest on the page.
func checkSVGBar(t *testing.T, svg []byte, s Scale) {
	t.Helper()
	hex := func(c color.RGBA) string { return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B) }
	// vgsvg writes <path d="M x y L ..." style="fill:#RRGGBB;..."/> in page coordinates
	// (y down) after a global flip; find the y of the first point of each end colour.
	re := regexp.MustCompile(`<path d="M([-0-9.e]+),([-0-9.e]+)[^"]*"\s+style="fill:(#[0-9A-Fa-f]{6})`)
	ys := map[string][]float64{}
	for _, m := range re.FindAllSubmatch(svg, -1) {
		c := strings.ToUpper(string(m[3]))
		ys[c] = append(ys[c], atof(string(m[2])))
	}
	lo, hi := ys[hex(s.Map.At(0.5/128))], ys[hex(s.Map.At(1-0.5/128))]
	if len(lo) == 0 || len(hi) == 0 {
		t.Fatalf("SVG: end cells of the %s bar not found (fills %d)", s.Map.Name, len(ys))
	}
	flip := bytes.Contains(svg, []byte("scale(1, -1)")) || bytes.Contains(svg, []byte("scale(1,-1)"))
	top := hi[0] < lo[0] // y grows downwards in SVG
	if flip {
		top = hi[0] > lo[0]
	}
	if !top {
		t.Errorf("SVG %s bar: maximum colour cell at y %v, minimum at %v (flip %v): maximum is not on top", s.Map.Name, hi[0], lo[0], flip)
	}
}

// hbarFigure is a horizontal colour bar alone on a 60 x 20 mm canvas: the bar spans x 5..55 mm
// and its top 3.5 mm below the top margin of 2 mm.
func hbarFigure(s Scale) *Figure {
	return &Figure{Width: 60 * vg.Millimeter, Height: 20 * vg.Millimeter, draw: func(c draw.Canvas) {
		c = draw.Crop(c, 5*vg.Millimeter, -5*vg.Millimeter, 0, -2*vg.Millimeter)
		ColorBar{Scale: s, Vertical: false}.Draw(c, DefaultStyle())
	}}
}

// checkHBar checks that the right end of a horizontal bar has the maximum colour.
func checkHBar(t *testing.T, img image.Image, s Scale, format string) {
	t.Helper()
	b := img.Bounds()
	px := func(xmm, ymmFromTop float64) color.RGBA {
		x := b.Min.X + int(xmm/60*float64(b.Dx()))
		y := b.Min.Y + int(ymmFromTop/20*float64(b.Dy()))
		return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
	}
	near := func(a, c color.RGBA) bool {
		return absDiff(a.R, c.R) < 30 && absDiff(a.G, c.G) < 30 && absDiff(a.B, c.B) < 30
	}
	left, right := px(6, 3.75), px(54, 3.75)
	if !near(right, s.Map.At(1)) || !near(left, s.Map.At(0)) {
		t.Errorf("%s %s horizontal bar: left %v right %v, want left ≈ min colour %v and right ≈ max colour %v", format, s.Map.Name, left, right, s.Map.At(0), s.Map.At(1))
	}
}
