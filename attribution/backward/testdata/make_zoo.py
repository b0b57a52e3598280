"""Generate the model zoo and its golden input gradients for backward's Go tests (zoo_test.go).

Run by hand (never by CI) with Debian's interpreter from this directory:

    /usr/bin/python3 make_zoo.py

climxai must explain any emulator a scientist exports, not only the reference DenseNet
(make_densenet.py). The zoo holds tiny versions (a few thousand weights each) of the other
architectures published SST and climate emulators use, written the way their authors write them
and exported as they would export them (torch.onnx.export, opset 17, dynamic batch "N", input "x"
[N, 4, 9, 13], output "y" [N, 1, 9, 13]):

    unet      U-Net: conv blocks with GroupNorm (exported as Reshape, InstanceNormalization,
              Reshape, Mul, Add) and SiLU (Sigmoid, Mul), max-pool down twice (9 x 13 -> 4 x 6
              -> 2 x 3, floor), bilinear interpolate up to the skip's size (align_corners False),
              ConvTranspose up with F.pad to the odd skip size, skip concatenation
    resnet    ResNet: ReflectionPad2d stem, residual blocks with padding_mode='reflect' convs (one
              dilated), inference BatchNorm, LeakyReLU, residual Add; a strided conv down to
              5 x 7, a PixelShuffle head (DepthToSpace, CRD) back to 10 x 14, cropped to 9 x 13
    vit       vision transformer: zero pad to 10 x 14, 2 x 2 patch embedding conv, learned
              positional embedding, a block with attention written out (qkv[0] indexing = Gather,
              MatMul, Softmax) and a block with nn.MultiheadAttention, LayerNormalization, GELU
              MLPs (Erf), a linear head and unpatchify (Reshape, Transpose), cropped to 9 x 13
    convnext  ConvNeXt-style: Mish stem, depthwise 7 x 7 conv (groups = C), LayerNorm over
              channels through permute (channels last) and written out by hand as ConvNeXt's
              channels_first LayerNorm (ReduceMean, Sub, Pow, Sqrt, Div), pointwise Linear
              (MatMul on 4-D), GELU and Hardswish MLPs, layer scale, a 2 x 2 stride 2 downsample,
              bilinear upsample (align_corners True) back to 9 x 13, skip concatenation

Weights are PyTorch's default initialisation from a fixed seed; norm layers get random affine
parameters and BatchNorm random running statistics (eval mode), the positional embedding and layer
scales random values of order 0.1 to 1, so that no layer is an identity. For each model NAME it
writes, for a fixed input x [2, 4, 9, 13] and a one-hot seed per sample (for sample 0 the cell
(3, 6) beside the centre, in an odd row and an even column, so that the two axes of a 2 x 2 pixel
shuffle or patch block differ there; for sample 1 the bottom-right corner, where the pads and
crops act):

    zoo_NAME.onnx            the model
    zoo_NAME.x.f32           x
    zoo_NAME.seed.f32        the seed (cotangent of y)
    zoo_NAME.y.f32           y = model(x)
    zoo_NAME.grad.f32        d<seed, y>/dx from torch.autograd
    zoo_NAME.cp.f32          x * d<seed, y~>/dx, y~ the model with its gates and normalisers
                             detached (detached_gates): conservative propagation (Ali et al.
                             2022, "XAI for Transformers: Better Explanations through Conservative
                             Propagation"), which LRP-epsilon with epsilon -> 0 must equal

and zoo.json, the index: per model its file names and shapes, weight count and the op types of
the exported graph. All .f32 files are raw little-endian float32 in C order.
"""

import contextlib
import json
import math
import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools", "emulator"))

from export import export_onnx, write_f32  # noqa: E402

NLAT, NLON, C = 9, 13, 4
OPSET = 17


