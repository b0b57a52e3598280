package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"climxai/dataset"
	"climxai/inference"
	"climxai/onnx"
)

// cardInfo is what `climxai info CARD.toml` reports: the card as climxai reads it and, for each
// model, the signature ONNX Runtime checked against it.
type cardInfo struct {
	Card         string `json:"card"`
	Name         string `json:"name"`
	Variable     string `json:"variable"`
	InputMonths  int    `json:"input_months"`
	ChannelOrder string `json:"channel_order"`
	Grid         string `json:"grid"`
	Preprocess   string `json:"preprocess"`
	Index        string `json:"index,omitempty"`
	IndexBox     string `json:"index_box,omitempty"`
	IndexCells   int    `json:"index_cells,omitempty"` // grid cells of the region (land included)
	// Inputs are the further input variables ([[input]] tables) and InputLayout how their
	// month blocks follow the variable's; both absent for an emulator that reads one variable.
	Inputs      []inputInfo `json:"inputs,omitempty"`
	InputLayout string      `json:"input_layout,omitempty"`
	Models      []modelInfo `json:"models"`
	// Data, with --data, is how the card reads those files.
	Data *cardDataInfo `json:"data,omitempty"`

	card *inference.Card // the card as loaded, for inspectCardData
}

// inputInfo is one [[input]] table: a further input variable and its scaling.
type inputInfo struct {
	Name      string      `json:"name"` // in results: the variable unless the card names it
	Variable  string      `json:"variable"`
	ScaleMean float64     `json:"scale_mean"`
	ScaleStd  float64     `json:"scale_std"`
	Level     *float64    `json:"level,omitempty"`
	Layer     *[2]float64 `json:"layer,omitempty"`
}

// modelInfo is one [[model]] entry, opened.
type modelInfo struct {
	Lead        int    `json:"lead"`
	File        string `json:"file"`
	SHA256      string `json:"sha256"`
	Input       string `json:"input"`
	InputShape  string `json:"input_shape"`
	Output      string `json:"output"`
	OutputShape string `json:"output_shape"` // the file's (an index emulator's before climxai extends it)
	OutputEntry int    `json:"output_entry,omitempty"`
	Entries     int    `json:"output_entries,omitempty"` // an index emulator's entries per sample
	Opset       int64  `json:"opset"`
	Weights     int64  `json:"weights"` // float values stored as initializers
	Device      string `json:"device"`
}

// inspectCard loads the card at path and opens each of its models (LoadCard and Runtime.Open's
// checks: every error says what to change).
func inspectCard(path string) (*cardInfo, error) {
	c, err := inference.LoadCard(path)
	if err != nil {
		return nil, err
	}
	pp := c.Preprocess
	pre := pp.Anomaly
	if pp.AnomalyPeriod != "" {
		pre += " over " + pp.AnomalyPeriod
	}
	pre += fmt.Sprintf(", filter %s, then (x - %g) / %g", pp.Filter, pp.ScaleMean, pp.ScaleStd)
	info := &cardInfo{card: c, Card: path, Name: c.Name, Variable: c.Variable, InputMonths: c.InputMonths,
		ChannelOrder: string(c.ChannelOrder), Grid: c.Grid.String(), Preprocess: pre}
	for _, in := range c.Inputs {
		info.Inputs = append(info.Inputs, inputInfo{in.Name, in.Variable, in.Preprocess.ScaleMean, in.Preprocess.ScaleStd, in.Level, in.Layer})
		info.InputLayout = string(c.InputLayout)
	}
	if c.Index != "" {
		info.Index, info.IndexBox = c.Index, c.IndexRegion.Box.String()
		for _, in := range c.Region() {
			if in {
				info.IndexCells++
			}
		}
	}
	rt, err := inference.NewRuntime("")
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	for _, cm := range c.Models {
		m, err := rt.Open(c.Spec(cm), inference.Options{Device: inference.CPU, Threads: 1})
		if err != nil {
			return nil, err
		}
		sig := m.Signature()
		mp, err := onnx.Load(cm.File)
		if err != nil {
			return nil, err
		}
		var weights int64
		for _, t := range mp.Graph.Initializer {
			if t.DataType == int32(onnx.TensorProto_FLOAT) {
				n := int64(1)
				for _, d := range t.Dims {
					n *= d
				}
				weights += n
			}
		}
		sum, err := fileSHA256(cm.File)
		if err != nil {
			return nil, err
		}
		out, entries := sig.OutDims, 0
		if sig.Index != "" {
			out, entries = sig.IndexDims, 1
			if len(out) > 1 {
				entries = int(out[1])
			}
		}
		info.Models = append(info.Models, modelInfo{Lead: cm.Lead, File: cm.File, SHA256: sum,
			Input: sig.Input, InputShape: inference.ShapeString(sig.InputDims), Output: sig.Output, OutputShape: inference.ShapeString(out),
			OutputEntry: cm.OutputEntry, Entries: entries, Opset: onnx.Opset(mp), Weights: weights, Device: m.Placement().String()})
	}
	return info, nil
}

