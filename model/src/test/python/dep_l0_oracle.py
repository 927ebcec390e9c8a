#!/usr/bin/env python3
"""Dep-L0 / L0-HC oracle: an independent PyTorch implementation of one training step of the
gated CNN described in ../shared/DESIGN.md ("The math"), used to check the Java/DJL code.

Usage
    python3 dep_l0_oracle.py IN_DIR OUT_DIR [--dtype float64]  one step on a case, write the result
    python3 dep_l0_oracle.py --compare GOT_DIR WANT_DIR      compare two result dirs (exit 1 on mismatch)
            [--rtol 1e-5] [--floor 1.0] [--atol 1e-7] [--only P,..] [--skip P,..] [--given] [--ref64 DIR]
    python3 dep_l0_oracle.py --make-case DIR [--arch tiny|lenet5|vgg-narrow]
            [--gates dep-forward|dep-backward|hc|none] [--batch N] [--seed S] [--opt-state]
    python3 dep_l0_oracle.py --selftest                      synthetic end-to-end checks (CPU, ~10 s)

The full format is in docs/oracle-format.md; in short:

IN_DIR/case.json
    {"format": "l0stream-oracle-case", "version": 1,
     "architecture": {"name": str, "input": [C, H, W],
                      "layers": [{"type": "conv", "width", "kernel", "padding", "batch_norm",
                                  "pool", "gated"} | {"type": "dense", "width", "gated", "relu"}]},
     "gates": "dep-forward" | "dep-backward" | "hc" | "none",
     "hyper": {"lambda", "weight_lr", "momentum", "weight_decay", "gate_lr",          (required)
               "adam_beta1" .9, "adam_beta2" .999, "adam_eps" 1e-8, "bn_momentum" .1 (PyTorch
               convention), "bn_eps" 1e-5, "beta" 2/3, "gamma" -.1, "zeta" 1.1,
               "log_alpha_scale" ln 100, "generator_input_dim" 64},                    (defaults)
     "adam_steps": 0,                       Adam steps already taken (bias correction uses +1)
     "tensors": [{"name", "file", "shape", "dtype": "float32" | "int32"}, ...]}
IN_DIR/<file>: raw little-endian values, row-major (C order), no header.
    Tensor names: every GatedNetwork.state() name (layer<i>.weight, layer<i>.bias,
    layer<i>.bn.gamma|beta|running_mean|running_var, gates.gen<j>.weight|bias or
    gates.log_alpha<g>); "input" float32 [N, C, H, W]; "labels" int32 [N]; and, when gated,
    "noise_logit" float32 [N, sum of gated widths] (log u - log(1-u), gated layers concatenated
    in layer order) or "noise_u" (u itself, same shape). Optional optimiser state (absent = fresh):
    "sgd/<param>" (momentum buffer, PyTorch convention), "adam/<param>.exp_avg",
    "adam/<param>.exp_avg_sq". Optional "grad/<param>" for every trainable parameter (the
    writer's own gradients): the oracle then also applies the step to them (given/ outputs).

OUT_DIR/result.json: scalars (cross_entropy, penalty, loss, expected_open[_after],
    open_channels[_after], adam_steps) and a "tensors" list in the same form; OUT_DIR/<name with
    "/" replaced by "__">.bin float32 LE: logits, log_alpha/<g>, gate_sample/<g>, grad/<param>,
    after/<state name>, sgd/<param>, adam/<param>.exp_avg|exp_avg_sq, test_gates/<g>,
    test_gates_after/<g>, det_logits, det_logits_after, and with grad/ inputs given/after/<p>,
    given/sgd/<p>, given/adam/<p>.exp_avg|exp_avg_sq.

Computed in float32 like the Java side (--dtype float64 for a reference run; the files are float32
either way). Needs PyTorch (Debian's python3-torch; written against 1.13).
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

CASE_FORMAT = "l0stream-oracle-case"
RESULT_FORMAT = "l0stream-oracle-result"
FORMAT_VERSION = 1
GATE_KINDS = ("dep-forward", "dep-backward", "hc", "none")

DEFAULT_HYPER = {
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_eps": 1e-8,
    "bn_momentum": 0.1,          # PyTorch convention: running = (1-m)*running + m*batch
    "bn_eps": 1e-5,
    "beta": 2.0 / 3.0,
    "gamma": -0.1,
    "zeta": 1.1,
    "log_alpha_scale": math.log(100.0),
    "generator_input_dim": 64,
}
REQUIRED_HYPER = ("lambda", "weight_lr", "momentum", "weight_decay", "gate_lr")


class CaseError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# Tensor files

def file_name(name):
    return name.replace("/", "__") + ".bin"


def read_tensor(directory, entry):
    dtype = entry.get("dtype", "float32")
    np_dtype = {"float32": "<f4", "int32": "<i4"}.get(dtype)
    if np_dtype is None:
        raise CaseError("tensor %s: unsupported dtype %s" % (entry["name"], dtype))
    shape = [int(d) for d in entry["shape"]]
    path = os.path.join(directory, entry["file"])
    data = np.fromfile(path, dtype=np_dtype)
    if data.size != int(np.prod(shape, dtype=np.int64)):
        raise CaseError("tensor %s: %s holds %d values, shape %s needs %d"
                        % (entry["name"], path, data.size, shape, int(np.prod(shape))))
    arr = data.reshape(shape)
    return torch.from_numpy(arr.astype(np.float32 if dtype == "float32" else np.int64))


def write_tensor(directory, name, t, entries):
    a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
    fn = file_name(name)
    a.tofile(os.path.join(directory, fn))
    entries.append({"name": name, "file": fn, "shape": list(a.shape), "dtype": "float32"})


def read_dir(directory, meta_name):
    with open(os.path.join(directory, meta_name)) as f:
        meta = json.load(f)
    tensors = {}
    for e in meta.get("tensors", []):
        if e["name"] in tensors:
            raise CaseError("tensor %s listed twice" % e["name"])
        tensors[e["name"]] = read_tensor(directory, e)
    return meta, tensors


# ----------------------------------------------------------------------------------------------
# Architecture: per-layer shapes, parameter names, penalty factors

class Layer:
    def __init__(self, index, spec):
        self.index = index
        self.type = spec["type"]
        if self.type not in ("conv", "dense"):
            raise CaseError("layer %d: type must be conv or dense, got %r" % (index, self.type))
        self.width = int(spec["width"])
        self.gated = bool(spec.get("gated", False))
        if self.type == "conv":
            self.kernel = int(spec["kernel"])
            self.padding = int(spec.get("padding", 0))
            self.batch_norm = bool(spec.get("batch_norm", False))
            self.pool = bool(spec.get("pool", False))
            self.bias = bool(spec.get("bias", not self.batch_norm))
            self.relu = True
        else:
            self.kernel = 1
            self.relu = bool(spec.get("relu", False))
            self.batch_norm = False
            self.pool = False
            self.bias = True


class Arch:
    """Shapes derived from the layer list (written from the math, not copied from Java)."""

    def __init__(self, spec):
        c, h, w = [int(v) for v in spec["input"]]
        self.name = spec.get("name", "?")
        self.in_channels, self.in_h, self.in_w = c, h, w
        self.layers = [Layer(i, s) for i, s in enumerate(spec["layers"])]
        if not self.layers:
            raise CaseError("architecture has no layers")
        if self.layers[-1].gated:
            raise CaseError("the classifier (last layer) must not be gated")
        # Per layer: input channels, and the flattened spatial size a dense layer sees per input
        # channel (H*W of the feature map it flattens; 1 for a dense layer after a dense one and
        # for every conv layer).
        ch, hh, ww, spatial_input = c, h, w, True
        for l in self.layers:
            l.in_channels = ch
            if l.type == "conv":
                if not spatial_input:
                    raise CaseError("layer %d: conv after dense" % l.index)
                l.spatial = 1
                hh = hh + 2 * l.padding - l.kernel + 1
                ww = ww + 2 * l.padding - l.kernel + 1
                if l.pool:
                    hh, ww = hh // 2, ww // 2
                if hh < 1 or ww < 1:
                    raise CaseError("layer %d: the feature map vanishes" % l.index)
                l.fan_in = ch * l.kernel * l.kernel
            else:
                l.spatial = hh * ww if spatial_input else 1
                l.fan_in = ch * l.spatial
                spatial_input = False
            ch = l.width
        self.gated = [l for l in self.layers if l.gated]
        self.gated_widths = [l.width for l in self.gated]
        self.classes = self.layers[-1].width

    def weight_shapes(self):
        """SGD-trained parameters (name -> shape), in GatedNetwork order."""
        out = {}
        for l in self.layers:
            p = "layer%d." % l.index
            if l.type == "conv":
                out[p + "weight"] = [l.width, l.in_channels, l.kernel, l.kernel]
                if l.bias:
                    out[p + "bias"] = [l.width]
                if l.batch_norm:
                    out[p + "bn.gamma"] = [l.width]
                    out[p + "bn.beta"] = [l.width]
            else:
                out[p + "weight"] = [l.width, l.fan_in]
                out[p + "bias"] = [l.width]
        return out

    def buffer_shapes(self):
        out = {}
        for l in self.layers:
            if l.type == "conv" and l.batch_norm:
                p = "layer%d.bn." % l.index
                out[p + "running_mean"] = [l.width]
                out[p + "running_var"] = [l.width]
        return out

    def gate_shapes(self, kind, input_dim):
        """Adam-trained gate parameters (name -> shape)."""
        out = {}
        if kind == "hc":
            for g, w in enumerate(self.gated_widths):
                out["gates.log_alpha%d" % g] = [w]
        elif kind in ("dep-forward", "dep-backward"):
            prev = input_dim
            for j, layer in enumerate(self.chain(kind)):
                w = self.gated_widths[layer]
                out["gates.gen%d.weight" % j] = [w, prev]
                out["gates.gen%d.bias" % j] = [w]
                prev = w
        return out

    def chain(self, kind):
        """Gated-layer indices in generator chain order."""
        n = len(self.gated_widths)
        return list(range(n)) if kind == "dep-forward" else list(range(n - 1, -1, -1))


# ----------------------------------------------------------------------------------------------
# The math (DESIGN.md, "The math")

class Math:
    def __init__(self, hyper, dtype):
        self.h = hyper
        self.dtype = dtype

    def c(self, v):
        return torch.tensor(v, dtype=self.dtype)

    def log_alphas(self, arch, kind, gp):
        """log alpha per gated layer, in layer order."""
        if kind == "hc":
            return [gp["gates.log_alpha%d" % g] for g in range(len(arch.gated_widths))]
        # Dep-L0 generator: h0 = ones(d); h_l = log(100) * tanh(W_l h_{l-1} + b_l); log a_l = h_l,
        # chained first-to-last (forward) or last-to-first (backward).
        out = [None] * len(arch.gated_widths)
        h = torch.ones(int(self.h["generator_input_dim"]), dtype=self.dtype)
        scale = self.c(self.h["log_alpha_scale"])
        for j, layer in enumerate(arch.chain(kind)):
            w = gp["gates.gen%d.weight" % j]
            b = gp["gates.gen%d.bias" % j]
            h = scale * torch.tanh(torch.mv(w, h) + b)
            out[layer] = h
        return out

    def sample(self, log_alpha, noise_logit):
        """Training gate: s = sigmoid((log u - log(1-u) + log a)/beta), z = clamp(s(zeta-gamma)+gamma, 0, 1)."""
        beta, gamma, zeta = self.h["beta"], self.h["gamma"], self.h["zeta"]
        s = torch.sigmoid((noise_logit + log_alpha) / self.c(beta))
        return torch.clamp(s * self.c(zeta - gamma) + self.c(gamma), 0.0, 1.0)

    def deterministic(self, log_alpha):
        """Test-time gate: z = clamp(sigmoid(log a)(zeta-gamma)+gamma, 0, 1)."""
        gamma, zeta = self.h["gamma"], self.h["zeta"]
        return torch.clamp(torch.sigmoid(log_alpha) * self.c(zeta - gamma) + self.c(gamma), 0.0, 1.0)

    def p_open(self, log_alpha):
        """1 - Q(0) = sigmoid(log a - beta * log(-gamma/zeta))."""
        beta, gamma, zeta = self.h["beta"], self.h["gamma"], self.h["zeta"]
        return torch.sigmoid(log_alpha - self.c(beta * math.log(-gamma / zeta)))

    def penalty(self, arch, log_alphas, lam):
        """sum over gated layers of lam * k^2 * E[open_in] * E[open_out] (parameter-count weighting).

        E[open_in] of the first layer is the image's channel count, of a layer after an ungated
        one that layer's width; a dense layer flattening a C x H x W map counts each input channel
        H*W times (k^2 = 1). The ungated classifier adds nothing."""
        total = torch.zeros((), dtype=self.dtype)
        open_in = self.c(float(arch.in_channels))
        g = 0
        for l in arch.layers:
            if not l.gated:
                open_in = self.c(float(l.width))
                continue
            open_out = self.p_open(log_alphas[g]).sum()
            g += 1
            total = total + self.c(lam * l.kernel * l.kernel * l.spatial) * open_in * open_out
            open_in = open_out
        return total

    def forward(self, arch, w, buf, x, log_alphas, training, noise_logit=None, placement="design"):
        """The gated network. training: sampled gates + BN batch statistics (buf's running stats
        are updated in place, PyTorch semantics); otherwise deterministic gates + running stats.

        placement "design": gate after BN, before ReLU (DESIGN.md). "after-pool": the gate
        multiplies after ReLU and max-pool (what GatedNetwork does; used only by --selftest to
        check that it is the same function)."""
        n = x.shape[0]
        h = x
        g = 0
        offset = 0
        samples = []
        for l in arch.layers:
            p = "layer%d." % l.index
            if l.type == "conv":
                h = F.conv2d(h, w[p + "weight"], w.get(p + "bias"), stride=1, padding=l.padding)
                if l.batch_norm:
                    h = F.batch_norm(h, buf[p + "bn.running_mean"], buf[p + "bn.running_var"],
                                     w[p + "bn.gamma"], w[p + "bn.beta"], training=training,
                                     momentum=self.h["bn_momentum"], eps=self.h["bn_eps"])
            else:
                h = F.linear(h.reshape(n, -1), w[p + "weight"], w[p + "bias"])
            z = None
            if l.gated and log_alphas is not None:
                if training:
                    z = self.sample(log_alphas[g], noise_logit[:, offset:offset + l.width])
                    offset += l.width
                else:
                    z = self.deterministic(log_alphas[g]).reshape(1, l.width)
                samples.append(z)
                g += 1
                if l.type == "conv":
                    z = z.reshape(z.shape[0], l.width, 1, 1)
            if z is not None and placement == "design":
                h = h * z
            if l.relu:
                h = F.relu(h)
            if l.pool:
                h = F.max_pool2d(h, kernel_size=2, stride=2)
            if z is not None and placement != "design":
                h = h * z
        return h, samples


# ----------------------------------------------------------------------------------------------
# One step

def load_case(in_dir):
    meta, tensors = read_dir(in_dir, "case.json")
    if meta.get("format") != CASE_FORMAT:
        raise CaseError("case.json: format must be %s, got %r" % (CASE_FORMAT, meta.get("format")))
    if int(meta.get("version", 0)) != FORMAT_VERSION:
        raise CaseError("case.json: version must be %d" % FORMAT_VERSION)
    kind = meta.get("gates")
    if kind not in GATE_KINDS:
        raise CaseError("case.json: gates must be one of %s, got %r" % (GATE_KINDS, kind))
    hyper = dict(DEFAULT_HYPER)
    for k in REQUIRED_HYPER:
        if k not in meta.get("hyper", {}):
            raise CaseError("case.json: hyper.%s is required" % k)
    hyper.update(meta["hyper"])
    return meta, tensors, kind, hyper


def optimizer_step(meta, tensors, hyper, w, gp, grads, out, prefix, dtype):
    """SGD + momentum + weight decay on the weights (torch.optim.SGD semantics, dampening 0, no
    Nesterov), Adam on the gate parameters (torch.optim.Adam, no weight decay, no AMSGrad).
    Optional prior state from the case: sgd/<p>, adam/<p>.exp_avg|exp_avg_sq, adam_steps."""
    lr, mom, wd = hyper["weight_lr"], hyper["momentum"], hyper["weight_decay"]
    new_w = {}
    for k, p in w.items():
        d = grads[k] + wd * p if wd != 0 else grads[k].clone()
        if mom != 0:
            if ("sgd/" + k) in tensors:
                d = tensors["sgd/" + k].to(dtype) * mom + d
            out[prefix + "sgd/" + k] = d
        new_w[k] = p - lr * d
    b1, b2, eps, glr = hyper["adam_beta1"], hyper["adam_beta2"], hyper["adam_eps"], hyper["gate_lr"]
    t = int(meta.get("adam_steps", 0)) + 1
    new_g = {}
    for k, p in gp.items():
        m = tensors.get("adam/%s.exp_avg" % k)
        v = tensors.get("adam/%s.exp_avg_sq" % k)
        m = torch.zeros_like(p) if m is None else m.to(dtype)
        v = torch.zeros_like(p) if v is None else v.to(dtype)
        g = grads[k]
        m = m * b1 + g * (1 - b1)
        v = v * b2 + g * g * (1 - b2)
        denom = v.sqrt() / math.sqrt(1 - b2 ** t) + eps
        new_g[k] = p - (glr / (1 - b1 ** t)) * (m / denom)
        out[prefix + "adam/%s.exp_avg" % k] = m
        out[prefix + "adam/%s.exp_avg_sq" % k] = v
    return new_w, new_g, t


def run_step(meta, tensors, kind, hyper, dtype=torch.float32, placement="design"):
    """Returns (scalars, named output tensors)."""
    arch = Arch(meta["architecture"])
    mth = Math(hyper, dtype)
    gated = kind != "none"
    wshapes = arch.weight_shapes()
    bshapes = arch.buffer_shapes()
    gshapes = arch.gate_shapes(kind, int(hyper["generator_input_dim"])) if gated else {}

    # Check names and shapes: a mismatch here is a format error on the writer's side.
    expected = dict(wshapes)
    expected.update(bshapes)
    expected.update(gshapes)
    model_names = [k for k in tensors if k.startswith("layer") or k.startswith("gates.")]
    missing = [k for k in expected if k not in tensors]
    extra = [k for k in model_names if k not in expected]
    if missing or extra:
        raise CaseError("model tensors: missing %s, unexpected %s" % (missing, extra))
    for k, s in expected.items():
        if list(tensors[k].shape) != s:
            raise CaseError("tensor %s has shape %s, the architecture needs %s" % (k, list(tensors[k].shape), s))
    x = tensors["input"].to(dtype)
    n = x.shape[0]
    if list(x.shape[1:]) != [arch.in_channels, arch.in_h, arch.in_w]:
        raise CaseError("input has shape %s, expected [N, %d, %d, %d]"
                        % (list(x.shape), arch.in_channels, arch.in_h, arch.in_w))
    y = tensors["labels"].to(torch.int64)
    if list(y.shape) != [n] or int(y.min()) < 0 or int(y.max()) >= arch.classes:
        raise CaseError("labels must be int32 [N] in [0, %d)" % arch.classes)
    noise = None
    if gated:
        total = sum(arch.gated_widths)
        if "noise_logit" in tensors:
            noise = tensors["noise_logit"].to(dtype)
        elif "noise_u" in tensors:
            u = tensors["noise_u"].to(dtype)
            noise = torch.log(u) - torch.log(1 - u)
        else:
            raise CaseError("a gated case needs noise_logit or noise_u")
        if list(noise.shape) != [n, total]:
            raise CaseError("noise has shape %s, expected [%d, %d]" % (list(noise.shape), n, total))
    for k in [k for k in tensors if k.startswith(("grad/", "sgd/", "adam/"))]:
        base = k.split("/", 1)[1]
        base = base[:-len(".exp_avg_sq")] if base.endswith(".exp_avg_sq") else (
            base[:-len(".exp_avg")] if base.endswith(".exp_avg") else base)
        if base not in wshapes and base not in gshapes:
            raise CaseError("tensor %s names no trainable parameter" % k)
        if list(tensors[k].shape) != expected[base]:
            raise CaseError("tensor %s has shape %s, expected %s" % (k, list(tensors[k].shape), expected[base]))

    w = {k: tensors[k].to(dtype).clone().requires_grad_(True) for k in wshapes}
    gp = {k: tensors[k].to(dtype).clone().requires_grad_(True) for k in gshapes}
    buf_before = {k: tensors[k].to(dtype).clone() for k in bshapes}
    buf = {k: v.clone() for k, v in buf_before.items()}  # updated in place by the training forward

    # Training forward + loss (DESIGN: loss = cross-entropy + sum_l R_l).
    las = mth.log_alphas(arch, kind, gp) if gated else None
    logits, samples = mth.forward(arch, w, buf, x, las, True, noise, placement)
    ce = F.cross_entropy(logits, y)  # mean over the batch
    pen = mth.penalty(arch, las, hyper["lambda"]) if gated else torch.zeros((), dtype=dtype)
    loss = ce + pen
    params = list(w.items()) + list(gp.items())
    grads = torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)
    grads = {k: (g if g is not None else torch.zeros_like(p)) for (k, p), g in zip(params, grads)}

    out = {"logits": logits.detach()}
    if gated:
        for g_, (la, z) in enumerate(zip(las, samples)):
            out["log_alpha/%d" % g_] = la.detach()
            out["gate_sample/%d" % g_] = z.detach()
    for k, g_ in grads.items():
        out["grad/" + k] = g_

    # Optimisers: SGD + momentum + weight decay on the weights, Adam on the gate parameters.
    with torch.no_grad():
        new_w, new_g, t = optimizer_step(meta, tensors, hyper, w, gp, grads, out, "", dtype)
        # The same step from the writer's own gradients, when the case carries them: isolates the
        # optimiser from gradient rounding (Adam's first step maps a noise-level g to +-lr).
        names = list(w) + list(gp)
        if names and all(("grad/" + k) in tensors for k in names):
            given = {k: tensors["grad/" + k].to(dtype) for k in names}
            gw, gg, _ = optimizer_step(meta, tensors, hyper, w, gp, given, out, "given/", dtype)
            for k in names:
                out["given/after/" + k] = gw[k] if k in gw else gg[k]

        for k in wshapes:
            out["after/" + k] = new_w[k]
        for k in bshapes:
            out["after/" + k] = buf[k]
        for k in gshapes:
            out["after/" + k] = new_g[k]

        # Deterministic test-time gates and forward (BN running statistics), before and after.
        scalars = {}
        for tag, ws, bs, gs in (("", w, buf_before, gp), ("_after", new_w, buf, new_g)):
            la = mth.log_alphas(arch, kind, gs) if gated else None
            det, _ = mth.forward(arch, ws, {k: v.clone() for k, v in bs.items()}, x, la, False)
            out["det_logits" + tag] = det
            zs = [mth.deterministic(a) for a in la] if gated else [torch.ones(wd_, dtype=dtype) for wd_ in arch.gated_widths]
            for g_, z in enumerate(zs):
                out["test_gates%s/%d" % (tag, g_)] = z
            scalars["open_channels" + tag] = [int((z > 0).sum()) for z in zs]
            scalars["expected_open" + tag] = ([float(mth.p_open(a).sum()) for a in la] if gated
                                              else [float(v) for v in arch.gated_widths])
    scalars.update({"cross_entropy": float(ce), "penalty": float(pen), "loss": float(loss),
                    "adam_steps": t if gated else int(meta.get("adam_steps", 0))})
    return scalars, {k: v.detach() for k, v in out.items()}


def write_result(out_dir, scalars, out):
    os.makedirs(out_dir, exist_ok=True)
    entries = []
    for k, v in out.items():
        write_tensor(out_dir, k, v, entries)
    res = {"format": RESULT_FORMAT, "version": FORMAT_VERSION, "torch_version": torch.__version__,
           "dtype": str(next(iter(out.values())).dtype).replace("torch.", "") if out else "float32"}
    res.update(scalars)
    res["tensors"] = entries
    with open(os.path.join(out_dir, "result.json"), "w") as f:
        json.dump(res, f, indent=1)


def oracle(in_dir, out_dir, dtype=torch.float32):
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    meta, tensors, kind, hyper = load_case(in_dir)
    scalars, out = run_step(meta, tensors, kind, hyper, dtype)
    for k, v in out.items():
        if not torch.isfinite(v).all():
            raise CaseError("non-finite values in %s" % k)
    write_result(out_dir, scalars, out)
    return scalars, out


# ----------------------------------------------------------------------------------------------
# Comparison

def compare_tensors(got, want, rtol, floor, atol, ref64=None, slack=4.0):
    """Worst element of |got - want| / tol, tol = rtol * max(|want|, floor * max|want|, atol/rtol)
    (+ slack * |want - ref64| when a float64 reference is given: the float32 rounding error of the
    oracle itself, large where the problem is ill-conditioned).

    Returns (ok, worst ratio err/tol, flat index, got value, want value)."""
    g = got.reshape(-1).to(torch.float64)
    w = want.reshape(-1).to(torch.float64)
    if g.numel() == 0:
        return True, 0.0, -1, 0.0, 0.0
    tol = rtol * torch.clamp(w.abs(), min=max(floor * float(w.abs().max()), atol / rtol))
    if ref64 is not None:
        tol = tol + slack * (w - ref64.reshape(-1).to(torch.float64)).abs()
    err = (g - w).abs() / tol
    err = torch.where(torch.isnan(err), torch.full_like(err, float("inf")), err)
    i = int(torch.argmax(err))
    worst = float(err[i])
    return worst <= 1.0, worst, i, float(g[i]), float(w[i])


def compare_dirs(got_dir, want_dir, rtol=1e-5, floor=1.0, atol=1e-7, only=None, ref64_dir=None, slack=4.0,
                 given=False, skip=None):
    """Compares every tensor of WANT with the same name in GOT. given: WANT's given/X (the step
    from the writer's own gradients) is compared with GOT's X, in place of WANT's X."""
    gm, gt = read_dir(got_dir, "result.json")
    wm, wt = read_dir(want_dir, "result.json")
    rt = read_dir(ref64_dir, "result.json")[1] if ref64_dir else {}
    if given:
        for k in [k for k in wt if k.startswith("given/")]:
            wt[k[len("given/"):]] = wt.pop(k)
            if k in rt:
                rt[k[len("given/"):]] = rt[k]
    else:
        for k in [k for k in wt if k.startswith("given/")]:
            del wt[k]
    failures = []
    lines = []
    for name in sorted(wt):
        if only and not any(name.startswith(p) for p in only):
            continue
        if skip and any(name.startswith(p) for p in skip):
            continue
        if name not in gt:
            failures.append(name)
            lines.append("MISSING %s" % name)
            continue
        if list(gt[name].shape) != list(wt[name].shape):
            failures.append(name)
            lines.append("SHAPE   %s: got %s, want %s" % (name, list(gt[name].shape), list(wt[name].shape)))
            continue
        ok, worst, i, gv, wv = compare_tensors(gt[name], wt[name], rtol, floor, atol, rt.get(name), slack)
        idx = list(np.unravel_index(i, tuple(wt[name].shape))) if i >= 0 and wt[name].dim() else []
        lines.append("%s %s: worst %.3g x tol at %s (got %.9g, want %.9g)"
                     % ("ok     " if ok else "MISMATCH", name, worst, [int(v) for v in idx], gv, wv))
        if not ok:
            failures.append(name)
    for key in ("cross_entropy", "penalty", "loss"):
        if key in wm and (not only or any(key.startswith(p) for p in only)):
            g, w = float(gm.get(key, float("nan"))), float(wm[key])
            ok = abs(g - w) <= rtol * max(abs(w), atol / rtol)
            lines.append("%s %s: got %.9g, want %.9g" % ("ok     " if ok else "MISMATCH", key, g, w))
            if not ok:
                failures.append(key)
    return failures, lines


