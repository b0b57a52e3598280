"""A second emulator made by a different exporter: the ONNX graph is written node by node with
onnx.helper, in the style of a Keras model converted by tf2onnx, not traced by torch.onnx.export.

climxai must explain any emulator a scientist exports, so this one differs from the demo DenseNet
(tools/emulator/export.py, torch.onnx.export, opset 13) wherever exporters differ:

    * opset 17, input "sst_in" and output "sst_out", symbolic batch "batch";
    * channels newest first (channel c holds month t-c), lead 3;
    * NHWC layout around the convolutions: Transpose in, per-channel input affine (Mul, Add on the
      last axis, a baked-in normalisation layer), an explicit Pad node (pads and value from Constant
      nodes) before a dilated 3x3 Conv, Transpose back to NCHW;
    * LeakyRelu; a residual block (depthwise Conv with group = channels, pointwise 1x1 Conv whose
      bias is a separate Add of a Constant node, Relu, residual Add);
    * overlapping MaxPool 3x3 stride 2, Conv, AveragePool 3x3 (count_include_pad = 0),
      ConvTranspose stride 2 back to the full grid, Concat with the skip branch;
    * a dense head on NHWC features: MatMul + Add bias, Relu, Flatten, Gemm (transB), Reshape,
      Transpose, then an output rescaling y = z a + c (Mul, Add of Constant scalars);
    * weights as initializers, some biases and scalars as Constant nodes; biases everywhere.

Every activation is piecewise linear (LeakyRelu, Relu, MaxPool), so LRP-epsilon with epsilon -> 0
equals Input x Gradient on it (Ancona et al. 2018), which climxai's tests check.

The same network is a torch module (HelperNet), trained for a few minutes on `climxai synth` output
and used for the reference gradients: the ONNX graph is built from its weights, and the golden files
hold the module's forward output and its autograd input gradients for one-hot target cells.
Preprocessing is what the card says: monthly-climatology anomalies over all years of the data file
(no anomaly_period), then (x - scale_mean) / scale_std with the training years' mean and spread.

Run by hand, never by CI, with Debian's interpreter:

    climxai synth --out /tmp/synth2.nc --years 1000 --grid 2 --seed 1
    climxai synth --out /tmp/golden12.nc --years 12 --grid 2 --seed 7
    /usr/bin/python3 tools/emulator/export_helper.py --data /tmp/synth2.nc \\
        --golden-data /tmp/golden12.nc --out resources/emulators/nhwc --minutes 8 --threads 2

Writes into --out: lead03.onnx, card.toml, golden03.json with golden03.x.f32 (inputs [2, 36, 35, 63]
as the card prepares the golden data), golden03.y.f32 (outputs [2, 1, 35, 63]) and
golden03.grad.f32 (the input gradient of the output at one target cell per sample [2, 36, 35, 63]),
and SHA256SUMS.
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from train import MONTHS, default_test_from, read_sst, write_sums

LEAD = 3
OPSET = 17


class HelperNet(nn.Module):
    """The emulator as torch computes it (NCHW inside); HelperNet.onnx writes the same function as
    an NHWC-style ONNX graph."""

    def __init__(self, nlat, nlon, months=MONTHS, c1=24, c2=32, hidden=16):
        super().__init__()
        self.nlat, self.nlon, self.hidden = nlat, nlon, hidden
        self.in_scale = nn.Parameter(torch.ones(months))
        self.in_shift = nn.Parameter(torch.zeros(months))
        self.conv1 = nn.Conv2d(months, c1, 3, dilation=2)           # after an explicit pad of 2
        self.dw = nn.Conv2d(c1, c1, 3, padding=1, groups=c1, bias=False)
        self.pw = nn.Conv2d(c1, c1, 1, bias=False)
        self.pw_bias = nn.Parameter(torch.zeros(c1))
        self.down = nn.Conv2d(c1, c2, 3, padding=1)
        self.up = nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1)
        self.dense1 = nn.Linear(2 * c1, hidden)
        self.dense2 = nn.Linear(hidden, 1)
        self.out_scale = nn.Parameter(torch.ones(()))
        self.out_shift = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        h = x * self.in_scale[None, :, None, None] + self.in_shift[None, :, None, None]
        h = F.pad(h, (2, 2, 2, 2))
        h1 = F.leaky_relu(self.conv1(h), 0.1)
        r = F.relu(self.pw(self.dw(h1)) + self.pw_bias[None, :, None, None])
        h2 = h1 + r
        p = F.max_pool2d(h2, 3, 2, 1)
        d = F.relu(self.down(p))
        d = F.avg_pool2d(d, 3, 1, 1, count_include_pad=False)
        u = F.relu(self.up(d))
        c = torch.cat([h2, u], 1).permute(0, 2, 3, 1)             # NHWC
        z = F.relu(self.dense1(c)).reshape(-1, self.hidden)
        z = self.dense2(z).reshape(-1, self.nlat, self.nlon, 1).permute(0, 3, 1, 2)
        return z * self.out_scale + self.out_shift

    def onnx(self, path, input_name="sst_in", output_name="sst_out"):
        """Write the network as an opset-17 graph built node by node."""
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        def arr(t):
            return t.detach().cpu().numpy().astype(np.float32)

        inits, nodes = [], []

        def init(name, a):
            inits.append(numpy_helper.from_array(np.ascontiguousarray(a), name))
            return name

        def const(name, a):
            nodes.append(helper.make_node("Constant", [], [name], name=name + "_const",
                                          value=numpy_helper.from_array(np.ascontiguousarray(a), name + "_value")))
            return name

        def node(op, ins, out, **attrs):
            nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
            return out

        c1 = self.conv1.out_channels
        x = input_name
        t = node("Transpose", [x], "nhwc_in", perm=[0, 2, 3, 1])
        t = node("Mul", [t, init("norm/scale", arr(self.in_scale))], "norm/mul")
        t = node("Add", [t, init("norm/shift", arr(self.in_shift))], "norm/add")
        t = node("Pad", [t, const("pad1/pads", np.array([0, 2, 2, 0, 0, 2, 2, 0], np.int64)),
                         const("pad1/value", np.array(0, np.float32))], "pad1", mode="constant")
        t = node("Transpose", [t], "nchw_pad1", perm=[0, 3, 1, 2])
        t = node("Conv", [t, init("conv1/W", arr(self.conv1.weight)), init("conv1/B", arr(self.conv1.bias))],
                 "conv1", kernel_shape=[3, 3], dilations=[2, 2])
        h1 = node("LeakyRelu", [t], "conv1/leaky", alpha=0.1)
        t = node("Conv", [h1, init("dw/W", arr(self.dw.weight))], "dw", kernel_shape=[3, 3],
                 pads=[1, 1, 1, 1], group=c1)
        t = node("Conv", [t, init("pw/W", arr(self.pw.weight))], "pw", kernel_shape=[1, 1])
        t = node("Add", [t, const("pw/B", arr(self.pw_bias).reshape(1, c1, 1, 1))], "pw/bias")
        t = node("Relu", [t], "pw/relu")
        h2 = node("Add", [h1, t], "residual")
        t = node("MaxPool", [h2], "pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        t = node("Conv", [t, init("down/W", arr(self.down.weight)), init("down/B", arr(self.down.bias))],
                 "down", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
        t = node("Relu", [t], "down/relu")
        t = node("AveragePool", [t], "smooth", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
                 count_include_pad=0)
        t = node("ConvTranspose", [t, init("up/W", arr(self.up.weight)), init("up/B", arr(self.up.bias))],
                 "up", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        t = node("Relu", [t], "up/relu")
        t = node("Concat", [h2, t], "skip", axis=1)
        t = node("Transpose", [t], "nhwc_head", perm=[0, 2, 3, 1])
        t = node("MatMul", [t, init("dense1/W", arr(self.dense1.weight).T)], "dense1")
        t = node("Add", [t, init("dense1/B", arr(self.dense1.bias))], "dense1/bias")
        t = node("Relu", [t], "dense1/relu")
        t = node("Flatten", [t], "flat", axis=3)
        t = node("Gemm", [t, init("dense2/W", arr(self.dense2.weight)), init("dense2/B", arr(self.dense2.bias))],
                 "dense2", transB=1)
        t = node("Reshape", [t, init("head/shape", np.array([-1, self.nlat, self.nlon, 1], np.int64))], "head")
        t = node("Transpose", [t], "nchw_out", perm=[0, 3, 1, 2])
        t = node("Mul", [t, const("out/scale", arr(self.out_scale))], "out/mul")
        node("Add", [t, const("out/shift", arr(self.out_shift))], output_name)

        months = self.conv1.in_channels
        graph = helper.make_graph(
            nodes, "nhwc_helper_emulator",
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", months, self.nlat, self.nlon])],
            [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", 1, self.nlat, self.nlon])],
            initializer=inits)
        model = helper.make_model(graph, producer_name="climxai tools/emulator/export_helper.py",
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        tmp = path + ".tmp"
        onnx.save(model, tmp)
        os.replace(tmp, path)


def preprocess(sst, months):
    """The card's anomalies: each calendar month's mean over all years of the file removed.
    Returns (ocean mask [H, W], anomalies [T, H, W] in float64, 0 on land)."""
    ocean = np.all(np.isfinite(sst), axis=0)
    anom = np.zeros(sst.shape, np.float64)
    for m in range(1, 13):
        sel = months == m
        clim = np.where(ocean, np.nan_to_num(sst[sel].astype(np.float64)).mean(axis=0), 0)
        anom[sel] = np.where(ocean, np.nan_to_num(sst[sel].astype(np.float64)) - clim, 0)
    return ocean, anom


def windows(x, inits):
    """Newest-first windows: channel c of sample t holds month t - c."""
    return np.stack([x[t - MONTHS + 1:t + 1][::-1] for t in inits]).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="training NetCDF written by climxai synth (1000 years)")
    ap.add_argument("--golden-data", required=True, help="small NetCDF written by climxai synth for the goldens")
    ap.add_argument("--golden-inits", nargs=2, default=["0011-06", "0008-01"])
    ap.add_argument("--golden-targets", nargs=2, default=["39,-38", "55,-30"], help="LAT,LON cells, one per init")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    log = lambda s: print(s, flush=True)

    sst, years, months, lat, lon = read_sst(args.data, "sst")
    test_from = default_test_from(years, months)
    ocean, anom = preprocess(sst, months)
    vals = anom[years < test_from][:, ocean]
    scale_mean, scale_std = float(vals.mean()), float(vals.std())
    x = ((anom - scale_mean) / scale_std).astype(np.float32)
    x[:, ~ocean] = 0
    inits = np.arange(MONTHS - 1, len(x) - LEAD)
    test = years[inits + LEAD] >= test_from
    tr, te = inits[~test], inits[test]
    log(f"{args.data}: {len(x)} months, grid {x.shape[1]} x {x.shape[2]}; lead {LEAD}: {len(tr)} train / "
        f"{len(te)} test samples; scale mean {scale_mean:.4g} std {scale_std:.4g}")

    torch.manual_seed(args.seed)
    nlat, nlon = x.shape[1:]
    model = HelperNet(nlat, nlon)
    log(f"HelperNet: {sum(p.numel() for p in model.parameters())} weights")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    mask = torch.from_numpy(ocean.astype(np.float32))[None, None]
    rng = np.random.default_rng(args.seed)
    deadline, step = time.time() + 60 * args.minutes, 0
    while time.time() < deadline:
        model.train()
        for i in range(0, len(tr), args.batch):
            b = rng.choice(tr, args.batch, replace=False)
            xb = torch.from_numpy(windows(x, b))
            yb = torch.from_numpy(x[b + LEAD])[:, None]
            loss = (((model(xb) - yb) * mask) ** 2).sum() / (mask.sum() * len(b))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                log(f"step {step} loss {loss.item():.4f}")
            if time.time() >= deadline:
                break
    model.eval()
    err = pers = n = 0.0
    with torch.no_grad():
        for i in range(0, len(te), 128):
            b = te[i:i + 128]
            yb = torch.from_numpy(x[b + LEAD])[:, None]
            err += (((model(torch.from_numpy(windows(x, b))) - yb) * mask) ** 2).sum().item()
            pers += (((torch.from_numpy(x[b])[:, None] - yb) * mask) ** 2).sum().item()
            n += mask.sum().item() * len(b)
    log(f"{step} steps; test RMSE {math.sqrt(err / n):.4f}, persistence {math.sqrt(pers / n):.4f} (scaled units)")

    onnx_path = os.path.join(args.out, f"lead{LEAD:02d}.onnx")
    model.onnx(onnx_path)
    log(f"wrote {onnx_path}")

    # Goldens on the small file, prepared as the card says (climatology over that file's years).
    gsst, gyears, gmonths, _, _ = read_sst(args.golden_data, "sst")
    gocean, ganom = preprocess(gsst, gmonths)
    gx = ((ganom - scale_mean) / scale_std).astype(np.float32)
    gx[:, ~gocean] = 0
    idx, cells = [], []
    for s, tgt in zip(args.golden_inits, args.golden_targets):
        yy, mm = map(int, s.split("-"))
        t = int(np.nonzero((gyears == yy) & (gmonths == mm))[0][0])
        la, lo = map(float, tgt.split(","))
        i, j = int(np.argmin(abs(lat - la))), int(np.argmin(abs(lon - lo)))
        if not gocean[i, j]:
            raise SystemExit(f"golden target {tgt} is not an ocean cell")
        idx.append(t)
        cells.append([i, j])
    xs = torch.from_numpy(windows(gx, idx)).requires_grad_(True)
    ys = model(xs)
    seed = torch.zeros_like(ys)
    for k, (i, j) in enumerate(cells):
        seed[k, 0, i, j] = 1
    (ys * seed).sum().backward()
    name = f"golden{LEAD:02d}"
    for suffix, a in [("x", xs.detach().numpy()), ("y", ys.detach().numpy()), ("grad", xs.grad.numpy())]:
        np.ascontiguousarray(a, dtype="<f4").tofile(os.path.join(args.out, f"{name}.{suffix}.f32"))
    meta = {
        "model": os.path.basename(onnx_path),
        "input": {"file": f"{name}.x.f32", "shape": list(xs.shape)},
        "output": {"file": f"{name}.y.f32", "shape": list(ys.shape)},
        "grad": {"file": f"{name}.grad.f32", "shape": list(xs.shape),
                 "meaning": "d y[k, 0, row, col] / d x[k] (torch autograd) at target cell k"},
        "targets": [{"spec": s, "row": i, "col": j} for s, (i, j) in zip(args.golden_targets, cells)],
        "inits": args.golden_inits,
        "lead": LEAD,
        "data": "climxai synth --years 12 --grid 2 --seed 7 (" + os.path.basename(args.golden_data) + ")",
        "torch": torch.__version__,
        "format": "raw little-endian float32, C order; channels newest first",
    }
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        json.dump(meta, f, indent=1)

    with open(os.path.join(args.out, "card.toml"), "w") as f:
        f.write('name = "North Atlantic SST emulator, NHWC graph written with onnx.helper (second exporter)"\n'
                f'variable = "sst"\ninput_months = {MONTHS}\nchannel_order = "newest-first"\n[grid]\n'
                f"lat_start = {lat[0]!r}\nlat_step = {lat[1] - lat[0]!r}\nnlat = {len(lat)}\n"
                f"lon_start = {lon[0]!r}\nlon_step = {lon[1] - lon[0]!r}\nnlon = {len(lon)}\n"
                f'[preprocess]\nanomaly = "monthly-climatology"\nfilter = "none"\n'
                f"scale_mean = {scale_mean!r}\nscale_std = {scale_std!r}\n"
                f'[[model]]\nlead = {LEAD}\nfile = "lead{LEAD:02d}.onnx"\ninput = "sst_in"\noutput = "sst_out"\n')
    write_sums(args.out)
    log(f"wrote {args.out}/card.toml, {name}.* and SHA256SUMS")


if __name__ == "__main__":
    main()
