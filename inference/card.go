package inference

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"climxai/dataset"
)

// ChannelOrder says how an emulator's input channels are ordered in time.
type ChannelOrder string

// Channel orders a card may declare.
const (
	OldestFirst ChannelOrder = "oldest-first" // channel c holds month t-35+c (climxai's convention)
	NewestFirst ChannelOrder = "newest-first" // channel c holds month t-c
)

// InputLayout says how the channel blocks of an emulator with several input variables
// interleave.
type InputLayout string

// Input layouts a card may declare (input_layout; only cards with [[input]] tables need one).
const (
	// VariableMajor: the variables' month blocks one after the other, channel v*M + c holding
	// month c (in channel_order) of variable v: torch.cat of the variables' windows.
	VariableMajor InputLayout = "variable-major"
	// MonthMajor: the variables interleaved month by month, channel c*V + v.
	MonthMajor InputLayout = "month-major"
)

// CardInput is an [[input]] table: a further variable the emulator reads beside the card's
// variable, from the same data file, in its own units, with the [preprocess] table's anomaly
// and filter and its own scaling.
type CardInput struct {
	// Name is the input's name in results (attribution_NAME, input_variables), sessions and the
	// window: the table's name, by default its variable. Two inputs read from one variable (at
	// two levels, or a level and a layer) need names of their own.
	Name       string
	Variable   string
	Preprocess dataset.PreprocessSpec
	// Level, when not nil, is the vertical level to read a variable of several levels at (the
	// nearest, in the units of its vertical coordinate: dataset.OpenOptions.Level).
	Level *float64
	// Layer, when not nil, reads such a variable as its thickness-weighted mean between the two
	// values of its vertical coordinate, e.g. the upper 300 m (dataset.OpenOptions.Layer).
	Layer *[2]float64
}

// Depth says where an input variable is read from in the vertical, for messages and reports:
// "" (a variable of one level), "at the level nearest to 100" or "averaged over 0 to 300".
func (in CardInput) Depth() string {
	switch {
	case in.Level != nil:
		return fmt.Sprintf("at the level nearest to %g", *in.Level)
	case in.Layer != nil:
		return fmt.Sprintf("averaged over %g to %g", in.Layer[0], in.Layer[1])
	}
	return ""
}

// Card is a parsed and validated emulator card: the TOML file beside the ONNX models that says
// what the models expect (DESIGN.md, "Emulator card").
type Card struct {
	Path         string // the card file
	Dir          string // its directory; model files are relative to it
	Name         string
	Variable     string // variable read from the data file
	InputMonths  int    // input channels, 36 for the reference emulators
	ChannelOrder ChannelOrder
	Grid         dataset.GridSpec
	Preprocess   dataset.PreprocessSpec
	Models       []CardModel // sorted by lead
	// Index, when not "", says the models forecast this region's index ("nino34", or
	// "box:S,N,W,E"), output [N, 1], rather than a field (index.go); IndexRegion is its box.
	Index       string
	IndexRegion dataset.NamedBox
	// Inputs are the further input variables after Variable ([[input]] tables), whose month
	// blocks follow Variable's as InputLayout says; nil for an emulator that reads one variable.
	Inputs      []CardInput
	InputLayout InputLayout
}

// CardModel is one [[model]] entry: the emulator for one lead time.
type CardModel struct {
	Lead   int    // months ahead, >= 1
	File   string // absolute path of the ONNX file
	Input  string // input name ("x" when the card does not say)
	Output string // output name ("y" when the card does not say)
	// OutputEntry picks the element of an index emulator's output (0-based, over its non-batch
	// axes): one model may forecast several leads or indices, each [[model]] entry naming its own.
	OutputEntry int
}

