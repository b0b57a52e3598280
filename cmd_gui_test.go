package main

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProbeX11 checks the display probe that keeps `climxai gui` from panicking on an X server
// that is not there: a local socket, a TCP display, and the failures, each with the DISPLAY named.
func TestProbeX11(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "X7"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	port := tcp.Addr().(*net.TCPAddr).Port
	tcpDisplay := "127.0.0.1:" + strconv.Itoa(port-6000) + ".0"
	for _, tc := range []struct {
		display, errHas string
	}{
		{":7", ""},
		{":7.0", ""},
		{"unix:7", ""},
		{":8", "cannot reach the X display DISPLAY=:8"},
		{"x", "not of the form"},
		{":", "not of the form"},
		{":-1", "not of the form"},
		{"../x:1", "not of the form"},
	} {
		err := probeX11(tc.display, dir, time.Second)
		if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("DISPLAY=%q: %v, want %q", tc.display, err, tc.errHas)
		}
	}
	if port >= 6000 {
		if err := probeX11(tcpDisplay, dir, time.Second); err != nil {
			t.Errorf("DISPLAY=%s: %v", tcpDisplay, err)
		}
		tcp.Close()
		if err := probeX11(tcpDisplay, dir, time.Second); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("DISPLAY=%s after the server closed: %v", tcpDisplay, err)
		}
	}
}
