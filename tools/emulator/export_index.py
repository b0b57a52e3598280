"""Train and export an index emulator: a small CNN that forecasts one regional index, not a field.

climxai explains emulators whose output is a field [N, 1, H, W] and, since cards may say
`index = "NAME"`, emulators whose output is one number per sample [N, 1]: the area-weighted mean
of the (scaled) anomaly over a named box at t + lead, like the Nino-3.4 CNN of Ham et al. (2019).
This script makes the fixture for the second kind: the North Atlantic subpolar-gyre index "spg"
(50-65N, 60W-10W; a cell belongs to the box when S <= lat <= N and W <= lon <= E on its centre;
weights cos(lat) over ocean cells only, normalised to sum 1), lead 6.

The network is Ham-et-al-style, traced by torch.onnx.export (opset 13, input "x" [N, 36, H, W],
output "index" [N, 1], dynamic batch "N"):

    Conv 5x5 (36 -> 16) - Tanh - MaxPool 2 - Conv 3x3 (16 -> 16) - Tanh - MaxPool 2
    - Conv 3x3 (16 -> 16) - Tanh - Flatten - Linear (-> 16) - Tanh - Linear (16 -> 1)

Preprocessing is train.py's, which the card then tells climxai to do: monthly-climatology
anomalies over the training years (the card's anomaly_period), one global scale_mean/scale_std of
the training-year ocean anomalies, land 0, 36-month windows oldest month first, the train/test
split of dataset.DefaultSplit by the target's year. The target is the spg index of the scaled
anomaly at t + 6. Training is Adam with an L2 penalty under a time budget; the network overfits
within a few hundred steps, so the weights kept are those with the lowest RMSE on the training
split's last 10% of years (by target), never chosen on the test years. The log reports test RMSE
and correlation, and those of persistence (the index at the init month t) and of climatology (0).

Goldens come from a small file of its own (`climxai synth --years 12`), which does not hold the
card's anomaly_period (the training years): its anomalies are taken, as for the nhwc emulator's
goldens (export_helper.py), against the monthly climatology over all of that file's years, i.e.
what climxai prepares with anomaly_period set to the golden file's whole span (or removed); the
scaling is the card's. golden06.json says so under "anomaly".

Run by hand, never by CI, with Debian's interpreter (both data files are made when missing):

    climxai synth --out /tmp/synth2.nc --years 1000 --grid 2 --seed 1
    climxai synth --out /tmp/golden12.nc --years 12 --grid 2 --seed 7
    /usr/bin/python3 tools/emulator/export_index.py --data /tmp/synth2.nc \\
        --golden-data /tmp/golden12.nc --out resources/emulators/index --minutes 4 --threads 2

Writes into --out: lead06.onnx, card.toml (with the top-level key index = "spg"), golden06.json
with golden06.x.f32 (inputs [2, 36, 35, 63], oldest first), golden06.y.f32 (outputs [2, 1]) and
golden06.grad.f32 (d index[k] / d x[k] by torch autograd, [2, 36, 35, 63]), and SHA256SUMS.
"""

import argparse
import json
import math
import os
import subprocess
import time

import numpy as np
import torch
from torch import nn

from export import write_f32
from export_helper import preprocess as preprocess_all_years
from train import MONTHS, default_test_from, preprocess, read_sst, samples, write_sums

LEAD = 6
OPSET = 13
INDEX = "spg"
BOX = (50.0, 65.0, -60.0, -10.0)  # S, N, W, E (dataset.NamedBoxes)
NAME = "North Atlantic subpolar-gyre index emulator (demo of index emulators)"
ORT_LIB = "/root/.cache/climxai/onnxruntime/1.30.0/libonnxruntime.so.1"


