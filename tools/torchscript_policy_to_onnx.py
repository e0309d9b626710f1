#!/usr/bin/env python3
"""Convert an rsl_rl-style TorchScript policy (or an rsl_rl checkpoint) to ONNX without PyTorch.

    tools/torchscript_policy_to_onnx.py POLICY.pt OUT.onnx [--activation elu] [--verify 200]

What it reads. A `.pt` file written by `torch.jit.save` (legged_gym / unitree_rl_gym's
`PolicyExporterLSTM`, rsl_rl's and Isaac Lab's `_TorchPolicyExporter`, a scripted or traced
`nn.Sequential`) or by `torch.save` (an rsl_rl `model_*.pt` checkpoint with `model_state_dict`) is
a zip archive: `<root>/data.pkl` holds the object tree, `<root>/data/N` the raw tensor storages,
and, for TorchScript, `<root>/code/` the modules' TorchScript source. The pickle is loaded with
an unpickler that only rebuilds tensors (as numpy arrays), ordered dicts and placeholder objects
for the TorchScript module classes; it imports and runs nothing from the file.

What it looks for.
  * memory: an LSTM or GRU (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`,
    k = 0 .. layers-1); single direction, no projection;
  * actor: the `Linear` layers of the actor `Sequential` with the activation between them, read
    from the module classes (and their constants, e.g. ELU's alpha, from `code/`); a checkpoint
    has no classes, so there the activation comes from `--activation` (rsl_rl's default is elu);
  * an observation normalizer (rsl_rl's `EmpiricalNormalization`: `_mean`, `_std`, `eps`), applied
    as (obs - mean) / (std + eps) before the memory, as the exporters do.

What it writes (rsl_rl's export convention, which Tether runs; docs/recurrent.md):
  LSTM: inputs obs [1, n], h_in [L, 1, H], c_in [L, 1, H] -> actions [1, m], h_out, c_out
  GRU:  inputs obs [1, n], h_in [L, 1, H]                 -> actions [1, m], h_out
  none: input  obs [1, n]                                 -> actions [1, m]
using the ONNX LSTM/GRU operators with the gates reordered (PyTorch LSTM i, f, g, o -> ONNX
i, o, f, c; PyTorch GRU r, z, n -> ONNX z, r, h with linear_before_reset = 1), opset 17.

--verify N runs the written model with onnxruntime (if installed) over N steps of random
observations, state fed back, against a numpy implementation of PyTorch's LSTM/GRU/Linear
formulas on the extracted weights, and exits 1 if they differ by more than 1e-4.

Needs numpy and onnx (onnxruntime only for --verify). No PyTorch.
"""

from __future__ import annotations

import argparse
import collections
import io
import pickle
import re
import sys
import zipfile

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # pragma: no cover
    sys.exit("error: this tool needs the 'onnx' package (pip install onnx)")


class ConversionError(Exception):
    pass


# --------------------------------------------------------------------------- reading the archive

_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": None, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES.get(name)


class ScriptObject:
    """Placeholder for a pickled TorchScript module (or any class this tool does not know)."""

    def __init__(self, *args, **kwargs):
        self.__dict__["_state"] = {}
        self.__dict__["_args"] = args

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}
        if isinstance(state, dict):
            self.__dict__["_state"] = dict(state)
        else:
            self.__dict__["_state"] = {"__state__": state}

    @property
    def qualname(self):
        return type(self).__qualname_full__


def _placeholder_class(module, name):
    full = f"{module}.{name}"
    return type(name, (ScriptObject,), {"__qualname_full__": full})


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    if storage is None:
        raise ConversionError("a tensor refers to a storage this tool cannot read")
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) == 0:
        return np.array(storage[storage_offset])
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[storage_offset:], shape=size,
                                           strides=tuple(s * item for s in stride))
    return np.array(view)  # copy: contiguous and writable


def _rebuild_parameter(data, requires_grad=None, backward_hooks=None, *unused):
    return data