# ----------------------------------------------------------------------------------------------
# Synthetic cases

BUILTIN = {
    # a small LeNet-like net: conv (no BN) + pool, conv with BN (padding 1, no pool), gated dense
    # after a conv (exercises the H*W penalty factor), classifier.
    "tiny": {"name": "tiny", "input": [1, 12, 12], "layers": [
        {"type": "conv", "width": 4, "kernel": 3, "padding": 0, "batch_norm": False, "pool": True, "gated": True},
        {"type": "conv", "width": 6, "kernel": 3, "padding": 1, "batch_norm": True, "pool": False, "gated": True},
        {"type": "dense", "width": 8, "gated": True, "relu": True},
        {"type": "dense", "width": 3, "gated": False, "relu": False}]},
    "lenet5": {"name": "lenet5", "input": [1, 28, 28], "layers": [
        {"type": "conv", "width": 20, "kernel": 5, "padding": 0, "batch_norm": False, "pool": True, "gated": True},
        {"type": "conv", "width": 50, "kernel": 5, "padding": 0, "batch_norm": False, "pool": True, "gated": True},
        {"type": "dense", "width": 500, "gated": True, "relu": True},
        {"type": "dense", "width": 10, "gated": False, "relu": False}]},
}


def vgg_spec(name, mult):
    cfg = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]
    layers = []
    for i, c in enumerate(cfg):
        if c == 0:
            continue
        pool = i + 1 < len(cfg) and cfg[i + 1] == 0
        layers.append({"type": "conv", "width": max(1, int(round(c * mult))), "kernel": 3, "padding": 1,
                       "batch_norm": True, "pool": pool, "gated": True})
    layers.append({"type": "dense", "width": 10, "gated": False, "relu": False})
    return {"name": name, "input": [3, 32, 32], "layers": layers}


