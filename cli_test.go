package main

import (
	"errors"
	"io"
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
