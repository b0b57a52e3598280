package plots

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"climxai/dataset"
	"climxai/resources"
	"climxai/version"
)

// Figure kinds a Spec can describe.
const (
	KindMap      = "map"      // one result file; the lags in Lags summed (default lag 0)
	KindDecay    = "decay"    // result files, one per lead: importance against lag with e-folding fits
	KindDistance = "distance" // result files: cumulative importance against distance, lags in Lags summed (default all)
	KindLeads    = "leads"    // result files for several leads: columns = leads, rows = Lags (default 0)
	// KindMethods: result files of one forecast by several methods: columns = methods in the
	// order given, each divided by its largest |value| over the lags shown (their units
	// differ), rows = Lags (default 0).
	KindMethods  = "methods"
	KindLagLat   = "laglat"   // one result file: |importance| summed over longitude, lag against latitude
	KindLines    = "lines"    // curves carried in the spec itself (ablation, skill); inputs are provenance only
	KindDecayMap = "decaymap" // one map file of climxai decaymap: e-folding time and R90 per target cell
	KindFidelity = "fidelity" // scores and curves carried in the spec itself (climxai fidelity); inputs are provenance only
)

// Kinds lists the figure kinds in the order help text shows them.
var Kinds = []string{KindMap, KindDecay, KindDistance, KindLeads, KindMethods, KindLagLat, KindDecayMap, KindLines, KindFidelity}

// readsResults reports whether a kind's inputs are attribution result files.
func readsResults(kind string) bool {
	switch kind {
	case KindMap, KindDecay, KindDistance, KindLeads, KindMethods, KindLagLat:
		return true
	}
	return false
}

// Input is one input file of a figure with its SHA-256 and what its metadata said.
type Input struct {
	Path        string `json:"path"` // relative to the sidecar's directory when it was written there
	SHA256      string `json:"sha256"`
	Method      string `json:"method,omitempty"`
	Parameters  string `json:"parameters,omitempty"`
	Target      string `json:"target,omitempty"`
	Lead        int    `json:"lead"`
	Init        string `json:"init_month,omitempty"`
	Samples     int    `json:"samples,omitempty"`
	ModelSHA256 string `json:"model_sha256,omitempty"`
	DataFile    string `json:"data_file,omitempty"`
}

// Spec is a figure's provenance sidecar (FIG.ext.json): everything needed to draw it again.
type Spec struct {
	Kind     string  `json:"kind"`
	Inputs   []Input `json:"inputs"`
	Lags     []int   `json:"lags,omitempty"`
	Scale    string  `json:"scale,omitempty"` // auto (default), diverging, sequential
	Title    string  `json:"title,omitempty"` // empty: made from the inputs' metadata
	Preset   string  `json:"preset"`
	HeightMM float64 `json:"height_mm,omitempty"` // curves only; 0: 0.7 of the width
	DPI      int     `json:"dpi"`
	Format   string  `json:"format"`
	Version  string  `json:"climxai_version"`
	Lines    *Lines  `json:"lines,omitempty"` // kind lines: the curves themselves
	// Fidelity (kind fidelity): the scores and curves themselves.
	Fidelity *Fidelity `json:"fidelity,omitempty"`
	// Contours (kind map): contour lines of |value| at these fractions of the map's largest
	// |value|, e.g. [0.25, 0.5].
	Contours []float64 `json:"contours,omitempty"`
	// Normalize (kind leads): "" keeps the values, so that magnitudes compare across leads;
	// "lead" divides each lead's panels by that lead's largest |value| over the lags shown, so
	// that the patterns of weak long-lead attributions show on the shared scale [-1, 1].
	Normalize string `json:"normalize,omitempty"`
	// Variable (kinds map, laglat, leads) draws this (lag, lat, lon) variable of the result
	// files instead of attribution, e.g. an aggregate's signed_mean or std; "" is attribution.
	Variable string `json:"variable,omitempty"`
	// FitMaxLag (kind decay) fits the e-folding curve to lags 0..FitMaxLag only (e.g. 11, the
	// first year; climxai decay --max-lag); 0 fits every lag.
	FitMaxLag int `json:"fit_max_lag,omitempty"`
}