BUILTIN["vgg-narrow"] = vgg_spec("vgg-narrow", 0.125)


def make_case(directory, arch_name="tiny", kind="dep-forward", batch=4, seed=0, opt_state=False,
              hyper=None):
    rng = np.random.default_rng(seed)
    spec = BUILTIN[arch_name]
    arch = Arch(spec)
    h = {"lambda": 0.05 if arch_name == "tiny" else 1e-4, "weight_lr": 0.05, "momentum": 0.9,
         "weight_decay": 5e-4, "gate_lr": 1e-3}
    h.update(hyper or {})
    tensors = {}

    def uni(shape, fan_in):
        b = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-b, b, size=shape).astype(np.float32)

    for k, s in arch.weight_shapes().items():
        layer = arch.layers[int(k[5:k.index(".")])]
        if k.endswith("bn.gamma"):
            tensors[k] = rng.uniform(0.5, 1.5, size=s).astype(np.float32)
        elif k.endswith("bn.beta"):
            tensors[k] = rng.normal(0, 0.2, size=s).astype(np.float32)
        else:
            tensors[k] = uni(s, layer.fan_in)
    for k, s in arch.buffer_shapes().items():
        tensors[k] = (rng.normal(0, 0.1, size=s) if k.endswith("mean")
                      else rng.uniform(0.5, 1.5, size=s)).astype(np.float32)
    if kind != "none":
        for k, s in arch.gate_shapes(kind, DEFAULT_HYPER["generator_input_dim"]).items():
            if k.startswith("gates.log_alpha"):
                # spread so that some gates are closed at test time and some samples clamp
                tensors[k] = rng.normal(0.5, 2.0, size=s).astype(np.float32)
            elif k.endswith(".bias"):
                tensors[k] = rng.normal(0.3, 1.0, size=s).astype(np.float32)
            else:
                tensors[k] = uni(s, s[1])
        u = rng.uniform(1e-6, 1 - 1e-6, size=(batch, sum(arch.gated_widths))).astype(np.float32)
        tensors["noise_u"] = u
    tensors["input"] = rng.uniform(0, 1, size=(batch, arch.in_channels, arch.in_h, arch.in_w)).astype(np.float32)
    tensors["labels"] = rng.integers(0, arch.classes, size=(batch,)).astype(np.int32)
    adam_steps = 0
    if opt_state:
        for k, s in arch.weight_shapes().items():
            tensors["sgd/" + k] = rng.normal(0, 0.01, size=s).astype(np.float32)
        if kind != "none":
            adam_steps = 7
            for k, s in arch.gate_shapes(kind, DEFAULT_HYPER["generator_input_dim"]).items():
                tensors["adam/%s.exp_avg" % k] = rng.normal(0, 1e-3, size=s).astype(np.float32)
                tensors["adam/%s.exp_avg_sq" % k] = rng.uniform(0, 1e-5, size=s).astype(np.float32)
    os.makedirs(directory, exist_ok=True)
    entries = []
    for k, a in tensors.items():
        dt = "int32" if a.dtype == np.int32 else "float32"
        a.astype("<i4" if dt == "int32" else "<f4").tofile(os.path.join(directory, file_name(k)))
        entries.append({"name": k, "file": file_name(k), "shape": list(a.shape), "dtype": dt})
    case = {"format": CASE_FORMAT, "version": FORMAT_VERSION, "architecture": spec, "gates": kind,
            "hyper": h, "adam_steps": adam_steps, "batch_size": batch, "tensors": entries}
    with open(os.path.join(directory, "case.json"), "w") as f:
        json.dump(case, f, indent=1)


