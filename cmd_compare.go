package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"climxai/app"
	"climxai/dataset"
	"climxai/plots"
)

// compareSynopsis is compare's usage line.
const compareSynopsis = "compare --card C --data D --init YYYY-MM --lead L --target T [--methods a,b,c] --out PREFIX [--json] [--figure F] [--device D] [--threads N]"

// cmdCompare is `climxai compare`: one forecast explained by several methods (each at its
// defaults), a result file each (PREFIX-METHOD.nc), and how alike they rank the inputs (the
// Spearman correlation of |attribution| of every pair): the command line of the window's
// Compare methods tab.
func cmdCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", compareSynopsis, stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	initStr := fs.String("init", "", "init month YYYY-MM (the last observed month)")
	lead := fs.Int("lead", 0, "lead in months (default: the card's only lead)")
	targetStr := fs.String("target", "", "LAT,LON | box:S,N,W,E | "+namedBoxes())
	methodsStr := fs.String("methods", strings.Join(app.CompareMethodsDefault, ","), "comma-separated methods, each at its defaults (explain sets parameters)")
	out := fs.String("out", "", "prefix of the result files: PREFIX-METHOD.nc for each method")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	fig := addFigureFlag(fs, "the methods side by side at lag 0 (figure --kind methods)")
	rf := addRunFlags(fs, false)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return unexpectedArgs("compare", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *initStr == "" || *targetStr == "" || *out == "":
		return app.Usagef("compare: --card, --data, --init, --target and --out are required")
	}
	names := app.MethodNames()
	var methods []string
	for _, m := range strings.Split(*methodsStr, ",") {
		m = strings.TrimSpace(m)
		switch {
		case m == "":
		case !slices.Contains(names, m):
			return app.Usagef("compare: --methods: unknown method %q; methods: %s", m, strings.Join(names, ", "))
		case slices.Contains(methods, m):
			return app.Usagef("compare: --methods: %s is given twice", m)
		default:
			methods = append(methods, m)
		}
	}
	if len(methods) < 2 {
		return app.Usagef("compare: --methods: give at least two methods to compare")
	}
	paths := map[string]string{}
	for _, m := range methods {
		paths[m] = *out + "-" + m + ".nc"
		if err := checkOutput("compare", paths[m], *dataPath, map[string]string{"--card": *cardPath}); err != nil {
			return err
		}
	}
	if dir := filepath.Dir(*out); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return app.Usagef("compare: --out %s: the folder %s does not exist", *out, dir)
		}
	}
	if err := rf.check("compare", 0, ""); err != nil {
		return err
	}
	if err := fig.check("compare"); err != nil {
		return err
	}
	init, err := dataset.ParseMonth(*initStr)
	if err != nil {
		return app.Usagef("compare: --init: %v", err)
	}

	ws, err := app.Open(*cardPath, *dataPath, rf.options())
	if err != nil {
		return err
	}
	defer ws.Close()
	ws.WrittenBy = "climxai compare"
	if *lead, err = cardLead(ws.Card, *lead, "compare"); err != nil {
		return err
	}
	if err := ws.SetLead(*lead); err != nil {
		return err
	}
	if err := ws.SetInit(init); err != nil {
		return err
	}
	if _, err := ws.SetTarget(*targetStr); err != nil {
		return err
	}
	prog := app.NewProgress(stderr, "compare "+strings.Join(methods, ", "))
	exs, err := ws.ExplainMethods(ctx, ws.Selection(), methods, prog.Func())
	prog.Done()
	if err != nil {
		return err
	}
	files := make([]string, len(exs))
	for i, ex := range exs {
		files[i] = paths[ex.Result.Method]
		if err := ws.WriteResult(files[i], ex); err != nil {
			return err
		}
	}
	agree := app.MethodAgreement(exs)
	if *fig.path != "" {
		abs, err := absPaths(files)
		if err != nil {
			return err
		}
		spec, err := plots.NewSpec(plots.KindMethods, abs, []int{0})
		if err != nil {
			return err
		}
		if len(files) > 3 {
			spec.Preset = "agu2" // more than three maps need the double column
		}
		if err := fig.make(stderr, spec); err != nil {
			return err
		}
	}

	if *asJSON {
		type row struct {
			Method     string  `json:"method"`
			Parameters string  `json:"parameters"`
			File       string  `json:"file"`
			Output     float64 `json:"output"`
			Seconds    float64 `json:"seconds"`
			Spearman   []any   `json:"spearman"` // with every method in order; null where undefined
		}
		rows := make([]row, len(exs))
		for i, ex := range exs {
			rows[i] = row{Method: ex.Result.Method, Parameters: ex.Result.Params.String(), File: files[i],
				Output: ex.Result.Output, Seconds: ex.Result.Duration.Seconds()}
			for _, v := range agree[i] {
				rows[i].Spearman = append(rows[i].Spearman, finite(v))
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		s := ws.Selection()
		return enc.Encode(map[string]any{"lead": s.Lead, "init": s.Init.String(), "target": *targetStr,
			"target_resolved": s.Target.String(), "methods": rows})
	}
	s := ws.Selection()
	fmt.Fprintf(stdout, "lead %d forecast from init %s, target %s: %d methods\n", s.Lead, s.Init, s.Target, len(exs))
	fmt.Fprintln(stdout, "Spearman rank correlation of |attribution| over every lag and ocean cell (1: the same ranking)")
	fmt.Fprint(stdout, app.AgreementTable(exs, agree))
	fmt.Fprintln(stdout, "wrote", strings.Join(slices.Sorted(maps.Values(paths)), ", "))
	return nil
}