class _ArchiveUnpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, root: str):
        super().__init__(file)
        self.archive = archive
        self.root = root
        self.storages = {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        if module == "torch" and name in ("float32", "float64", "float16", "int64", "bool"):
            return name
        if module == "builtins" and name in ("set", "frozenset", "slice", "complex"):
            return {"set": set, "frozenset": frozenset, "slice": slice, "complex": complex}[name]
        # TorchScript module classes, and anything else (a checkpoint's optimizer state or training
        # infos): placeholders, never imported or executed.
        return _placeholder_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise ConversionError(f"unknown persistent id {pid!r} in the archive")
        _, stype, key, _location, numel = pid[:5]
        if isinstance(stype, str):  # newer torch: dtype given as a name
            stype = _StorageType(stype)
        if not isinstance(stype, _StorageType) or stype.dtype is None:
            raise ConversionError(f"storage {key} has a type this tool cannot read "
                                  f"({getattr(stype, 'name', stype)})")
        if key not in self.storages:
            raw = self.archive.read(f"{self.root}/data/{key}")
            arr = np.frombuffer(raw, dtype=np.dtype(stype.dtype).newbyteorder("<"))
            self.storages[key] = arr.astype(stype.dtype)
        return self.storages[key]


def load_archive(path):
    """Returns (object tree, {code file name: text}, root name)."""
    import os
    if not os.path.isfile(path):
        raise ConversionError(f"{path}: no such file")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise ConversionError(f"{path}: not a PyTorch zip archive ({e}); a legacy (pre-1.6) "
                              "torch.save file is not supported: re-save it with a current torch")
    names = zf.namelist()
    pkls = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if not pkls:
        raise ConversionError(f"{path}: no <root>/data.pkl in the archive "
                              f"(found {', '.join(names[:6])}{', ...' if len(names) > 6 else ''})")
    root = pkls[0].split("/")[0]
    bo = f"{root}/byteorder"
    if bo in names and zf.read(bo).strip() not in (b"little",):
        raise ConversionError(f"{path}: big-endian archives are not supported")
    with zf.open(pkls[0]) as f:
        data = f.read()
    try:
        obj = _ArchiveUnpickler(io.BytesIO(data), zf, root).load()
    except ConversionError:
        raise
    except Exception as e:
        raise ConversionError(f"{path}: cannot unpickle {pkls[0]}: {type(e).__name__}: {e}")
    code = {}
    for n in names:
        if n.startswith(f"{root}/code/") and n.endswith(".py"):
            code[n[len(root) + 1:]] = zf.read(n).decode("utf-8", "replace")
    return obj, code, root


# --------------------------------------------------------------------------- walking the tree

def _clean_qualname(q):
    # __torch__.torch.nn.modules.linear.___torch_mangle_0.Linear -> torch.nn.modules.linear.Linear
    q = re.sub(r"\.___torch_mangle_\d+", "", q)
    return q[len("__torch__."):] if q.startswith("__torch__.") else q


class Module:
    def __init__(self, path, kind, qualname=None):
        self.path = path          # dotted path, "" for the root
        self.kind = kind          # class name (Linear, LSTM, ELU, Sequential, ...)
        self.qualname = qualname  # full class name when known
        self.tensors = collections.OrderedDict()
        self.values = {}          # non-tensor attributes (floats, ints, strings)
        self.children = collections.OrderedDict()


def tree_from_script(obj, path=""):
    q = _clean_qualname(type(obj).__qualname_full__)
    m = Module(path, q.split(".")[-1], q)
    for k, v in obj._state.items():
        if isinstance(v, ScriptObject):
            m.children[k] = tree_from_script(v, f"{path}.{k}" if path else k)
        elif isinstance(v, np.ndarray):
            m.tensors[k] = v
        elif isinstance(v, (int, float, str, bool)) or v is None:
            m.values[k] = v
    return m


def tree_from_state_dict(sd):
    """A flat {dotted name: array} state dict as a module tree (kinds unknown: None)."""
    root = Module("", None)
    for name, v in sd.items():
        if not isinstance(v, np.ndarray):
            continue
        parts = name.split(".")
        m = root
        for i, p in enumerate(parts[:-1]):
            if p not in m.children:
                m.children[p] = Module(".".join(parts[:i + 1]), None)
            m = m.children[p]
        m.tensors[parts[-1]] = v
    return root


def walk(m):
    yield m
    for c in m.children.values():
        yield from walk(c)


# --------------------------------------------------------------------------- activations

ACTIVATIONS = {  # class name -> (ONNX op, PyTorch default attributes)
    "ELU": ("Elu", {"alpha": 1.0}),
    "ReLU": ("Relu", {}),
    "Tanh": ("Tanh", {}),
    "Sigmoid": ("Sigmoid", {}),
    "LeakyReLU": ("LeakyRelu", {"alpha": 0.01}),
    "SELU": ("Selu", {"alpha": 1.6732632423543772, "gamma": 1.0507009873554805}),
    "Softsign": ("Softsign", {}),
    "SiLU": ("SiLU", {}),
    "Identity": (None, {}),
}
_OPTION_ACTIVATIONS = {"elu": "ELU", "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid",
                       "leaky_relu": "LeakyReLU", "lrelu": "LeakyReLU", "selu": "SELU", "silu": "SiLU"}


def _class_constants(code, qualname, kind):
    """Final constants (`alpha : Final[float] = 1.`) of one class in the archive's code/."""
    consts = {}
    for text in code.values():
        for cm in re.finditer(r"^class (\w+)\(Module\):\n((?:[ \t]+.*\n|\n)*)", text, re.M):
            if cm.group(1) != kind:
                continue
            body = cm.group(2)
            fwd = re.search(r"def forward\(self: ([\w.]+)", body)
            if fwd and qualname and _clean_qualname(fwd.group(1)) != qualname:
                continue
            for km in re.finditer(r"^\s+(\w+) : Final\[(?:float|int)\] = ([-\d.eE+]+)", body, re.M):
                consts[km.group(1)] = float(km.group(2))
    return consts


def activation_from_module(mod, code):
    op, defaults = ACTIVATIONS[mod.kind]
    attrs = dict(defaults)
    consts = {**_class_constants(code, mod.qualname, mod.kind), **{k: v for k, v in mod.values.items()
                                                                   if isinstance(v, (int, float))}}
    if mod.kind == "ELU" and "alpha" in consts:
        attrs["alpha"] = float(consts["alpha"])
    if mod.kind == "LeakyReLU" and "negative_slope" in consts:
        attrs["alpha"] = float(consts["negative_slope"])
    if mod.kind == "ELU" and not consts.get("alpha"):
        attrs["_note"] = "alpha not found in code/, PyTorch's default 1.0 used"
    return mod.kind, op, attrs


# --------------------------------------------------------------------------- finding the parts

class Policy:
    def __init__(self):
        self.memory = None        # ("LSTM"|"GRU", [(w_ih, w_hh, b_ih, b_hh), ...], H, path)
        self.layers = []          # [("linear", W, b, path) | ("act", kind, op, attrs, path)]
        self.normalizer = None    # (mean, std, eps, path)
        self.notes = []


def _rnn_layers(mod, kind_hint=None):
    t = mod.tensors
    if "weight_ih_l0" not in t:
        return None
    if any(k.endswith("_reverse") for k in t):
        raise ConversionError(f"'{mod.path}': bidirectional recurrent layers are not supported")
    if any(k.startswith("weight_hr_l") for k in t):
        raise ConversionError(f"'{mod.path}': LSTM with projections (proj_size > 0) is not supported")
    layers = []
    k = 0
    while f"weight_ih_l{k}" in t:
        w_ih, w_hh = t[f"weight_ih_l{k}"], t[f"weight_hh_l{k}"]
        H = w_hh.shape[1]
        b_ih = t.get(f"bias_ih_l{k}", np.zeros(w_ih.shape[0], np.float32))
        b_hh = t.get(f"bias_hh_l{k}", np.zeros(w_hh.shape[0], np.float32))
        layers.append((w_ih.astype(np.float32), w_hh.astype(np.float32),
                       b_ih.astype(np.float32), b_hh.astype(np.float32)))
        k += 1
    H = layers[0][1].shape[1]
    gates = layers[0][1].shape[0] // H
    kind = mod.kind if mod.kind in ("LSTM", "GRU") else {4: "LSTM", 3: "GRU"}.get(gates)
    if kind is None or mod.kind not in (None, "LSTM", "GRU"):
        raise ConversionError(f"'{mod.path}': a recurrent module of type {mod.kind or '?'} "
                              f"({gates} gates) is not supported (LSTM or GRU only)")
    want = 4 if kind == "LSTM" else 3
    for i, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
        if w_hh.shape != (want * H, H) or w_ih.shape[0] != want * H or b_ih.shape != (want * H,) \
                or b_hh.shape != (want * H,):
            raise ConversionError(f"'{mod.path}' layer {i}: unexpected {kind} weight shapes "
                                  f"{w_ih.shape}, {w_hh.shape}, {b_ih.shape}, {b_hh.shape}")
        if i > 0 and w_ih.shape[1] != H:
            raise ConversionError(f"'{mod.path}' layer {i}: input size {w_ih.shape[1]} != hidden {H}")
    return kind, layers, H


def _pick(candidates, what, names):
    """One module among candidates, preferring the given attribute names."""
    if not candidates:
        return None
    for n in names:
        for c in candidates:
            if c.path.split(".")[-1] == n or c.path == n:
                return c
    if len(candidates) == 1:
        return candidates[0]
    raise ConversionError(f"several {what} found ({', '.join(c.path or '<root>' for c in candidates)}) "
                          f"and none is named {' or '.join(names)}: cannot tell which one the policy uses")


def _sequential_layers(seq, code, activation_option):
    layers = []
    items = sorted(seq.children.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 1 << 30)
    if any(not k.isdigit() for k, _ in items):
        raise ConversionError(f"'{seq.path}': expected a Sequential with numbered children, "
                              f"found {', '.join(k for k, _ in items)}")
    for key, child in items:
        if "weight" in child.tensors and (child.kind in (None, "Linear")) and child.tensors["weight"].ndim == 2:
            W = child.tensors["weight"].astype(np.float32)
            b = child.tensors.get("bias", np.zeros(W.shape[0], np.float32)).astype(np.float32)
            layers.append(("linear", W, b, child.path))
        elif child.kind in ACTIVATIONS:
            kind, op, attrs = activation_from_module(child, code)
            layers.append(("act", kind, op, attrs, child.path))
        elif child.kind is None and not child.tensors:
            pass
        else:
            raise ConversionError(f"'{child.path}': layer type {child.kind} is not supported "
                                  f"(Linear and {', '.join(k for k in ACTIVATIONS if k != 'Identity')})")
    if seq.kind is None:  # a state dict: the activations are not stored, insert them between Linears
        if activation_option is None:
            raise ConversionError(f"'{seq.path}': a checkpoint does not record the activation; "
                                  "give it with --activation (rsl_rl's default is elu)")
        kind = _OPTION_ACTIVATIONS[activation_option]
        op, attrs = ACTIVATIONS[kind]
        out = []
        for i, l in enumerate(layers):
            out.append(l)
            if i < len(layers) - 1:
                out.append(("act", kind, op, dict(attrs), f"{seq.path}.<act {i}>"))
        layers = out
    elif activation_option is not None:
        kinds = {l[1] for l in layers if l[0] == "act"}
        want = _OPTION_ACTIVATIONS[activation_option]
        if kinds and kinds != {want}:
            raise ConversionError(f"--activation {activation_option} contradicts the archive, whose "
                                  f"actor uses {', '.join(sorted(kinds))}")
    if not any(l[0] == "linear" for l in layers):
        raise ConversionError(f"'{seq.path}': no Linear layer in the actor")
    return layers


def analyse(obj, code, activation_option):
    pol = Policy()
    if isinstance(obj, ScriptObject) and "_modules" in obj._state:
        raise ConversionError("the archive holds a pickled nn.Module (torch.save(model)), not a TorchScript "
                              "module: export it with torch.jit.script + torch.jit.save, or save its state_dict")
    if isinstance(obj, ScriptObject):
        tree = tree_from_script(obj)
        pol.notes.append(f"TorchScript module {tree.qualname}")
    elif isinstance(obj, dict):
        sd = None
        for key in ("model_state_dict", "state_dict", "actor_critic", "model"):
            if isinstance(obj.get(key), dict):
                sd = obj[key]
                pol.notes.append(f"checkpoint: '{key}' read ({len(sd)} entries)")
                break
        if sd is None and all(isinstance(v, np.ndarray) for v in obj.values()):
            sd = obj
            pol.notes.append("plain state dict")
        if sd is None:
            raise ConversionError("a torch.save'd dict without a model state dict "
                                  f"(keys: {', '.join(map(str, obj.keys()))}); pickled nn.Module objects "
                                  "are not supported: convert a TorchScript export (torch.jit.save) or a "
                                  "checkpoint with 'model_state_dict'")
        tree = tree_from_state_dict(sd)
        for key in ("obs_norm_state_dict", "obs_normalizer"):
            if isinstance(obj.get(key), dict):
                n = tree_from_state_dict(obj[key])
                n.path = "obs_normalizer"
                tree.children["obs_normalizer"] = n
    else:
        raise ConversionError(f"the archive holds a {type(obj).__name__}, not a TorchScript module or a state "
                              "dict (a pickled nn.Module, torch.save(model), is not supported: export it with "
                              "torch.jit.script/torch.jit.save or save its state_dict)")

    mods = list(walk(tree))
    # memory: the actor's recurrent layer (rsl_rl: memory_a.rnn; exporters: memory or rnn)
    rnns = [m for m in mods if "weight_ih_l0" in m.tensors]
    rnns_actor = [m for m in rnns if not re.search(r"(^|\.)(memory_c|critic)", m.path)]
    rnn = _pick(rnns_actor, "recurrent layers", ["memory", "rnn", "memory_a.rnn"])
    if rnn is not None:
        kind, layers, H = _rnn_layers(rnn)
        pol.memory = (kind, layers, H, rnn.path)

    # actor: a Sequential named actor, else the root if it is a Sequential
    seqs = [m for m in mods if m.children and all(k.isdigit() for k in m.children)
            and m.kind in (None, "Sequential", "MLP")]  # rsl_rl 3 names its Sequential subclass MLP
    actor = _pick([m for m in seqs if m.path.split(".")[-1] in ("actor", "actor_mlp", "policy", "pi")
                   or m.path == ""], "actor networks", ["actor", ""])
    if actor is None:
        found = ", ".join(f"{m.path or '<root>'} ({m.kind or 'tensors'})" for m in mods[:12])
        raise ConversionError("no actor network found: expected a Sequential attribute named 'actor' "
                              f"(or a Sequential root); the archive has {found}")
    pol.layers = _sequential_layers(actor, code, activation_option)

    # normalizer: rsl_rl EmpiricalNormalization (_mean, _var, _std, count) on the actor's input
    norms = [m for m in mods if "_mean" in m.tensors and ("_std" in m.tensors or "_var" in m.tensors)
             and not re.search(r"critic", m.path)]
    norm = _pick(norms, "observation normalizers", ["normalizer", "obs_normalizer", "actor_obs_normalizer"])
    if norm is not None:
        mean = norm.tensors["_mean"].astype(np.float32).reshape(-1)
        std = norm.tensors["_std"] if "_std" in norm.tensors else np.sqrt(norm.tensors["_var"])
        std = std.astype(np.float32).reshape(-1)
        eps = norm.values.get("eps")
        if eps is None:
            eps = _class_constants(code, norm.qualname, norm.kind).get("eps")
        if eps is None:
            eps = 1e-2
            pol.notes.append("normalizer eps not stored; rsl_rl's default 0.01 used")
        pol.normalizer = (mean, std, float(eps), norm.path)
    other = [m for m in mods if ("running_mean" in m.tensors or "mean" in m.tensors) and m is not norm
             and not re.search(r"critic", m.path) and m.kind not in ("BatchNorm1d",)]
    if other:
        raise ConversionError(f"'{other[0].path}' looks like an observation normalizer of a kind this "
                              "tool does not know (expected rsl_rl's _mean/_std)")
    if any(m.kind in ("BatchNorm1d", "LayerNorm", "Dropout") for m in mods):
        raise ConversionError("the network has normalization/dropout layers this tool does not convert")

    # consistency of the shapes along the chain
    lin = [l for l in pol.layers if l[0] == "linear"]
    width = lin[0][1].shape[1]
    if pol.memory:
        kind, layers, H, path = pol.memory
        if width != H:
            raise ConversionError(f"the actor's first layer takes {width} inputs but the memory "
                                  f"'{path}' has hidden size {H}")
        n = layers[0][0].shape[1]
    else:
        n = width
    for a, b in zip(lin, lin[1:]):
        if b[1].shape[1] != a[1].shape[0]:
            raise ConversionError(f"'{b[3]}' takes {b[1].shape[1]} inputs but '{a[3]}' gives {a[1].shape[0]}")
    if pol.normalizer is not None and pol.normalizer[0].shape[0] != n:
        raise ConversionError(f"the normalizer has {pol.normalizer[0].shape[0]} entries, the policy "
                              f"input {n}")
    pol.n_obs = n
    pol.n_act = lin[-1][1].shape[0]
    if isinstance(obj, ScriptObject):
        for name in ("hidden_state", "cell_state"):
            t = tree.tensors.get(name)
            if t is not None and np.any(t != 0):
                pol.notes.append(f"the archive's {name} buffer is not zero (max |x| "
                                 f"{np.abs(t).max():.3g}): the ONNX model starts from the state given "
                                 "as input (Tether: zeros at each episode start)")
    return pol


# --------------------------------------------------------------------------- ONNX

def _reorder(w, kind, H):
    if kind == "LSTM":   # PyTorch i, f, g, o -> ONNX i, o, f, c
        i, f, g, o = (w[k * H:(k + 1) * H] for k in range(4))
        return np.concatenate([i, o, f, g], axis=0)
    r, z, n = (w[k * H:(k + 1) * H] for k in range(3))  # PyTorch r, z, n -> ONNX z, r, h
    return np.concatenate([z, r, n], axis=0)


def build_onnx(pol, producer="tether torchscript_policy_to_onnx"):
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    inputs = [helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, pol.n_obs])]
    outputs = [helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, pol.n_act])]
    x = "obs"
    if pol.normalizer is not None:
        mean, std, eps, _ = pol.normalizer
        nodes.append(helper.make_node("Sub", [x, const("norm_mean", mean.reshape(1, -1))], ["obs_centred"]))
        nodes.append(helper.make_node("Div", ["obs_centred", const("norm_den", (std + np.float32(eps)).reshape(1, -1))],
                                      ["obs_normalized"]))
        x = "obs_normalized"
    if pol.memory is not None:
        kind, layers, H, _ = pol.memory
        L = len(layers)
        inputs.append(helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [L, 1, H]))
        outputs.append(helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [L, 1, H]))
        if kind == "LSTM":
            inputs.append(helper.make_tensor_value_info("c_in", TensorProto.FLOAT, [L, 1, H]))
            outputs.append(helper.make_tensor_value_info("c_out", TensorProto.FLOAT, [L, 1, H]))
        const("axes0", np.array([0], np.int64))
        const("axes1", np.array([1], np.int64))
        nodes.append(helper.make_node("Unsqueeze", [x, "axes0"], ["seq_in_0"]))  # [1 step, 1 batch, n]
        seq = "seq_in_0"
        hs, cs = [], []
        for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
            W = const(f"rnn_W_l{k}", _reorder(w_ih, kind, H)[None])
            R = const(f"rnn_R_l{k}", _reorder(w_hh, kind, H)[None])
            B = const(f"rnn_B_l{k}", np.concatenate([_reorder(b_ih, kind, H), _reorder(b_hh, kind, H)])[None])
            if L == 1:
                h0, c0 = "h_in", "c_in"
            else:
                const(f"start_l{k}", np.array([k], np.int64))
                const(f"end_l{k}", np.array([k + 1], np.int64))
                h0, c0 = f"h_in_l{k}", f"c_in_l{k}"
                nodes.append(helper.make_node("Slice", ["h_in", f"start_l{k}", f"end_l{k}", "axes0"], [h0]))
                if kind == "LSTM":
                    nodes.append(helper.make_node("Slice", ["c_in", f"start_l{k}", f"end_l{k}", "axes0"], [c0]))
            if kind == "LSTM":
                nodes.append(helper.make_node("LSTM", [seq, W, R, B, "", h0, c0],
                                              [f"Y_l{k}", f"Yh_l{k}", f"Yc_l{k}"],
                                              hidden_size=H, direction="forward", name=f"lstm_l{k}"))
                cs.append(f"Yc_l{k}")
            else:
                nodes.append(helper.make_node("GRU", [seq, W, R, B, "", h0], [f"Y_l{k}", f"Yh_l{k}"],
                                              hidden_size=H, direction="forward", linear_before_reset=1,
                                              name=f"gru_l{k}"))
            hs.append(f"Yh_l{k}")
            # Y: [seq, num_directions, batch, H] -> [seq, batch, H] for the next layer
            nodes.append(helper.make_node("Squeeze", [f"Y_l{k}", "axes1"], [f"seq_in_{k + 1}"]))
            seq = f"seq_in_{k + 1}"
        if L == 1:
            nodes.append(helper.make_node("Identity", [hs[0]], ["h_out"]))
            if kind == "LSTM":
                nodes.append(helper.make_node("Identity", [cs[0]], ["c_out"]))
        else:
            nodes.append(helper.make_node("Concat", hs, ["h_out"], axis=0))
            if kind == "LSTM":
                nodes.append(helper.make_node("Concat", cs, ["c_out"], axis=0))
        nodes.append(helper.make_node("Squeeze", [seq, "axes0"], ["memory_out"]))  # [1, H]
        x = "memory_out"
    n_lin = sum(1 for l in pol.layers if l[0] == "linear")
    seen = 0
    for i, l in enumerate(pol.layers):
        last = i == len(pol.layers) - 1
        out = "actions" if last else f"actor_{i}"
        if l[0] == "linear":
            seen += 1
            _, W, b, _ = l
            nodes.append(helper.make_node("Gemm", [x, const(f"actor_{i}_W", W), const(f"actor_{i}_b", b)],
                                          [out], transB=1, name=f"actor_{i}_linear"))
        else:
            _, kind, op, attrs, _ = l
            attrs = {k: v for k, v in attrs.items() if not k.startswith("_")}
            if op is None:
                nodes.append(helper.make_node("Identity", [x], [out]))
            elif op == "SiLU":
                nodes.append(helper.make_node("Sigmoid", [x], [f"actor_{i}_sig"]))
                nodes.append(helper.make_node("Mul", [x, f"actor_{i}_sig"], [out]))
            else:
                nodes.append(helper.make_node(op, [x], [out], name=f"actor_{i}_{kind.lower()}", **attrs))
        x = out
    graph = helper.make_graph(nodes, "policy", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name=producer)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


