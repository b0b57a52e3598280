package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"climxai/attribution"
	"climxai/dataset"
	"climxai/plots"
)

// SessionExt is the extension of session files.
const SessionExt = ".climxai.json"

// SessionFormat and SessionVersion mark a session file; a reader refuses other formats and
// newer versions rather than guessing. Version 2 added data_more and variable; a session that
// uses neither is written as version 1, which earlier climxai reads.
const (
	SessionFormat  = "climxai-session"
	SessionVersion = 2
)

// Values of Session.View and Session.Tab.
var (
	SessionViews = []string{"input", "attribution", "prediction", "truth", "error"}
	SessionTabs  = []string{"map", "compare", "methods", "aggregate", "decaymap", "ablation"}
	// SessionCompareScales are the values of Session.CompareScale ("" is "shared").
	SessionCompareScales = []string{"shared", "lead"}
)

// Session is the whole view of the desktop application, saved as a .climxai.json file: which
// emulator card and data are open, the selection (lead, method and its parameters, init month,
// target), the lag shown, the map's view, the tab and the map's zoom. Paths are stored relative
// to the session file when they lie below its folder, so a project folder can move.
type Session struct {
	Format  string `json:"format"`  // SessionFormat
	Version int    `json:"version"` // SessionVersion
	Card    string `json:"card"`
	Data    string `json:"data"`
	// DataMore are further data files after Data, for variables or periods stored in separate
	// files (version 2).
	DataMore []string `json:"data_more,omitempty"`
	Lead     int      `json:"lead"`
	Method   string   `json:"method"`
	// Params are the method's parameters by flag name (MethodParams); missing ones default.
	Params map[string]string `json:"params,omitempty"`
	Init   string            `json:"init"`   // YYYY-MM
	Target string            `json:"target"` // LAT,LON | box:S,N,W,E | a named box
	Lag    int               `json:"lag"`
	View   string            `json:"view"` // SessionViews
	Tab    string            `json:"tab"`  // SessionTabs
	// Zoom is the map's visible extent in degrees (nil: the emulator's domain).
	Zoom *Extent `json:"zoom,omitempty"`
	// CompareScale is the colour scale of the comparison of leads: "" or "shared" for one
	// scale, "lead" for each lead's map on its own (SessionCompareScales).
	CompareScale string `json:"compare_scale,omitempty"`
	// CompareMethods are the methods of the Compare methods tab (nil: CompareMethodsDefault).
	CompareMethods []string `json:"compare_methods,omitempty"`
	// Analyses are the settings of the Aggregate, Decay map and Ablation tabs (nil: their
	// defaults).
	Analyses *SessionAnalyses `json:"analyses,omitempty"`
	// Variable is the input variable the map shows, of an emulator that reads several ("":
	// the card's first; version 2).
	Variable string `json:"variable,omitempty"`
}

// minVersion is the earliest session version that holds s: 2 when it lists further data files
// or a variable, 1 otherwise.
func (s *Session) minVersion() int {
	if len(s.DataMore) > 0 || s.Variable != "" {
		return 2
	}
	return 1
}

// DataPaths are the session's data files: Data, then DataMore.
func (s *Session) DataPaths() []string { return append([]string{s.Data}, s.DataMore...) }

// paths are the session's file paths, for making them absolute or relative.
func (s *Session) paths() []*string {
	out := []*string{&s.Card, &s.Data}
	for i := range s.DataMore {
		out = append(out, &s.DataMore[i])
	}
	return out
}

// SessionAnalyses are the analysis tabs' settings, as typed there: sample sets in
// ParseSampleSet's form, radii in ParseRadii's and months kept in ParseInts'. Empty fields keep
// the tab's default.
type SessionAnalyses struct {
	AggregateSamples string `json:"aggregate_samples,omitempty"`
	AggregateFitLag  int    `json:"aggregate_fit_max_lag,omitempty"` // last lag of the e-folding fit; 0: all
	DecayMapSamples  string `json:"decaymap_samples,omitempty"`
	DecayMapStride   int    `json:"decaymap_stride,omitempty"`  // every stride-th cell; 0: the default
	DecayMapMaxLag   int    `json:"decaymap_max_lag,omitempty"` // lags fitted; 0: all
	AblationSamples  string `json:"ablation_samples,omitempty"`
	AblationRadii    string `json:"ablation_radii,omitempty"`
	AblationLags     string `json:"ablation_lags,omitempty"`
}