// cardFile mirrors the TOML layout; Card is what the rest of climxai sees.
type cardFile struct {
	Name         string `toml:"name"`
	Variable     string `toml:"variable"`
	InputMonths  int    `toml:"input_months"`
	ChannelOrder string `toml:"channel_order"`
	Index        string `toml:"index"`
	InputLayout  string `toml:"input_layout"`
	Grid         struct {
		LatStart float64 `toml:"lat_start"`
		LatStep  float64 `toml:"lat_step"`
		NLat     int     `toml:"nlat"`
		LonStart float64 `toml:"lon_start"`
		LonStep  float64 `toml:"lon_step"`
		NLon     int     `toml:"nlon"`
	} `toml:"grid"`
	Preprocess struct {
		Anomaly       string  `toml:"anomaly"`
		AnomalyPeriod string  `toml:"anomaly_period"`
		Filter        string  `toml:"filter"`
		ScaleMean     float64 `toml:"scale_mean"`
		ScaleStd      float64 `toml:"scale_std"`
	} `toml:"preprocess"`
	Input []struct {
		Name      string     `toml:"name"` // "": the variable
		Variable  string     `toml:"variable"`
		ScaleMean float64    `toml:"scale_mean"`
		ScaleStd  *float64   `toml:"scale_std"` // nil: 1
		Level     *float64   `toml:"level"`     // nil: a variable of one level
		Layer     *[]float64 `toml:"layer"`     // [top, bottom]: the mean over the layer
	} `toml:"input"`
	Model []struct {
		Lead        int    `toml:"lead"`
		File        string `toml:"file"`
		Input       string `toml:"input"`
		Output      string `toml:"output"`
		OutputEntry int    `toml:"output_entry"`
	} `toml:"model"`
}

// requiredKeys must be present in every card; the others have defaults (filter "none",
// scale_mean 0, scale_std 1, input "x", output "y", no anomaly_period).
var requiredKeys = []string{"name", "variable", "input_months", "channel_order",
	"grid.lat_start", "grid.lat_step", "grid.nlat", "grid.lon_start", "grid.lon_step", "grid.nlon",
	"preprocess.anomaly"}

// LoadCard reads and validates the card at path (see ParseCard).
func LoadCard(path string) (*Card, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Card: path, Kind: ErrBadCard, Err: err, Hint: "pass --card with the emulator card's TOML file"}
	}
	return ParseCard(data, path)
}

