package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"climxai/app"
	"climxai/attribution"
	"climxai/dataset"
	"climxai/inference"
	"climxai/plots"
)

const skillSynopsis = "skill --card C --data D [--lead L] [--split test|train|all] --out S.nc [--json] [--figure F] [--device D] [--threads N]"

// skillBatch is the number of forecasts run by ONNX Runtime at a time.
const skillBatch = 32

// cmdSkill is `climxai skill`: how skilful the card's emulators are on a sample set (by default
// the test years), cell by cell and as area means, against the truth, with persistence and
// damped persistence as baselines. Everything is in °C anomalies.
//
// Persistence forecasts the anomaly at the init month; damped persistence multiplies it by a
// per-cell coefficient (least squares through the origin of truth on persistence) fitted on the
// training samples, so it is never fitted on what it is scored on.
func cmdSkill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("skill", skillSynopsis, stderr)
	cardPath := fs.String("card", "", "emulator card (TOML beside the ONNX models)")
	dataPath := addDataFlag(fs)
	leadFlag := fs.Int("lead", 0, "lead in months (default: every lead of the card)")
	splitStr := fs.String("split", "test", "samples scored: test | train | all (targets in the last 20% of years are test)")
	out := fs.String("out", "", "NetCDF file to write the skill maps to")
	asJSON := fs.Bool("json", false, "print a JSON summary instead of text")
	fig := addFigureFlag(fs, "area-mean correlation against lead for the emulator and persistence")
	rf := addRunFlags(fs, false)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return unexpectedArgs("skill", pos)
	case *cardPath == "" || len(*dataPath) == 0 || *out == "":
		return app.Usagef("skill: --card, --data and --out are required")
	}
	if err := checkOutput("skill", *out, *dataPath, map[string]string{"--card": *cardPath}); err != nil {
		return err
	}
	if err := rf.check("skill", 0, ""); err != nil {
		return err
	}
	subset, err := dataset.ParseSubset(*splitStr)
	if err != nil {
		return app.Usagef("skill: --split: %v", err)
	}
	if err := fig.check("skill"); err != nil {
		return err
	}
	card, err := inference.LoadCard(*cardPath)
	if err != nil {
		return err
	}
	leads := card.Leads()
	if *leadFlag != 0 {
		if _, err := card.Model(*leadFlag); err != nil {
			return err
		}
		leads = []int{*leadFlag}
	}
	p, err := prepareData(card, *dataPath, stderr)
	if err != nil {
		return err
	}
	split, err := p.DefaultSplit()
	if err != nil {
		return err
	}
	rt, err := inference.NewRuntime("")
	if err != nil {
		return err
	}
	defer rt.Close()

	var rows []skillRow
	var maps [][]float64 // per lead: acc, rmse, acc_p, rmse_p, acc_d, rmse_d
	for _, lead := range leads {
		r, m, err := skillOfLead(ctx, rt, card, p, split, subset, lead, rf.options(), stderr)
		if err != nil {
			return err
		}
		rows = append(rows, r)
		maps = append(maps, m...)
	}
	if err := writeSkill(*out, card, leads, rows, maps, dataPath.String(), *cardPath, subset, split); err != nil {
		return err
	}
	if err := fig.write(stderr, plots.KindLines, []string{*out}, nil, skillLines(rows)); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"file": *out, "split": subset.String(), "test_from": split.TestFrom.String(), "leads": rows})
	}
	what := "area means over ocean cells (cos-latitude weights)"
	if card.Index != "" {
		what = "of the " + card.Index + " index (area-weighted mean of its ocean cells)"
	}
	fmt.Fprintf(stdout, "skill on the %s samples (test years: targets from %s), %s, °C anomalies\n",
		subset, split.TestFrom, what)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "lead\tsamples\temulator ACC\tRMSE\tpersistence ACC\tRMSE\tdamped pers. ACC\tRMSE\tbeats persistence\t")
	for _, r := range rows {
		beats := "yes"
		if !(r.ACC > r.PersACC && r.RMSE < r.PersRMSE && r.RMSE < r.DampRMSE) {
			beats = "no"
		}
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t\n", r.Lead, r.Samples, r.ACC, r.RMSE, r.PersACC, r.PersRMSE, r.DampACC, r.DampRMSE, beats)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// skillRow is one lead's area-mean skill.
type skillRow struct {
	Lead     int     `json:"lead"`
	Samples  int     `json:"samples"`
	ACC      float64 `json:"acc"`
	RMSE     float64 `json:"rmse_degC"`
	PersACC  float64 `json:"persistence_acc"`
	PersRMSE float64 `json:"persistence_rmse_degC"`
	DampACC  float64 `json:"damped_persistence_acc"`
	DampRMSE float64 `json:"damped_persistence_rmse_degC"`
}

// skillOfLead runs one lead's emulator over the chosen samples in batches and scores it.
func skillOfLead(ctx context.Context, rt *inference.Runtime, card *inference.Card, p *dataset.Prepared, split dataset.Split,
	subset dataset.Subset, lead int, opts inference.Options, stderr io.Writer) (skillRow, [][]float64, error) {
	cm, err := card.Model(lead)
	if err != nil {
		return skillRow{}, nil, err
	}
	if err := p.CheckLength(card.InputMonths, lead); err != nil {
		return skillRow{}, nil, err
	}
	all := p.Inits(lead, card.InputMonths)
	scored := split.Select(all, lead, subset)
	train := split.Select(all, lead, dataset.SubsetTrain)
	if len(scored) < 3 || len(train) < 3 {
		return skillRow{}, nil, fmt.Errorf("skill: lead %d: %d samples to score and %d training samples; at least 3 of each are needed (use longer data or --split all)", lead, len(scored), len(train))
	}
	std, mean := float32(card.Preprocess.ScaleStd), float32(card.Preprocess.ScaleMean)
	degC := func(v []float32) []float32 {
		o := make([]float32, len(v))
		for i, x := range v {
			o[i] = x*std + mean
		}
		return o
	}
	// An index emulator is scored on its index: truth and persistence are the region's
	// area-weighted means, written over the region's cells as the forecast is.
	toIndex := func(v []float32) []float32 { return v }
	if card.Index != "" {
		region := card.Region()
		toIndex = func(v []float32) []float32 { return card.Grid.IndexField(v, region) }
	}
	// anomalies returns the truth at init+lead and the anomaly at init (persistence), in °C.
	anomalies := func(init dataset.Month) (truth, pers []float32, err error) {
		t, err := p.Target(init, lead)
		if err != nil {
			return nil, nil, err
		}
		per, err := p.Target(init, 0)
		if err != nil {
			return nil, nil, err
		}
		return toIndex(degC(t.Values)), toIndex(degC(per.Values)), nil
	}
	cells := card.Grid.NLat * card.Grid.NLon
	// Damped persistence: per-cell least squares through the origin on the training samples.
	num, den := make([]float64, cells), make([]float64, cells)
	for _, init := range train {
		tr, per, err := anomalies(init)
		if err != nil {
			return skillRow{}, nil, err
		}
		for c := range num {
			if tr[c] == tr[c] && per[c] == per[c] {
				num[c] += float64(tr[c]) * float64(per[c])
				den[c] += float64(per[c]) * float64(per[c])
			}
		}
	}
	damp := make([]float32, cells)
	for c := range damp {
		if den[c] > 0 {
			damp[c] = float32(num[c] / den[c])
		}
	}

	model, err := rt.Open(card.Spec(cm), opts)
	if err != nil {
		return skillRow{}, nil, err
	}
	emu, pm, dm := attribution.NewSkillMap(cells), attribution.NewSkillMap(cells), attribution.NewSkillMap(cells)
	prog := app.NewProgress(stderr, fmt.Sprintf("skill lead %d", lead))
	sample := card.Channels() * cells
	in := make([]float32, skillBatch*sample)
	dampField := make([]float32, cells)
	for b0 := 0; b0 < len(scored); b0 += skillBatch {
		n := min(skillBatch, len(scored)-b0)
		for k := 0; k < n; k++ {
			if err := card.Window(p, scored[b0+k], in[k*sample:(k+1)*sample]); err != nil {
				return skillRow{}, nil, err
			}
		}
		y, err := model.Run(ctx, in[:n*sample], n)
		if err != nil {
			return skillRow{}, nil, err
		}
		for k := 0; k < n; k++ {
			tr, per, err := anomalies(scored[b0+k])
			if err != nil {
				return skillRow{}, nil, err
			}
			pred := toIndex(degC(y[k*cells : (k+1)*cells]))
			for c := range pred {
				if tr[c] != tr[c] {
					pred[c] = tr[c] // land: NaN, skipped
				}
				dampField[c] = damp[c] * per[c]
			}
			emu.Add(pred, tr)
			pm.Add(per, tr)
			dm.Add(dampField, tr)
		}
		prog.Update(b0+n, len(scored))
	}
	prog.Done()
	lat := card.Grid.Grid().Lat
	acc, rmse := emu.Maps()
	pacc, prmse := pm.Maps()
	dacc, drmse := dm.Maps()
	row := skillRow{Lead: lead, Samples: len(scored),
		ACC: attribution.AreaMean(acc, lat), RMSE: attribution.AreaMean(rmse, lat),
		PersACC: attribution.AreaMean(pacc, lat), PersRMSE: attribution.AreaMean(prmse, lat),
		DampACC: attribution.AreaMean(dacc, lat), DampRMSE: attribution.AreaMean(drmse, lat)}
	return row, [][]float64{acc, rmse, pacc, prmse, dacc, drmse}, nil
}

// writeSkill writes the skill maps (lead, lat, lon) and the area means (lead).
func writeSkill(path string, card *inference.Card, leads []int, rows []skillRow, maps [][]float64,
	dataPath, cardPath string, subset dataset.Subset, split dataset.Split) error {
	g := card.Grid.Grid()
	names := []struct{ name, long, units string }{
		{"acc", "anomaly correlation of the emulator's forecast with the truth", "1"},
		{"rmse", "RMSE of the emulator's forecast", "degC"},
		{"acc_persistence", "anomaly correlation of persistence (the anomaly at the init month)", "1"},
		{"rmse_persistence", "RMSE of persistence", "degC"},
		{"acc_damped_persistence", "anomaly correlation of damped persistence (per-cell coefficient fitted on the training samples)", "1"},
		{"rmse_damped_persistence", "RMSE of damped persistence", "degC"},
	}
	cells := g.Size()
	leadv := make([]float64, len(leads))
	for i, l := range leads {
		leadv[i] = float64(l)
	}
	vars := []app.NCVar{
		{Name: "lead", Dims: []string{"lead"}, Data: leadv, Attrs: map[string]string{"long_name": "lead", "units": "months"}},
		{Name: "lat", Dims: []string{"lat"}, Data: g.Lat, Attrs: map[string]string{"standard_name": "latitude", "units": "degrees_north"}},
		{Name: "lon", Dims: []string{"lon"}, Data: g.Lon, Attrs: map[string]string{"standard_name": "longitude", "units": "degrees_east"}},
	}
	for k, nm := range names {
		v := make([]float64, 0, len(leads)*cells)
		mean := make([]float64, len(leads))
		for i := range leads {
			v = append(v, maps[6*i+k]...)
			mean[i] = attribution.AreaMean(maps[6*i+k], g.Lat)
		}
		vars = append(vars,
			app.NCVar{Name: nm.name, Dims: []string{"lead", "lat", "lon"}, Data: v, Attrs: map[string]string{"long_name": nm.long, "units": nm.units}},
			app.NCVar{Name: nm.name + "_area_mean", Dims: []string{"lead"}, Data: mean, Attrs: map[string]string{"long_name": nm.long + ", cos(latitude)-weighted mean over ocean cells", "units": nm.units}})
	}
	samples := make([]string, len(rows))
	for i, r := range rows {
		samples[i] = strconv.Itoa(r.Samples)
	}
	global := map[string]string{
		"title": "climxai skill", "card": cardPath, "data_file": dataPath, "split": subset.String(),
		"test_from": split.TestFrom.String(), "samples": fmt.Sprint(samples), "climxai_version": app.Version,
	}
	if card.Index != "" {
		global["index"] = card.Index
		global["comment"] = "an index emulator: the maps hold the skill of the " + card.Index +
			" index over the region's ocean cells (one value), NaN elsewhere"
	}
	return app.WriteTableNC(path, []app.NCDim{{Name: "lead", N: len(leads)}, {Name: "lat", N: g.NLat()}, {Name: "lon", N: g.NLon()}}, vars, global)
}

// skillLines is the default skill figure: area-mean correlation against lead.
func skillLines(rows []skillRow) *plots.Lines {
	var e, pe, d plots.Series
	e.Label, pe.Label, d.Label = "emulator", "persistence", "damped persistence"
	for _, r := range rows {
		x := float64(r.Lead)
		e.X, e.Y = append(e.X, x), append(e.Y, r.ACC)
		pe.X, pe.Y = append(pe.X, x), append(pe.Y, r.PersACC)
		d.X, d.Y = append(d.X, x), append(d.Y, r.DampACC)
	}
	series := []plots.Series{e, pe}
	if math.Abs(rows[0].DampACC-rows[0].PersACC) > 1e-9 {
		series = append(series, d)
	}
	return &plots.Lines{Series: series, XLabel: "lead (months)", YLabel: "anomaly correlation (area mean)", XTicks: e.X}
}