// fields are the settings in file order, each with its check and how to leave it out.
func (a *SessionAnalyses) fields() []analysisField {
	text := func(name string, v *string, parse func(string) error) analysisField {
		return analysisField{name, func() error {
			if *v == "" {
				return nil // left out: the default
			}
			return parse(*v)
		}, func() { *v = "" }}
	}
	num := func(name string, v *int, hi int, what string) analysisField {
		return analysisField{name, func() error {
			if *v < 0 || *v > hi {
				return fmt.Errorf("%d: %s", *v, what)
			}
			return nil
		}, func() { *v = 0 }}
	}
	samples := func(v string) error { _, err := ParseSampleSet(v); return err }
	return []analysisField{
		text("aggregate_samples", &a.AggregateSamples, samples),
		{"aggregate_fit_max_lag", func() error {
			if a.AggregateFitLag > 1200 {
				return fmt.Errorf("%d: the last lag fitted, 2 to 1200 (0: all lags)", a.AggregateFitLag)
			}
			return plots.CheckFitMaxLag(plots.KindDecay, a.AggregateFitLag) // the decay figure's rule
		}, func() { a.AggregateFitLag = 0 }},
		text("decaymap_samples", &a.DecayMapSamples, samples),
		num("decaymap_stride", &a.DecayMapStride, 10000, "every stride-th cell, 1 or more (0: the default)"),
		num("decaymap_max_lag", &a.DecayMapMaxLag, 1200, "the last lag fitted, 1 or more (0: all lags)"),
		text("ablation_samples", &a.AblationSamples, samples),
		text("ablation_radii", &a.AblationRadii, func(v string) error { _, err := ParseRadii(v); return err }),
		text("ablation_lags", &a.AblationLags, func(v string) error {
			lags, err := ParseInts(v)
			for _, k := range lags {
				if err == nil && k < 1 {
					err = fmt.Errorf("%d: months kept count from 1", k)
				}
			}
			return err
		}),
	}
}

// analysisField is one setting of SessionAnalyses: its name in the file, its check, and how
// to leave it out (its default).
type analysisField struct {
	name  string
	check func() error
	clear func()
}

// check validates the settings' forms; field names the first failing one as in the file.
func (a *SessionAnalyses) check() (field string, err error) {
	for _, f := range a.fields() {
		if err := f.check(); err != nil {
			return f.name, err
		}
	}
	return "", nil
}

// Valid returns the settings with the ones a session could not be read back with (typed but
// not valid) left out, so that they take their defaults.
func (a SessionAnalyses) Valid() SessionAnalyses {
	for _, f := range a.fields() {
		if f.check() != nil {
			f.clear()
		}
	}
	return a
}

// Extent is a latitude-longitude rectangle in degrees: South < North, West < East (longitudes
// in the card's convention, at most 360° wide).
type Extent struct {
	S float64 `json:"south"`
	N float64 `json:"north"`
	W float64 `json:"west"`
	E float64 `json:"east"`
}

// ErrSession is the kind of every SessionError.
var ErrSession = errors.New("bad session file")

// SessionError says what is wrong with a session file: which file, which field (empty for the
// file as a whole) and why, with what to do.
type SessionError struct {
	Path  string
	Field string
	Msg   string
}

func (e *SessionError) Error() string {
	var b strings.Builder
	b.WriteString("session")
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrSession) true.
func (e *SessionError) Unwrap() error { return ErrSession }

// maxSessionBytes bounds what ReadSession reads: sessions are a few hundred bytes.
const maxSessionBytes = 1 << 20