// ErrSpec is the kind of error for a sidecar that cannot be used to draw a figure.
var ErrSpec = errors.New("plots: bad figure spec")

// ErrInputChanged is the kind of error for an input whose SHA-256 differs from the sidecar's.
var ErrInputChanged = errors.New("plots: figure input changed")

// SidecarPath returns the sidecar of a figure file: FIG.ext.json.
func SidecarPath(fig string) string { return fig + ".json" }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("plots: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("plots: reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// NewSpec returns the spec of a figure of kind over the result files paths, with SHA-256 and
// metadata of each input filled in.
func NewSpec(kind string, paths []string, lags []int) (Spec, error) {
	s := Spec{Kind: kind, Lags: lags, Preset: DefaultPreset, DPI: DefaultDPI, Version: version.Version}
	for _, p := range paths {
		s.Inputs = append(s.Inputs, Input{Path: p})
	}
	if err := s.validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func (s Spec) validate() error {
	switch s.Kind {
	case KindMap, KindLagLat, KindDecayMap:
		if len(s.Inputs) != 1 {
			return fmt.Errorf("%w: a %s figure takes one result file, got %d", ErrSpec, s.Kind, len(s.Inputs))
		}
	case KindLines:
		if s.Lines == nil || len(s.Lines.Series) == 0 {
			return fmt.Errorf("%w: kind lines needs its curves in \"lines\"", ErrSpec)
		}
		for _, c := range s.Lines.Series {
			if len(c.X) == 0 || len(c.X) != len(c.Y) {
				return fmt.Errorf("%w: curve %q has %d x and %d y values", ErrSpec, c.Label, len(c.X), len(c.Y))
			}
		}
	case KindFidelity:
		if s.Fidelity == nil {
			return fmt.Errorf("%w: kind fidelity needs its scores in \"fidelity\"", ErrSpec)
		}
		if err := s.Fidelity.check(); err != nil {
			return fmt.Errorf("%w: %v", ErrSpec, err)
		}
	case KindDecay, KindDistance, KindLeads, KindMethods:
		if len(s.Inputs) == 0 {
			return fmt.Errorf("%w: %s needs at least one result file", ErrSpec, s.Kind)
		}
	default:
		return fmt.Errorf("%w: unknown kind %q; kinds: %s", ErrSpec, s.Kind, strings.Join(Kinds, ", "))
	}
	for _, c := range s.Contours {
		if !(c > 0 && c < 1) {
			return fmt.Errorf("%w: contour fraction %g outside (0, 1)", ErrSpec, c)
		}
	}
	switch s.Scale {
	case "", "auto", "diverging", "sequential":
	default:
		return fmt.Errorf("%w: unknown scale %q; scales: auto, diverging, sequential", ErrSpec, s.Scale)
	}
	if err := CheckNormalize(s.Kind, s.Normalize); err != nil {
		return fmt.Errorf("%w: %v", ErrSpec, err)
	}
	if err := CheckVariable(s.Kind, s.Variable); err != nil {
		return fmt.Errorf("%w: %v", ErrSpec, err)
	}
	if err := CheckFitMaxLag(s.Kind, s.FitMaxLag); err != nil {
		return fmt.Errorf("%w: %v", ErrSpec, err)
	}
	if _, err := LookupPreset(s.Preset); err != nil {
		return fmt.Errorf("%w: %v", ErrSpec, err)
	}
	if s.DPI < 0 || s.DPI > 2400 {
		return fmt.Errorf("%w: dpi %d outside 1..2400", ErrSpec, s.DPI)
	}
	return nil
}

// CheckFitMaxLag says whether fitMaxLag (Spec.FitMaxLag) is allowed for a figure of kind: 0
// always; 2 or more (three lags at least, as the fit needs) for kind decay only.
func CheckFitMaxLag(kind string, fitMaxLag int) error {
	switch {
	case fitMaxLag == 0:
	case fitMaxLag < 2:
		return fmt.Errorf("fitting lags 0..%d: the e-folding fit needs at least three lags; give 2 or more, or 0 for every lag", fitMaxLag)
	case kind != KindDecay:
		return fmt.Errorf("a fit over the first lags is for kind decay (--kind decay), not %s", kind)
	}
	return nil
}

// CheckNormalize says whether normalize (Spec.Normalize) is allowed for a figure of kind: ""
// always, "lead" for kind leads only.
func CheckNormalize(kind, normalize string) error {
	switch {
	case normalize == "":
	case normalize != "lead":
		return fmt.Errorf("unknown normalisation %q; use lead, or none", normalize)
	case kind != KindLeads:
		return fmt.Errorf("normalisation by lead is for kind leads (--kind leads), not %s", kind)
	}
	return nil
}

// CheckVariable says whether variable (Spec.Variable) is allowed for a figure of kind: ""
// always; a variable name (letters, digits, underscores) for the kinds that draw fields (map,
// laglat, leads).
func CheckVariable(kind, variable string) error {
	if variable == "" {
		return nil
	}
	for i, r := range variable {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return fmt.Errorf("variable %q is not a NetCDF variable name", variable)
		}
	}
	switch kind {
	case KindMap, KindLagLat, KindLeads, KindMethods:
		return nil
	case KindDecay, KindDistance:
		// Curves of importance: of one input variable of an emulator that reads several, or of
		// all of them (useVariable checks the name against the files).
		if !curveOnly(variable) {
			return nil
		}
	}
	return fmt.Errorf("another variable than attribution (%s) is drawn by kinds map, laglat, leads and methods, not %s "+
		"(whose curves take an input variable's attributions, or all)", variable, kind)
}

// curveOnly reports whether variable is an aggregate statistic rather than attributions: what
// the decay and distance curves, which sum |attribution|, cannot draw.
func curveOnly(variable string) bool {
	return slices.Contains([]string{"signed_mean", "std", "signed_std"}, variable) || strings.HasPrefix(variable, "sum_")
}

// ReadSpec reads a sidecar.
func ReadSpec(path string) (Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("plots: %w", err)
	}
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("%w: %s: %v (is it a climxai figure sidecar?)", ErrSpec, path, err)
	}
	if err := s.validate(); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// loaded is an input read from disk.
