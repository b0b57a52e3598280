"""Train and export a multi-variable field emulator: SST and subsurface temperature in, SST out.

climxai's cards used to describe emulators of one input variable, 36 months of SST as channels.
Emulators in the literature often take more: Ham et al. (2019) feed heat-content maps beside SST.
This script makes the fixture for such an emulator, on `climxai synth --subsurface` data, whose
second variable tsub is the synthetic model's slow subsurface anomaly (the water below the mixed
layer that re-emerges at the surface every winter; package dataset/synth) plus a climatology.

The network is a small fully convolutional field emulator with biases, traced by torch.onnx.export
(opset 13, input "x" [N, 72, 35, 63], output "y" [N, 1, 35, 63], dynamic batch "N"):

    Conv 3x3 (72 -> 32) - ReLU - Conv 3x3 (32 -> 32) - ReLU - Conv 3x3 (32 -> 1), padding 1

(30,305 weights; a receptive field of 7 x 7 cells, 6 degrees either side of the target). Its
input layout is "variable-major" (the card's input_layout): channels 0..35 are sst of months
t-35..t, channels 36..71 tsub of months t-35..t, oldest month first within each variable. Lead 9.

Preprocessing is train.py's, per variable, as the card then tells climxai to do: monthly-
climatology anomalies over the training years (anomaly_period), then (anomaly - scale_mean) /
scale_std with that variable's own global mean and standard deviation of its training-year ocean
anomalies ([preprocess] for sst, [[input]] for tsub), land 0. The target is the scaled sst anomaly
at t + 9; the split is train.py's (dataset.DefaultSplit: the last 20% of whole years, by the
target month's year, are test). Training is Adam on the ocean-masked MSE under a time budget; the
weights kept are those with the lowest RMSE on the last 10% of the training years (by target),
never on the test years. The same architecture with the sst channels only (36 inputs) is trained
with the same budget as the reference that says what tsub adds; it is not written.

Skill on the test years (years 801-1000, 2400 samples; area mean, cos-latitude weights over the
1314 ocean cells, of each cell's anomaly correlation and RMSE in degC, as evaluate.py measures),
from the run that made resources/emulators/multivar (6 minutes per network, 2 threads):

    lead 9                        ACC    RMSE (degC)
    sst + tsub (this fixture)   0.660    0.514
    sst only (same network)     0.576    0.561
    persistence                 0.372    0.773
    damped persistence          0.372    0.644

(4642 and 5579 Adam steps of 32 samples in the 6 minutes; the weights of steps 3000 and 5000
kept). The subsurface input adds skill at lead 9 (ACC +0.08, RMSE -0.05 degC against the same
network on sst alone): it holds the anomaly that the next winter's mixed layer entrains, which the
surface shows only in part. Training runs under a time budget, not a step count, so a rerun gives
other weights, other goldens and slightly different skill.

Goldens come from a small file of its own (`climxai synth --years 12 --seed 7 --subsurface`),
which does not hold the card's anomaly_period: its anomalies are taken, as for the other
fixtures' goldens (export_helper.py, export_index.py), against the monthly climatology over all
of that file's years, for each variable; the scaling is the card's. golden09.json says so.

Run by hand, never by CI, with Debian's interpreter (both data files are made when missing):

    climxai synth --out /tmp/synth2sub.nc --years 1000 --grid 2 --seed 1 --subsurface
    climxai synth --out /tmp/golden12sub.nc --years 12 --grid 2 --seed 7 --subsurface
    /usr/bin/python3 tools/emulator/export_multivar.py --data /tmp/synth2sub.nc \\
        --golden-data /tmp/golden12sub.nc --out resources/emulators/multivar --minutes 6 --threads 2

Writes into --out: lead09.onnx, card.toml (input_layout = "variable-major", one [[input]] table
for tsub), golden09.json with golden09.x.f32 (inputs [2, 72, 35, 63]), golden09.y.f32 (outputs
[2, 1, 35, 63]), golden09.grad_cell.f32 (d y[k, 0, 23, 35] / d x[k], the cell 51N 30W) and
golden09.grad_spg.f32 (d of the spg box mean of y[k] / d x[k]), both [2, 72, 35, 63] by torch
autograd, and SHA256SUMS.
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn

from evaluate import OnnxTorch, cell_skill
from export import export_onnx
from export_helper import preprocess as preprocess_all_years
from export_index import BOX, box_weights, ensure_synth, write_array, write_text
from train import MONTHS, default_test_from, preprocess, read_sst, samples, write_sums

LEAD = 9
OPSET = 13
VARS = ("sst", "tsub")  # input variables, in channel order (variable-major)
CELL = (51.0, -30.0)  # the golden cell gradient's target: lat, lon of a cell centre
NAME = "North Atlantic SST emulator with subsurface input (fixture)"


class FieldCNN(nn.Module):
    """Three 3x3 convolutions with biases and ReLUs: a field in, a field out, same grid."""

    def __init__(self, channels, hidden=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, 1, 3, padding=1),
        )

    def forward(self, x):
        return self.net(x)


def windows(xs, inits):
    """Variable-major, oldest-first windows of the variables xs (each [T, H, W]): channel
    v * 36 + c of sample t holds variable v at month t - 35 + c."""
    return np.stack([np.concatenate([x[t - MONTHS + 1:t + 1] for x in xs]) for t in inits]).astype(np.float32)


def read_vars(path):
    """Every variable of VARS from path: (fields [T, H, W] per variable, years, months, lat, lon)."""
    fields = []
    for v in VARS:
        f, years, months, lat, lon = read_sst(path, v)
        if fields and not np.array_equal(np.isfinite(f), np.isfinite(fields[0])):
            raise SystemExit(f"{path}: {v} is missing where {VARS[0]} is not, or the other way round")
        fields.append(f)
    return fields, years, months, lat, lon


def area_skill(pred, truth, ocean, w, scale):
    """evaluate.py's measure: cos-latitude area means over ocean cells of each cell's correlation
    in time and RMSE (in degC: scaled units times the sst scale_std)."""
    acc, rmse = cell_skill(pred[:, ocean].astype(np.float64), truth[:, ocean].astype(np.float64))
    return float((acc * w[ocean]).sum()), float((rmse * w[ocean]).sum() * scale)


def train_net(xs, target, ocean, fit, val, args, log, label):
    """Adam on the ocean-masked MSE of the sst field at t + LEAD for args.minutes; returns the
    network with the weights of the lowest validation RMSE (scaled units)."""
    torch.manual_seed(args.seed)
    model = FieldCNN(MONTHS * len(xs))
    log(f"{label}: FieldCNN with {sum(p.numel() for p in model.parameters())} weights")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    mask = torch.from_numpy(ocean.astype(np.float32))[None, None]
    rng = np.random.default_rng(args.seed)

    def loss_of(inits):
        xb = torch.from_numpy(windows(xs, inits))
        yb = torch.from_numpy(target[inits + LEAD][:, None])
        return (((model(xb) - yb) * mask) ** 2).sum() / (mask.sum() * len(inits))

    def val_rmse():
        model.eval()
        err = 0.0
        with torch.no_grad():
            for i in range(0, len(val), 128):
                b = val[i:i + 128]
                err += loss_of(b).item() * len(b)
        return math.sqrt(err / len(val))

    best, best_rmse, best_step = None, math.inf, 0
    deadline, step, epoch, run, nrun = time.time() + 60 * args.minutes, 0, 0, 0.0, 0
    while time.time() < deadline:
        order = rng.permutation(fit)
        for i in range(0, len(order) - args.batch + 1, args.batch):
            model.train()
            loss = loss_of(order[i:i + args.batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            run, nrun = run + loss.item(), nrun + 1
            if step % args.eval_every == 0:
                v, mark = val_rmse(), ""
                if v < best_rmse:
                    best_rmse, best_step, mark = v, step, " *"
                    best = {k: t.clone() for k, t in model.state_dict().items()}
                log(f"{label}: epoch {epoch} step {step}: train loss {run / nrun:.4f}; validation RMSE {v:.4f}{mark}")
                run, nrun = 0.0, 0
            if time.time() >= deadline:
                break
        epoch += 1
    v = val_rmse()
    if v < best_rmse:
        best_rmse, best_step, best = v, step, None
    if best is not None:
        model.load_state_dict(best)
    log(f"{label}: {step} steps, {epoch} epochs; weights of step {best_step} (validation RMSE {best_rmse:.4f})")
    return model.eval()


def predict(model, xs, inits, shape):
    out = np.empty((len(inits),) + shape, dtype=np.float32)
    with torch.no_grad():
        for i in range(0, len(inits), 128):
            b = inits[i:i + 128]
            out[i:i + len(b)] = model(torch.from_numpy(windows(xs, b))).numpy()[:, 0]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/synth2sub.nc", help="training NetCDF from climxai synth --subsurface (1000 years)")
    ap.add_argument("--golden-data", default="/tmp/golden12sub.nc", help="small NetCDF from climxai synth --subsurface (12 years)")
    ap.add_argument("--golden-inits", nargs=2, default=["0010-03", "0011-11"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=6, help="training time per network")
    ap.add_argument("--baseline-minutes", type=float, default=None,
                    help="training time of the sst-only reference (default: --minutes; 0 skips it)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--val-fraction", type=float, default=0.1,
                    help="the last training years, by target, that choose the weights (early stopping)")
    ap.add_argument("--eval-every", type=int, default=200, help="steps between validation runs")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=9)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.baseline_minutes is None:
        args.baseline_minutes = args.minutes
    os.makedirs(args.out, exist_ok=True)
    log = lambda s: print(s, flush=True)
    ensure_synth(args.data, 1000, 1, log, "--subsurface")
    ensure_synth(args.golden_data, 12, 7, log, "--subsurface")

    fields, years, months, lat, lon = read_vars(args.data)
    test_from = default_test_from(years, months)
    xs, scales, ocean, period = [], [], None, None
    for v, f in zip(VARS, fields):
        x, oc, per, mean, std = preprocess(f, years, months, test_from)
        xs.append(x)
        scales.append((mean, std))
        ocean, period = oc, per
        log(f"{args.data}: {v}: climatology {per}; scale mean {mean:.4g} std {std:.4g}")
    del fields
    target = xs[0]
    tr, te = samples(target, years, LEAD, test_from)
    val_from = test_from - max(1, int(round(args.val_fraction * (test_from - years[0]))))
    fit, val = tr[years[tr + LEAD] < val_from], tr[years[tr + LEAD] >= val_from]
    log(f"{len(target)} months, grid {target.shape[1]} x {target.shape[2]}, {int(ocean.sum())} ocean cells; lead "
        f"{LEAD}: {len(fit)} samples to fit, {len(val)} to choose the weights (targets from {val_from:04d}-01), "
        f"{len(te)} test (targets from {test_from:04d}-01)")

    wlat = np.cos(np.deg2rad(lat))[:, None] * np.ones((1, len(lon)))
    w = np.where(ocean, wlat, 0.0)
    w /= w.sum()
    sst_std = scales[0][1]
    truth = target[te + LEAD]
    shape = target.shape[1:]
    table = []
    model = train_net(xs, target, ocean, fit, val, args, log, "sst + tsub")
    table.append(("sst + tsub (this fixture)",) + area_skill(predict(model, xs, te, shape), truth, ocean, w, sst_std))
    if args.baseline_minutes > 0:
        base_args = argparse.Namespace(**{**vars(args), "minutes": args.baseline_minutes})
        base = train_net(xs[:1], target, ocean, fit, val, base_args, log, "sst only")
        table.append(("sst only (same network)",) + area_skill(predict(base, xs[:1], te, shape), truth, ocean, w, sst_std))
        del base
    table.append(("persistence",) + area_skill(target[te], truth, ocean, w, sst_std))
    x0, xl = target[tr], target[tr + LEAD]
    with np.errstate(all="ignore"):
        damp = np.where(ocean, (x0 * xl).sum(axis=0) / (x0 * x0).sum(axis=0), 0).astype(np.float32)
    del x0, xl
    table.append(("damped persistence",) + area_skill(damp * target[te], truth, ocean, w, sst_std))
    log(f"test years {test_from:04d}-{years[-1]:04d}, {len(te)} samples, lead {LEAD}: area-mean ACC and RMSE (degC)")
    for name, acc, rmse in table:
        log(f"    {name:<28}{acc:>6.3f}  {rmse:>6.3f}")
    del xs, target

    onnx_path = os.path.join(args.out, f"lead{LEAD:02d}.onnx")
    export_onnx(model, onnx_path, len(lat), len(lon), months=MONTHS * len(VARS), opset=OPSET)
    log(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes)")

    # Goldens on the small file: each variable's anomalies against its own all-years monthly
    # climatology (the card's anomaly_period lies outside the file), the card's scaling, land 0.
    gfields, gyears, gmonths, glat, glon = read_vars(args.golden_data)
    if not (np.array_equal(glat, lat) and np.array_equal(glon, lon)):
        raise SystemExit(f"{args.golden_data}: grid differs from {args.data}'s")
    gxs = []
    for f, (mean, std) in zip(gfields, scales):
        gocean, ganom = preprocess_all_years(f, gmonths)
        gx = ((ganom - mean) / std).astype(np.float32)
        gx[:, ~gocean] = 0
        gxs.append(gx)
    if not np.array_equal(gocean, ocean):
        raise SystemExit(f"{args.golden_data}: land differs from {args.data}'s")
    gperiod = f"{gyears[0]:04d}-{gmonths[0]:02d}/{gyears[-1]:04d}-{gmonths[-1]:02d}"
    ts = []
    for s in args.golden_inits:
        yy, mm = map(int, s.split("-"))
        t = int(np.nonzero((gyears == yy) & (gmonths == mm))[0][0])
        if t < MONTHS - 1:
            raise SystemExit(f"golden init {s} has fewer than {MONTHS} months before it")
        ts.append(t)
    ci, cj = int(np.argmin(np.abs(lat - CELL[0]))), int(np.argmin(np.abs(lon - CELL[1])))
    if (lat[ci], lon[cj]) != CELL or not ocean[ci, cj]:
        raise SystemExit(f"the golden cell {CELL} is not the centre of an ocean cell")
    spg = box_weights(lat, lon, ocean, BOX)
    xg = windows(gxs, ts)
    name = f"golden{LEAD:02d}"
    grads = {}
    for key, seed in (("grad_cell", None), ("grad_spg", spg)):
        xt = torch.from_numpy(xg).requires_grad_(True)
        y = model(xt)
        # Samples are independent: d sum_k f(y[k]) / d x[k] = d f(y[k]) / d x[k].
        obj = y[:, 0, ci, cj].sum() if seed is None else (y[:, 0] * torch.from_numpy(seed.astype(np.float32))).sum()
        obj.backward()
        grads[key] = xt.grad.numpy().copy()
        ys = y.detach().numpy()
    write_array(os.path.join(args.out, f"{name}.x.f32"), xg)
    write_array(os.path.join(args.out, f"{name}.y.f32"), ys)
    for key, g in grads.items():
        write_array(os.path.join(args.out, f"{name}.{key}.f32"), g)

    # The exported graph, run by evaluate.py's interpreter, must give PyTorch's output.
    with torch.no_grad():
        got = OnnxTorch(onnx_path)(torch.from_numpy(xg)).numpy()
    onnx_err = float(np.max(np.abs(got - ys)) / np.max(np.abs(ys)))
    if onnx_err > 1e-5:
        raise SystemExit(f"{onnx_path}: the ONNX graph differs from PyTorch by {onnx_err:.2e} (relative)")

    gtarget = gxs[0]
    spg_cells = int((spg > 0).sum())
    meta = {
        "model": os.path.basename(onnx_path),
        "lead": LEAD,
        "inits": args.golden_inits,
        "input": {"file": f"{name}.x.f32", "shape": list(xg.shape), "layout": "variable-major",
                  "variables": list(VARS),
                  "channels": f"channel v*{MONTHS} + c holds variable v ({', '.join(f'{i}: {v}' for i, v in enumerate(VARS))}) "
                              f"at month t-{MONTHS - 1}+c (oldest first within each variable); t is the init month"},
        "output": {"file": f"{name}.y.f32", "shape": list(ys.shape),
                   "meaning": f"the scaled sst anomaly forecast for t+{LEAD} (the card's sst scaling)"},
        "grad_cell": {"file": f"{name}.grad_cell.f32", "shape": list(xg.shape),
                      "meaning": f"d y[k, 0, {ci}, {cj}] / d x[k] (torch autograd): the cell {lat[ci]:g}N {-lon[cj]:g}W",
                      "cell": {"lat": float(lat[ci]), "lon": float(lon[cj]), "row": ci, "col": cj}},
        "grad_spg": {"file": f"{name}.grad_spg.f32", "shape": list(xg.shape),
                     "meaning": "d (sum over cells of w * y[k, 0]) / d x[k] (torch autograd): the spg box mean",
                     "box": {"south": BOX[0], "north": BOX[1], "west": BOX[2], "east": BOX[3], "cells": spg_cells,
                             "weights": "cos(lat) over ocean cells with centres inside (bounds inclusive), sum 1"}},
        "truth": {
            "cell": [float(gtarget[t + LEAD, ci, cj]) for t in ts],
            "spg": [float((gtarget[t + LEAD] * spg).sum()) for t in ts],
            "meaning": f"the scaled sst anomaly at t+{LEAD} in the golden data (same anomaly convention as the inputs)",
        },
        "data": f"climxai synth --years 12 --grid 2 --seed 7 --subsurface ({os.path.basename(args.golden_data)})",
        "anomaly": (f"for each variable, monthly climatology over all months of the golden data ({gperiod}), not the "
                    f"card's anomaly_period {period}, which lies outside them; then the card's scale_mean and "
                    f"scale_std of that variable ([preprocess] for sst, [[input]] for tsub); land 0. climxai "
                    f"reproduces these inputs with the card's anomaly_period replaced by {gperiod} (or removed)"),
        "anomaly_period": gperiod,
        "scale": {v: {"scale_mean": m, "scale_std": s} for v, (m, s) in zip(VARS, scales)},
        "onnx_rel_err": onnx_err,
        "torch": torch.__version__,
        "format": "raw little-endian float32, C order",
        "dtype": "float32",
    }
    write_text(os.path.join(args.out, f"{name}.json"), json.dumps(meta, indent=1) + "\n")
    log(f"goldens: inits {args.golden_inits}; y at the cell {[float(ys[k, 0, ci, cj]) for k in range(len(ts))]}, "
        f"truth {meta['truth']['cell']}; ONNX graph vs PyTorch {onnx_err:.1e}")

    (sm, ss), (tm, tstd) = scales
    write_text(os.path.join(args.out, "card.toml"),
               f'name = "{NAME}"\nvariable = "sst"\ninput_months = {MONTHS}\n'
               f'channel_order = "oldest-first"\ninput_layout = "variable-major"\n[grid]\n'
               f"lat_start = {lat[0]!r}\nlat_step = {lat[1] - lat[0]!r}\nnlat = {len(lat)}\n"
               f"lon_start = {lon[0]!r}\nlon_step = {lon[1] - lon[0]!r}\nnlon = {len(lon)}\n"
               f'[preprocess]\nanomaly = "monthly-climatology"\nanomaly_period = "{period}"\n'
               f'filter = "none"\nscale_mean = {sm!r}\nscale_std = {ss!r}\n'
               f'[[input]]\nvariable = "{VARS[1]}"\nscale_mean = {tm!r}\nscale_std = {tstd!r}\n'
               f'[[model]]\nlead = {LEAD}\nfile = "lead{LEAD:02d}.onnx"\ninput = "x"\noutput = "y"\n')
    write_sums(args.out)
    log(f"wrote {args.out}/card.toml, {name}.* and SHA256SUMS")


if __name__ == "__main__":
    main()
