#!/usr/bin/env python3
"""Make the TorchScript policy fixtures of tests/fixtures/torchscript/ (how they were made).

    /path/to/torch-venv/bin/python tools/make_torchscript_fixtures.py [--out tests/fixtures/torchscript]

NEEDS PyTorch (any recent build, run on the CPU; the committed files were made with torch 2.15.0 in a
scratch virtual environment). Torch is NOT a dependency of Tether and CI does not have it: CI
only converts the committed .pt files with tools/torchscript_policy_to_onnx.py (numpy + onnx) and
compares onnxruntime on the result with the actions torch gave, stored next to them
(tests/peers/torchscript_check.py, run by tests/cli.sh).

It builds our own tiny policies, with fixed seeds, exported the way the usual exporters do:

  lstm_elu.pt  legged_gym's PolicyExporterLSTM: LSTM(6 -> 8, 1 layer) as `memory`, actor MLP
               8 -> 16 -> 3 with ELU, hidden/cell state in buffers inside the module, a
               `reset_memory` method, torch.jit.script + save;
  gru_norm.pt  rsl_rl's _TorchPolicyExporter for a GRU: an EmpiricalNormalization-like
               `normalizer` (_mean, _var, _std buffers, eps 0.01, non-trivial statistics), GRU(6 ->
               8, 2 layers) as `rnn`, actor 8 -> 16 -> 3 with ELU, hidden state buffer, `reset`;
  mlp_elu.pt   a feed-forward actor: nn.Sequential 6 -> 16 -> 16 -> 3 with ELU, torch.jit.trace.

For each, NAME.json holds a fixed 30-step observation sequence and torch's actions step by step,
from the saved module reloaded with torch.jit.load and called once per observation (the state
carried inside the module, as a deployment would run it), starting from its zero state.
"""

from __future__ import annotations

import argparse
import json
import os

import torch
from torch import nn

OBS, HIDDEN, ACT, STEPS = 6, 8, 3, 30


def actor_mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ELU())
    return nn.Sequential(*layers)


class PolicyExporterLSTM(nn.Module):
    """legged_gym.utils.helpers.PolicyExporterLSTM, with the actor and memory built here."""

    def __init__(self, actor, memory):
        super().__init__()
        self.actor = actor
        self.is_recurrent = True
        self.memory = memory
        self.register_buffer("hidden_state", torch.zeros(memory.num_layers, 1, memory.hidden_size))
        self.register_buffer("cell_state", torch.zeros(memory.num_layers, 1, memory.hidden_size))

    def forward(self, x):
        out, (h, c) = self.memory(x.unsqueeze(0), (self.hidden_state, self.cell_state))
        self.hidden_state[:] = h
        self.cell_state[:] = c
        return self.actor(out.squeeze(0))

    @torch.jit.export
    def reset_memory(self):
        self.hidden_state[:] = 0.0
        self.cell_state[:] = 0.0


class EmpiricalNormalization(nn.Module):
    """rsl_rl.modules.normalizer.EmpiricalNormalization's buffers and forward (eval mode)."""

    def __init__(self, shape, eps: float = 1e-2):
        super().__init__()
        self.eps = eps
        self.register_buffer("_mean", torch.zeros(shape).unsqueeze(0))
        self.register_buffer("_var", torch.ones(shape).unsqueeze(0))
        self.register_buffer("_std", torch.ones(shape).unsqueeze(0))
        self.register_buffer("count", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        return (x - self._mean) / (self._std + self.eps)


class TorchPolicyExporterGRU(nn.Module):
    """rsl_rl.utils.exporter._TorchPolicyExporter's GRU path (forward_gru as forward)."""

    def __init__(self, actor, rnn, normalizer):
        super().__init__()
        self.is_recurrent = True
        self.actor = actor
        self.rnn = rnn
        self.normalizer = normalizer
        self.register_buffer("hidden_state", torch.zeros(rnn.num_layers, 1, rnn.hidden_size))

    def forward(self, x):
        x = self.normalizer(x)
        x, h = self.rnn(x.unsqueeze(0), self.hidden_state)
        self.hidden_state[:] = h
        x = x.squeeze(0)
        return self.actor(x)

    @torch.jit.export
    def reset(self):
        self.hidden_state[:] = 0.0


def observations():
    """30 steps [1, 6]: smooth signals plus noise, a few large ones (fixed seed)."""
    g = torch.Generator().manual_seed(1234)
    t = torch.arange(STEPS, dtype=torch.float32)[:, None]
    obs = torch.sin(0.3 * t + torch.arange(OBS, dtype=torch.float32)) + 0.5 * torch.randn(STEPS, OBS, generator=g)
    obs[[9, 19, 29]] *= 4.0
    return obs


def build(name):
    torch.manual_seed({"lstm_elu": 1, "gru_norm": 2, "mlp_elu": 3}[name])
    if name == "lstm_elu":
        m = PolicyExporterLSTM(actor_mlp([HIDDEN, 16, ACT]), nn.LSTM(OBS, HIDDEN, num_layers=1))
        return torch.jit.script(m.eval()), "legged_gym PolicyExporterLSTM, torch.jit.script"
    if name == "gru_norm":
        norm = EmpiricalNormalization(OBS)
        with torch.no_grad():  # statistics as if trained
            norm._mean.copy_(0.3 * torch.randn(1, OBS))
            norm._var.copy_(0.2 + torch.rand(1, OBS) ** 2 * 2)
            norm._std.copy_(norm._var.sqrt())
            norm.count.fill_(12345)
        m = TorchPolicyExporterGRU(actor_mlp([HIDDEN, 16, ACT]), nn.GRU(OBS, HIDDEN, num_layers=2), norm)
        return torch.jit.script(m.eval()), "rsl_rl _TorchPolicyExporter (GRU, normalizer), torch.jit.script"
    m = actor_mlp([OBS, 16, 16, ACT]).eval()
    return torch.jit.trace(m, torch.zeros(1, OBS)), "nn.Sequential, torch.jit.trace"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torchscript"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    obs = observations()
    for name in ("lstm_elu", "gru_norm", "mlp_elu"):
        module, how = build(name)
        path = os.path.join(a.out, f"{name}.pt")
        module.save(path)
        loaded = torch.jit.load(path)  # run the file as saved, state carried inside it
        actions = []
        with torch.no_grad():
            for t in range(STEPS):
                actions.append(loaded(obs[t:t + 1])[0].tolist())
        record = {
            "policy": f"{name}.pt",
            "made_by": "tools/make_torchscript_fixtures.py",
            "exported_as": how,
            "torch": torch.__version__,
            "note": "actions: the saved module reloaded with torch.jit.load, called once per "
                    "observation from its zero state, state carried inside the module",
            "observations": obs.tolist(),
            "actions": actions,
        }
        with open(os.path.join(a.out, f"{name}.json"), "w") as f:
            json.dump(record, f, indent=None)
            f.write("\n")
        print(f"wrote {path} ({os.path.getsize(path)} bytes), {name}.json: {how}")


if __name__ == "__main__":
    main()