class IndexCNN(nn.Module):
    """Ham et al. (2019)-style CNN: three Tanh convolutions, two max-pools, a dense head, one
    number per sample."""

    def __init__(self, nlat, nlon, months=MONTHS, channels=16, hidden=16):
        super().__init__()
        h, w = nlat // 2 // 2, nlon // 2 // 2
        self.net = nn.Sequential(
            nn.Conv2d(months, channels, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(channels, channels, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(channels, channels, 3, padding=1), nn.Tanh(),
            nn.Flatten(),
            nn.Linear(channels * h * w, hidden), nn.Tanh(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x)


def box_weights(lat, lon, ocean, box=BOX):
    """cos(lat) weights [H, W] over the ocean cells whose centres lie in box (bounds inclusive,
    longitudes on any convention, as dataset.Box.Contains), normalised to sum 1."""
    s, n, w, e = box
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    inlat = (la >= s) & (la <= n)
    inlon = np.ones_like(inlat) if e - w >= 360 else np.mod(lo - w + 720, 360) <= np.mod(e - w + 720, 360)
    wt = np.where(inlat & inlon & ocean, np.cos(np.deg2rad(la)), 0.0)
    if wt.sum() <= 0:
        raise SystemExit(f"box {box} holds no ocean cell of the grid")
    return wt / wt.sum()


def index_series(x, wt):
    """The box index of every month of x [T, H, W] (float64)."""
    return np.tensordot(x.astype(np.float64), wt, axes=([1, 2], [0, 1]))


def windows(x, inits):
    """Oldest-first windows: channel c of sample t holds month t - 35 + c."""
    return np.stack([x[t - MONTHS + 1:t + 1] for t in inits]).astype(np.float32)


def ensure_synth(path, years, seed, log, *flags):
    """Make path with `climxai synth` (built from this tree) and any further flags (e.g.
    --subsurface) when it does not exist."""
    if os.path.exists(path):
        return
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    exe = "/tmp/climxai-tools"
    env = dict(os.environ, CLIMXAI_ORT_LIB=os.environ.get("CLIMXAI_ORT_LIB", ORT_LIB), LANG="en_US.UTF-8")
    if not os.path.exists(exe):
        log(f"building {exe}")
        subprocess.run(["go", "build", "-o", exe, "."], cwd=root, env=env, check=True)
    log(f"making {path}: climxai synth --years {years} --grid 2 --seed {seed} {' '.join(flags)}")
    subprocess.run([exe, "synth", "--out", path, "--years", str(years), "--grid", "2", "--seed", str(seed), *flags],
                   env=env, check=True)


def skill(pred, truth):
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    return math.sqrt(np.mean((pred - truth) ** 2)), float(np.corrcoef(pred, truth)[0, 1])


def export_index_onnx(model, path, nlat, nlon):
    """torch.onnx.export with a dynamic batch axis, checked, written atomically."""
    import onnx
    model = model.eval()
    tmp = path + ".tmp"
    torch.onnx.export(
        model, torch.zeros(1, MONTHS, nlat, nlon), tmp,
        input_names=["x"], output_names=["index"],
        dynamic_axes={"x": {0: "N"}, "index": {0: "N"}},
        opset_version=OPSET, do_constant_folding=True,
        training=torch.onnx.TrainingMode.EVAL,
    )
    m = onnx.load(tmp)
    dims = m.graph.output[0].type.tensor_type.shape.dim
    if len(dims) != 2:
        raise SystemExit(f"{path}: output has rank {len(dims)}, want [N, 1]")
    dims[1].dim_value = 1  # say it even when the trace leaves it symbolic
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, tmp)
    os.replace(tmp, path)


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_array(path, a):
    write_f32(path + ".tmp", a)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/synth2.nc", help="training NetCDF from climxai synth (1000 years)")
    ap.add_argument("--golden-data", default="/tmp/golden12.nc", help="small NetCDF from climxai synth (12 years)")
    ap.add_argument("--golden-inits", nargs=2, default=["0011-06", "0008-01"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=4, help="training time")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=1e-2, help="Adam's L2 penalty")
    ap.add_argument("--val-fraction", type=float, default=0.1,
                    help="the last training years, by target, that choose the weights (early stopping)")
    ap.add_argument("--eval-every", type=int, default=50, help="steps between validation runs")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    log = lambda s: print(s, flush=True)
    ensure_synth(args.data, 1000, 1, log)
    ensure_synth(args.golden_data, 12, 7, log)

    sst, years, months, lat, lon = read_sst(args.data, "sst")
    test_from = default_test_from(years, months)
    x, ocean, period, scale_mean, scale_std = preprocess(sst, years, months, test_from)
    del sst
    wt = box_weights(lat, lon, ocean)
    idx = index_series(x, wt)
    tr, te = samples(x, years, LEAD, test_from)
    log(f"{args.data}: {len(x)} months, grid {x.shape[1]} x {x.shape[2]}; climatology {period}; "
        f"scale mean {scale_mean:.4g} std {scale_std:.4g}; {INDEX} box {BOX}: {int((wt > 0).sum())} ocean "
        f"cells; index std {idx.std():.4f}; lead {LEAD}: {len(tr)} train / {len(te)} test samples "
        f"(test targets from {test_from:04d}-01)")

    torch.manual_seed(args.seed)
    nlat, nlon = x.shape[1:]
    model = IndexCNN(nlat, nlon)
    log(f"IndexCNN: {sum(p.numel() for p in model.parameters())} weights")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    rng = np.random.default_rng(args.seed)
    target = torch.from_numpy(idx.astype(np.float32))

    def predict(inits):
        model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(inits), 256):
                out.append(model(torch.from_numpy(windows(x, inits[i:i + 256])))[:, 0].numpy())
        return np.concatenate(out)

    # Early stopping on the training split's last years (by target year), never on the test set.
    val_from = test_from - max(1, int(round(args.val_fraction * (test_from - years[0]))))
    fit, val = tr[years[tr + LEAD] < val_from], tr[years[tr + LEAD] >= val_from]
    log(f"{len(fit)} samples to fit, {len(val)} to choose the weights (targets from {val_from:04d}-01)")
    best, best_rmse = None, math.inf
    deadline, step, epoch, run, nrun = time.time() + 60 * args.minutes, 0, 0, 0.0, 0
    while time.time() < deadline:
        order = rng.permutation(fit)
        for i in range(0, len(order) - args.batch + 1, args.batch):
            model.train()
            b = order[i:i + args.batch]
            loss = ((model(torch.from_numpy(windows(x, b)))[:, 0] - target[b + LEAD]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            run, nrun = run + loss.item(), nrun + 1
            if step % args.eval_every == 0:
                vrmse, vcorr = skill(predict(val), idx[val + LEAD])
                mark = ""
                if vrmse < best_rmse:
                    best_rmse, best, mark = vrmse, {k: v.clone() for k, v in model.state_dict().items()}, " *"
                    best_step = step
                log(f"epoch {epoch} step {step}: train loss {run / nrun:.4f}; "
                    f"validation RMSE {vrmse:.4f}, correlation {vcorr:.3f}{mark}")
                run, nrun = 0.0, 0
            if time.time() >= deadline:
                break
        epoch += 1
    if best is not None:
        model.load_state_dict(best)
        log(f"weights of step {best_step} (validation RMSE {best_rmse:.4f})")
    rmse, corr = skill(predict(te), idx[te + LEAD])
    prmse, pcorr = skill(idx[te], idx[te + LEAD])
    log(f"{step} steps, {epoch} epochs; test {INDEX} index at lead {LEAD} (scaled units): "
        f"RMSE {rmse:.4f}, correlation {corr:.3f}; persistence RMSE {prmse:.4f}, correlation {pcorr:.3f}; "
        f"climatology (0) RMSE {math.sqrt(np.mean(idx[te + LEAD] ** 2)):.4f}")

    onnx_path = os.path.join(args.out, f"lead{LEAD:02d}.onnx")
    export_index_onnx(model, onnx_path, nlat, nlon)
    log(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes)")

    # Goldens on the small file: anomalies against its own all-years monthly climatology (the
    # card's anomaly_period lies outside it), the card's scaling, land 0, oldest-first windows.
    gsst, gyears, gmonths, glat, glon = read_sst(args.golden_data, "sst")
    if not (np.array_equal(glat, lat) and np.array_equal(glon, lon)):
        raise SystemExit(f"{args.golden_data}: grid differs from {args.data}'s")
    gocean, ganom = preprocess_all_years(gsst, gmonths)
    gx = ((ganom - scale_mean) / scale_std).astype(np.float32)
    gx[:, ~gocean] = 0
    gperiod = f"{gyears[0]:04d}-{gmonths[0]:02d}/{gyears[-1]:04d}-{gmonths[-1]:02d}"
    gwt = box_weights(lat, lon, gocean)
    gidx = index_series(gx, gwt)
    ts = []
    for s in args.golden_inits:
        yy, mm = map(int, s.split("-"))
        t = int(np.nonzero((gyears == yy) & (gmonths == mm))[0][0])
        if t < MONTHS - 1:
            raise SystemExit(f"golden init {s} has fewer than {MONTHS} months before it")
        ts.append(t)
    model.eval()
    xs = torch.from_numpy(windows(gx, ts)).requires_grad_(True)
    ys = model(xs)
    ys.sum().backward()  # samples are independent: d sum / d x[k] = d index[k] / d x[k]
    name = f"golden{LEAD:02d}"
    for suffix, a in [("x", xs.detach().numpy()), ("y", ys.detach().numpy()), ("grad", xs.grad.numpy())]:
        write_array(os.path.join(args.out, f"{name}.{suffix}.f32"), a)
    meta = {
        "model": os.path.basename(onnx_path),
        "input": {"file": f"{name}.x.f32", "shape": list(xs.shape)},
        "output": {"file": f"{name}.y.f32", "shape": list(ys.shape),
                   "meaning": f"the {INDEX} index (area-weighted mean scaled anomaly) forecast for t+{LEAD}"},
        "grad": {"file": f"{name}.grad.f32", "shape": list(xs.shape),
                 "meaning": "d index[k, 0] / d x[k] (torch autograd)"},
        "index": INDEX,
        "box": {"south": BOX[0], "north": BOX[1], "west": BOX[2], "east": BOX[3],
                "weights": "cos(lat) over ocean cells with centres inside (bounds inclusive), sum 1"},
        "truth": [float(gidx[t + LEAD]) if t + LEAD < len(gidx) else None for t in ts],
        "persistence": [float(gidx[t]) for t in ts],
        "inits": args.golden_inits,
        "lead": LEAD,
        "data": "climxai synth --years 12 --grid 2 --seed 7 (" + os.path.basename(args.golden_data) + ")",
        "anomaly": (f"monthly climatology over all months of the golden data ({gperiod}), not the card's "
                    f"anomaly_period {period}, which lies outside them; then the card's scale_mean and "
                    f"scale_std. climxai reproduces these inputs with the card's anomaly_period replaced "
                    f"by {gperiod} (or removed)"),
        "anomaly_period": gperiod,
        "torch": torch.__version__,
        "format": "raw little-endian float32, C order; channels oldest first",
    }
    write_text(os.path.join(args.out, f"{name}.json"), json.dumps(meta, indent=1) + "\n")
    log(f"goldens: inits {args.golden_inits}, index {ys.detach()[:, 0].tolist()}, truth {meta['truth']}")

    write_text(os.path.join(args.out, "card.toml"),
               f'name = "{NAME}"\nvariable = "sst"\ninput_months = {MONTHS}\n'
               f'channel_order = "oldest-first"\nindex = "{INDEX}"\n[grid]\n'
               f"lat_start = {lat[0]!r}\nlat_step = {lat[1] - lat[0]!r}\nnlat = {len(lat)}\n"
               f"lon_start = {lon[0]!r}\nlon_step = {lon[1] - lon[0]!r}\nnlon = {len(lon)}\n"
               f'[preprocess]\nanomaly = "monthly-climatology"\nanomaly_period = "{period}"\n'
               f'filter = "none"\nscale_mean = {scale_mean!r}\nscale_std = {scale_std!r}\n'
               f'[[model]]\nlead = {LEAD}\nfile = "lead{LEAD:02d}.onnx"\ninput = "x"\noutput = "index"\n')
    write_sums(args.out)
    log(f"wrote {args.out}/card.toml, {name}.* and SHA256SUMS")


if __name__ == "__main__":
    main()
