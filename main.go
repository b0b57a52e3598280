// Command climxai explains deep-learning climate emulators: with no arguments it opens the
// desktop application on the embedded demo; with a verb it does the same work headless.
//
// Exit status: 0 on success, 1 on a user error (the message says what to do), 2 on a usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"climxai/app"
	_ "climxai/internal/fynelocale" // before Fyne reads the locale: see the package
)

// command is one verb of the command line.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the explicit table of verbs; a verb is listed only once it works.
func commands() map[string]command {
	return map[string]command{
		"gui":       {summary: "the desktop application: click a map cell to explain its forecast (--card C --data D)", run: runGUI},
		"explain":   {summary: "attribution of one forecast to its input months and places (saliency, IG, LRP, ...)", run: cmdExplain},
		"compare":   {summary: "one forecast explained by several methods, and how alike they rank the inputs", run: cmdCompare},
		"skill":     {summary: "anomaly correlation and RMSE of the emulators against persistence and damped persistence", run: cmdSkill},
		"predict":   {summary: "the emulators' forecast from one init month (SST anomalies, NetCDF)", run: cmdPredict},
		"info":      {summary: "how climxai reads an SST NetCDF file: variable, grid, time, missing values", run: cmdInfo},
		"synth":     {summary: "synthetic North Atlantic SST with a known optimal predictor (ground truth)", run: cmdSynth},
		"aggregate": {summary: "mean normalised attribution of one target over a sample set (shardable with --shard i/n)", run: cmdAggregate},
		"merge":     {summary: "adds the partial sums of aggregate shards into one aggregate", run: cmdMerge},
		"decay":     {summary: "e-folding time (95% interval) and R50/R90 of aggregates, one row per file", run: cmdDecay},
		"decaymap":  {summary: "e-folding time and R90 mapped over every K-th ocean cell (location independence)", run: cmdDecaymap},
		"figure":    {summary: "figures for papers (map, decay, distance, leads, methods, laglat) in PNG/PDF/SVG/EPS with a sidecar to redraw them", run: cmdFigure},
		"ablate":    {summary: "skill of a forecast with inputs outside a radius, or older than a lag, set to climatology", run: cmdAblate},
		"fidelity":  {summary: "which attribution methods to trust: agreement with a synthetic ground truth, randomisation check, deletion curves", run: cmdFidelity},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one invocation and returns the process exit status. Ctrl-C (SIGINT) or SIGTERM
// cancels the context: long work stops at its next check and the command returns cleanly.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmds := commands()
	if len(args) == 0 {
		args = []string{"gui"}
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		usage(stdout, cmds)
		return 0
	}
	if name == "version" || name == "--version" {
		fmt.Fprintln(stdout, "climxai", app.Version)
		return 0
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "climxai: unknown command %q\n\n", name)
		usage(stderr, cmds)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	return exitStatus(err, stderr)
}

// exitStatus prints err and maps it to the exit status of the contract.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ue *app.UsageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "climxai:", err)
		fmt.Fprintln(stderr, "run 'climxai help' for the list of commands and their flags")
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "climxai: cancelled")
		return 1
	default:
		fmt.Fprintln(stderr, "climxai:", err)
		return 1
	}
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: climxai [command] [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'climxai COMMAND -h' for a command's flags")
}