def randomize_norms(model, g):
    """Random affine parameters for every norm layer and random running statistics for BatchNorm,
    so that inference-mode normalisation is not an identity."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm, ChannelsFirstLayerNorm)):
                n = m.weight.numel()
                m.weight.copy_(0.7 + 0.6 * torch.rand(n, generator=g).reshape(m.weight.shape))
                m.bias.copy_(0.2 * torch.randn(n, generator=g).reshape(m.bias.shape))
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.2 * torch.randn(m.num_features, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))


# ---------------------------------------------------------------------------------------------
# U-Net (Ronneberger et al. 2015), in the style of milesial/Pytorch-UNet: odd sizes are handled
# by padding the upsampled map to the skip's size.


class ConvBlock(nn.Module):
    """(conv 3x3, GroupNorm, SiLU) twice."""

    def __init__(self, cin, cout, groups=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
            nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(groups, cout), nn.SiLU(),
        )

    def forward(self, x):
        return self.net(x)


class UNet(nn.Module):
    def __init__(self, c=C, w=6):
        super().__init__()
        self.enc1 = ConvBlock(c, w)
        self.enc2 = ConvBlock(w, 2 * w)
        self.mid = ConvBlock(2 * w, 2 * w)
        self.dec2 = ConvBlock(4 * w, w)
        self.up1 = nn.ConvTranspose2d(w, w, 2, stride=2)
        self.dec1 = ConvBlock(2 * w, w)
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, x):
        e1 = self.enc1(x)                                   # 9 x 13
        e2 = self.enc2(F.max_pool2d(e1, 2))                 # 4 x 6
        m = self.mid(F.max_pool2d(e2, 2))                   # 2 x 3
        u = F.interpolate(m, size=e2.shape[-2:], mode="bilinear", align_corners=False)
        d2 = self.dec2(torch.cat([e2, u], dim=1))           # 4 x 6
        u = self.up1(d2)                                    # 8 x 12
        dy = e1.size()[2] - u.size()[2]
        dx = e1.size()[3] - u.size()[3]
        u = F.pad(u, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.out(self.dec1(torch.cat([e1, u], dim=1)))


# ---------------------------------------------------------------------------------------------
# ResNet (He et al. 2016) with reflect padding, as SST emulators on regional grids use it, and a
# sub-pixel upsampling head (Shi et al. 2016).


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, padding_mode="reflect")
        self.bn = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=2, dilation=2, padding_mode="reflect")
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x):
        return self.act(x + self.conv2(self.act(self.bn(self.conv1(x)))))


class ResNet(nn.Module):
    def __init__(self, c=C, w=6):
        super().__init__()
        self.stem = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, w, 3), nn.LeakyReLU(0.1))
        self.block1 = ResBlock(w)
        self.down = nn.Conv2d(w, 2 * w, 3, stride=2, padding=1, padding_mode="reflect")  # 5 x 7
        self.block2 = ResBlock(2 * w)
        self.head = nn.Sequential(nn.Conv2d(2 * w, 4 * 2, 3, padding=1), nn.PixelShuffle(2))  # 2 x 10 x 14
        self.out = nn.Conv2d(w + 2, 1, 1)

    def forward(self, x):
        s = self.block1(self.stem(x))
        h = self.head(self.block2(self.down(s)))[:, :, : x.shape[2], : x.shape[3]]
        return self.out(torch.cat([s, h], dim=1))


# ---------------------------------------------------------------------------------------------
# Vision transformer (Dosovitskiy et al. 2021) on 2 x 2 patches, as ClimaX- and FourCastNet-like
# emulators use it at tiny scale.


class Attention(nn.Module):
    """Multi-head self-attention written out as timm's Attention writes it."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.scale = heads, (d // heads) ** -0.5
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, t, d))


class TorchAttention(nn.Module):
    """The same through nn.MultiheadAttention."""

    def __init__(self, d, heads):
        super().__init__()
        self.mha = nn.MultiheadAttention(d, heads, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


class Block(nn.Module):
    def __init__(self, d, heads, attn):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(d), attn(d, heads)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, c=C, d=16, heads=2, patch=2):
        super().__init__()
        self.patch = patch
        self.hp, self.wp = -(-NLAT // patch), -(-NLON // patch)  # 5 x 7 patches
        self.embed = nn.Conv2d(c, d, patch, stride=patch)
        self.pos = nn.Parameter(torch.zeros(1, self.hp * self.wp, d))
        self.blocks = nn.Sequential(Block(d, heads, Attention), Block(d, heads, TorchAttention))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, patch * patch)

    def forward(self, x):
        b, _, h, w = x.shape
        p = self.patch
        x = F.pad(x, [0, self.wp * p - w, 0, self.hp * p - h])
        x = self.embed(x).flatten(2).transpose(1, 2) + self.pos     # [N, 35, d]
        x = self.head(self.norm(self.blocks(x)))                     # [N, 35, p*p]
        x = x.reshape(b, self.hp, self.wp, p, p).permute(0, 1, 3, 2, 4)
        return x.reshape(b, 1, self.hp * p, self.wp * p)[:, :, :h, :w]


