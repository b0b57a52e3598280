package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"climxai/app"
	"climxai/plots"
)

// figureFlag is the --figure FILE flag of the verbs that have a default figure: the file's
// extension picks the format (png, pdf, svg, eps) and a sidecar FILE.json lets `climxai figure
// --spec` draw it again.
type figureFlag struct{ path *string }

func addFigureFlag(fs *flag.FlagSet, what string) figureFlag {
	return figureFlag{fs.String("figure", "", "also write "+what+" to this file (.png, .pdf, .svg or .eps; a FILE.json sidecar redraws it)")}
}

// check validates the extension before any work is done (a usage error).
func (f figureFlag) check(verb string) error {
	if *f.path == "" {
		return nil
	}
	if _, err := plots.Format(*f.path); err != nil {
		return app.Usagef("%s: --figure: %v", verb, err)
	}
	return nil
}

// write draws the figure from a spec of the given kind over result files (kinds map, decay,
// distance, leads, decaymap) or over the curves in lines (kind lines), and says where it went.
func (f figureFlag) write(stderr io.Writer, kind string, inputs []string, lags []int, lines *plots.Lines) error {
	if *f.path == "" {
		return nil
	}
	abs, err := absPaths(inputs)
	if err != nil {
		return err
	}
	var s plots.Spec
	if kind == plots.KindLines {
		s = app.ProvenanceSpec(plots.KindLines, abs)
		s.Lines = lines
	} else if s, err = plots.NewSpec(kind, abs, lags); err != nil {
		return err
	}
	return f.make(stderr, s)
}

// writeFidelity draws the fidelity figure, whose scores and curves live in its sidecar; the
// inputs are hashed as provenance.
func (f figureFlag) writeFidelity(stderr io.Writer, inputs []string, fid *plots.Fidelity) error {
	if *f.path == "" {
		return nil
	}
	abs, err := absPaths(inputs)
	if err != nil {
		return err
	}
	s := app.ProvenanceSpec(plots.KindFidelity, abs)
	s.Fidelity = fid
	return f.make(stderr, s)
}

// absPaths makes a figure's inputs absolute, as its spec wants them (Make writes them into the
// sidecar relative to the figure).
func absPaths(paths []string) ([]string, error) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		abs[i] = a
	}
	return abs, nil
}

func (f figureFlag) make(stderr io.Writer, s plots.Spec) error {
	if err := plots.Make(s, ".", *f.path); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "figure: %s (sidecar %s)\n", *f.path, plots.SidecarPath(*f.path))
	return nil
}