# ----------------------------------------------------------------------------------------------
# Self-test on synthetic cases

def prune_and_run(arch, mth, ws, bs, las, x):
    """Compact network per DESIGN: drop z = 0 channels, fold z into BN affine (or weights)."""
    zs = [mth.deterministic(a) for a in las]
    h = x
    n = x.shape[0]
    prev_keep = torch.arange(arch.in_channels)
    g = 0
    for l in arch.layers:
        p = "layer%d." % l.index
        if l.gated:
            z = zs[g]
            g += 1
            keep = torch.nonzero(z > 0).reshape(-1)
            if keep.numel() == 0:
                keep = torch.tensor([0])
            scale = z[keep]
        else:
            keep = torch.arange(l.width)
            scale = torch.ones(l.width, dtype=x.dtype)
        W = ws[p + "weight"][keep]
        if l.type == "conv":
            W = W[:, prev_keep]
            fold_bn = l.batch_norm
            if not fold_bn:
                W = W * scale.reshape(-1, 1, 1, 1)
            b = ws.get(p + "bias")
            b = None if b is None else b[keep] * (1 if fold_bn else scale)
            h = F.conv2d(h, W, b, padding=l.padding)
            if l.batch_norm:
                h = F.batch_norm(h, bs[p + "bn.running_mean"][keep], bs[p + "bn.running_var"][keep],
                                 ws[p + "bn.gamma"][keep] * scale, ws[p + "bn.beta"][keep] * scale,
                                 training=False, eps=mth.h["bn_eps"])
        else:
            cols = (prev_keep.reshape(-1, 1) * l.spatial + torch.arange(l.spatial).reshape(1, -1)).reshape(-1)
            W = W[:, cols] * scale.reshape(-1, 1)
            h = F.linear(h.reshape(n, -1), W, ws[p + "bias"][keep] * scale)
        if l.relu:
            h = F.relu(h)
        if l.pool:
            h = F.max_pool2d(h, 2, 2)
        prev_keep = keep
    return h