# --------------------------------------------------------------------------- numpy reference

def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_step(pol, obs, h, c):
    """PyTorch's formulas (torch.nn.LSTM/GRU/Linear docs) on the extracted weights, float64."""
    x = obs.astype(np.float64).reshape(-1)
    if pol.normalizer is not None:
        mean, std, eps, _ = pol.normalizer
        x = (x - mean) / (std + eps)
    if pol.memory is not None:
        kind, layers, H, _ = pol.memory
        h, c = h.copy(), (c.copy() if c is not None else None)
        for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
            gi = w_ih.astype(np.float64) @ x + b_ih
            gh = w_hh.astype(np.float64) @ h[k, 0] + b_hh
            if kind == "LSTM":
                g = gi + gh
                i, f, gg, o = (g[j * H:(j + 1) * H] for j in range(4))
                i, f, gg, o = _sigmoid(i), _sigmoid(f), np.tanh(gg), _sigmoid(o)
                c[k, 0] = f * c[k, 0] + i * gg
                h[k, 0] = o * np.tanh(c[k, 0])
            else:
                r = _sigmoid(gi[:H] + gh[:H])
                z = _sigmoid(gi[H:2 * H] + gh[H:2 * H])
                n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
                h[k, 0] = (1 - z) * n + z * h[k, 0]
            x = h[k, 0]
    for l in pol.layers:
        if l[0] == "linear":
            x = l[1].astype(np.float64) @ x + l[2]
        else:
            kind, attrs = l[1], l[3]
            if kind == "ELU":
                x = np.where(x > 0, x, attrs["alpha"] * (np.exp(np.minimum(x, 0)) - 1))
            elif kind == "ReLU":
                x = np.maximum(x, 0)
            elif kind == "Tanh":
                x = np.tanh(x)
            elif kind == "Sigmoid":
                x = _sigmoid(x)
            elif kind == "LeakyReLU":
                x = np.where(x > 0, x, attrs["alpha"] * x)
            elif kind == "SELU":
                x = attrs["gamma"] * np.where(x > 0, x, attrs["alpha"] * (np.exp(np.minimum(x, 0)) - 1))
            elif kind == "Softsign":
                x = x / (1 + np.abs(x))
            elif kind == "SiLU":
                x = x * _sigmoid(x)
    return x, h, c