type loaded struct {
	in   Input
	file *dataset.AttributionFile
}

// load reads the inputs, resolving relative paths against base. With check, a SHA-256 that
// differs from the spec's is an ErrInputChanged error; an empty SHA-256 is filled in.
func (s *Spec) load(base string, check, read bool) ([]loaded, error) {
	var out []loaded
	for i := range s.Inputs {
		in := &s.Inputs[i]
		p := in.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, err
		}
		if check && in.SHA256 != "" && in.SHA256 != sum {
			return nil, fmt.Errorf("%w: %s has SHA-256 %s, the sidecar recorded %s (the figure would differ; make a new figure from the file instead)", ErrInputChanged, p, sum[:12], in.SHA256[:min(12, len(in.SHA256))])
		}
		in.SHA256 = sum
		if !read {
			continue // provenance only (kind lines): any file, hashed, not parsed
		}
		f, err := dataset.ReadAttribution(p)
		if err != nil {
			return nil, err
		}
		if err := s.useVariable(f, p); err != nil {
			return nil, err
		}
		m := f.Meta
		in.Method, in.Parameters, in.Target, in.Lead = m.Method, m.Parameters, m.Target, m.Lead
		in.Init, in.Samples, in.ModelSHA256, in.DataFile = m.Init, m.Samples, m.ModelSHA256, m.DataFile
		out = append(out, loaded{in: *in, file: f})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].in.Lead < out[b].in.Lead })
	return out, nil
}

// useVariable puts the (lag, lat, lon) variable s.Variable of f in place of its attribution.
// For a file of an emulator that reads several input variables it may also name one of them
// (its attributions), or be "all", their sum (dataset.AttributionFile.InputVariable).
func (s *Spec) useVariable(f *dataset.AttributionFile, path string) error {
	if s.Variable == "all" || slices.Contains(f.InputVariables(), s.Variable) {
		v, err := f.InputVariable(s.Variable)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrSpec, path, err)
		}
		f.Values = v
		return nil
	}
	if s.Variable == "" || s.Variable == "attribution" {
		return nil
	}
	if s.Kind == KindDecay || s.Kind == KindDistance {
		return fmt.Errorf("%w: %s has no input variable %q (it has %s)", ErrSpec, path, s.Variable, strings.Join(append(f.InputVariables(), "all"), ", "))
	}
	names := []string{"attribution"}
	for _, x := range f.Extra {
		if x.Name == s.Variable {
			f.Values = x.Values
			return nil
		}
		names = append(names, x.Name)
	}
	return fmt.Errorf("%w: %s has no (lag, lat, lon) variable %q; it has %s", ErrSpec, path, s.Variable, strings.Join(names, ", "))
}

