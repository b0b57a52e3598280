package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"climxai/app"
	"climxai/dataset"
)

// cmdInfo is `climxai info FILE [--var V] [--json]`: how climxai reads an SST file (variable,
// grid, time axis, missing values, notices), as aligned text or JSON; for an emulator card
// (FILE.toml), the card as climxai reads it and each model's checked signature.
func cmdInfo(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("info", "info FILE [--var V [--raw] [--level Z | --layer TOP,BOTTOM]] [--json] | info CARD.toml [--data D ...] [--json]", stderr)
	varName := fs.String("var", "", "data variable to read (default: sst, tos, ... or the only (time, lat, lon) variable)")
	asJSON := fs.Bool("json", false, "print JSON (keys in README) instead of text")
	dataFlag := &dataFiles{}
	fs.Var(dataFlag, "data", "with a card: also read these data files as the card does and describe them (each variable's files and months, the months they share, the samples per lead); repeat for variables or periods in separate files")
	level := fs.Float64("level", math.NaN(), "with --var: read a variable of several vertical levels at the one nearest to Z, in its vertical coordinate's units (a card's [[input]] level)")
	layer := fs.String("layer", "", "with --var: read a variable of several vertical levels as its thickness-weighted mean over the layer from TOP to BOTTOM, e.g. 0,300, in its vertical coordinate's units (a card's [[input]] layer)")
	raw := fs.Bool("raw", false, "with --var: read the variable in its own units, as a card's [[input]] table reads a further input variable (no conversion to °C, no SST range check)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return app.Usagef("info: give exactly one FILE (got %d arguments)", len(pos))
	}
	if isCardPath(pos[0]) {
		if *varName != "" {
			return app.Usagef("info: --var is for data files; a card names its variable")
		}
		ci, err := inspectCard(pos[0])
		if err != nil {
			return err
		}
		if len(*dataFlag) > 0 {
			var bad error
			if ci.Data, bad = inspectCardData(ci.card, *dataFlag); ci.Data == nil {
				return bad
			}
			if err := writeCardInfo(stdout, ci, *asJSON); err != nil {
				return err
			}
			return bad // the description says what was found, the error what to do
		}
		return writeCardInfo(stdout, ci, *asJSON)
	}
	if len(*dataFlag) > 0 {
		return app.Usagef("info: --data is for a card (info CARD.toml --data D): a data file is given as FILE")
	}
	if *raw && *varName == "" {
		return app.Usagef("info: --raw reads a named variable: give --var too")
	}
	opt := dataset.OpenOptions{Var: *varName, Raw: *raw}
	if !math.IsNaN(*level) {
		if *varName == "" || math.IsInf(*level, 0) {
			return app.Usagef("info: --level reads a named variable at a finite level: give --var too")
		}
		opt.Level = level
	}
	if *layer != "" {
		l, err := parseLayer(*layer)
		if err != nil || *varName == "" {
			return app.Usagef("info: --layer reads a named variable over a layer: give --var too and the layer as TOP,BOTTOM, two different numbers, e.g. --layer 0,300")
		}
		if opt.Level != nil {
			return app.Usagef("info: give --level (one level) or --layer (the mean over a layer), not both")
		}
		opt.Layer = l
	}
	info, err := dataset.InspectWith(pos[0], opt)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return writeInfoText(stdout, info)
}

// writeInfoText prints info as aligned "key  value" lines.
func writeInfoText(w io.Writer, info *dataset.Info) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
	step := func(s *float64) string {
		if s == nil {
			return "irregular"
		}
		return fmt.Sprintf("step %g", *s)
	}
	row("file", "%s", info.File)
	row("format", "%s", info.Format)
	row("variable", "%s (read as %s)", info.Variable, info.Units)
	row("grid", "%d lat x %d lon, %d months", info.Lat.N, info.Lon.N, info.Time.Months)
	row("latitude", "%g .. %g, %s, %s", info.Lat.First, info.Lat.Last, step(info.Lat.Step), info.Lat.Order)
	global := "regional"
	if info.Lon.Global {
		global = "global"
	}
	row("longitude", "%g .. %g, %s, convention %s, %s", info.Lon.First, info.Lon.Last, step(info.Lon.Step), info.Lon.Convention, global)
	row("time", "%s .. %s (%d months), calendar %s, units %q", info.Time.First, info.Time.Last, info.Time.Months, info.Time.Calendar, info.Time.Units)
	row("missing", "%s", missingText(info.Missing))
	row("ocean", "%.1f%% of cells have a value in every month", 100*info.OceanFraction)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nvariables:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  name\ttype\tdims\tunits\tlong name")
	for _, v := range info.Variables {
		dims := make([]string, len(v.Dims))
		for i, d := range v.Dims {
			dims[i] = fmt.Sprintf("%s=%d", d, v.Shape[i])
		}
		mark := " "
		if v.Name == info.Variable {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t(%s)\t%s\t%s\n", mark, v.Name, v.Type, strings.Join(dims, ", "), v.Units, v.LongName)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(info.Notices) > 0 {
		fmt.Fprintln(w, "\nnotices:")
		for _, n := range info.Notices {
			fmt.Fprintln(w, "  -", n)
		}
	}
	return nil
}

// missingText summarises the missing-value and packing attributes.
func missingText(m dataset.MissingInfo) string {
	var parts []string
	nums := func(x []dataset.Number) string {
		s := make([]string, len(x))
		for i, v := range x {
			s[i] = v.String()
		}
		return strings.Join(s, ", ")
	}
	if m.FillValue != nil {
		parts = append(parts, "_FillValue "+m.FillValue.String())
	}
	if m.MissingValue != nil {
		parts = append(parts, "missing_value "+nums(m.MissingValue))
	}
	if m.ValidRange != nil {
		parts = append(parts, "valid range "+nums(m.ValidRange))
	}
	if m.Packed {
		scale, off := "1", "0"
		if m.ScaleFactor != nil {
			scale = m.ScaleFactor.String()
		}
		if m.AddOffset != nil {
			off = m.AddOffset.String()
		}
		parts = append(parts, fmt.Sprintf("packed (scale_factor %s, add_offset %s)", scale, off))
	}
	if m.IceSentinelCount > 0 {
		parts = append(parts, fmt.Sprintf("%d sea-ice values (-1000) set to -1.8 °C", m.IceSentinelCount))
	}
	if len(parts) == 0 {
		return "no missing-value attributes"
	}
	return strings.Join(parts, "; ")
}

// parseLayer reads a layer given as TOP,BOTTOM: two numbers that dataset.ValidLayer accepts.
func parseLayer(text string) (*[2]float64, error) {
	parts := strings.Split(text, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("layer %q: want TOP,BOTTOM", text)
	}
	var l [2]float64
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %q is not a number", text, p)
		}
		l[i] = v
	}
	if !dataset.ValidLayer(l) {
		return nil, fmt.Errorf("layer %q: give two different finite numbers", text)
	}
	return &l, nil
}