def verify(pol, path, steps, seed=0):
    try:
        import onnxruntime as ort
    except ImportError:
        print("verify: onnxruntime is not installed; skipped")
        return True
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    L = len(pol.memory[1]) if pol.memory else 0
    H = pol.memory[2] if pol.memory else 0
    lstm = pol.memory is not None and pol.memory[0] == "LSTM"
    h = np.zeros((L, 1, H), np.float32)
    c = np.zeros((L, 1, H), np.float32) if lstm else None
    rh, rc = h.astype(np.float64), (c.astype(np.float64) if lstm else None)
    worst_a = worst_s = 0.0
    for t in range(steps):
        # observations of a plausible size: smooth signals plus noise, some large
        obs = (np.sin(0.05 * t + np.arange(pol.n_obs)) + 0.5 * rng.standard_normal(pol.n_obs)).astype(np.float32)
        if t % 50 == 49:
            obs *= 5
        feed = {"obs": obs[None]}
        if pol.memory is not None:
            feed["h_in"] = h
            if lstm:
                feed["c_in"] = c
        out = sess.run(None, feed)
        ref_a, rh, rc = reference_step(pol, obs, rh, rc)
        worst_a = max(worst_a, float(np.abs(out[0][0] - ref_a).max()))
        if pol.memory is not None:
            h = out[1]
            worst_s = max(worst_s, float(np.abs(h - rh).max()))
            if lstm:
                c = out[2]
                worst_s = max(worst_s, float(np.abs(c - rc).max()))
    ok = worst_a < 1e-4 and worst_s < 1e-4
    print(f"verify: {steps} steps, state fed back: largest action difference {worst_a:.2e}, "
          f"largest state difference {worst_s:.2e} (onnxruntime {ort.__version__} vs numpy "
          f"reference of PyTorch's formulas) -> {'ok' if ok else 'MISMATCH'}")
    return ok