// ParseCard parses a card's TOML text; path is where it lives (model files are relative to its
// directory) and names it in errors. It rejects unknown keys, missing required keys, a bad
// grid or preprocessing table, and [[model]] entries with a lead below 1, a repeated lead or a
// missing file. It does not open the models: see Card.ValidateModels.
func ParseCard(data []byte, path string) (*Card, error) {
	var f cardFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, &Error{Card: path, Kind: ErrBadCard, Err: err, Hint: "fix the TOML syntax (format: DESIGN.md, Emulator card)"}
	}
	bad := func(hint, format string, a ...any) *Error {
		return &Error{Card: path, Kind: ErrBadCard, Msg: fmt.Sprintf(format, a...), Hint: hint}
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, bad("remove or correct them; known keys: "+knownKeys(),
			"unknown keys: %s", strings.Join(keys, ", "))
	}
	var missing []string
	for _, k := range requiredKeys {
		if !md.IsDefined(strings.Split(k, ".")...) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, bad("add them (format: DESIGN.md, Emulator card)", "missing keys: %s", strings.Join(missing, ", "))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	c := &Card{
		Path: path, Dir: filepath.Dir(abs),
		Name: strings.TrimSpace(f.Name), Variable: strings.TrimSpace(f.Variable),
		InputMonths: f.InputMonths, ChannelOrder: ChannelOrder(f.ChannelOrder),
		Grid: dataset.GridSpec{LatStart: f.Grid.LatStart, LatStep: f.Grid.LatStep, NLat: f.Grid.NLat,
			LonStart: f.Grid.LonStart, LonStep: f.Grid.LonStep, NLon: f.Grid.NLon},
		Preprocess: dataset.PreprocessSpec{Anomaly: f.Preprocess.Anomaly, AnomalyPeriod: f.Preprocess.AnomalyPeriod,
			Filter: f.Preprocess.Filter, ScaleMean: f.Preprocess.ScaleMean, ScaleStd: f.Preprocess.ScaleStd},
	}
	if !md.IsDefined("preprocess", "filter") {
		c.Preprocess.Filter = "none"
	}
	if !md.IsDefined("preprocess", "scale_std") {
		c.Preprocess.ScaleStd = 1
	}
	switch {
	case c.Name == "":
		return nil, bad("give the emulator a name", "name is empty")
	case c.Variable == "":
		return nil, bad(`name the data file's SST variable, e.g. variable = "sst"`, "variable is empty")
	case c.InputMonths < 1:
		return nil, bad("the reference emulators take input_months = 36", "input_months = %d must be at least 1", c.InputMonths)
	case c.ChannelOrder != OldestFirst && c.ChannelOrder != NewestFirst:
		return nil, bad(`use channel_order = "oldest-first" (channel c holds month t-35+c) or "newest-first"`,
			"channel_order = %q", f.ChannelOrder)
	}
	if err := c.Grid.Validate(); err != nil {
		return nil, &Error{Card: path, Kind: ErrBadCard, Msg: "[grid]", Err: err}
	}
	if err := c.Preprocess.Validate(); err != nil {
		return nil, &Error{Card: path, Kind: ErrBadCard, Msg: "[preprocess]", Err: err}
	}
	if md.IsDefined("index") {
		if err := c.parseIndex(f.Index); err != nil {
			return nil, err
		}
	}
	c.InputLayout = InputLayout(strings.TrimSpace(f.InputLayout))
	switch {
	case c.InputLayout == "":
		c.InputLayout = VariableMajor
	case c.InputLayout != VariableMajor && c.InputLayout != MonthMajor:
		return nil, bad(`use input_layout = "variable-major" (each variable's months in one block, one block after the other) or "month-major" (the variables interleaved month by month)`,
			"input_layout = %q", f.InputLayout)
	}
	seenName := map[string]bool{c.Variable: true}
	for i, in := range f.Input {
		where := fmt.Sprintf("[[input]] entry %d", i+1)
		v := strings.TrimSpace(in.Variable)
		name := strings.TrimSpace(in.Name)
		std := 1.0
		if in.ScaleStd != nil {
			std = *in.ScaleStd
		}
		switch {
		case v == "":
			return nil, bad(`name the data file's variable, e.g. variable = "tsub"`, "%s: variable is missing", where)
		case name != "" && !goodName(name):
			return nil, bad(`give the input a name of letters, digits and underscores that starts with a letter, e.g. name = "thetao_0_300m"`, "%s: name = %q", where, in.Name)
		case name == "" && seenName[v]:
			return nil, bad(`give each input variable once (the card's variable is the first input), or give this input a name of its own to read the variable again at another level or layer, e.g. name = "`+v+`_300m"`,
				"%s: variable %q is already an input", where, v)
		case seenName[name]:
			return nil, bad("give each input a name of its own; the card's variable is the first input's name", "%s: name %q is already an input's", where, name)
		case in.Level != nil && (math.IsNaN(*in.Level) || math.IsInf(*in.Level, 0)):
			return nil, bad("give the level as a number in the units of the variable's vertical coordinate, e.g. level = 100.0 (metres)", "%s: level = %v", where, *in.Level)
		case in.Level != nil && in.Layer != nil:
			return nil, bad("give level (one level) or layer (the mean over a layer), not both", "%s: both level and layer", where)
		case in.Layer != nil && !goodLayer(*in.Layer):
			return nil, bad("give the layer as its top and bottom in the units of the variable's vertical coordinate, two different numbers, e.g. layer = [0, 300] (metres)",
				"%s: layer = %v", where, *in.Layer)
		}
		var layer *[2]float64
		if in.Layer != nil {
			layer = &[2]float64{(*in.Layer)[0], (*in.Layer)[1]}
		}
		if name == "" {
			name = v
		}
		seenName[name] = true
		pp := c.Preprocess
		pp.ScaleMean, pp.ScaleStd = in.ScaleMean, std
		if err := pp.Validate(); err != nil {
			return nil, &Error{Card: path, Kind: ErrBadCard, Msg: fmt.Sprintf("%s (%s)", where, name), Err: err}
		}
		c.Inputs = append(c.Inputs, CardInput{Name: name, Variable: v, Preprocess: pp, Level: in.Level, Layer: layer})
	}
	if len(f.Model) == 0 {
		return nil, bad("add a [[model]] table with lead and file for each ONNX model", "no [[model]] entries")
	}
	seen := map[int]bool{}
	for i, m := range f.Model {
		where := fmt.Sprintf("[[model]] entry %d", i+1)
		switch {
		case m.Lead < 1:
			return nil, bad("leads are months ahead: 1, 6, 9, ...", "%s: lead = %d must be at least 1", where, m.Lead)
		case seen[m.Lead]:
			return nil, bad("give each lead one model", "%s: lead %d appears twice", where, m.Lead)
		case strings.TrimSpace(m.File) == "":
			return nil, bad(`add file = "NAME.onnx", relative to the card's directory`, "%s (lead %d): file is missing", where, m.Lead)
		case m.OutputEntry < 0:
			return nil, bad("output_entry counts the output's elements from 0", "%s (lead %d): output_entry = %d", where, m.Lead, m.OutputEntry)
		case m.OutputEntry > 0 && c.Index == "":
			return nil, bad(`output_entry picks one element of an index emulator's output: name its region with index = "..."`,
				"%s (lead %d): output_entry without index", where, m.Lead)
		}
		seen[m.Lead] = true
		file := m.File
		if !filepath.IsAbs(file) {
			file = filepath.Join(c.Dir, file)
		}
		if err := fileExists(file); err != nil {
			return nil, &Error{Card: path, Model: file, Kind: ErrModelMissing, Err: err,
				Msg:  fmt.Sprintf("%s (lead %d)", where, m.Lead),
				Hint: "model files are relative to the card's directory " + c.Dir + "; fix file = ... or copy the model there"}
		}
		cm := CardModel{Lead: m.Lead, File: file, Input: m.Input, Output: m.Output, OutputEntry: m.OutputEntry}
		if cm.Input == "" {
			cm.Input = "x"
		}
		if cm.Output == "" {
			cm.Output = "y"
		}
		c.Models = append(c.Models, cm)
	}
	slices.SortFunc(c.Models, func(a, b CardModel) int { return a.Lead - b.Lead })
	return c, nil
}