# ---------------------------------------------------------------------------------------------
# ConvNeXt (Liu et al. 2022), with its own channels_first LayerNorm, as in facebookresearch/ConvNeXt.


class ChannelsFirstLayerNorm(nn.Module):
    counted, detach_sigma = False, False  # set by detached_gates only; the export never sees them

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c)), eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        sigma = torch.sqrt(s + self.eps)
        if ChannelsFirstLayerNorm.counted:
            CALLS["channels_first_norm"] = CALLS.get("channels_first_norm", 0) + 1
        if ChannelsFirstLayerNorm.detach_sigma:
            sigma = sigma.detach()
        x = (x - u) / sigma
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class NeXtBlock(nn.Module):
    def __init__(self, c, act):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.pw1, self.act, self.pw2 = nn.Linear(c, 2 * c), act, nn.Linear(2 * c, c)
        self.gamma = nn.Parameter(torch.ones(c))

    def forward(self, x):
        h = self.dw(x).permute(0, 2, 3, 1)
        h = self.gamma * self.pw2(self.act(self.pw1(self.norm(h))))
        return x + h.permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self, c=C, w=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c, w, 3, padding=1), nn.Mish(), ChannelsFirstLayerNorm(w))
        self.stage1 = NeXtBlock(w, nn.GELU())
        self.down = nn.Sequential(ChannelsFirstLayerNorm(w), nn.Conv2d(w, 2 * w, 2, stride=2))  # 4 x 6
        self.stage2 = NeXtBlock(2 * w, nn.Hardswish())
        self.out = nn.Conv2d(3 * w, 1, 1)

    def forward(self, x):
        s = self.stage1(self.stem(x))
        h = self.stage2(self.down(s))
        h = F.interpolate(h, size=(x.shape[2], x.shape[3]), mode="bilinear", align_corners=True)
        return self.out(torch.cat([s, h], dim=1))


MODELS = [("unet", UNet), ("resnet", ResNet), ("vit", ViT), ("convnext", ConvNeXt)]


# ---------------------------------------------------------------------------------------------
# Conservative propagation (CP-LRP): the gradient of the model with every gate held constant.

CALLS = {}


@contextlib.contextmanager
def detached_gates(detach=True):
    """Replace, for the duration, torch's gated activations, normalisations and softmax by
    formulas written out with the gate (sigma(x) in SiLU, Phi(x) in GELU, tanh(softplus x) in Mish,
    relu6(x+3)/6 in Hardswish, the attention weights, the normaliser sigma) detached when detach is
    true. With detach false they must reproduce the model and its gradient (checked in main), so
    the formulas are torch's own; CALLS counts the replacements' calls, so main can check that each
    one was reached (nn.MultiheadAttention calls F.softmax inside)."""
    d = (lambda t: t.detach()) if detach else (lambda t: t)
    names = ("gelu", "silu", "mish", "hardswish", "layer_norm", "group_norm", "softmax")
    saved = {k: getattr(F, k) for k in names}
    tensor_softmax = torch.Tensor.softmax

    def count(name):
        CALLS[name] = CALLS.get(name, 0) + 1

    def gelu(x, approximate="none"):
        count("gelu")
        return x * d(0.5 * (1 + torch.erf(x / math.sqrt(2))))

    def silu(x, inplace=False):
        count("silu")
        return x * d(torch.sigmoid(x))

    def mish(x, inplace=False):
        count("mish")
        return x * d(torch.tanh(F.softplus(x)))

    def hardswish(x, inplace=False):
        count("hardswish")
        return x * d(F.relu6(x + 3) / 6)

    def normalise(x, dims, eps):
        mu = x.mean(dims, keepdim=True)
        return (x - mu) / d(torch.sqrt(((x - mu) ** 2).mean(dims, keepdim=True) + eps))

    def layer_norm(x, shape, weight=None, bias=None, eps=1e-5):
        count("layer_norm")
        y = normalise(x, tuple(range(-len(shape), 0)), eps)
        return y * weight + bias

    def group_norm(x, groups, weight=None, bias=None, eps=1e-5):
        count("group_norm")
        y = normalise(x.reshape(x.shape[0], groups, -1), (-1,), eps).reshape(x.shape)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return y * weight.reshape(shape) + bias.reshape(shape)

    def softmax(x, dim=None, _stacklevel=3, dtype=None):
        count("softmax")
        return d(tensor_softmax(x if dtype is None else x.to(dtype), dim))

    def softmax_method(self, dim, dtype=None):
        count("softmax")
        return d(tensor_softmax(self, dim))

    for k, f in [("gelu", gelu), ("silu", silu), ("mish", mish), ("hardswish", hardswish),
                 ("layer_norm", layer_norm), ("group_norm", group_norm), ("softmax", softmax)]:
        setattr(F, k, f)
    torch.Tensor.softmax = softmax_method
    ChannelsFirstLayerNorm.counted, ChannelsFirstLayerNorm.detach_sigma = True, detach
    try:
        yield
    finally:
        for k, f in saved.items():
            setattr(F, k, f)
        torch.Tensor.softmax = tensor_softmax
        ChannelsFirstLayerNorm.counted, ChannelsFirstLayerNorm.detach_sigma = False, False


