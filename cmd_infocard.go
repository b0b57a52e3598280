package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

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
}

// inputInfo is one [[input]] table: a further input variable and its scaling.
type inputInfo struct {
	Variable  string  `json:"variable"`
	ScaleMean float64 `json:"scale_mean"`
	ScaleStd  float64 `json:"scale_std"`
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
	info := &cardInfo{Card: path, Name: c.Name, Variable: c.Variable, InputMonths: c.InputMonths,
		ChannelOrder: string(c.ChannelOrder), Grid: c.Grid.String(), Preprocess: pre}
	for _, in := range c.Inputs {
		info.Inputs = append(info.Inputs, inputInfo{in.Variable, in.Preprocess.ScaleMean, in.Preprocess.ScaleStd})
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
		row("input", "%s (same months and preprocessing, then (x - %g) / %g)", in.Variable, in.ScaleMean, in.ScaleStd)
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
	return tw.Flush()
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
