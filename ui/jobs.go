package ui

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// lane is a line of jobs with its own progress bar and Cancel button: a new job of a lane
// cancels the lane's running one, and its results replace the older one's. The window has two:
// the foreground lane (explanations, comparisons, exports: what a click asks for) and the
// analysis lane (aggregate, decay map, ablation: minutes long), so that exploring the map while
// an analysis runs does not cancel it. Fields are touched only on the UI goroutine.
type lane struct {
	job      int                // number of the latest job; results of older ones are dropped
	stop     context.CancelFunc // cancels the running job; nil when none runs
	started  time.Time          // when the latest job was asked for (the click)
	progress *widget.ProgressBar
	cancel   *widget.Button
	// running, if set, hears when the lane starts (true) or ends (false) a job.
	running func(bool)
}

// busy reports whether a job of the lane is running.
func (l *lane) busy() bool { return l.stop != nil }

// halt cancels the lane's running job, if any.
func (l *lane) halt() {
	if l.stop != nil {
		l.stop()
		l.stop = nil
		if l.running != nil {
			l.running(false)
		}
	}
	l.cancel.Disable()
}

// start cancels the lane's running job and starts a new one with a status line: it returns the
// job's number, its context and a progress callback for the worker that reaches the lane's
// progress bar at most 20 times a second (through w.do) and only while the job is the latest.
func (w *Window) start(l *lane, status string) (int, context.Context, func(done, total int)) {
	l.halt()
	l.job++
	id := l.job
	ctx, stop := context.WithCancel(context.Background())
	l.stop = stop
	l.started = time.Now()
	l.cancel.Enable()
	l.progress.SetValue(0)
	if l.running != nil {
		l.running(true)
	}
	w.status.SetText(status)
	var lastReport atomic.Int64
	progress := func(done, total int) {
		now := time.Now().UnixNano()
		if total <= 0 || (done < total && now-lastReport.Load() < int64(50*time.Millisecond)) {
			return
		}
		lastReport.Store(now)
		w.do(func() {
			if id == l.job {
				l.progress.SetValue(float64(done) / float64(total))
			}
		})
	}
	return id, ctx, progress
}

// startJob starts a job in the foreground lane (see start).
func (w *Window) startJob(status string) (int, context.Context, func(done, total int)) {
	return w.start(&w.fg, status)
}

// end reports whether job id is still the lane's latest (its outcome should be shown) and, if
// so, marks it ended.
func (l *lane) end(id int) bool {
	if id != l.job {
		return false
	}
	l.stop = nil
	l.cancel.Disable()
	if l.running != nil {
		l.running(false)
	}
	return true
}

// endJob is end in the foreground lane.
func (w *Window) endJob(id int) bool { return w.fg.end(id) }

// jobFailed shows the failure of a job of lane l just ended: "cancelled" in the status line, or
// the error in a dialog; event is the notification for anything but cancellation.
func (w *Window) jobFailed(l *lane, err error, event string) {
	l.progress.SetValue(0)
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
