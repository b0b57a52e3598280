package app

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"climxai/attribution"
	"climxai/dataset"
	"climxai/dataset/synth"
	"climxai/inference"
)

// randomCard is the card over the random-weight 2° reference DenseNet used by attribution tests.
var randomCard = filepath.Join("..", "attribution", "testdata", "random2deg.toml")

var (
	synthOnce sync.Once
	synthPath string
	synthErr  error
)

// synthFile writes 4 years of synthetic 2° SST to a temporary NetCDF file once per test run.
func synthFile(t *testing.T) string {
	t.Helper()
	synthOnce.Do(func() {
		res, err := synth.Generate(context.Background(), synth.Config{Years: 4, Grid: 2, Seed: 3}, nil)
		if err != nil {
			synthErr = err
			return
		}
		dir, err := os.MkdirTemp("", "climxai-app-test")
		if err != nil {
			synthErr = err
			return
		}
		synthPath = filepath.Join(dir, "sst.nc")
		synthErr = dataset.WriteSeries(synthPath, res.SST, map[string]string{"title": "app test"})
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return synthPath
}

func openTestWorkspace(t *testing.T) *Workspace {
	t.Helper()
	w, err := Open(randomCard, []string{synthFile(t)}, inference.Options{Device: inference.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func TestOpenErrorsNameTheFile(t *testing.T) {
	data := synthFile(t)
	tests := []struct {
		name       string
		card, data string
		kind       error
	}{
		{"missing card", "no-such-card.toml", data, ErrCard},
		{"data is not NetCDF", randomCard, randomCard, ErrData},
		{"missing data", randomCard, "no-such.nc", ErrData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Open(tc.card, []string{tc.data}, inference.Options{})
			if err == nil {
				w.Close()
				t.Fatal("Open succeeded")
			}
			var oe *OpenError
			if !errors.As(err, &oe) || !errors.Is(err, tc.kind) {
				t.Fatalf("error %v (%T), want an *OpenError of kind %v", err, err, tc.kind)
			}
			t.Log(err)
		})
	}
}

func TestWorkspaceSelection(t *testing.T) {
	w := openTestWorkspace(t)
	sel := w.Selection()
	if sel.Lead != 1 || sel.Method != "saliency" || sel.Target.Weights == nil {
		t.Fatalf("initial selection %+v", sel)
	}
	inits := w.Inits(1)
	if sel.Init != inits[len(inits)-1] {
		t.Errorf("initial init %s, want the latest %s", sel.Init, inits[len(inits)-1])
	}
	if err := w.SetLead(6); !errors.Is(err, ErrSelection) {
		t.Errorf("SetLead(6) on a lead-1 card: %v, want ErrSelection", err)
	}
	if err := w.SetMethod("no-such-method"); !errors.Is(err, ErrSelection) {
		t.Errorf("SetMethod: %v, want ErrSelection", err)
	}
	if err := w.SetInit(inits[0] - 1); !errors.Is(err, ErrSelection) {
		t.Errorf("SetInit before the first init: %v, want ErrSelection", err)
	}
	if err := w.SetInit(inits[0]); err != nil || w.Selection().Init != inits[0] {
		t.Errorf("SetInit(%s): %v", inits[0], err)
	}
	// Row 30, col 40 of the 2° grid is 65°N 20°W, Iceland: a land cell snaps to the nearest ocean.
	tg, err := w.SelectCell(30, 40)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Prepared.Ocean[tg.Row*w.Card.Grid.NLon+tg.Col] {
		t.Errorf("selected %s is land", tg)
	}
	if _, err := w.SelectCell(35, 0); !errors.Is(err, ErrSelection) {
		t.Errorf("SelectCell outside the grid: %v", err)
	}
	in, err := w.Input(inits[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range w.Prepared.Ocean {
		if o == math.IsNaN(float64(in[i])) {
			t.Fatalf("input at cell %d is %g, ocean %v", i, in[i], o)
		}
	}
}

func TestWorkspaceExplain(t *testing.T) {
	w := openTestWorkspace(t)
	if _, err := w.SelectCell(20, 30); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the first run builds the backward graph; the second is a click's latency
		var calls int
		ex, err := w.Explain(context.Background(), func(done, total int) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		r := ex.Result
		if r.Lags != 36 || r.NLat != 35 || r.NLon != 63 || len(ex.LagImportance) != 36 {
			t.Fatalf("result %d x %d x %d, %d lag importances", r.Lags, r.NLat, r.NLon, len(ex.LagImportance))
		}
		var sum float64
		for _, v := range ex.LagImportance {
			sum += v
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("lag importance sums to %g", sum)
		}
		if ex.Selection.Target.Row != w.Selection().Target.Row {
			t.Errorf("explanation of %s, selection %s", ex.Selection.Target, w.Selection().Target)
		}
		t.Logf("run %d: saliency in %v (%v in the method) on %s, %d progress calls", i, ex.Elapsed, r.Duration, r.Device, calls)
	}

	ex, err := w.Explain(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sal.nc")
	if err := w.WriteResult(path, ex); err != nil {
		t.Fatal(err)
	}
	af, err := dataset.ReadAttribution(path)
	if err != nil {
		t.Fatal(err)
	}
	m := af.Meta
	if len(af.Lags) != 36 || m.Method != "saliency" || m.Lead != 1 || m.Init != ex.Selection.Init.String() ||
		m.Target != ex.Selection.Target.Spec || len(m.ModelSHA256) != 64 || m.DataFile != w.DataPaths[0] {
		t.Errorf("result file: lags %d, meta %+v", len(af.Lags), m)
	}
	for i, v := range ex.Result.Values {
		if a := af.Values[i]; a != v && !(math.IsNaN(float64(a)) && math.IsNaN(float64(v))) {
			t.Fatalf("value %d: file %g, result %g", i, a, v)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Explain(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Explain: %v", err)
	}
}

func TestCloseWaitsForExplain(t *testing.T) {
	w, err := Open(randomCard, []string{synthFile(t)}, inference.Options{Device: inference.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := w.Explain(context.Background(), nil); done <- err }()
	time.Sleep(10 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		// Either the explanation finished before Close, or it started after and was refused.
		t.Log("explain:", err)
	default:
		t.Fatal("Close returned while Explain was running")
	}
	if _, err := w.Explain(context.Background(), nil); err == nil {
		t.Error("Explain after Close succeeded")
	}
}

// TestExplainLeads compares leads 1 and 6 of the tiny two-lead card from one init month.
func TestExplainLeads(t *testing.T) {
	w, err := Open(filepath.Join("..", "inference", "testdata", "tiny.toml"), []string{synthFile(t)}, inference.Options{Device: inference.CPU, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sel := w.Selection()
	var last [2]int
	exs, err := w.ExplainLeads(context.Background(), sel, func(done, total int) { last = [2]int{done, total} })
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 || exs[0].Selection.Lead != 1 || exs[1].Selection.Lead != 6 {
		t.Fatalf("%d explanations", len(exs))
	}
	for _, ex := range exs {
		if ex.Selection.Init != sel.Init || ex.Selection.Target.Row != sel.Target.Row {
			t.Errorf("lead %d explained init %s row %d", ex.Selection.Lead, ex.Selection.Init, ex.Selection.Target.Row)
		}
	}
	if last[0] != last[1] || last[1] == 0 {
		t.Errorf("last progress %d/%d", last[0], last[1])
	}
}

// The forecast beside an explanation is the forward run of the explained window: at the target
// cell it equals the explained output f(x) (the card's scaling undone), for a gradient method
// and for one whose backward runs see other inputs (IG); the truth is the prepared target month
// and the error their difference.
func TestExplainForecast(t *testing.T) {
	w := openTestWorkspace(t)
	tg, err := w.SelectCell(20, 30)
	if err != nil {
		t.Fatal(err)
	}
	pp := w.Card.Preprocess
	k := tg.Row*w.Card.Grid.NLon + tg.Col
	for _, method := range []string{"saliency", "ig"} {
		if err := w.SetMethod(method); err != nil {
			t.Fatal(err)
		}
		ex, err := w.Explain(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		f := ex.Forecast
		if f == nil || f.Month != ex.Selection.Init+1 || f.Truth == nil {
			t.Fatalf("%s: forecast %+v", method, f)
		}
		want := ex.Result.Output*pp.ScaleStd + pp.ScaleMean
		if got := float64(f.Prediction[k]); math.Abs(got-want) > 1e-5*max(1, math.Abs(want)) {
			t.Errorf("%s: prediction at the target %g, explained output %g", method, got, want)
		}
		truth, err := w.Prepared.Target(ex.Selection.Init, 1)
		if err != nil {
			t.Fatal(err)
		}
		land := 0
		for i, v := range truth.Values {
			if math.IsNaN(float64(v)) {
				land++
				if !math.IsNaN(float64(f.Prediction[i])) || !math.IsNaN(float64(f.Error[i])) {
					t.Fatalf("%s: land cell %d has prediction %g, error %g", method, i, f.Prediction[i], f.Error[i])
				}
				continue
			}
			tv := float32(float64(v)*pp.ScaleStd + pp.ScaleMean)
			if f.Truth[i] != tv || f.Error[i] != f.Prediction[i]-tv {
				t.Fatalf("%s: cell %d truth %g (want %g), error %g", method, i, f.Truth[i], tv, f.Error[i])
			}
		}
		if land == 0 || land == len(truth.Values) {
			t.Fatalf("%d land cells of %d", land, len(truth.Values))
		}
	}
}

// TestExplainMethods: each method explains the same forecast, the selected one with its
// parameters and the others with their defaults; the agreement matrix is symmetric with a unit
// diagonal, and a method agrees with itself.
func TestExplainMethods(t *testing.T) {
	w := openTestWorkspace(t)
	if err := w.SetMethodParams("ig", map[string]string{"steps": "8"}); err != nil {
		t.Fatal(err)
	}
	sel := w.Selection()
	methods := []string{"saliency", "ig", "ixg", "saliency"}
	var last [2]int
	exs, err := w.ExplainMethods(context.Background(), sel, methods, func(d, n int) { last = [2]int{d, n} })
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range exs {
		if ex.Result.Method != methods[i] || ex.Selection.Init != sel.Init || ex.Selection.Target.Spec != sel.Target.Spec {
			t.Errorf("explanation %d: %s of %s", i, ex.Result.Method, ex.Selection.Target.Spec)
		}
	}
	if p := exs[1].Result.Params.String(); !strings.Contains(p, "steps=8") {
		t.Errorf("ig ran with %s, not the selection's steps=8", p)
	}
	if last[0] != last[1] || last[1] == 0 {
		t.Errorf("last progress %v", last)
	}
	a := MethodAgreement(exs)
	for i := range a {
		for j := range a {
			if a[i][j] != a[j][i] || i == j && a[i][j] != 1 || !(a[i][j] >= -1 && a[i][j] <= 1) {
				t.Fatalf("agreement[%d][%d] = %g", i, j, a[i][j])
			}
		}
	}
	if math.Abs(a[0][3]-1) > 1e-12 {
		t.Errorf("saliency against itself: %g", a[0][3])
	}
	if _, err := w.ExplainMethods(context.Background(), sel, nil, nil); !errors.Is(err, ErrSelection) {
		t.Errorf("no methods: %v", err)
	}
}

// TestStepCell: the arrow keys' steps move the cell target one ocean cell north or west, and
// at the grid's edge the target stays with an error that says which way.
func TestStepCell(t *testing.T) {
	w := openTestWorkspace(t)
	start := w.Selection().Target
	north, err := w.StepCell(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if north.Row <= start.Row || north.Col != start.Col || north.Lat <= start.Lat {
		t.Errorf("north of row %d: row %d col %d lat %g", start.Row, north.Row, north.Col, north.Lat)
	}
	west, err := w.StepCell(0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if west.Col >= north.Col || west.Lon >= north.Lon || west.Row != north.Row {
		t.Errorf("west of col %d: col %d row %d", north.Col, west.Col, west.Row)
	}
	var last attribution.Target
	for range w.Card.Grid.NLat + 1 {
		if last, err = w.StepCell(1, 0); err != nil {
			break
		}
	}
	if err == nil || !strings.Contains(err.Error(), "further north") || w.Selection().Target.Spec != last.Spec {
		t.Errorf("at the northern edge: %v, target %s then %s", err, last.Spec, w.Selection().Target.Spec)
	}
}
