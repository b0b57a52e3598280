package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"climxai/app"
	"climxai/dataset"
	"climxai/inference"
)

// newFlags returns a flag set for a verb that reports errors instead of exiting, so that the
// exit-status contract (2 on a usage error) is kept in one place.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: climxai %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// errHelp is returned by parseFlags when the user asked for -h: the usage has been printed and
// the command ends successfully.
var errHelp = errors.New("help requested")

// parseFlags parses args into fs and turns a malformed command line into an app.UsageError.
// Positional arguments are allowed before and after flags ("info FILE --json").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, app.Usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// dataFiles is --data: the data files, one per use of the flag. One file holds every input
// variable; variables or periods stored in separate files (CMIP's one variable per file, or
// one period per file) are given by repeating --data, and inference.Card.Prepare picks each
// variable's files.
type dataFiles []string

// dataUsage is --data's line in every verb's usage.
const dataUsage = "NetCDF file of the input variables; repeat --data for variables or periods in separate files"

func (d *dataFiles) String() string {
	if d == nil {
		return ""
	}
	return dataset.PathList(*d)
}

// Set adds a file, or the files a quoted pattern matches (--data 'tos_Omon_*.nc', in name
// order) when no file has that very name.
func (d *dataFiles) Set(v string) error {
	if v == "" {
		return errors.New("empty path")
	}
	if strings.ContainsAny(v, "*?[") && !strings.Contains(v, "://") {
		if _, err := os.Stat(v); err != nil {
			m, err := dataset.Glob(v)
			if err != nil {
				return err
			}
			*d = append(*d, m...)
			return nil
		}
	}
	*d = append(*d, v)
	return nil
}

// unexpectedArgs is verb's usage error for positional arguments, which a verb that takes
// its files by flag gets from an unquoted pattern (--data tos_*.nc expanded by the shell).
func unexpectedArgs(verb string, pos []string) error {
	if slices.ContainsFunc(pos, func(p string) bool { return strings.HasSuffix(strings.ToLower(p), ".nc") }) {
		return app.Usagef("%s: unexpected arguments %q: give each data file its own --data, or quote a pattern (--data 'tos_*.nc')", verb, pos)
	}
	return app.Usagef("%s: unexpected arguments %q", verb, pos)
}

// addDataFlag defines --data on fs.
func addDataFlag(fs *flag.FlagSet) *dataFiles {
	d := &dataFiles{}
	fs.Var(d, "data", dataUsage)
	return d
}

// runFlags are --device and --threads of every verb that runs models, and --budget-mb of those
// that run them in batches.
type runFlags struct {
	device  inference.Device
	threads *int
	budget  *int // nil: the verb has no --budget-mb
}

// addRunFlags defines --device, --threads and, with budget, --budget-mb on fs.
func addRunFlags(fs *flag.FlagSet, budget bool) *runFlags {
	r := &runFlags{}
	fs.Var(&r.device, "device", "auto|cpu|cuda[:N]")
	r.threads = fs.Int("threads", 0, "intra-op threads (0: one per core)")
	if budget {
		r.budget = fs.Int("budget-mb", int(inference.DefaultBudget>>20), "memory budget of batched runs (MiB)")
	}
	return r
}

// check returns verb's usage error for a negative --threads or a --budget-mb below 1 or above
// maxMB (no upper bound when maxMB is 0; why, if any, says where the bound comes from).
func (r *runFlags) check(verb string, maxMB int, why string) error {
	switch {
	case *r.threads < 0:
		return app.Usagef("%s: --threads must be 0 or positive", verb)
	case r.budget == nil:
		return nil
	case maxMB == 0 && *r.budget < 1:
		return app.Usagef("%s: --budget-mb must be positive", verb)
	case maxMB > 0 && (*r.budget < 1 || *r.budget > maxMB):
		return app.Usagef("%s: --budget-mb must be from 1 to %d%s", verb, maxMB, why)
	}
	return nil
}

// options are the inference options the flags ask for.
func (r *runFlags) options() inference.Options {
	return inference.Options{Device: r.device, Threads: *r.threads}
}

// budgetBytes is --budget-mb in bytes.
func (r *runFlags) budgetBytes() int64 { return int64(*r.budget) << 20 }

// checkOutput refuses an --out that names a file the verb reads (inputs: flag → path, and the
// --data files): the result, written atomically, would replace it, e.g. the user's SST data.
func checkOutput(verb, out string, data dataFiles, inputs map[string]string) error {
	for _, d := range data {
		if app.SameFile(out, d) {
			return app.Usagef("%s: --out %s is the --data file; writing the result would replace what %s reads: write it elsewhere", verb, out, verb)
		}
	}
	for _, flag := range slices.Sorted(maps.Keys(inputs)) {
		if app.SameFile(out, inputs[flag]) {
			return app.Usagef("%s: --out %s is the %s file; writing the result would replace what %s reads: write it elsewhere",
				verb, out, flag, verb)
		}
	}
	return nil
}
