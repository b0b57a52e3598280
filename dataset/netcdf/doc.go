// Package netcdf is a small cgo binding over libnetcdf (Debian libnetcdf-dev): open NetCDF-3,
// NetCDF-4/HDF5 files and OPeNDAP URLs, inquire dimensions, variables and attributes, read
// hyperslabs of any numeric type, create and write files (with deflate), close.
//
// It exists because the usual Go wrapper is not served by the module proxy this project builds
// from; it binds only what climxai needs. Every error is an *Error carrying libnetcdf's message,
// the operation and the path.
//
// libnetcdf is not thread-safe, so every call into it holds one package-level mutex. That lock is
// the only package state, and the C library forces it. Callers may use files from any goroutine.
//
// The lock would make decompression, most of the cost of reading a compressed NetCDF-4 file,
// single-threaded. Var.DirectChunks therefore asks HDF5 once (under the lock) where the
// variable's chunks lie, and Chunks.ReadFloat64 then reads them with plain file reads and undoes
// deflate (libdeflate, Debian libdeflate-dev) and shuffle on several goroutines. Layouts it does
// not handle (classic files, URLs, contiguous storage, other filters, unwritten chunks) answer
// ErrNoDirect and are read through libnetcdf.
//
// The package imports only the standard library and C (libnetcdf, libhdf5, libdeflate).
package netcdf