// lagIndex returns the slab index of lag k in f.
func lagIndex(f *dataset.AttributionFile, k int, path string) (int, error) {
	for i, l := range f.Lags {
		if l == k {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: %s has no lag %d (lags %d..%d)", ErrSpec, path, k, f.Lags[0], f.Lags[len(f.Lags)-1])
}

// lagSum returns the field summed over lags (NaN stays NaN).
func lagSum(f *dataset.AttributionFile, lags []int, path string) (dataset.Field, error) {
	n := f.Grid.Size()
	out := make([]float32, n)
	for _, k := range lags {
		i, err := lagIndex(f, k, path)
		if err != nil {
			return dataset.Field{}, err
		}
		for c, v := range f.Values[i*n : (i+1)*n] {
			out[c] += v
		}
	}
	return dataset.Field{Grid: f.Grid, Values: out}, nil
}

// ParseMarker reads a target as written in result files: "LAT,LON" or "box:S,N,W,E". Named
// regions give ok false (no marker).
func ParseMarker(t string) (Marker, bool) {
	box := strings.HasPrefix(t, "box:")
	parts := strings.Split(strings.TrimPrefix(t, "box:"), ",")
	var v []float64
	for _, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return Marker{}, false
		}
		v = append(v, x)
	}
	switch {
	case box && len(v) == 4:
		return Marker{Box: true, South: v[0], North: v[1], West: v[2], East: v[3], Lat: (v[0] + v[1]) / 2, Lon: (v[2] + v[3]) / 2}, true
	case !box && len(v) == 2:
		return Marker{Lat: v[0], Lon: v[1]}, true
	}
	return Marker{}, false
}

func lagText(lags []int) string {
	if len(lags) == 1 {
		return fmt.Sprintf("lag %d", lags[0])
	}
	contiguous := true
	for i := 1; i < len(lags); i++ {
		contiguous = contiguous && lags[i] == lags[i-1]+1
	}
	if contiguous {
		return fmt.Sprintf("lags %d–%d", lags[0], lags[len(lags)-1])
	}
	return fmt.Sprintf("%d lags", len(lags))
}

func (s Spec) scale(label string, values ...[]float32) Scale {
	switch s.Scale {
	case "diverging":
		return DivergingScale(label, values...)
	case "sequential":
		return SequentialScale(label, values...)
	}
	return AutoScale(label, values...)
}

// valueLabel names what a figure's colour bar shows: attribution, an aggregate's mean
// importance, or the other variable drawn.
func (s Spec) valueLabel(f *dataset.AttributionFile) string {
	l := "attribution"
	switch {
	case s.Variable == "signed_mean":
		l = "mean signed importance"
	case s.Variable != "" && s.Variable != "attribution":
		l = s.Variable
	case f.Meta.Samples > 0:
		l = "mean importance"
	}
	if f.Meta.Method != "" {
		l += " (" + f.Meta.Method + ")"
	}
	return l
}

