package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"climxai/app"
)

// The shared --threads/--budget-mb checks give each verb's usage errors as before.
func TestRunFlagsCheck(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		budget bool
		max    int
		why    string
		want   string // "" : no error
	}{
		{nil, true, 0, "", ""},
		{[]string{"--threads", "-1"}, false, 0, "", "v: --threads must be 0 or positive"},
		{[]string{"--budget-mb", "0"}, true, 0, "", "v: --budget-mb must be positive"},
		{[]string{"--budget-mb", "5000"}, true, 0, "", ""},
		{[]string{"--budget-mb", "1025"}, true, 1024, " (note)", "v: --budget-mb must be from 1 to 1024 (note)"},
		{[]string{"--budget-mb", "1024", "--threads", "2", "--device", "cpu"}, true, 1024, "", ""},
	} {
		fs := newFlags("v", "v", io.Discard)
		rf := addRunFlags(fs, tc.budget)
		if _, err := parseFlags(fs, tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		err := rf.check("v", tc.max, tc.why)
		var ue *app.UsageError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (err == nil || !errors.As(err, &ue) || err.Error() != tc.want):
			t.Errorf("%v: %v, want usage error %q", tc.args, err, tc.want)
		}
	}
	fs := newFlags("v", "v", io.Discard)
	rf := addRunFlags(fs, true)
	if _, err := parseFlags(fs, []string{"--threads", "3", "--budget-mb", "2"}); err != nil {
		t.Fatal(err)
	}
	if o := rf.options(); o.Threads != 3 || rf.budgetBytes() != 2<<20 {
		t.Errorf("options %+v, budget %d", o, rf.budgetBytes())
	}
}

// TestOutNeverReplacesAnInput: every verb that reads a data file refuses an --out that names it
// (spelt another way too), as a usage error, before writing anything.
func TestOutNeverReplacesAnInput(t *testing.T) {
	card, data := predictFixture(t)
	before, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Dir(data) + "/./" + filepath.Base(data) // the same file, another name
	if other == data {
		t.Fatal("the test needs another spelling of the data file's path")
	}
	// The data file is the second --data: every file given is checked.
	common := []string{"--card", card, "--data", card, "--data", data, "--lead", "1", "--out", other}
	for verb, extra := range map[string][]string{
		"explain":   {"--init", "0004-02", "--target", "45,-40"},
		"aggregate": {"--target", "45,-40"},
		"decaymap":  {},
		"ablate":    {"--target", "45,-40"},
		"predict":   {"--init", "0004-02"},
		"skill":     {},
		"fidelity":  {"--truth", data},
	} {
		t.Run(verb, func(t *testing.T) {
			args := append(slices.Clone(common), extra...)
			var stdout, stderr bytes.Buffer
			err := commands()[verb].run(context.Background(), args, &stdout, &stderr)
			var ue *app.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "is the --data file") {
				t.Errorf("%v (usage error %v)", err, errors.As(err, &ue))
			}
		})
	}
	if after, _ := os.ReadFile(data); !bytes.Equal(before, after) {
		t.Error("the data file changed")
	}
	// merge: a part spelt another way.
	var stdout, stderr bytes.Buffer
	err = cmdMerge(context.Background(), []string{data, "--out", other}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "is one of the parts") {
		t.Errorf("merge: %v", err)
	}
}

// TestDataFlag: --data repeats, a quoted pattern adds its matches in name order (a file whose
// very name holds a pattern character is taken as it is), and an unquoted pattern the shell
// expanded is a usage error saying to quote it.
func TestDataFlag(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"tsub_0201-0400.nc", "tsub_0001-0200.nc", "odd[1].nc", "sst.nc"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	fs := newFlags("x", "x", io.Discard)
	d := addDataFlag(fs)
	if _, err := parseFlags(fs, []string{"--data", files[3], "--data", filepath.Join(dir, "tsub_*.nc"), "--data", files[2]}); err != nil {
		t.Fatal(err)
	}
	if want := []string{files[3], files[1], files[0], files[2]}; !slices.Equal(*d, want) {
		t.Errorf("--data gave %q, want %q", *d, want)
	}
	for _, bad := range []struct{ arg, say string }{{"", "empty path"}, {filepath.Join(dir, "ohc_*.nc"), "no file matches"}} {
		fs := newFlags("x", "x", io.Discard)
		addDataFlag(fs)
		if _, err := parseFlags(fs, []string{"--data", bad.arg}); err == nil || !strings.Contains(err.Error(), bad.say) {
			t.Errorf("--data %q: %v", bad.arg, err)
		}
	}
	var stdout, stderr bytes.Buffer
	err := cmdExplain(context.Background(), []string{"--card", "c.toml", "--data", files[1], files[0], "--out", "a.nc"}, &stdout, &stderr)
	var ue *app.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "quote a pattern") {
		t.Errorf("an expanded pattern: %v", err)
	}
}