// ParseSession decodes and validates a session file's bytes (path names it in errors and
// resolves relative card and data paths; "" keeps them as written). Everything that can be
// checked without opening the files is: format and version, unknown fields, the method and its
// parameters, the init month's form, the target's form, lag, view, tab and zoom. What needs
// the data (is the init month in it, is the target cell ocean) is checked when the session is
// applied to a workspace. Errors are *SessionError.
func ParseSession(b []byte, path string) (*Session, error) {
	bad := func(field, format string, a ...any) error {
		return &SessionError{Path: path, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	if len(b) > maxSessionBytes {
		return nil, bad("", "%d bytes; a session file is a small JSON object (is this the right file?)", len(b))
	}
	var s Session
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, bad("", "not a climxai session (%v); save one with File > Save session…", err)
	}
	if dec.More() {
		return nil, bad("", "extra data after the session object")
	}
	switch {
	case s.Format != SessionFormat:
		return nil, bad("format", "%q, want %q: not a climxai session file", s.Format, SessionFormat)
	case s.Version < 1:
		return nil, bad("version", "%d: versions start at 1", s.Version)
	case s.Version > SessionVersion:
		return nil, bad("version", "%d is newer than this climxai reads (%d): update climxai", s.Version, SessionVersion)
	case s.Card == "" || s.Data == "":
		return nil, bad("card", "card and data are both required")
	case slices.Contains(s.DataMore, ""):
		return nil, bad("data_more", "an empty path: list the further data files, or leave data_more out")
	case s.Version < s.minVersion():
		return nil, bad("version", "%d has no data_more or variable: a session that uses them is version %d", s.Version, s.minVersion())
	case s.Lead < 1 || s.Lead > 1200:
		return nil, bad("lead", "%d: a lead in months from 1 to 1200", s.Lead)
	case s.Lag < 0 || s.Lag > 1200:
		return nil, bad("lag", "%d: a lag in months from 0", s.Lag)
	case !slices.Contains(SessionViews, s.View):
		return nil, bad("view", "%q: one of %s", s.View, strings.Join(SessionViews, ", "))
	case !slices.Contains(SessionTabs, s.Tab):
		return nil, bad("tab", "%q: one of %s", s.Tab, strings.Join(SessionTabs, ", "))
	case s.CompareScale != "" && !slices.Contains(SessionCompareScales, s.CompareScale):
		return nil, bad("compare_scale", "%q: one of %s", s.CompareScale, strings.Join(SessionCompareScales, ", "))
	}
	if _, err := MethodSettings(s.Method, s.Params); err != nil {
		return nil, bad("method", "%v", err)
	}
	for _, m := range s.CompareMethods {
		if !slices.Contains(MethodNames(), m) {
			return nil, bad("compare_methods", "%q: methods are %s", m, strings.Join(MethodNames(), ", "))
		}
	}
	if s.Analyses != nil {
		if field, err := s.Analyses.check(); err != nil {
			return nil, bad("analyses."+field, "%v", err)
		}
	}
	if _, err := dataset.ParseMonth(s.Init); err != nil {
		return nil, bad("init", "%q: %v (want YYYY-MM)", s.Init, err)
	}
	if err := checkTargetForm(s.Target); err != nil {
		return nil, bad("target", "%v", err)
	}
	if z := s.Zoom; z != nil {
		ok := z.S >= -90 && z.N <= 90 && z.S < z.N && z.W >= -360 && z.E <= 720 && z.W < z.E && z.E-z.W <= 360
		if !ok { // NaN fails every comparison and lands here too
			return nil, bad("zoom", "south %g north %g west %g east %g: want -90 <= south < north <= 90 and west < east at most 360° apart",
				z.S, z.N, z.W, z.E)
		}
	}
	if path != "" {
		dir := filepath.Dir(path)
		for _, p := range s.paths() {
			if !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	return &s, nil
}

// checkTargetForm checks a target's form without a grid: LAT,LON in range, box:S,N,W,E with
// S < N, or a named box.
func checkTargetForm(t string) error {
	for _, b := range attribution.NamedBoxes() {
		if t == b.Name {
			return nil
		}
	}
	box := strings.HasPrefix(t, "box:")
	parts := strings.Split(strings.TrimPrefix(t, "box:"), ",")
	var v []float64
	for _, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			v = nil
			break
		}
		v = append(v, x)
	}
	switch {
	case box && len(v) == 4 && v[0] >= -90 && v[1] <= 90 && v[0] < v[1] && math.Abs(v[2]) <= 360 && math.Abs(v[3]) <= 360:
		return nil
	case !box && len(v) == 2 && math.Abs(v[0]) <= 90 && math.Abs(v[1]) <= 360:
		return nil
	}
	names := make([]string, 0)
	for _, b := range attribution.NamedBoxes() {
		names = append(names, b.Name)
	}
	return fmt.Errorf("%q: want LAT,LON, box:S,N,W,E (S < N) or one of %s", t, strings.Join(names, ", "))
}

// ReadSession reads and validates a session file (ParseSession).
func ReadSession(path string) (*Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &SessionError{Path: path, Msg: fmt.Sprintf("%v (choose an existing .climxai.json file)", errors.Unwrap(err))}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSessionBytes+1))
	if err != nil {
		return nil, &SessionError{Path: path, Msg: err.Error()}
	}
	return ParseSession(b, path)
}

