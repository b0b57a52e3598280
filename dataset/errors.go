package dataset

import (
	"errors"
	"fmt"
)

// Kinds of bad input. Test with errors.Is; the *Error that wraps them names the file and says
// what to do.
var (
	ErrNotNetCDF      = errors.New("not a NetCDF file")
	ErrTruncated      = errors.New("file is truncated or damaged")
	ErrNoCoordinate   = errors.New("no recognisable coordinate")
	ErrNoVariable     = errors.New("variable not found")
	ErrTooShort       = errors.New("too few months")
	ErrAllMissing     = errors.New("all values are missing")
	ErrNotMonthly     = errors.New("time steps are not monthly")
	ErrIrregularGrid  = errors.New("grid is not a regular latitude-longitude grid")
	ErrGridMismatch   = errors.New("data do not cover the emulator's grid")
	ErrBadPreprocess  = errors.New("preprocessing specification is invalid")
	ErrMonthOutOfData = errors.New("month outside the data")
)

// errAbsent is the ErrNoVariable of a file that lacks the variable asked for by name, as
// opposed to one it holds but cannot read: OpenFiles passes over such files.
var errAbsent = fmt.Errorf("%w", ErrNoVariable)

// Error is a problem with one input file (or one request against it): which file, what kind of
// problem, the details, and what the user can do about it.
type Error struct {
	Path string // the file (or URL) concerned; empty when not file-bound
	Kind error  // one of the Err* kinds above
	Msg  string // details: names, numbers, what was found
	Hint string // what to do, addressed to the user
}

func (e *Error) Error() string {
	s := "dataset: "
	if e.Path != "" {
		s += e.Path + ": "
	}
	s += e.Kind.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// errorf builds an *Error with a formatted message.
func errorf(path string, kind error, hint string, format string, a ...any) *Error {
	return &Error{Path: path, Kind: kind, Msg: fmt.Sprintf(format, a...), Hint: hint}
}
