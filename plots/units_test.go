package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"

	"climxai/dataset"
	"climxai/resources"
)

func TestDegLabel(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		lat  bool
		want string
	}{
		{30, true, "30°N"}, {-30, true, "30°S"}, {0, true, "0°"},
		{-60, false, "60°W"}, {30, false, "30°E"}, {0, false, "0°"}, {180, false, "180°"},
		{300, false, "60°W"}, {360, false, "0°"}, {-180, false, "180°"}, {2.5, true, "2.5°N"},
	} {
		if got := degLabel(tc.v, tc.lat); got != tc.want {
			t.Errorf("degLabel(%g, lat=%v) = %q, want %q", tc.v, tc.lat, got, tc.want)
		}
	}
}

func TestScales(t *testing.T) {
	s := DivergingScale("x", []float32{-1, 3, float32(math.NaN())})
	if s.Min != -3 || s.Max != 3 {
		t.Errorf("diverging limits %g..%g, want symmetric -3..3", s.Min, s.Max)
	}
	if c := s.Color(0); c != rgb(0xf7f7f7) {
		t.Errorf("zero is %v, want RdBu's white f7f7f7", c)
	}
	if s.Color(math.NaN()) != LandGrey {
		t.Error("NaN is not land grey")
	}
	if s.Color(3) != rgb(0x67001f) || s.Color(-3) != rgb(0x053061) {
		t.Errorf("ends %v %v, want dark red at max, dark blue at min", s.Color(3), s.Color(-3))
	}
	q := SequentialScale("x", []float32{2, 5})
	if q.Min != 2 || q.Max != 5 || q.Color(5) != rgb(0xfde725) || q.Color(2) != rgb(0x440154) {
		t.Errorf("sequential %+v", q)
	}
	if a := AutoScale("x", []float32{1e-4, 2e-4}); a.Map.Name != "viridis" || a.Min != 0 {
		t.Errorf("auto of magnitudes: %s from %g, want viridis from 0", a.Map.Name, a.Min)
	}
	if a := AutoScale("x", []float32{-1, 2}); a.Map.Name != "RdBu" || a.Min != -2 {
		t.Errorf("auto of signed data: %s from %g, want RdBu from -2", a.Map.Name, a.Min)
	}
}

func TestNiceTicks(t *testing.T) {
	got := niceTicks(-9.4, 9.4, 5)
	want := []float64{-5, 0, 5}
	if len(got) != len(want) {
		t.Fatalf("niceTicks = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("niceTicks = %v, want %v", got, want)
		}
	}
	if _, _, exp := barTicks(Scale{Min: 0, Max: 0.0012}); exp != -3 {
		t.Errorf("exponent of 0.0012 = %d, want -3", exp)
	}
}

func TestFitEFoldRecoversTau(t *testing.T) {
	var lags, imp []float64
	for k := 0; k < 36; k++ {
		lags = append(lags, float64(k))
		imp = append(imp, 0.2*math.Exp(-float64(k)/6)*(1+0.05*math.Sin(float64(k))))
	}
	f := FitEFold(lags, imp)
	if math.Abs(f.EFold-6) > 0.2 || math.Abs(f.Amplitude-0.2) > 0.02 {
		t.Errorf("fit τ %g A %g, want 6 and 0.2", f.EFold, f.Amplitude)
	}
	for i := range lags {
		if !(f.Lo[i] < f.Hi[i]) {
			t.Fatalf("band at lag %d: %g..%g", i, f.Lo[i], f.Hi[i])
		}
	}
	if g := FitEFold([]float64{0, 1, 2}, []float64{1, 2, 3}); !math.IsNaN(g.EFold) {
		t.Errorf("growing series gave τ %g, want NaN", g.EFold)
	}
}

