// Package dataset reads, decodes, regrids and preprocesses monthly SST fields.
//
// It turns a NetCDF file written by any common source (ERSST, HadISST, OISST, COBE-SST,
// CMIP/CESM tos) into a Series: a run of consecutive calendar months on a latitude-longitude
// grid, in °C, with NaN where the ocean is missing. What is not stored that way is made so while
// it is read: daily steps become monthly means (submonthly.go), depth levels a level or a
// layer's mean (layer.go), a curvilinear grid the card's (curvilinear.go), period files one
// series (files.go). From there it subsets and regrids to an
// emulator's grid, removes anomalies, filters, scales and cuts 36-month input windows exactly as
// the emulator card prescribes, and writes fields and attribution results back as CF NetCDF.
//
// Time follows the project's contract (DESIGN.md): the init month t is the last observed month,
// input channel c holds month t-35+c, lag k is month t-k, lead L predicts month t+L.
//
// dataset may import dataset/netcdf, resources and gonum; never Fyne, inference or attribution.
package dataset