def selftest():
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    tmp = tempfile.mkdtemp(prefix="dep-l0-oracle-")
    problems = []

    def check(cond, msg):
        print(("  ok    " if cond else "  FAIL  ") + msg)
        if not cond:
            problems.append(msg)

    def worst_of(a, b, floor, skip=(), ref=None):
        rows = [(compare_tensors(a[k], b[k].float(), 1e-5, floor, 1e-7, None if ref is None else ref[k])[1], k)
                for k in b if not k.startswith(skip)]
        return max(rows) if rows else (0.0, "-")

    # Adam's first step maps a gradient at rounding-noise level to +-lr: compared via given/ only.
    amplified = ("after/gates.", "given/after/gates.")
    try:
        configs = [("tiny", k, o, 8) for k in GATE_KINDS for o in (False, True)]
        configs += [("lenet5", k, False, 8) for k in ("hc", "dep-forward", "dep-backward")]
        configs += [("vgg-narrow", k, False, 4) for k in ("dep-forward", "hc")]
        for arch_name, kind, opt, batch in configs:
            tag = "%s/%s%s/batch%d" % (arch_name, kind, "/opt-state" if opt else "", batch)
            print(tag)
            base = os.path.join(tmp, tag.replace("/", "_"))
            case, outd = os.path.join(base, "case"), os.path.join(base, "out")
            make_case(case, arch_name, kind, batch=batch, seed=len(tag), opt_state=opt)
            scalars, out = oracle(case, outd)
            check(all(bool(torch.isfinite(v).all()) for v in out.values()), "all %d outputs finite" % len(out))
            gnames = [k for k in out if k.startswith("grad/")]
            check(all(float(out[k].abs().max()) > 0 for k in gnames),
                  "every gradient non-zero (%d tensors)" % len(gnames))
            meta, tensors, kind_, hyper = load_case(case)
            arch = Arch(meta["architecture"])
            # 1. float32 vs float64: how much of the 1e-5 budget the oracle's own rounding uses.
            s64, o64 = run_step(meta, tensors, kind_, hyper, dtype=torch.float64)
            we, ne = worst_of(out, o64, 1e-2, amplified)
            wn, nn_ = worst_of(out, o64, 1.0, amplified)
            msg = ("float32 vs float64: element-wise (floor 1e-2) %.3g x tol at %s; max-relative %.3g x tol at %s"
                   % (we, ne, wn, nn_))
            if arch_name == "vgg-narrow":
                print("  info  " + msg + " (BN in training mode on tiny maps: see docs/oracle-format.md)")
            else:
                check(wn <= 1.0, msg)
            # 1b. two float32 PyTorch configurations (oneDNN off, 1 thread): an estimate of the
            # float32 noise a Java-vs-oracle comparison of this case will see.
            threads, mkldnn = torch.get_num_threads(), torch.backends.mkldnn.enabled
            try:
                torch.set_num_threads(1)
                torch.backends.mkldnn.enabled = False
                _, o_alt = run_step(meta, tensors, kind_, hyper)
            finally:
                torch.set_num_threads(threads)
                torch.backends.mkldnn.enabled = mkldnn
            ae, an = worst_of(o_alt, out, 1e-2, amplified)
            aw, awn = worst_of(o_alt, out, 1.0, amplified)
            print("  info  float32 noise (oneDNN off, 1 thread): element-wise (floor 1e-2) %.3g x tol at %s; "
                  "max-relative %.3g x tol at %s" % (ae, an, aw, awn))
            # 2. gate after ReLU+pool (GatedNetwork's placement) computes the same function.
            sj, oj = run_step(meta, tensors, kind_, hyper, placement="after-pool")
            wj, nj = worst_of(oj, out, 1e-2, amplified, o64)
            check(wj <= 1.0, "gate after ReLU+pool == gate before ReLU: %.3g x tol at %s "
                  "(tol widened by 4x the oracle's float32 error)" % (wj, nj))
            # 3. the optimiser formulas equal torch.optim's SGD and Adam.
            worst = optim_crosscheck(meta, tensors, kind_, hyper, out)
            check(worst <= 1e-6, "SGD/Adam == torch.optim: worst abs diff %.3g" % worst)
            # 4. given gradients: the step from the case's grad/* equals the step from our own.
            t2 = dict(tensors)
            t2.update({k: out[k] for k in gnames})
            sg, og = run_step(meta, t2, kind_, hyper)
            pairs = [k for k in og if k.startswith(("after/", "sgd/", "adam/")) and ("given/" + k) in og]
            diff = max([float((og["given/" + k] - og[k]).abs().max()) for k in pairs] or [float("nan")])
            check(diff == 0.0, "step from given gradients == step from own gradients (%d tensors, max diff %.3g)"
                  % (len(pairs), diff))
            # 5. the compact network equals the deterministic-gate forward (before the step).
            if kind != "none":
                mth = Math(hyper, torch.float32)
                ws = {k: tensors[k] for k in arch.weight_shapes()}
                bs = {k: tensors[k] for k in arch.buffer_shapes()}
                gp = {k: tensors[k] for k in arch.gate_shapes(kind, 64)}
                comp = prune_and_run(arch, mth, ws, bs, mth.log_alphas(arch, kind, gp), tensors["input"])
                ok, worst, *_ = compare_tensors(comp, out["det_logits"], 1e-5, 1e-2, 1e-7)
                check(ok, "compact network == det_logits (open %s of %s): %.3g x tol"
                      % (scalars["open_channels"], arch.gated_widths, worst))
            # 6. a planted error (beta 0.7 instead of 2/3) is caught by --compare.
            if kind in ("dep-forward", "hc") and not opt:
                bad = os.path.join(base, "bad")
                s_b, o_b = run_step(meta, tensors, kind_, dict(hyper, beta=0.7))
                write_result(bad, s_b, o_b)
                fails, _ = compare_dirs(bad, outd)
                check(len(fails) > 0, "planted error beta=0.7 caught in %d tensors, e.g. %s" % (len(fails), fails[:3]))
                fails, _ = compare_dirs(outd, outd)
                check(not fails, "a result compared with itself passes")
            print("  ce %.6f penalty %.6f loss %.6f open %s of %s" % (
                scalars["cross_entropy"], scalars["penalty"], scalars["loss"], scalars["open_channels"],
                arch.gated_widths))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("selftest: %s" % ("PASSED" if not problems else "FAILED: %s" % problems))
    return 0 if not problems else 1


