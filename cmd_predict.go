package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"climxai/app"
	"climxai/dataset"
	"climxai/inference"
)

// cmdPredict is `climxai predict --card C --data D --init YYYY-MM [--lead L] --out P.nc`: the
// emulators' forecasts from one init month, as SST anomalies (°C) at the target months
// init+L, written as a CF NetCDF series whose months without a lead are missing.
func cmdPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "predict --card C --data D --init YYYY-MM [--lead L] --out P.nc [--device D] [--threads N] [--json]", stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	initStr := fs.String("init", "", "init month YYYY-MM (the last observed month)")
	lead := fs.Int("lead", 0, "lead in months (default: every lead of the card)")
	out := fs.String("out", "", "NetCDF file to write")
	rf := addRunFlags(fs, false)
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return unexpectedArgs("predict", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *initStr == "" || *out == "":
		return app.Usagef("predict: --card, --data, --init and --out are required")
	}
	if err := checkOutput("predict", *out, *dataPath, map[string]string{"--card": *cardPath}); err != nil {
		return err
	}
	if err := rf.check("predict", 0, ""); err != nil {
		return err
	}
	init, err := dataset.ParseMonth(*initStr)
	if err != nil {
		return app.Usagef("predict: --init: %v", err)
	}
	card, err := inference.LoadCard(*cardPath)
	if err != nil {
		return err
	}
	models := card.Models
	if *lead != 0 {
		m, err := card.Model(*lead)
		if err != nil {
			return err
		}
		models = []inference.CardModel{m}
	}
	p, err := prepareData(card, *dataPath, stderr)
	if err != nil {
		return err
	}
	rt, err := inference.NewRuntime("")
	if err != nil {
		return err
	}
	defer rt.Close()

	in := make([]float32, card.Channels()*card.Grid.NLat*card.Grid.NLon)
	if err := card.Window(p, init, in); err != nil {
		return err
	}
	n := card.Grid.NLat * card.Grid.NLon
	first, last := init+dataset.Month(models[0].Lead), init+dataset.Month(models[len(models)-1].Lead)
	series := &dataset.Series{Name: card.Variable + "_anomaly", Units: "degC", Calendar: p.Series.Calendar,
		Source: dataPath.String(), Grid: card.Grid.Grid(), Start: first, N: int(last-first) + 1}
	series.Values = make([]float32, series.N*n)
	for i := range series.Values {
		series.Values[i] = float32(math.NaN())
	}
	type leadSummary struct {
		Lead      int     `json:"lead"`
		Target    string  `json:"target"`
		Model     string  `json:"model"`
		SHA256    string  `json:"sha256"`
		Device    string  `json:"device"`
		MeanAnom  float64 `json:"mean_anomaly"`
		OceanCell int     `json:"ocean_cells"`
		Index     string  `json:"index,omitempty"` // an index emulator's region: MeanAnom is the index
	}
	var summary []leadSummary
	var shas []string
	for _, cm := range models {
		m, err := rt.Open(card.Spec(cm), rf.options())
		if err != nil {
			return err
		}
		y, err := m.Run(ctx, in, 1)
		if err != nil {
			return err
		}
		sum, err := fileSHA256(cm.File)
		if err != nil {
			return err
		}
		shas = append(shas, fmt.Sprintf("lead %d: %s", cm.Lead, sum))
		t := int(init + dataset.Month(cm.Lead) - first)
		dst := series.Values[t*n : (t+1)*n]
		var total float64
		cells := 0
		region := m.Signature().Region // an index emulator's forecast covers its region only
		for k, v := range y {
			if !p.Ocean[k] || (region != nil && !region[k]) {
				continue // land (and cells an index emulator does not forecast) stay NaN
			}
			dst[k] = float32(float64(v)*card.Preprocess.ScaleStd + card.Preprocess.ScaleMean)
			total += float64(dst[k])
			cells++
		}
		summary = append(summary, leadSummary{Lead: cm.Lead, Target: (init + dataset.Month(cm.Lead)).String(),
			Model: cm.File, SHA256: sum, Device: m.Placement().String(), MeanAnom: total / max(1, float64(cells)), OceanCell: cells,
			Index: card.Index})
	}
	leads := make([]string, len(models))
	for i, cm := range models {
		leads[i] = strconv.Itoa(cm.Lead)
	}
	attrs := map[string]string{
		"title":        "climxai emulator prediction (" + card.Name + ")",
		"card":         *cardPath,
		"data_file":    dataPath.String(),
		"init_month":   init.String(),
		"leads":        strings.Join(leads, " "),
		"model_sha256": strings.Join(shas, "; "),
		"comment":      "SST anomaly (degC) predicted for month init+lead; months without a lead are missing",
	}
	if card.Index != "" {
		attrs["index"] = card.Index
		attrs["comment"] = "the " + card.Index + " index (area-weighted mean SST anomaly, degC) predicted for month init+lead, " +
			"written over the region's cells; other cells and months without a lead are missing"
	}
	if err := dataset.WriteSeries(*out, series, attrs); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"out": *out, "init": init.String(), "predictions": summary})
	}
	for _, l := range summary {
		if l.Index != "" {
			fmt.Fprintf(stdout, "lead %d -> %s: %s index %+.3f °C (written over its %d ocean cells), on %s\n",
				l.Lead, l.Target, l.Index, l.MeanAnom, l.OceanCell, l.Device)
			continue
		}
		fmt.Fprintf(stdout, "lead %d -> %s: mean anomaly %+.3f °C over %d ocean cells, on %s\n",
			l.Lead, l.Target, l.MeanAnom, l.OceanCell, l.Device)
	}
	fmt.Fprintln(stdout, "wrote", *out)
	return nil
}

// fileSHA256 returns the hex SHA-256 of a file, for provenance.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
