"""The PyTorch baseline of `l0stream bench model --vs-torch`.

The same LeNet-5-Caffe training steps as l0stream's L0Trainer -- dense, and Dep-L0 (forward chain) --
written the way a PyTorch user would write them (nn.Module, autograd, torch.optim), on the batches
the benchmark hands over, at the same batch size and intra-op thread count. The Java side drives it
step by step over stdin, interleaved with its own arms, so machine noise hits both alike; each step
is timed here, around the step only (the pipe is not counted).

Protocol: argv[1] is a JSON object (threads, batch, batches, dir, weight_lr, momentum, weight_decay,
gate_lr, lambda, beta, gamma, zeta, log_alpha_scale, generator_input_dim, seed); dir holds x.bin
(float32 little-endian, batches x batch x 1 x 28 x 28) and y.bin (int32, batches x batch). Then one
command a line on stdin: "dense K" or "dep K" (train one step on batch K) answered by one line with
the step's seconds; "quit" ends it. The first line written is "ready <torch version> <threads>".
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    """conv 20@5x5 + ReLU + pool, conv 50@5x5 + ReLU + pool, fc 500 + ReLU, fc 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(50 * 4 * 4, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x, gates=None):
        # gates (one per gated layer, n x width) multiply after ReLU and pooling, as l0stream's GatedNetwork
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        if gates is not None:
            h = h * gates[0][:, :, None, None]
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        if gates is not None:
            h = h * gates[1][:, :, None, None]
        h = F.relu(self.fc1(h.flatten(1)))
        if gates is not None:
            h = h * gates[2]
        return self.fc2(h)


class DepGates(nn.Module):
    """Dep-L0's gate generator: h0 = ones(d), h_l = s * tanh(W_l h_{l-1} + b_l), log alpha_l = h_l (forward chain)."""

    def __init__(self, widths, d, scale):
        super().__init__()
        self.d = d
        self.scale = scale
        dims = [d] + list(widths)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        for l in self.layers:
            nn.init.normal_(l.bias, 3.0, 0.01)

    def forward(self):
        h = torch.ones(self.d)
        out = []
        for l in self.layers:
            h = self.scale * torch.tanh(l(h))
            out.append(h)
        return out


class DepL0:
    def __init__(self, cfg):
        self.cfg = cfg
        self.net = LeNet()
        self.gates = DepGates([20, 50, 500], cfg["generator_input_dim"], cfg["log_alpha_scale"])
        self.sgd = torch.optim.SGD(self.net.parameters(), lr=cfg["weight_lr"], momentum=cfg["momentum"],
                                   weight_decay=cfg["weight_decay"])
        self.adam = torch.optim.Adam(self.gates.parameters(), lr=cfg["gate_lr"])
        b, g, z = cfg["beta"], cfg["gamma"], cfg["zeta"]
        self.shift = b * math.log(-g / z)
        # per-layer penalty weight: k^2 (conv) or the flattened map's H*W (fc after conv), parameter-count weighting
        self.k2 = [25.0, 25.0, 16.0]

    def step(self, x, y):
        c = self.cfg
        log_alphas = self.gates()
        n = x.shape[0]
        zs = []
        for la in log_alphas:
            u = torch.rand(n, la.shape[0]).clamp_(1e-6, 1 - 1e-6)
            s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + la) / c["beta"])
            zs.append(torch.clamp(s * (c["zeta"] - c["gamma"]) + c["gamma"], 0.0, 1.0))
        logits = self.net(x, zs)
        loss = F.cross_entropy(logits, y)
        open_in = torch.tensor(1.0)
        penalty = torch.zeros(())
        for la, k2 in zip(log_alphas, self.k2):
            open_out = torch.sigmoid(la - self.shift).sum()
            penalty = penalty + c["lambda"] * k2 * open_in * open_out
            open_in = open_out
        total = loss + penalty
        self.sgd.zero_grad(set_to_none=True)
        self.adam.zero_grad(set_to_none=True)
        total.backward()
        self.sgd.step()
        self.adam.step()
        return total.item()


class Dense:
    def __init__(self, cfg):
        self.net = LeNet()
        self.sgd = torch.optim.SGD(self.net.parameters(), lr=cfg["weight_lr"], momentum=cfg["momentum"],
                                   weight_decay=cfg["weight_decay"])

    def step(self, x, y):
        loss = F.cross_entropy(self.net(x), y)
        self.sgd.zero_grad(set_to_none=True)
        loss.backward()
        self.sgd.step()
        return loss.item()


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(int(cfg["threads"]))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set
    torch.manual_seed(int(cfg["seed"]))
    nb, bs = int(cfg["batches"]), int(cfg["batch"])
    xs = torch.from_numpy(np.fromfile(os.path.join(cfg["dir"], "x.bin"), dtype="<f4").reshape(nb, bs, 1, 28, 28).copy())
    ys = torch.from_numpy(np.fromfile(os.path.join(cfg["dir"], "y.bin"), dtype="<i4").reshape(nb, bs).astype(np.int64))
    arms = {"dense": Dense(cfg), "dep": DepL0(cfg)}
    print("ready %s %d" % (torch.__version__, torch.get_num_threads()), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        arm, k = arms[parts[0]], int(parts[1])
        t0 = time.perf_counter()
        arm.step(xs[k], ys[k])
        print("%.9f" % (time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