// parseIndex checks the card's index region: a named region or a box holding at least one cell
// centre of the grid.
func (c *Card) parseIndex(s string) error {
	hint := `name the region the models forecast: index = "nino34" (or one of ` + dataset.RegionNames() +
		`), or index = "box:S,N,W,E"; leave index out for models that forecast a field`
	r, ok, err := dataset.ParseRegion(s)
	switch {
	case err != nil:
		return &Error{Card: c.Path, Kind: ErrBadCard, Msg: fmt.Sprintf("index = %q: %v", s, err), Hint: hint}
	case !ok:
		return &Error{Card: c.Path, Kind: ErrBadCard, Msg: fmt.Sprintf("index = %q is neither a named region nor a box", s), Hint: hint}
	case !slices.Contains(c.Grid.BoxCells(r.Box), true):
		return &Error{Card: c.Path, Kind: ErrBadCard, Msg: fmt.Sprintf("index = %q: box %s holds no cell of the grid (%s)", s, r.Box, c.Grid),
			Hint: "give a region inside the card's [grid]"}
	}
	c.Index, c.IndexRegion = strings.TrimSpace(s), r
	return nil
}

// knownKeys lists the card's keys for the unknown-key message.
func knownKeys() string {
	return "name, variable, input_months, channel_order, index, input_layout, [grid] lat_start lat_step nlat lon_start lon_step nlon, " +
		"[preprocess] anomaly anomaly_period filter scale_mean scale_std, [[input]] name variable scale_mean scale_std level layer, [[model]] lead file input output output_entry"
}