# --------------------------------------------------------------------------- main

def describe(pol):
    lines = []
    for n in pol.notes:
        lines.append(f"  note: {n}")
    if pol.normalizer is not None:
        mean, std, eps, path = pol.normalizer
        lines.append(f"  normalizer '{path}': (obs - mean) / (std + {eps:g}), {mean.shape[0]} entries")
    if pol.memory is not None:
        kind, layers, H, path = pol.memory
        lines.append(f"  memory '{path}': {kind}, {len(layers)} layer{'s' if len(layers) > 1 else ''}, "
                     f"input {layers[0][0].shape[1]}, hidden {H}")
    parts = []
    for l in pol.layers:
        if l[0] == "linear":
            parts.append(f"Linear {l[1].shape[1]}->{l[1].shape[0]}")
        else:
            a = ", ".join(f"{k}={v:g}" for k, v in l[3].items() if not k.startswith("_"))
            parts.append(f"{l[1]}{f'({a})' if a else ''}")
            if "_note" in l[3]:
                lines.append(f"  note: {l[4]}: {l[3]['_note']}")
    lines.append(f"  actor: {' -> '.join(parts)}")
    lines.append(f"  observation {pol.n_obs}, action {pol.n_act}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("policy", help="TorchScript policy (.pt, torch.jit.save) or rsl_rl checkpoint")
    ap.add_argument("output", help="ONNX file to write")
    ap.add_argument("--activation", choices=sorted(_OPTION_ACTIVATIONS),
                    help="actor activation, needed for checkpoints (the archive's own classes win "
                         "for TorchScript; a contradiction is an error)")
    ap.add_argument("--verify", type=int, default=200, metavar="N",
                    help="steps of the onnxruntime-vs-numpy check (0: skip; default 200)")
    a = ap.parse_args(argv)
    try:
        obj, code, root = load_archive(a.policy)
        pol = analyse(obj, code, a.activation)
        print(f"{a.policy} (archive root '{root}'):")
        print(describe(pol))
        model = build_onnx(pol)
        onnx.save(model, a.output)
        ins = ", ".join(f"{i.name} {[d.dim_value for d in i.type.tensor_type.shape.dim]}" for i in model.graph.input)
        outs = ", ".join(f"{o.name} {[d.dim_value for d in o.type.tensor_type.shape.dim]}" for o in model.graph.output)
        print(f"wrote {a.output}: inputs {ins}; outputs {outs}")
        if a.verify > 0 and not verify(pol, a.output, a.verify):
            return 1
    except ConversionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
