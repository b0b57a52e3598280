package attribution

import (
	"errors"
	"fmt"
)

// Kinds of failure. Test with errors.Is; the *Error that wraps them says what to do.
var (
	ErrBadTarget     = errors.New("invalid target")
	ErrTargetLand    = errors.New("target is on land")
	ErrTargetOutside = errors.New("target is outside the model grid")
	ErrNotForecast   = errors.New("the emulator does not forecast the target")
	ErrBadMethod     = errors.New("unknown attribution method")
	ErrBadParameter  = errors.New("invalid method parameter")
	ErrBadBaseline   = errors.New("invalid baseline")
	ErrBadRequest    = errors.New("invalid attribution request")
	// ErrSeveralInputs: the analysis is not (yet) defined for an emulator that reads several
	// input variables (a card with [[input]] tables).
	ErrSeveralInputs = errors.New("not available for emulators with several input variables")
	// ErrTruthVariables: a ground truth (fidelity) lacks coefficients of an input variable the
	// emulator reads.
	ErrTruthVariables = errors.New("the ground truth does not cover the emulator's input variables")
)

// Error is a problem with a target, a method or its parameters: the kind, the details, and what
// the user can do.
type Error struct {
	Kind error  // one of the Err* kinds above
	Msg  string // details
	Hint string // what to do, addressed to the user
	Err  error  // underlying error, if any
}

func (e *Error) Error() string {
	s := "attribution: " + e.Kind.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap lets errors.Is match the kind and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func errorf(kind error, hint, format string, a ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, a...), Hint: hint}
}