// Figure draws the figure the spec describes; relative input paths are resolved against base
// (the sidecar's directory). Inputs whose SHA-256 differ from the spec's are an error.
func (s *Spec) Figure(base string) (*Figure, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	ins, err := s.load(base, true, readsResults(s.Kind))
	if err != nil {
		return nil, err
	}
	pr, _ := LookupPreset(s.Preset)
	st := DefaultStyle()
	switch s.Kind {
	case KindLines:
		return LinesFigure(*s.Lines, pr.Width, vg.Length(s.HeightMM)*vg.Millimeter, st)
	case KindFidelity:
		return FidelityFigure(*s.Fidelity, pr.Width, st)
	}
	rings, err := resources.LandRings()
	if err != nil {
		return nil, err
	}
	if s.Kind == KindDecayMap {
		p := s.Inputs[0].Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		m, err := dataset.ReadMapFile(p)
		if err != nil {
			return nil, err
		}
		in := &s.Inputs[0]
		in.Method, in.Parameters, in.ModelSHA256, in.DataFile = m.Attrs["method"], m.Attrs["parameters"], m.Attrs["model_sha256"], m.Attrs["data_file"]
		in.Lead, _ = strconv.Atoi(m.Attrs["lead"])
		in.Samples, _ = strconv.Atoi(m.Attrs["samples"])
		d, err := DecayMapOf(m, p)
		if err != nil {
			return nil, err
		}
		if s.Title != "" {
			d.Header = s.Title
		}
		return DecayMapFigure(d, rings, pr.Width, st)
	}
	height := vg.Length(s.HeightMM) * vg.Millimeter
	switch s.Kind {
	case KindMap:
		in := ins[0]
		lags := s.Lags
		if len(lags) == 0 {
			lags = []int{0}
		}
		f, err := lagSum(in.file, lags, in.in.Path)
		if err != nil {
			return nil, err
		}
		m := MapPanel{Field: f, Scale: s.scale(s.valueLabel(in.file), f.Values), Coast: rings, Title: s.Title}
		if mk, ok := ParseMarker(in.file.Meta.Target); ok {
			m.Target = &mk
		}
		if len(s.Contours) > 0 {
			m.Contour = fractionContours(f, s.Contours)
		}
		if m.Title == "" {
			m.Title = fmt.Sprintf("lead %d, %s", in.file.Meta.Lead, lagText(lags))
		}
		return MapFigure(m, pr.Width, st), nil
	case KindLagLat:
		in := ins[0]
		h := LagLatitudeOf(in.file, true)
		title := s.Title
		if title == "" {
			title = fmt.Sprintf("lead %d, |values| summed over longitude", in.file.Meta.Lead)
		}
		return LagLatitudeFigure(h, s.scale(s.valueLabel(in.file), h.Values), title, pr.Width, height, st)
	case KindDecay:
		var ds []DecaySeries
		for _, in := range ins {
			d := DecaySeries{Lead: in.file.Meta.Lead}
			n := in.file.Grid.Size()
			tot := 0.0
			for i, k := range in.file.Lags {
				sum := 0.0
				for _, v := range in.file.Values[i*n : (i+1)*n] {
					if !math.IsNaN(float64(v)) {
						sum += math.Abs(float64(v))
					}
				}
				d.Lags = append(d.Lags, float64(k))
				d.Importance = append(d.Importance, sum)
				tot += sum
			}
			for i := range d.Importance {
				if tot > 0 {
					d.Importance[i] /= tot
				}
			}
			fit := FitEFold(d.Lags, d.Importance)
			if s.FitMaxLag > 0 {
				fit = FitEFoldTo(d.Lags, d.Importance, float64(s.FitMaxLag))
				d.FitMaxLag = float64(s.FitMaxLag)
			}
			if !math.IsNaN(fit.EFold) {
				d.EFold, d.Amplitude, d.Lo, d.Hi = fit.EFold, fit.Amplitude, fit.Lo, fit.Hi
			}
			ds = append(ds, d)
		}
		return DecayFigure(ds, pr.Width, height, st)
	case KindDistance:
		var ds []DistanceSeries
		for _, in := range ins {
			mk, ok := ParseMarker(in.file.Meta.Target)
			if !ok {
				return nil, fmt.Errorf("%w: %s: target %q is not LAT,LON or box:S,N,W,E, so distances are undefined", ErrSpec, in.in.Path, in.file.Meta.Target)
			}
			lags := s.Lags
			if len(lags) == 0 {
				lags = in.file.Lags
			}
			n := in.file.Grid.Size()
			w := make([]float64, n)
			for _, k := range lags {
				i, err := lagIndex(in.file, k, in.in.Path)
				if err != nil {
					return nil, err
				}
				for c, v := range in.file.Values[i*n : (i+1)*n] {
					w[c] += math.Abs(float64(v)) // NaN stays NaN and is skipped
				}
			}
			d := BinByDistance(in.file.Grid, w, mk.Lat, mk.Lon, binKm(in.file.Grid))
			d.Label = fmt.Sprintf("lead %d", in.file.Meta.Lead)
			ds = append(ds, d)
		}
		return DistanceFigure(ds, pr.Width, height, st)
	case KindLeads, KindMethods:
		g, err := s.leadsGrid(ins, rings)
		if err != nil {
			return nil, err
		}
		return LeadsFigure(g, pr.Width, st)
	}
	return nil, fmt.Errorf("%w: unknown kind %q", ErrSpec, s.Kind)
}