def optim_crosscheck(meta, tensors, kind, hyper, out):
    arch = Arch(meta["architecture"])
    worst = 0.0
    wn = list(arch.weight_shapes())
    gn = list(arch.gate_shapes(kind, int(hyper["generator_input_dim"]))) if kind != "none" else []
    ps = {k: torch.nn.Parameter(tensors[k].clone()) for k in wn + gn}
    for k in wn + gn:
        ps[k].grad = out["grad/" + k].clone()
    sgd = torch.optim.SGD([ps[k] for k in wn], lr=hyper["weight_lr"], momentum=hyper["momentum"],
                          weight_decay=hyper["weight_decay"])
    for k in wn:
        if ("sgd/" + k) in tensors:
            sgd.state[ps[k]]["momentum_buffer"] = tensors["sgd/" + k].clone()
    sgd.step()
    if gn:
        adam = torch.optim.Adam([ps[k] for k in gn], lr=hyper["gate_lr"],
                                betas=(hyper["adam_beta1"], hyper["adam_beta2"]), eps=hyper["adam_eps"])
        t0 = int(meta.get("adam_steps", 0))
        if t0 > 0:
            for k in gn:
                adam.state[ps[k]] = {"step": torch.tensor(float(t0)),
                                     "exp_avg": tensors["adam/%s.exp_avg" % k].clone(),
                                     "exp_avg_sq": tensors["adam/%s.exp_avg_sq" % k].clone()}
        adam.step()
    for k in wn + gn:
        worst = max(worst, float((ps[k].detach() - out["after/" + k]).abs().max()))
    return worst