// TestFitEFoldTo: a decay of 3 months over the first year on a floor beyond it: the fit over
// every lag follows the floor, the fit over lags 0..11 the decay, and the band covers every lag.
func TestFitEFoldTo(t *testing.T) {
	var lags, imp []float64
	for k := 0; k < 36; k++ {
		lags = append(lags, float64(k))
		v := 0.3 * math.Exp(-float64(k)/3)
		if k > 11 {
			v = 0.01 * (1 + 0.1*math.Sin(float64(k)))
		}
		imp = append(imp, v)
	}
	if all := FitEFold(lags, imp); !(all.EFold > 6) {
		t.Errorf("fit over every lag τ %g: want it dragged out by the floor", all.EFold)
	}
	f := FitEFoldTo(lags, imp, 11)
	if math.Abs(f.EFold-3) > 1e-9 || math.Abs(f.Amplitude-0.3) > 1e-9 || len(f.Lo) != 36 || len(f.Hi) != 36 {
		t.Errorf("fit over lags 0..11: τ %g A %g, %d/%d band values; want 3, 0.3 and 36", f.EFold, f.Amplitude, len(f.Lo), len(f.Hi))
	}
	if g := FitEFoldTo(lags, imp, 1); !math.IsNaN(g.EFold) {
		t.Errorf("fit over two lags τ %g, want NaN (three needed)", g.EFold)
	}
}

func TestRadius(t *testing.T) {
	s := DistanceSeries{Distance: []float64{100, 200, 300, 400}, Importance: []float64{1, 1, 1, 1}}
	if r := s.Radius(0.5); r != 200 {
		t.Errorf("R50 = %g, want 200", r)
	}
	if r := s.Radius(0.9); math.Abs(r-360) > 1e-9 {
		t.Errorf("R90 = %g, want 360", r)
	}
}

func TestGreatCircle(t *testing.T) {
	// One degree of latitude is 111.19 km on the mean sphere.
	if d := greatCircleKm(0, 0, 1, 0); math.Abs(d-111.19) > 0.01 {
		t.Errorf("1° = %g km", d)
	}
}

// TestCoastlinesFollowGridConvention draws a 0..360 grid and checks that coastline segments
// land inside the map (rings are in -180..180 and must be shifted by 360°).
func TestCoastlinesFollowGridConvention(t *testing.T) {
	rings, err := resources.LandRings()
	if err != nil {
		t.Fatal(err)
	}
	for _, lon0 := range []float64{-100, 260} {
		g := dataset.Grid{}
		for i := 0; i < 10; i++ {
			g.Lat = append(g.Lat, 30+2*float64(i))
		}
		for j := 0; j < 20; j++ {
			g.Lon = append(g.Lon, lon0+2*float64(j))
		}
		f := dataset.Field{Grid: g, Values: make([]float32, g.Size())}
		points := func(coast []resources.Ring) int {
			p := MapPanel{Field: f, Scale: DivergingScale("x", f.Values), Coast: coast}.plot(DefaultStyle(), false, false, 0)
			rec := new(recorder.Canvas)
			p.Draw(draw.NewCanvas(rec, 100*vg.Millimeter, 60*vg.Millimeter))
			n := 0
			for _, a := range rec.Actions {
				if s, ok := a.(*recorder.Stroke); ok {
					n += len(s.Path)
				}
			}
			return n
		}
		// The US east coast crosses this box: its 110 m outline has dozens of vertices.
		if without, with := points(nil), points(rings); with-without < 30 {
			t.Errorf("grid from %g°: coastlines add %d path elements, want many", lon0, with-without)
		}
	}
}