def conservative(model, x, seed, want_y, want_grad):
    """x * d<seed, y~>/dx in float64, y~ the model with its gates detached, after checking that
    the written-out formulas reproduce the model's y and gradient when nothing is detached."""
    m = model.double()
    x = x.double()
    out = {}
    for detach in (False, True):
        CALLS.clear()
        xr = x.clone().requires_grad_(True)
        with detached_gates(detach):
            y = m(xr)
        (grad,) = torch.autograd.grad(y, xr, grad_outputs=seed.double())
        out[detach] = (y.detach(), grad, dict(CALLS))
    y, grad, calls = out[False]
    assert torch.allclose(y.float(), want_y, atol=1e-5), "written-out gates change y"
    assert torch.allclose(grad.float(), want_grad, atol=1e-5 * float(want_grad.abs().max())), \
        "written-out gates change the gradient"
    assert out[True][2] == calls, (out[True][2], calls)
    model.float()
    return (x * out[True][1]).float(), calls


def op_types(path):
    import onnx

    return sorted({n.op_type for n in onnx.load(path).graph.node})


def main():
    g = torch.Generator().manual_seed(23)
    torch.manual_seed(23)
    x = torch.randn(2, C, NLAT, NLON, generator=g)
    seed = torch.zeros(2, 1, NLAT, NLON)
    seed[0, 0, NLAT // 2 - 1, NLON // 2] = 1.0
    seed[1, 0, NLAT - 1, NLON - 1] = 1.0
    index = {"torch": torch.__version__, "opset": OPSET, "format": "raw little-endian float32, C order",
             "models": []}
    for name, cls in MODELS:
        model = cls()
        randomize_norms(model, g)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, ViT):
                    m.pos.copy_(0.5 * torch.randn(m.pos.shape, generator=g))
                if isinstance(m, NeXtBlock):
                    m.gamma.copy_(0.2 + 0.8 * torch.rand(m.gamma.shape, generator=g))
        model = model.eval()
        path = os.path.join(HERE, "zoo_%s.onnx" % name)
        export_onnx(model, path, NLAT, NLON, months=C, opset=OPSET)
        xr = x.clone().requires_grad_(True)
        y = model(xr)
        (grad,) = torch.autograd.grad(y, xr, grad_outputs=seed)
        cp, calls = conservative(model, x, seed, y.detach(), grad)
        entry = {"name": name, "model": "zoo_%s.onnx" % name,
                 "weights": sum(p.numel() for p in model.parameters()), "ops": op_types(path),
                 "detached": calls}
        for key, arr in [("x", x), ("seed", seed), ("y", y.detach()), ("grad", grad), ("cp", cp)]:
            entry[key] = {"file": "zoo_%s.%s.f32" % (name, key), "shape": list(arr.shape)}
            write_f32(os.path.join(HERE, entry[key]["file"]), arr.numpy())
        index["models"].append(entry)
        print(name, entry["weights"], "weights:", " ".join(entry["ops"]))
    with open(os.path.join(HERE, "zoo.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