# ----------------------------------------------------------------------------------------------

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="*")
    ap.add_argument("--compare", action="store_true", help="compare GOT_DIR WANT_DIR")
    ap.add_argument("--rtol", type=float, default=1e-5)
    ap.add_argument("--floor", type=float, default=1.0, help="relative floor: fraction of the tensor's max |want| "
                    "(1 = error relative to the tensor's largest element; smaller = closer to element-wise)")
    ap.add_argument("--ref64", default=None, help="with --compare: a float64 oracle result dir; widens each "
                    "element's tolerance by --slack x |WANT - REF64| (the oracle's own float32 error)")
    ap.add_argument("--slack", type=float, default=4.0)
    ap.add_argument("--skip", default=None, help="comma-separated name prefixes not to compare")
    ap.add_argument("--given", action="store_true", help="with --compare: check GOT's after/, sgd/, adam/ "
                    "against WANT's given/ versions (the oracle's step from the case's grad/ tensors)")
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"),
                    help="compute in this precision (the result files are float32 either way)")
    ap.add_argument("--atol", type=float, default=1e-7, help="absolute floor")
    ap.add_argument("--only", default=None, help="comma-separated name prefixes to compare")
    ap.add_argument("--make-case", action="store_true", help="write a synthetic case to DIR")
    ap.add_argument("--arch", default="tiny", choices=sorted(BUILTIN))
    ap.add_argument("--gates", default="dep-forward", choices=GATE_KINDS)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opt-state", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.selftest:
            return selftest()
        if a.make_case:
            if len(a.dirs) != 1:
                ap.error("--make-case needs DIR")
            make_case(a.dirs[0], a.arch, a.gates, a.batch, a.seed, a.opt_state)
            return 0
        if a.compare:
            if len(a.dirs) != 2:
                ap.error("--compare needs GOT_DIR WANT_DIR")
            fails, lines = compare_dirs(a.dirs[0], a.dirs[1], a.rtol, a.floor, a.atol,
                                        a.only.split(",") if a.only else None, a.ref64, a.slack,
                                        a.given, a.skip.split(",") if a.skip else None)
            print("\n".join(lines))
            print("%d mismatches%s" % (len(fails), (": " + ", ".join(fails)) if fails else ""))
            return 1 if fails else 0
        if len(a.dirs) != 2:
            ap.error("expected IN_DIR OUT_DIR")
        scalars, _ = oracle(a.dirs[0], a.dirs[1], torch.float64 if a.dtype == "float64" else torch.float32)
        print(json.dumps({k: scalars[k] for k in ("cross_entropy", "penalty", "loss", "open_channels")}))
        return 0
    except (CaseError, KeyError, FileNotFoundError, ValueError) as e:
        print("dep_l0_oracle: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
