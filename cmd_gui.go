package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	data := addDataFlag(fs)
	rf := addRunFlags(fs, false)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return app.Usagef("gui: unexpected argument %q (the card and data are given with --card and --data)", pos[0])
	case (*card == "") != (len(*data) == 0):
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
	if os.Getenv("WAYLAND_DISPLAY") == "" {
		// An X display that cannot be reached (a stale DISPLAY after ssh, a stopped Xvfb) would
		// make Fyne panic with a stack trace.
		if err := probeX11(os.Getenv("DISPLAY"), x11SocketDir, 2*time.Second); err != nil {
			return fmt.Errorf("gui: %w: start the X server or fix DISPLAY, or run under a virtual display (xvfb-run climxai gui ...); "+
				"the headless verbs are listed by 'climxai help'", err)
		}
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
		var demo string
		*card, demo, err = app.DemoFiles(ctx, filepath.Join(dir, "climxai"), prog.Func())
		prog.Done()
		*data = dataFiles{demo}
		if err != nil {
			return err
		}
	}
	return ui.Run(ctx, ui.Config{Card: *card, Data: *data, Options: rf.options(), Log: stderr})
}

// x11SocketDir holds the local X servers' sockets, X0, X1, ...
const x11SocketDir = "/tmp/.X11-unix"

// probeX11 connects to the X server that display ("[host]:N[.S]") names: the local socket N of
// socketDir (also in Linux's abstract namespace) for ":N" and "unix:N", TCP port 6000+N
// otherwise. It proves only that something listens there, which is what a stale or mistyped
// DISPLAY lacks; authorisation is left to the GUI library.
func probeX11(display, socketDir string, timeout time.Duration) error {
	i := strings.LastIndex(display, ":")
	if i < 0 {
		return fmt.Errorf("DISPLAY=%q is not of the form [host]:N[.S]", display)
	}
	host := strings.Trim(display[:i], "[]")
	num, _, _ := strings.Cut(display[i+1:], ".")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || strings.Contains(host, "/") {
		return fmt.Errorf("DISPLAY=%q is not of the form [host]:N[.S]", display)
	}
	var tries [][2]string
	if host == "" || host == "unix" {
		path := filepath.Join(socketDir, "X"+num)
		tries = [][2]string{{"unix", path}, {"unix", "@" + path}}
	} else {
		tries = [][2]string{{"tcp", net.JoinHostPort(host, strconv.Itoa(6000+n))}}
	}
	var errs []error
	for _, t := range tries {
		c, err := net.DialTimeout(t[0], t[1], timeout)
		if err == nil {
			c.Close()
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("cannot reach the X display DISPLAY=%s (%v)", display, errs[0])
}