// Leads returns the card's lead times in increasing order.
func (c *Card) Leads() []int {
	leads := make([]int, len(c.Models))
	for i, m := range c.Models {
		leads[i] = m.Lead
	}
	return leads
}

// Model returns the card's model for lead, or an *Error of kind ErrBadCard listing the leads
// the card has.
func (c *Card) Model(lead int) (CardModel, error) {
	for _, m := range c.Models {
		if m.Lead == lead {
			return m, nil
		}
	}
	return CardModel{}, &Error{Card: c.Path, Kind: ErrBadCard, Msg: fmt.Sprintf("no model for lead %d", lead),
		Hint: fmt.Sprintf("pass --lead with one of %v", c.Leads())}
}

// Region marks the cells of the grid an index emulator forecasts, the centres in its index box
// ([NLat*NLon]); nil for a field emulator, which forecasts every cell.
func (c *Card) Region() []bool {
	if c.Index == "" {
		return nil
	}
	return c.Grid.BoxCells(c.IndexRegion.Box)
}

// Spec is what the card says model m must look like.
func (c *Card) Spec(m CardModel) ModelSpec {
	s := ModelSpec{Path: m.File, Input: m.Input, Output: m.Output,
		Months: c.Channels(), Vars: 1 + len(c.Inputs), NLat: c.Grid.NLat, NLon: c.Grid.NLon}
	if c.Index != "" {
		s.Index, s.Region, s.Entry = c.Index, c.Region(), m.OutputEntry
	}
	return s
}

// ValidateModels opens every model of the card in ONNX Runtime (LoadLibrary or NewRuntime must
// have succeeded) and checks it against the card (ValidateModel). The errors of all models are
// joined; each names the card, the model file and what to change.
func (c *Card) ValidateModels() error {
	var errs []error
	for _, m := range c.Models {
		if _, err := ValidateModel(c.Spec(m)); err != nil {
			errs = append(errs, withCard(err, c.Path, m.Lead))
		}
	}
	return errors.Join(errs...)
}

// withCard stamps the card's path and the lead on every *Error in err (a single *Error or an
// errors.Join of them), so that each message names card, lead and model file.
func withCard(err error, card string, lead int) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isErr := err.(*Error); !isErr {
			parts := joined.Unwrap()
			out := make([]error, len(parts))
			for i, p := range parts {
				out[i] = withCard(p, card, lead)
			}
			return errors.Join(out...)
		}
	}
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	c := *e
	c.Card = card
	if c.Msg == "" {
		c.Msg = fmt.Sprintf("lead %d", lead)
	} else {
		c.Msg = fmt.Sprintf("lead %d: %s", lead, c.Msg)
	}
	return &c
}

// Variables names the inputs the emulator reads, in channel-block order: the card's variable,
// then each [[input]]'s name (its variable unless the table names it).
func (c *Card) Variables() []string {
	out := []string{c.Variable}
	for _, in := range c.Inputs {
		out = append(out, in.Name)
	}
	return out
}

// Channels is the number of the models' input channels: InputMonths for each variable.
func (c *Card) Channels() int { return c.InputMonths * (1 + len(c.Inputs)) }

// Channel returns the input channel that holds position m (0..InputMonths-1, in the card's
// channel_order) of variable v's month block, as InputLayout interleaves the blocks.
func (c *Card) Channel(v, m int) int {
	return c.InputLayout.Channel(1+len(c.Inputs), c.InputMonths, v, m)
}

// Channel returns the input channel of position m (0..months-1, in channel order) of variable
// v's months when vars variables of months months each are laid out as l says: the one
// formula of the card's windows and of attribution's channel order.
func (l InputLayout) Channel(vars, months, v, m int) int {
	if l == MonthMajor {
		return m*vars + v
	}
	return v*months + m
}