// leadsGrid lays out kinds leads and methods: a column per input (a lead, or a method of one
// forecast), a row per lag of s.Lags (default 0); methods, and leads with Normalize "lead",
// divide each column by its largest |value|.
func (s *Spec) leadsGrid(ins []loaded, rings []resources.Ring) (LeadsGrid, error) {
	lags := s.Lags
	if len(lags) == 0 {
		lags = []int{0}
	}
	g := LeadsGrid{}
	var all [][]float32
	for r, k := range lags {
		g.Panels = append(g.Panels, nil)
		g.RowLabels = append(g.RowLabels, fmt.Sprintf("lag %d", k))
		for _, in := range ins {
			f, err := lagSum(in.file, []int{k}, in.in.Path)
			if err != nil {
				return LeadsGrid{}, err
			}
			if f.Grid.Size() != ins[0].file.Grid.Size() {
				return LeadsGrid{}, fmt.Errorf("%w: %s is on a different grid from %s", ErrSpec, in.in.Path, ins[0].in.Path)
			}
			m := MapPanel{Field: f, Coast: rings}
			if mk, ok := ParseMarker(in.file.Meta.Target); ok {
				m.Target = &mk
			}
			g.Panels[r] = append(g.Panels[r], m)
			all = append(all, f.Values)
			if r == 0 && s.Kind == KindMethods {
				g.ColLabels = append(g.ColLabels, in.file.Meta.Method)
			} else if r == 0 {
				g.ColLabels = append(g.ColLabels, fmt.Sprintf("lead %d", in.file.Meta.Lead))
			}
		}
	}
	label := s.valueLabel(ins[0].file)
	switch {
	case s.Kind == KindMethods:
		label = "attribution / its method's max |value|"
		if s.Variable != "" && s.Variable != "attribution" {
			label = s.Variable + " / its method's max |value|"
		}
		g.normalizeColumns()
	case s.Normalize == "lead":
		label += " / its lead's max |value|"
		g.normalizeColumns()
	}
	g.Scale = s.scale(label, all...)
	return g, nil
}

// binKm is the distance bin: about one grid step at the equator, at least 50 km.
func binKm(g dataset.Grid) float64 {
	return math.Max(50, step(g.Lat)*111.2)
}

// Make draws the figure of spec to out (format from its extension, written atomically) and
// writes its sidecar beside it, with input paths relative to out's directory where possible.
// base resolves the spec's relative input paths.
func Make(s Spec, base, out string) error {
	format, err := Format(out)
	if err != nil {
		return err
	}
	s.Format = format
	s.Inputs = append([]Input(nil), s.Inputs...) // the caller's spec stays as it was
	if s.Preset == "" {
		s.Preset = DefaultPreset
	}
	if s.DPI == 0 {
		s.DPI = DefaultDPI
	}
	fig, err := s.Figure(base)
	if err != nil {
		return err
	}
	if err := fig.Save(out, s.DPI); err != nil {
		return err
	}
	s.Version = version.Version
	outDir, _ := filepath.Abs(filepath.Dir(out))
	for i := range s.Inputs {
		p := s.Inputs[i].Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		if abs, err := filepath.Abs(p); err == nil {
			if rel, err := filepath.Rel(outDir, abs); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			} else {
				p = abs
			}
		}
		s.Inputs[i].Path = p
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return dataset.WriteAtomic(SidecarPath(out), func(tmp string) error { return os.WriteFile(tmp, b, 0o644) })
}