// WriteSession writes s to path atomically (a temporary file renamed into place), card and data
// relative to the session's folder when they lie below it. s is checked as ParseSession would,
// so a session that is written can be read.
func WriteSession(path string, s Session) error {
	s.Format, s.Version = SessionFormat, s.minVersion()
	s.DataMore = slices.Clone(s.DataMore)
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return err
	}
	for _, p := range s.paths() {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
		if rel, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
			*p = rel
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := ParseSession(b, ""); err != nil {
		return err
	}
	return dataset.WriteAtomic(path, func(tmp string) error { return os.WriteFile(tmp, b, 0o644) })
}

// Session returns the workspace's part of a session: card, data and the selection. The caller
// adds what only the view knows (lag, view, tab, zoom).
func (w *Workspace) Session() Session {
	sel := w.Selection()
	return Session{Format: SessionFormat, Version: SessionVersion, Card: w.CardPath, Data: w.DataPaths[0], DataMore: slices.Clone(w.DataPaths[1:]),
		Lead: sel.Lead, Method: sel.Method, Params: sel.Params, Init: sel.Init.String(), Target: sel.Target.Spec,
		View: "attribution", Tab: "map"}
}

// ApplySession selects what s selects (lead, init month, method and parameters, target) on the
// workspace, which must have s's card and data open. Whatever the data refuse (an init month
// outside them, a target on land) is a *SessionError naming the field; the selection is then
// left as it was.
func (w *Workspace) ApplySession(s *Session, path string) error {
	bad := func(field string, err error) error {
		return &SessionError{Path: path, Field: field, Msg: err.Error()}
	}
	before := w.Selection()
	restore := func() {
		w.mu.Lock()
		w.sel = before
		w.mu.Unlock()
	}
	if err := w.SetLead(s.Lead); err != nil {
		return bad("lead", err)
	}
	init, _ := dataset.ParseMonth(s.Init)
	if err := w.SetInit(init); err != nil {
		restore()
		return bad("init", err)
	}
	if err := w.SetMethodParams(s.Method, s.Params); err != nil {
		restore()
		return bad("method", err)
	}
	if _, err := w.SetTarget(s.Target); err != nil {
		restore()
		return bad("target", err)
	}
	if s.Lag >= w.Card.InputMonths {
		restore()
		return bad("lag", fmt.Errorf("%d: the card's lags are 0..%d", s.Lag, w.Card.InputMonths-1))
	}
	if vars := w.Card.Variables(); s.Variable != "" && !slices.Contains(vars, s.Variable) {
		restore()
		return bad("variable", fmt.Errorf("%q: the emulator reads %s", s.Variable, strings.Join(vars, ", ")))
	}
	return nil
}