// Read reads the card's input variables from the data files at paths, in the card's order: the
// variable it forecasts as climxai reads SST (in °C), the further inputs in their own units.
// Each variable is read from the files that hold it, joined along time when it is split by
// period (dataset.OpenFiles).
func (c *Card) Read(paths ...string) ([]*dataset.Series, error) {
	grid := c.Grid // data on a curvilinear grid are averaged onto it as they are read
	s, err := dataset.OpenFiles(paths, dataset.OpenOptions{Var: c.Variable, MinMonths: c.InputMonths, Grid: &grid})
	if err != nil {
		return nil, err
	}
	series := []*dataset.Series{s}
	for _, in := range c.Inputs {
		s, err := dataset.OpenFiles(paths, dataset.OpenOptions{Var: in.Variable, MinMonths: c.InputMonths, Raw: true, Level: in.Level, Layer: in.Layer, Grid: &grid})
		if err != nil {
			if in.Name != in.Variable {
				return nil, fmt.Errorf("input %s (variable %s) of card %s: %w", in.Name, in.Variable, c.Path, err)
			}
			return nil, fmt.Errorf("input variable %s of card %s: %w", in.Variable, c.Path, err)
		}
		if in.Name != s.Name {
			s.Notices = append(s.Notices, "read from variable "+s.Name) // the input's name heads its notes
			s.Name = in.Name
		}
		series = append(series, s)
	}
	return series, nil
}

// Preprocessing returns each input variable's preprocessing in the card's order (Variables):
// [preprocess] for the card's variable, then each [[input]]'s (the same anomaly, period and
// filter with its own scaling).
func (c *Card) Preprocessing() []dataset.PreprocessSpec {
	specs := []dataset.PreprocessSpec{c.Preprocess}
	for _, in := range c.Inputs {
		specs = append(specs, in.Preprocess)
	}
	return specs
}

// PrepareSeries prepares the series Read returns under the card's grid and preprocessing
// (dataset.PrepareInputs): variables that cover different months are cut to those they share.
func (c *Card) PrepareSeries(series []*dataset.Series) (*dataset.Prepared, error) {
	return dataset.PrepareInputs(series, c.Grid, c.Preprocessing())
}

// Prepare reads the card's input variables from the data files at paths (Read) and prepares
// them (PrepareSeries).
func (c *Card) Prepare(paths ...string) (*dataset.Prepared, error) {
	series, err := c.Read(paths...)
	if err != nil {
		return nil, err
	}
	return c.PrepareSeries(series)
}

// Window fills dst ([Channels][NLat][NLon]) with the model input of init month init from the
// prepared data p (Card.Prepare, or dataset.Prepare for a card with one variable), in the card's
// channel order and layout: climxai's windows are oldest first, a newest-first card gets each
// variable's months reversed, and the variables' blocks follow one another or interleave.
func (c *Card) Window(p *dataset.Prepared, init dataset.Month, dst []float32) error {
	if len(p.Extra) != len(c.Inputs) {
		return fmt.Errorf("inference: the data hold %d input variables (%s), card %s reads %d (%s)",
			1+len(p.Extra), strings.Join(p.Variables(), ", "), c.Path, 1+len(c.Inputs), strings.Join(c.Variables(), ", "))
	}
	months, n := c.InputMonths, c.Grid.NLat*c.Grid.NLon
	if len(dst) != c.Channels()*n {
		return fmt.Errorf("inference: Window: dst holds %d values, want %d channels x %d cells", len(dst), c.Channels(), n)
	}
	for v, pv := range append([]*dataset.Prepared{p}, p.Extra...) {
		w, err := pv.WindowView(init, months)
		if err != nil {
			return err
		}
		for k := range months { // k: months oldest first
			m := k
			if c.ChannelOrder == NewestFirst {
				m = months - 1 - k
			}
			ch := c.Channel(v, m)
			copy(dst[ch*n:(ch+1)*n], w[k*n:(k+1)*n])
		}
	}
	return nil
}

// goodLayer is a card's layer: two values that dataset.ValidLayer accepts.
func goodLayer(l []float64) bool {
	return len(l) == 2 && dataset.ValidLayer([2]float64(l))
}

// goodName is an input name that can name a NetCDF variable's suffix and a command-line value:
// a letter, then letters, digits and underscores.
func goodName(name string) bool {
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return false
		}
	}
	return name != ""
}