// isCardPath tells a card from a data file by its name.
func isCardPath(path string) bool { return strings.EqualFold(filepath.Ext(path), ".toml") }

// writeCardInfo prints info as text or JSON.
func writeCardInfo(w io.Writer, info *cardInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
	row("card", "%s", info.Card)
	row("name", "%s", info.Name)
	row("input", "%s, %d months, %s", info.Variable, info.InputMonths, info.ChannelOrder)
	row("grid", "%s", info.Grid)
	row("preprocess", "%s", info.Preprocess)
	for _, in := range info.Inputs {
		at := inference.CardInput{Level: in.Level, Layer: in.Layer}.Depth()
		if at != "" {
			at = " " + at
		}
		what := in.Variable
		if in.Name != in.Variable {
			what = in.Name + " = " + in.Variable
		}
		row("input", "%s%s (same months and preprocessing, then (x - %g) / %g)", what, at, in.ScaleMean, in.ScaleStd)
	}
	if len(info.Inputs) > 0 {
		row("channels", "%d: %d months of each of %d variables, %s", info.InputMonths*(1+len(info.Inputs)), info.InputMonths, 1+len(info.Inputs), info.InputLayout)
	}
	if info.Index != "" {
		row("forecasts", "the %s index: area-weighted mean of box %s (%d cells of the grid)", info.Index, info.IndexBox, info.IndexCells)
	} else {
		row("forecasts", "a field on the grid")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nmodels (each checked against the card by ONNX Runtime):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  lead\tfile\tinput\toutput\topset\tweights\tsha256")
	for _, m := range info.Models {
		out := m.Output + " " + m.OutputShape
		if m.Entries > 1 {
			out += fmt.Sprintf(" entry %d", m.OutputEntry)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s %s\t%s\t%d\t%s\t%s\n", m.Lead, filepath.Base(m.File), m.Input, m.InputShape, out,
			m.Opset, weightsText(m.Weights), m.SHA256[:12])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if info.Data != nil {
		return writeCardDataInfo(w, info.Data)
	}
	return nil
}

// weightsText writes a weight count as 659 k or 1.2 M.
func weightsText(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.3g M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.3g k", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// cardDataInfo is what `climxai info CARD.toml --data D...` adds: how the card reads those data
// files (each variable's files and months, the months they share, the ocean cells and the
// samples of each lead), so that a scientist can check data stored in many files before running
// anything.
type cardDataInfo struct {
	Files     []string        `json:"files"`
	Variables []dataVarInfo   `json:"variables"`
	First     string          `json:"first_month"` // the months every variable covers, after the filter's edges
	Last      string          `json:"last_month"`
	Anomaly   string          `json:"anomaly_period,omitempty"`
	Ocean     int             `json:"ocean_cells"`
	Cells     int             `json:"grid_cells"`
	Split     string          `json:"split"`
	Leads     []leadSamples   `json:"leads"`
	Notices   []string        `json:"notices,omitempty"`
	Channels  int             `json:"channels"`
	Window    *windowExtremes `json:"window,omitempty"`
	// Error is why the card cannot prepare the data it read (the variables' months and files
	// above still say what was found); info then exits with status 1.
	Error string `json:"error,omitempty"`
}

// dataVarInfo is one input variable as read: its files, months and units.
type dataVarInfo struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	First  string `json:"first_month"`
	Last   string `json:"last_month"`
	Months int    `json:"months"`
	Units  string `json:"units"`
}

// leadSamples counts a lead's samples: every init month with its 36 input months and its
// target in the data, and those of the training and test years.
type leadSamples struct {
	Lead      int    `json:"lead"`
	Samples   int    `json:"samples"`
	FirstInit string `json:"first_init,omitempty"`
	LastInit  string `json:"last_init,omitempty"`
	Train     int    `json:"train"`
	Test      int    `json:"test"`
}

// windowExtremes are the smallest and largest model input of the last init month's window (the
// scaled anomalies the model sees): a check of scale_mean and scale_std.
type windowExtremes struct {
	Init string  `json:"init"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// inspectCardData reads the data files as card c does and describes them. When the variables
// are read but cannot be prepared (months that do not fit the card), it returns what was read
// with the error in Error, and the error.
func inspectCardData(c *inference.Card, paths []string) (*cardDataInfo, error) {
	series, err := c.Read(paths...)
	if err != nil {
		return nil, err
	}
	d := &cardDataInfo{Files: paths, Anomaly: c.Preprocess.AnomalyPeriod, Cells: c.Grid.NLat * c.Grid.NLon, Channels: c.Channels()}
	for _, s := range series {
		d.Variables = append(d.Variables, dataVarInfo{Name: s.Name, Source: s.Source, First: s.Start.String(),
			Last: s.Month(s.N - 1).String(), Months: s.N, Units: s.Units})
	}
	p, err := c.PrepareSeries(series)
	if err != nil {
		d.Error = err.Error()
		return d, err
	}
	first, last := p.ValidMonths()
	d.First, d.Last, d.Notices, d.Ocean = first.String(), last.String(), p.Notices, p.OceanCells()
	sp, err := p.DefaultSplit()
	if err != nil {
		return nil, err
	}
	d.Split = sp.String()
	for _, lead := range c.Leads() {
		inits := p.Inits(lead, c.InputMonths)
		ls := leadSamples{Lead: lead, Samples: len(inits), Train: len(sp.Select(inits, lead, dataset.SubsetTrain)),
			Test: len(sp.Select(inits, lead, dataset.SubsetTest))}
		if len(inits) > 0 {
			ls.FirstInit, ls.LastInit = inits[0].String(), inits[len(inits)-1].String()
		}
		d.Leads = append(d.Leads, ls)
	}
	if inits := p.Inits(c.Leads()[0], c.InputMonths); len(inits) > 0 {
		init := inits[len(inits)-1]
		x := make([]float32, c.Channels()*c.Grid.NLat*c.Grid.NLon)
		if err := c.Window(p, init, x); err != nil {
			return nil, err
		}
		w := &windowExtremes{Init: init.String(), Min: math.Inf(1), Max: math.Inf(-1)}
		for _, v := range x {
			w.Min, w.Max = min(w.Min, float64(v)), max(w.Max, float64(v))
		}
		d.Window = w
	}
	return d, nil
}

// writeCardDataInfo prints d as text.
func writeCardDataInfo(w io.Writer, d *cardDataInfo) error {
	fmt.Fprintln(w, "\ndata (as the card reads them):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, a...)) }
	for _, v := range d.Variables {
		row(v.Name, "%s to %s (%d months, %s) from %s", v.First, v.Last, v.Months, v.Units, v.Source)
	}
	if d.Error != "" {
		row("cannot use them", "%s", d.Error)
		return tw.Flush()
	}
	used := d.First + " to " + d.Last
	if d.Anomaly != "" {
		used += ", anomalies over " + d.Anomaly
	}
	row("months used", "%s", used)
	row("ocean cells", "%d of %d", d.Ocean, d.Cells)
	row("split", "%s", d.Split)
	for _, l := range d.Leads {
		if l.Samples == 0 {
			row(fmt.Sprintf("lead %d", l.Lead), "no sample: the data are too short")
			continue
		}
		row(fmt.Sprintf("lead %d", l.Lead), "%d samples (init %s to %s): %d train, %d test", l.Samples, l.FirstInit, l.LastInit, l.Train, l.Test)
	}
	if d.Window != nil {
		row("model input", "%d channels; init %s ranges %.3g to %.3g", d.Channels, d.Window.Init, d.Window.Min, d.Window.Max)
	}
	for _, n := range d.Notices {
		row("note", "%s", n)
	}
	return tw.Flush()
}
