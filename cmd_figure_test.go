package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/dataset"
)

// figureResults writes two small result files (leads 1 and 6, 4 lags, a blob around 50N 30W).
func figureResults(t *testing.T, dir string) []string {
	t.Helper()
	g := dataset.Grid{}
	for i := 0; i < 20; i++ {
		g.Lat = append(g.Lat, 30+2*float64(i))
	}
	for j := 0; j < 30; j++ {
		g.Lon = append(g.Lon, -60+2*float64(j))
	}
	var paths []string
	for _, lead := range []int{1, 6} {
		a := &dataset.AttributionFile{Grid: g, Lags: []int{0, 1, 2, 3},
			Meta: dataset.AttributionMeta{Method: "saliency", Target: "50,-30", Lead: lead}}
		for k := 0; k < 4; k++ {
			for _, lat := range g.Lat {
				for _, lon := range g.Lon {
					d2 := (lat-50)*(lat-50) + (lon+30)*(lon+30)
					a.Values = append(a.Values, float32(math.Exp(-float64(k)/float64(lead)-d2/100)))
				}
			}
		}
		// An aggregate's signed mean beside it: the blob with the sign flipped west of 30°W.
		signed := slices.Clone(a.Values)
		for i := range signed {
			if g.Lon[i%len(g.Lon)] < -30 {
				signed[i] = -signed[i]
			}
		}
		a.Extra = []dataset.LagField{{Name: "signed_mean", Units: "1", LongName: "mean signed", Values: signed}}
		p := filepath.Join(dir, fmt.Sprintf("lead%d.nc", lead))
		if err := dataset.WriteAttribution(p, a); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestFigureFromSpecIsTheSameFigure makes figures with --kind, then again with --spec from the
// sidecar, and compares the files.
func TestFigureFromSpecIsTheSameFigure(t *testing.T) {
	dir := t.TempDir()
	res := figureResults(t, dir)
	for _, tc := range []struct {
		name string
		args []string
		ext  string
	}{
		{"map lag range", []string{"--kind", "map", "--lags", "0-2", "--contours", "0.25,0.5", res[0]}, "png"},
		{"decay", []string{"--kind", "decay", "--preset", "ams1", res[0], res[1]}, "pdf"},
		{"leads", []string{"--kind", "leads", "--lags", "0,3", res[1], res[0]}, "svg"},
		{"leads normalized", []string{"--kind", "leads", "--normalize", "lead", "--lags", "0,3", res[1], res[0]}, "png"},
		{"distance", []string{"--kind", "distance", res[0]}, "eps"},
		{"laglat", []string{"--kind", "laglat", "--preset", "agu2", "--height-mm", "60", res[1]}, "png"},
		{"signed map", []string{"--kind", "map", "--var", "signed_mean", "--lags", "0-3", res[0]}, "png"},
		{"signed leads", []string{"--kind", "leads", "--var", "signed_mean", res[0], res[1]}, "pdf"},
		{"decay first lags", []string{"--kind", "decay", "--fit-max-lag", "3", res[0], res[1]}, "png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+"."+tc.ext)
			var stdout, stderr bytes.Buffer
			args := append([]string{"figure", "--dpi", "72", "--out", out}, tc.args...)
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), out+".json") {
				t.Errorf("stdout %q does not name the sidecar", stdout.String())
			}
			again := filepath.Join(t.TempDir(), "again."+tc.ext)
			stdout.Reset()
			if code := run([]string{"figure", "--spec", out + ".json", "--out", again}, &stdout, &stderr); code != 0 {
				t.Fatalf("--spec: exit %d: %s", code, stderr.String())
			}
			a, _ := os.ReadFile(out)
			b, _ := os.ReadFile(again)
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("figure from --spec differs (%d vs %d bytes)", len(a), len(b))
			}
		})
	}
}

func TestFigureUsageErrors(t *testing.T) {
	dir := t.TempDir()
	res := figureResults(t, dir)
	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"no out", []string{"--kind", "map", res[0]}, 2, "--out"},
		{"bad extension", []string{"--kind", "map", "--out", "f.jpg", res[0]}, 2, ".png"},
		{"no kind", []string{"--out", "f.png", res[0]}, 2, "--spec"},
		{"unknown kind", []string{"--kind", "pie", "--out", "f.png", res[0]}, 2, "kinds"},
		{"lines from the command line", []string{"--kind", "lines", "--out", "f.png", res[0]}, 2, "--spec"},
		{"contour not a fraction", []string{"--kind", "map", "--contours", "2", "--out", "f.png", res[0]}, 2, "fraction"},
		{"no files", []string{"--kind", "decay", "--out", "f.png"}, 2, "result files"},
		{"bad lags", []string{"--kind", "map", "--lags", "3-1", "--out", "f.png", res[0]}, 2, "range"},
		{"unknown preset", []string{"--kind", "map", "--preset", "nature", "--out", "f.png", res[0]}, 2, "agu1"},
		{"spec with kind", []string{"--spec", "x.json", "--kind", "map", "--out", "f.png"}, 2, "sidecar"},
		{"missing lag", []string{"--kind", "map", "--lags", "30", "--out", filepath.Join(dir, "f.png"), res[0]}, 1, "no lag 30"},
		{"missing spec", []string{"--spec", filepath.Join(dir, "none.json"), "--out", filepath.Join(dir, "f.png")}, 1, "none.json"},
		{"fidelity from the command line", []string{"--kind", "fidelity", "--out", "f.png", res[0]}, 2, "--spec"},
		{"unknown normalisation", []string{"--kind", "leads", "--normalize", "max", "--out", "f.png", res[0]}, 2, "use lead"},
		{"normalisation of a map", []string{"--kind", "map", "--normalize", "lead", "--out", "f.png", res[0]}, 2, "--kind leads"},
		{"decaymap without its file", []string{"--kind", "decaymap", "--out", "f.png"}, 2, "climxai decaymap"},
		{"fit over two lags", []string{"--kind", "decay", "--fit-max-lag", "1", "--out", "f.png", res[0]}, 2, "at least three lags"},
		{"fit lags of a map", []string{"--kind", "map", "--fit-max-lag", "11", "--out", "f.png", res[0]}, 2, "for kind decay"},
		{"variable of a curve", []string{"--kind", "decay", "--var", "signed_mean", "--out", "f.png", res[0]}, 2, "kinds map, laglat, leads and methods"},
		{"variable not a name", []string{"--kind", "map", "--var", "a b", "--out", "f.png", res[0]}, 2, "not a NetCDF variable name"},
		{"variable not in the file", []string{"--kind", "map", "--var", "std", "--out", filepath.Join(dir, "f.png"), res[0]}, 1, "attribution, signed_mean"},
		{"decaymap of a result file", []string{"--kind", "decaymap", "--out", filepath.Join(dir, "f.png"), res[0]}, 1, "climxai decaymap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"figure"}, tc.args...), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.says) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr.String(), tc.code, tc.says)
			}
		})
	}
}
