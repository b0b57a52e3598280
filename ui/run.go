package ui

import (
	"context"
	"io"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"climxai/inference"
	"climxai/resources"
)

// AppID is climxai's application ID (also in FyneApp.toml): it names the preferences store.
const AppID = "org.climxai.app"

// Config is what `climxai gui` asks for: the card and data to open (both or neither) and where
// models run (zero Options: the preferences' device and threads).
type Config struct {
	Card    string
	Data    []string // the data files: one, or one per variable or period (several --data)
	Options inference.Options
	// Log, if set, gets one line per workspace opened and per explanation shown (with its
	// click-to-heatmap time): a record for logs and the smoke test to wait on.
	Log io.Writer
}

// Run opens the main window and blocks until it is closed or ctx is cancelled (Ctrl-C). With a
// card and data it opens them (a bad file gives a dialog, not an exit); without, it shows how
// to open them.
func Run(ctx context.Context, cfg Config) error {
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("climxai.png", resources.Icon()))
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()
	opts := cfg.Options
	if opts == (inference.Options{}) { // no --device or --threads: the preferences say
		opts = prefs{a.Preferences()}.options()
	}
	w := NewWindow(a, opts)
	w.log = cfg.Log
	if cfg.Card != "" && len(cfg.Data) > 0 {
		w.Open(cfg.Card, cfg.Data)
	} else {
		w.Prompt(OpenNote)
	}
	w.Win.ShowAndRun()
	return nil
}
