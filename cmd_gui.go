package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"climxai/app"
	"climxai/ui"
)

// runGUI is `climxai gui [--card C --data D]`, also what runs with no arguments: the desktop
// application (package ui). With --card and --data it opens them; a bad file gives a dialog in
// the window, not an exit. Without them it opens the embedded demo: its emulators and the
// synthetic SST they were trained on (app.DemoFiles, written into the user's cache once).
func runGUI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gui", "gui [--card C --data D] [--device D] [--threads N]", stderr)
	card := fs.String("card", "", "emulator card (TOML) beside its ONNX files")
	data := fs.String("data", "", "NetCDF file of monthly SST")
	rf := addRunFlags(fs, false)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return app.Usagef("gui: unexpected argument %q (the card and data are given with --card and --data)", pos[0])
	case (*card == "") != (*data == ""):
		return app.Usagef("gui: give both --card and --data, or neither (then open them in the window)")
	}
	if err := rf.check("gui", 0, ""); err != nil {
		return err
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		// Without a display Fyne would abort the process; say what to do instead.
		return fmt.Errorf("gui: no display (DISPLAY and WAYLAND_DISPLAY are unset): run it on a desktop, " +
			"or under a virtual one (xvfb-run climxai gui ...); the headless verbs are listed by 'climxai help'")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprintf(stdout, "climxai %s\n", app.Version)
	if *card == "" {
		// The embedded demo: its emulators unpacked and the synthetic SST they were trained on
		// regenerated into the user's cache, the first time only.
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		prog := app.NewProgress(stderr, "demo data (first start only)")
		*card, *data, err = app.DemoFiles(ctx, filepath.Join(dir, "climxai"), prog.Func())
		prog.Done()
		if err != nil {
			return err
		}
	}
	return ui.Run(ctx, ui.Config{Card: *card, Data: *data, Options: rf.options(), Log: stderr})
}
