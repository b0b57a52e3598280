package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
)

// mergeSynopsis is merge's usage line.
const mergeSynopsis = "merge PART.nc... --out AGG.nc [--partial] [--json]"

// cmdMerge is `climxai merge`: it adds the running sums of aggregate files of disjoint sample
// sets (the shards of `climxai aggregate --shard i/n`) and writes the aggregate of their union,
// equal to the unsharded run's up to float64 rounding. Parts must agree on method, parameters,
// target, lead, model and grid; shards of one run must all be there (unless --partial) and
// none twice.
func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", mergeSynopsis, stderr)
	out := fs.String("out", "", "aggregate NetCDF file to write")
	partial := fs.Bool("partial", false, "merge the shards given even if some of the run's are missing")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	parts, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(parts) == 0 || *out == "":
		return app.Usagef("merge: give the part files and --out")
	case slices.ContainsFunc(parts, func(p string) bool { return p == *out || app.SameFile(p, *out) }):
		return app.Usagef("merge: --out %s is one of the parts; write the merged file elsewhere", *out)
	}
	var (
		sums                *attribution.Sums
		first               *dataset.AttributionFile
		seen                = map[int]string{}
		nShard, seconds     = 0, 0.0
		firstInit, lastInit string
	)
	for _, path := range parts {
		if err := ctx.Err(); err != nil {
			return err
		}
		s, a, err := app.ReadAggregateSums(path)
		if err != nil {
			return err
		}
		if sums == nil {
			sums, first = s, a
		} else {
			if err := sameRun(first, a, parts[0], path); err != nil {
				return err
			}
			if a.Meta.Other["shard"] == "" && a.Meta.DataFile == first.Meta.DataFile {
				return mergeError(path, "and %s aggregate the same samples of %s: they would count twice", parts[0], a.Meta.DataFile)
			}
			if err := sums.Merge(s); err != nil {
				return err
			}
		}
		sh := a.Meta.Other["shard"]
		if (sh == "") != (first.Meta.Other["shard"] == "") {
			return mergeError(path, "and %s are not both shards (shard %q and %q)", parts[0], sh, first.Meta.Other["shard"])
		}
		if sh != "" {
			sp, err := parseShard(sh)
			if err != nil {
				return mergeError(path, "its shard attribute %q is not i/n", sh)
			}
			if nShard != 0 && sp.n != nShard {
				return mergeError(path, "is shard %s but %s is of %d shards", sh, parts[0], nShard)
			}
			nShard = sp.n
			if prev, dup := seen[sp.i]; dup {
				return mergeError(path, "is shard %s, as is %s: its samples would count twice", sh, prev)
			}
			seen[sp.i] = path
		}
		if d, err := strconv.ParseFloat(a.Meta.Other["duration_seconds"], 64); err == nil {
			seconds += d
		}
		if fi := a.Meta.Other["first_init"]; fi != "" && (firstInit == "" || fi < firstInit) {
			firstInit = fi
		}
		if li := a.Meta.Other["last_init"]; li > lastInit {
			lastInit = li
		}
	}
	meta := first.Meta
	other := map[string]string{}
	for k, v := range meta.Other {
		other[k] = v
	}
	delete(other, "shard")
	if nShard > 0 {
		var missing []string
		for i := 1; i <= nShard; i++ {
			if _, ok := seen[i]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", i, nShard))
			}
		}
		if len(missing) > 0 {
			if !*partial {
				return &attribution.Error{Kind: attribution.ErrBadAggregate, Msg: fmt.Sprintf("shards %s are missing", strings.Join(missing, ", ")),
					Hint: "pass every shard's file (or --partial to merge only these)"}
			}
			other["shards_missing"] = strings.Join(missing, " ")
		}
		other["shards_merged"] = strconv.Itoa(len(seen))
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = filepath.Base(p)
	}
	other["merged_from"] = strings.Join(names, " ")
	other["duration_seconds"] = strconv.FormatFloat(seconds, 'f', 3, 64)
	other["first_init"], other["last_init"] = firstInit, lastInit
	meta.Other = other
	agg, err := app.WriteAggregate(*out, first.Grid, sums, meta)
	if err != nil {
		return err
	}
	return printAggregate(stdout, *asJSON, *out, meta, agg, "", seconds)
}

// sameRun checks that part b (path) can be added to part a (from first).
func sameRun(a, b *dataset.AttributionFile, first, path string) error {
	type field struct{ name, x, y string }
	for _, f := range []field{
		{"method", a.Meta.Method, b.Meta.Method},
		{"parameters", a.Meta.Parameters, b.Meta.Parameters},
		{"target", a.Meta.Target, b.Meta.Target},
		{"lead", strconv.Itoa(a.Meta.Lead), strconv.Itoa(b.Meta.Lead)},
		{"model_sha256", a.Meta.ModelSHA256, b.Meta.ModelSHA256},
		{"sample_set", a.Meta.Other["sample_set"], b.Meta.Other["sample_set"]},
	} {
		if f.x != f.y {
			return mergeError(path, "has %s %q, %s has %q", f.name, f.y, first, f.x)
		}
	}
	if !slices.Equal(a.Grid.Lat, b.Grid.Lat) || !slices.Equal(a.Grid.Lon, b.Grid.Lon) || !slices.Equal(a.Lags, b.Lags) {
		return mergeError(path, "is on another grid or lag axis than %s", first)
	}
	return nil
}

func mergeError(path, format string, a ...any) error {
	return &attribution.Error{Kind: attribution.ErrBadAggregate, Msg: path + " " + fmt.Sprintf(format, a...),
		Hint: "merge the shards of one climxai aggregate run (same card, data, lead, target, method and --samples)"}
}
