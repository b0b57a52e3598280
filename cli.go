package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"climxai/app"
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

// checkOutput refuses an --out that names a file the verb reads (inputs: flag → path): the
// result, written atomically, would replace it, e.g. the user's SST data.
func checkOutput(verb, out string, inputs map[string]string) error {
	for _, flag := range slices.Sorted(maps.Keys(inputs)) {
		if app.SameFile(out, inputs[flag]) {
			return app.Usagef("%s: --out %s is the %s file; writing the result would replace what %s reads: write it elsewhere",
				verb, out, flag, verb)
		}
	}
	return nil
}
