package ui

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2/dialog"
)

// startJob cancels the running job and starts a new one with a status line: it returns the
// job's number, its context and a progress callback for the worker that reaches the progress
// bar at most 20 times a second (through w.do) and only while the job is the latest. Every job
// of the window (explanations, exports, analyses) goes through it, so one Cancel button stops
// whichever runs and a new request replaces the old.
func (w *Window) startJob(status string) (int, context.Context, func(done, total int)) {
	w.Cancel()
	w.job++
	id := w.job
	ctx, stop := context.WithCancel(context.Background())
	w.stop = stop
	w.started = time.Now()
	w.cancel.Enable()
	w.progress.SetValue(0)
	w.status.SetText(status)
	var lastReport atomic.Int64
	progress := func(done, total int) {
		now := time.Now().UnixNano()
		if total <= 0 || (done < total && now-lastReport.Load() < int64(50*time.Millisecond)) {
			return
		}
		lastReport.Store(now)
		w.do(func() {
			if id == w.job {
				w.progress.SetValue(float64(done) / float64(total))
			}
		})
	}
	return id, ctx, progress
}

// endJob reports whether job id is still the latest (its outcome should be shown) and, if so,
// marks it ended.
func (w *Window) endJob(id int) bool {
	if id != w.job {
		return false
	}
	w.stop = nil
	w.cancel.Disable()
	return true
}

// jobFailed shows the failure of the job just ended: "cancelled" in the status line, or the
// error in a dialog; event is the notification for anything but cancellation.
func (w *Window) jobFailed(err error, event string) {
	w.progress.SetValue(0)
	if errors.Is(err, context.Canceled) {
		w.status.SetText("cancelled")
		w.event("cancelled")
		return
	}
	w.status.SetText(firstLine(err.Error()))
	dialog.ShowError(err, w.Win)
	w.event(event)
}

// recovered turns a panic in a worker into an error (bad files never take the window down).
func recovered(what string, err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%s failed unexpectedly: %v", what, p)
	}
}