func TestPanelLetter(t *testing.T) {
	for i, want := range map[int]string{0: "(a)", 1: "(b)", 25: "(z)", 26: "(aa)"} {
		if got := panelLetter(i); got != want {
			t.Errorf("panelLetter(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestFormatRejectsUnknownExtension(t *testing.T) {
	if _, err := Format("fig.jpg"); err == nil {
		t.Error("jpg accepted")
	}
	if f, err := Format("FIG.PDF"); err != nil || f != "pdf" {
		t.Errorf("FIG.PDF: %q %v", f, err)
	}
}

// TestPrintRules checks every default figure at single-column width: no text smaller than
// 7 pt, and no raster images (everything is vector, so PDF, SVG and EPS stay exact).
func TestPrintRules(t *testing.T) {
	for name, fig := range testFigures(t, 95*vg.Millimeter) {
		rec := new(recorder.Canvas)
		fig.Draw(draw.NewCanvas(rec, fig.Width, fig.Height))
		texts := 0
		for _, a := range rec.Actions {
			switch a := a.(type) {
			case *recorder.FillString:
				texts++
				if a.Size < 7 {
					t.Errorf("%s: %q at %.2g pt, want at least 7 pt", name, a.String, float64(a.Size))
				}
			case *recorder.DrawImage:
				t.Errorf("%s: raster image drawn; figures must be vector only", name)
			}
		}
		if texts == 0 {
			t.Errorf("%s: no text drawn", name)
		}
		if fig.Height < 30*vg.Millimeter || fig.Height > 240*vg.Millimeter {
			t.Errorf("%s: height %.0f mm at 95 mm width", name, fig.Height/vg.Millimeter)
		}
	}
}

// TestDescendingLatitudeDrawsTheSameMap flips a field's latitude order (as files with
// latitude descending have it) and checks that the picture is the same.
func TestDescendingLatitudeDrawsTheSameMap(t *testing.T) {
	g := naGrid()
	rings, err := resources.LandRings()
	if err != nil {
		t.Fatal(err)
	}
	v := synthAttribution(g, landMask(g, rings), 55, -35, 4, 1, true)
	flip := dataset.Grid{Lon: g.Lon}
	fv := make([]float32, len(v))
	for i := range g.Lat {
		r := len(g.Lat) - 1 - i
		flip.Lat = append(flip.Lat, g.Lat[r])
		copy(fv[i*len(g.Lon):(i+1)*len(g.Lon)], v[r*len(g.Lon):(r+1)*len(g.Lon)])
	}
	render := func(f dataset.Field) image.Image {
		var buf bytes.Buffer
		fig := MapFigure(MapPanel{Field: f, Scale: DivergingScale("x", v), Coast: rings}, 60*vg.Millimeter, DefaultStyle())
		if err := fig.Encode(&buf, "png", 100); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	frac, err := diffImages(render(dataset.Field{Grid: g, Values: v}), render(dataset.Field{Grid: flip, Values: fv}))
	if err != nil || frac > 0.002 {
		t.Errorf("descending latitudes draw a different map: %.2f%% of pixels differ (%v)", 100*frac, err)
	}
}

// TestSaveIsAtomic checks that a save into a missing directory fails cleanly and that saves
// leave no temporary files behind.
func TestSaveIsAtomic(t *testing.T) {
	fig := barFigure(SequentialScale("x", []float32{0, 1}))
	if err := fig.Save(filepath.Join(t.TempDir(), "missing", "f.png"), 72); err == nil {
		t.Error("save into a missing directory succeeded")
	}
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		if err := fig.Save(filepath.Join(dir, "f.pdf"), 0); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after two saves, want 1", len(entries))
	}
}

func TestClippedScale(t *testing.T) {
	vs := []float32{1, 2, 3, 4, 5, 6, 7, 8, float32(math.NaN())}
	if s := clippedScale("x", vs); s.Min != 0 || s.Max != 8 || s.ExtendMax {
		t.Errorf("no outlier: %+v", s)
	}
	// 1..8 and 100: Q1 3, Q3 7 (type 7), so the far-out fence is 7 + 3·4 = 19.
	out := append(vs[:8:8], 100)
	s := clippedScale("x", out)
	if q1, q3 := 3.0, 7.0; s.Max != q3+3*(q3-q1) || !s.ExtendMax {
		t.Errorf("far-out value: max %g extend %v, want the fence %g", s.Max, s.ExtendMax, q3+3*(q3-q1))
	}
	if s := clippedScale("x", append(vs[:8:8], float32(math.Inf(1)))); s.Max != 8 || !s.ExtendMax {
		t.Errorf("+Inf: %+v", s)
	}
}

func TestNiceTicker(t *testing.T) {
	var labels []string
	for _, tk := range (niceTicker{}).Ticks(0.22, 0.5) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "0.25 0.30 0.35 0.40 0.45 0.50" {
		t.Errorf("labels %q", got)
	}
	labels = nil
	for _, tk := range (niceTicker{n: 3}).Ticks(-1.1, 1.1) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "−1 0 1" {
		t.Errorf("labels %q", got)
	}
}

// TestLegendKeepsReferencesVisible draws the demo's ablation figure (the curve high, the
// persistence reference low, across the whole width) and checks that the legend's white box
// covers neither reference line: in a fixed corner it hid the persistence line's right half.
func TestLegendKeepsReferencesVisible(t *testing.T) {
	fig, err := LinesFigure(Lines{
		Series:     []Series{{Label: "inputs within the radius", X: []float64{0, 250, 500, 1000, 2000}, Y: []float64{0.426, 0.425, 0.432, 0.454, 0.49}}},
		References: []Reference{{Label: "full input", Y: 0.49}, {Label: "persistence", Y: 0.215}},
		XLabel:     "radius kept around the target (km)", YLabel: "correlation with the truth",
	}, 95*vg.Millimeter, 0, DefaultStyle())
	if err != nil {
		t.Fatal(err)
	}
	rec := new(recorder.Canvas)
	fig.Draw(draw.NewCanvas(rec, fig.Width, fig.Height))
	var col color.Color
	var box vg.Rectangle
	var refs [][2]vg.Point
	for _, a := range rec.Actions {
		switch a := a.(type) {
		case *recorder.SetColor:
			col = a.Color
		case *recorder.Fill:
			// The legend's box is the last white fill (the first is the background); the
			// legend's thumbnails, drawn after it, are not references.
			if c := color.RGBAModel.Convert(col).(color.RGBA); c == rgb(0xffffff) && len(a.Path) > 0 {
				box = vg.Rectangle{Min: a.Path[0].Pos, Max: a.Path[0].Pos}
				for _, c := range a.Path {
					if c.Type == vg.CloseComp {
						continue
					}
					box.Min.X, box.Min.Y = min(box.Min.X, c.Pos.X), min(box.Min.Y, c.Pos.Y)
					box.Max.X, box.Max.Y = max(box.Max.X, c.Pos.X), max(box.Max.Y, c.Pos.Y)
				}
			}
		case *recorder.Stroke:
			if c := color.RGBAModel.Convert(col).(color.RGBA); (c == rgb(0x555555) || c == rgb(0x999999)) && len(a.Path) >= 2 && len(refs) < 2 {
				refs = append(refs, [2]vg.Point{a.Path[0].Pos, a.Path[len(a.Path)-1].Pos})
			}
		}
	}
	if len(refs) != 2 || box.Max.X == 0 {
		t.Fatalf("found %d reference lines and legend box %v", len(refs), box)
	}
	for _, r := range refs {
		x0, x1 := min(r[0].X, r[1].X), max(r[0].X, r[1].X)
		if r[0].Y >= box.Min.Y && r[0].Y <= box.Max.Y && x1 >= box.Min.X && x0 <= box.Max.X {
			t.Errorf("legend box %v covers the reference line at y %v (x %v..%v)", box, r[0].Y, x0, x1)
		}
	}
}

// TestNoTextOverlaps draws every default figure at the narrowest preset (AMS single column,
// 3.2 in) and at AGU single column and checks that no two horizontal texts overlap (labels
// crowding each other at print size).
func TestNoTextOverlaps(t *testing.T) {
	for _, width := range []vg.Length{3.2 * vg.Inch, 95 * vg.Millimeter} {
		for name, fig := range testFigures(t, width) {
			rec := new(recorder.Canvas)
			fig.Draw(draw.NewCanvas(rec, fig.Width, fig.Height))
			type box struct {
				s string
				r vg.Rectangle
			}
			var boxes []box
			var rotated []bool // per Push: whether a rotation happened since
			for _, a := range rec.Actions {
				switch a := a.(type) {
				case *recorder.Push:
					rotated = append(rotated, false)
				case *recorder.Pop:
					if len(rotated) > 0 {
						rotated = rotated[:len(rotated)-1]
					}
				case *recorder.Rotate:
					if len(rotated) > 0 {
						rotated[len(rotated)-1] = true
					}
				case *recorder.FillString:
					skip := false
					for _, r := range rotated {
						skip = skip || r
					}
					if skip || strings.TrimSpace(a.String) == "" {
						continue
					}
					face := font.DefaultCache.Lookup(a.Font, a.Size)
					// The ink of a line: ascenders reach about 0.7 em above the baseline and
					// descenders 0.2 em below (the font's extents add line spacing, so that
					// lines of one legend would "overlap"); shrunk by 0.2 pt at the ends.
					const in = 0.2
					boxes = append(boxes, box{a.String, vg.Rectangle{
						Min: vg.Point{X: a.Point.X + in, Y: a.Point.Y - 0.2*a.Size},
						Max: vg.Point{X: a.Point.X + face.Width(a.String) - in, Y: a.Point.Y + 0.7*a.Size}}})
				}
			}
			for i := range boxes {
				for j := i + 1; j < len(boxes); j++ {
					a, b := boxes[i].r, boxes[j].r
					if a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y {
						t.Errorf("%s at %.0f mm: %q and %q overlap", name, width/vg.Millimeter, boxes[i].s, boxes[j].s)
					}
				}
			}
		}
	}
}
