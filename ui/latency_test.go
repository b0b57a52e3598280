package ui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"climxai/app"
)

// TestDemoClickLatency measures the responsiveness figure on the embedded demo (the 2°
// reference DenseNet, lead 1, unpacked with its synthetic SST into the user's cache like `make
// run` does; the first time this writes 60 MB in about 4 s): from a tap on an ocean cell to its
// saliency heatmap set on the map (the explanation, the map image and the lag chart, on the UI
// goroutine), over 9 cells after the first explanation has built the backward graph. The issue
// asks for at most 150 ms on this 2-core machine; the median must meet it. The time to a frame
// captured by the test driver's software painter is logged too (the real window paints with
// OpenGL; scripts/gui-smoke.sh logs the real binary's figure).
func TestDemoClickLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks the demo into the user's cache")
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	card, data, err := app.DemoFiles(context.Background(), filepath.Join(dir, "climxai"), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, events := testWindow(t)
	onUI(func() { w.Open(card, []string{data}) })
	await(t, events, "opened", 60*time.Second)
	await(t, events, "explained", 60*time.Second)
	if w.last.Result.Method != "saliency" {
		t.Fatalf("default method %s", w.last.Result.Method)
	}
	var heat, frame []time.Duration
	for i := range 9 {
		row, col := 12+i, 20+2*i
		if !w.ws.Prepared.Ocean[row*w.ws.Card.Grid.NLon+col] {
			continue
		}
		start := time.Now()
		onUI(func() { test.TapAt(w.mapw, w.mapw.CellPosition(row, col)) })
		await(t, events, "explained", 10*time.Second)
		heat = append(heat, w.lastLatency) // set by the window: tap to heatmap on the map
		onUI(func() { w.Win.Canvas().Capture() })
		frame = append(frame, time.Since(start))
		if s := w.last.Selection.Target; s.Row != row || s.Col != col {
			t.Fatalf("tap on (%d, %d) explained (%d, %d)", row, col, s.Row, s.Col)
		}
	}
	if len(heat) < 5 {
		t.Fatalf("only %d ocean cells tapped", len(heat))
	}
	med := func(d []time.Duration) time.Duration { s := slices.Clone(d); slices.Sort(s); return s[len(s)/2] }
	t.Logf("demo, saliency, CPU, 2 threads: tap to heatmap median %v (all %v); tap to software-painted frame median %v",
		med(heat), heat, med(frame))
	if m := med(heat); m > 150*time.Millisecond {
		t.Errorf("median tap to heatmap %v, the issue asks for at most 150 ms", m)
	}
}
