package attribution

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Method is one attribution method with its parameters fixed: every method answers the same
// verb with the same request and result types (as Captum's attribute).
type Method interface {
	// Name is the method's registry name, e.g. "ig".
	Name() string
	// Params are the method's parameters as printed in results ("steps=64 baseline=zero ...").
	Params() Params
	// Attribute explains the emulator's output at req.Target for the input req.X.
	Attribute(ctx context.Context, req Request) (*Result, error)
}

// Request is one explanation to compute.
type Request struct {
	Emulator *Emulator
	// X is the input window [Months][NLat][NLon] in the emulator's channel order, 0 on land
	// (inference.Card.Window gives it).
	X      []float32
	Target Target
	// Ocean is the data's ocean mask [NLat*NLon] (dataset.Prepared.Ocean); nil = every cell is
	// ocean. Results are NaN on land, and perturbations (noise, baselines) leave land at 0.
	Ocean []bool
	// Progress, if not nil, is called between batches with the work done and the total.
	Progress func(done, total int)
}

func (r Request) check() error {
	e := r.Emulator
	switch {
	case e == nil:
		return errorf(ErrBadRequest, "", "no emulator")
	case len(r.X) != e.sampleLen():
		return errorf(ErrBadRequest, "", "input has %d values, the model takes %d x %d x %d", len(r.X), e.Slabs(), e.NLat(), e.NLon())
	case len(r.Target.Weights) != e.cells():
		return errorf(ErrBadRequest, "parse the target on the model's grid", "target has %d weights, the model's output %d cells", len(r.Target.Weights), e.cells())
	case r.Ocean != nil && len(r.Ocean) != e.cells():
		return errorf(ErrBadRequest, "", "ocean mask has %d cells, the model's grid %d", len(r.Ocean), e.cells())
	}
	return e.checkTarget(r.Target)
}

// ocean reports whether cell i of the grid is ocean.
func (r Request) ocean(i int) bool { return r.Ocean == nil || r.Ocean[i] }

// Result is an explanation: attribution values by (lag, lat, lon) and what they mean.
type Result struct {
	Method string
	Params Params
	Target Target
	// Lags, NLat, NLon are the sizes of Values (of each variable's block).
	Lags, NLat, NLon int
	// Vars names the input variables when the emulator reads several (Emulator.Vars): Values
	// then hold one [lag][lat][lon] block per variable, in this order. nil for one variable.
	Vars []string
	// Values are the attributions [lag][lat][lon], lag 0 (the init month) first, NaN on land.
	// For backward optimisation they are the optimal input (model input units).
	Values []float32
	// Output is the explained scalar f(x) = Σ w·y at the target, with its sign.
	Output float64
	// Completeness compares the attributions' sum with what it should equal, for methods that
	// have such a property (IG, DeepLIFT: f(x) - f(baseline); LRP: f(x)); nil otherwise.
	Completeness *Completeness
	// Trace is backward optimisation's objective f(x) - λ||x - x0||² per iteration.
	Trace    []float64
	Device   string
	Duration time.Duration
}

// Completeness is the check Σ attribution = Expected (Sundararajan et al. 2017's completeness,
// Shrikumar et al. 2017's summation-to-delta, LRP's conservation).
type Completeness struct {
	Sum      float64 // Σ attribution
	Expected float64 // e.g. f(x) - f(baseline)
	Delta    float64 // Sum - Expected
	Relative float64 // |Delta| / |Expected| (+Inf when Expected is 0 and Delta is not)
}

func newCompleteness(sum, expected float64) *Completeness {
	c := &Completeness{Sum: sum, Expected: expected, Delta: sum - expected}
	switch {
	case expected != 0:
		c.Relative = math.Abs(c.Delta) / math.Abs(expected)
	case c.Delta != 0:
		c.Relative = math.Inf(1)
	}
	return c
}

// LagSums returns Σ |attribution| over space, and over input variables, per lag (land
// skipped).
func (r *Result) LagSums() []float64 {
	s := make([]float64, r.Lags)
	for b := range max(1, len(r.Vars)) {
		for k, x := range blockAbsSums(r.Block(b), r.Lags) {
			s[k] += x
		}
	}
	return s
}

// LagImportance is LagSums normalised to sum 1 (all zeros when the attribution is).
func (r *Result) LagImportance() []float64 { return normalise(r.LagSums()) }

// Block returns the values of input variable v ([lag][lat][lon]; v = 0 for an emulator that
// reads one variable), sharing Values' memory.
func (r *Result) Block(v int) []float32 {
	m := r.Lags * r.NLat * r.NLon
	return r.Values[v*m : (v+1)*m : (v+1)*m]
}

// VarSums returns Σ |attribution| over each input variable's block (land skipped).
func (r *Result) VarSums() []float64 { return blockAbsSums(r.Values, max(1, len(r.Vars))) }

// VarShares is VarSums normalised to sum 1: each input variable's share of Σ|attribution|.
func (r *Result) VarShares() []float64 { return normalise(r.VarSums()) }

// Param is one printed method parameter.
type Param struct{ Name, Value string }

// Params are a method's parameters in a fixed order.
type Params []Param

// String prints "k=v k=v ...".
func (p Params) String() string {
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = x.Name + "=" + x.Value
	}
	return strings.Join(parts, " ")
}

func pf(name string, format string, v any) Param { return Param{name, fmt.Sprintf(format, v)} }

func nanValue() float64 { return math.NaN() }

// begin starts a result of m for req.
func begin(m Method, req Request) *Result {
	e := req.Emulator
	return &Result{Method: m.Name(), Params: m.Params(), Target: req.Target,
		Lags: e.Months(), NLat: e.NLat(), NLon: e.NLon(), Vars: e.Vars}
}

// weighted returns Σ w·y for sample s of ys.
func weighted(w, ys []float32, s int) float64 {
	n := len(w)
	var t float64
	for i, v := range ys[s*n : (s+1)*n] {
		t += float64(w[i]) * float64(v)
	}
	return t
}

// sum64 is Σ v in float64.
func sum64(v []float32) float64 {
	var t float64
	for _, x := range v {
		t += float64(x)
	}
	return t
}
