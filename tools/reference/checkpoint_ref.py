#!/usr/bin/env python3
"""Writes the fixtures of the Go package checkpoint/ and the values they hold.

Run from the repository root with the system Python (torch 1.13):

    /usr/bin/python3 tools/reference/checkpoint_ref.py

It writes small checkpoint files under checkpoint/testdata/, the expected
contents of each as checkpoint/testdata/expected.json (dtype, shape, float32 bit
patterns and raw little-endian bytes of every tensor, plus scalars), and seed
corpora for the Go fuzz targets under checkpoint/testdata/fuzz/. The Go tests
read only these committed files: CI has no PyTorch.

safetensors files are written by hand here (the safetensors package is not
installed), following the format: an 8-byte little-endian header length, a JSON
header padded with spaces to a multiple of 8, then the tensor bytes.
"""

import io
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "checkpoint", "testdata")

DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
    torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}

expected = {}


def raw_bytes(t):
    """Contiguous little-endian bytes of t in its own dtype."""
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def describe(t):
    t = t.detach()
    bits = t.to(torch.float32).contiguous().reshape(-1).view(torch.int32)
    return {
        "dtype": DTYPE_NAMES[t.dtype],
        "shape": list(t.shape),
        "f32_bits": [b & 0xFFFFFFFF for b in bits.tolist()],
        "raw_hex": raw_bytes(t).hex(),
    }


def record(name, tensors, scalars=None, **extra):
    expected[name] = {
        "tensors": {k: describe(v) for k, v in tensors.items()},
        "scalars": scalars or {},
        **extra,
    }


def zwrite(z, name, data):
    """Adds an entry with a fixed timestamp, so that reruns give the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = z.compression
    z.writestr(info, data)


def path(*parts):
    p = os.path.join(OUT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


# ---------------------------------------------------------------- torch zip

def special_values(dtype):
    return torch.tensor([0.0, -0.0, 1.0, -2.5, float("inf"), float("-inf"), float("nan")], dtype=dtype)


def basic_state_dict():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(3, 5, generator=g)
    shared = torch.arange(20, dtype=torch.float32) * 0.25
    grid = torch.randn(4, 6, generator=g)
    f16 = torch.cat([torch.randn(6, generator=g).half(), special_values(torch.float16),
                     torch.tensor([6e-8, -3e-5, 65504.0], dtype=torch.float16)])
    bf16 = torch.cat([torch.randn(6, generator=g).bfloat16(), special_values(torch.bfloat16),
                      torch.tensor([1e-40, 3e38], dtype=torch.bfloat16)])
    sd = {
        "f32": torch.randn(3, 4, generator=g),
        "f16": f16,
        "bf16": bf16.reshape(3, 5),
        "f64": torch.tensor([0.1, 1e-50, 3.4e39, -7.0000001, 16777217.0], dtype=torch.float64),
        "i64": torch.tensor([-(2 ** 40), -1, 0, 7, 2 ** 53 + 1], dtype=torch.int64),
        "i32": torch.tensor([-(2 ** 31), 5, 2 ** 31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 3, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 128, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "transposed": base.t(),                 # stride (1, 5): not contiguous
        "sliced": shared[5:11].view(2, 3),      # storage offset 5
        "strided": shared[1::3],                # stride 3, same storage as "sliced"
        "column": grid[:, 2],                   # offset 2, stride 6
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(2, 3),  # stride 0
        "param": torch.nn.Parameter(torch.randn(2, 2, generator=g)),
        "scalar0d": torch.tensor(4.6052),
        "empty": torch.zeros(0, 3),
        "context_length": torch.tensor(77),
        "input_resolution": 224,
        "ratio": 0.5,
        "name": "tiny",
        "flag": True,
        "nothing": None,
    }
    tensors = {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}
    scalars = {"input_resolution": 224, "ratio": 0.5}
    return sd, tensors, scalars


def write_torch_fixtures():
    sd, tensors, scalars = basic_state_dict()
    torch.save(sd, path("torch_basic.pt"))
    record("torch_basic.pt", tensors, scalars, format="torch-zip")

    # The same archive re-zipped with deflate: storages must be inflated.
    with zipfile.ZipFile(path("torch_basic.pt")) as src, \
            zipfile.ZipFile(path("torch_deflated.pt"), "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zwrite(dst, info.filename, src.read(info.filename))
    record("torch_deflated.pt", tensors, scalars, format="torch-zip")

    # A training checkpoint: wrapper key, DDP "module." prefix, optimizer state.
    g = torch.Generator().manual_seed(1)
    inner = {
        "module.visual.conv1.weight": torch.randn(4, 3, 2, 2, generator=g),
        "module.visual.proj": torch.randn(4, 3, generator=g).half(),
        "module.logit_scale": torch.tensor(2.6592),
    }
    ckpt = {
        "epoch": 7,
        "name": "run-1",
        "state_dict": inner,
        "optimizer": {"state": {0: {"exp_avg": torch.ones(2)}}, "param_groups": [{"lr": 0.1, "params": [0]}]},
    }
    torch.save(ckpt, path("torch_nested.pt"))
    record("torch_nested.pt", {k[len("module."):]: v for k, v in inner.items()}, {"epoch": 7},
           format="torch-zip")

    # {"model": ...} wrapper with an inner dict of submodules to flatten.
    model = {"text": {"ln_final": {"weight": torch.ones(3), "bias": torch.zeros(3)}},
             "token_embedding.weight": torch.randn(5, 3, generator=g)}
    torch.save({"model": model, "step": 3}, path("torch_model_key.pt"))
    record("torch_model_key.pt", {"text.ln_final.weight": model["text"]["ln_final"]["weight"],
                                  "text.ln_final.bias": model["text"]["ln_final"]["bias"],
                                  "token_embedding.weight": model["token_embedding.weight"]},
           {"step": 3}, format="torch-zip")

    # Legacy (pre-1.6) format: must be refused with a clear error.
    torch.save({"a": torch.ones(2)}, path("torch_legacy.pt"), _use_new_zipfile_serialization=False)
    # A bare pickle.
    with open(path("bare.pkl"), "wb") as f:
        pickle.dump({"a": 1}, f, protocol=2)

    write_evil()
    write_big_endian()


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def write_evil():
    # torch.save of an object whose reduce is os.system: pickled as posix.system.
    torch.save({"a": torch.ones(1), "b": Evil()}, path("torch_evil.pt"))
    # A hand-made data.pkl naming os.system directly.
    pkl = (b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01cos\nsystem\nq\x02X\x0a\x00\x00\x00echo pwned"
           b"\x85R\x73.")
    with zipfile.ZipFile(path("torch_evil_os.pt"), "w", zipfile.ZIP_STORED) as z:
        zwrite(z, "archive/data.pkl", pkl)
        zwrite(z, "archive/version", "3\n")


def storage_types(pkl):
    """Maps each storage key of a torch data.pkl to its element size."""
    sizes = {}

    class U(pickle.Unpickler):
        def persistent_load(self, pid):
            _, typ, key, _, numel = pid
            storage = typ(numel)
            sizes[key] = storage.element_size()
            return storage

    U(io.BytesIO(pkl)).load()
    return sizes


def write_big_endian():
    g = torch.Generator().manual_seed(2)
    sd = {"f32": torch.randn(2, 3, generator=g), "f16": torch.randn(4, generator=g).half(),
          "i64": torch.tensor([1, -2, 2 ** 40]), "t": torch.randn(2, 3, generator=g).t()}
    buf = io.BytesIO()
    torch.save(sd, buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path("torch_bigendian.pt"), "w", zipfile.ZIP_STORED) as dst:
        prefix = src.namelist()[0].split("/")[0] + "/"
        sizes = storage_types(src.read(prefix + "data.pkl"))
        for info in src.infolist():
            data = src.read(info.filename)
            key = info.filename[len(prefix + "data/"):]
            if info.filename.startswith(prefix + "data/") and key in sizes:
                n = sizes[key]
                data = b"".join(data[i:i + n][::-1] for i in range(0, len(data), n))
            zwrite(dst, info.filename, data)
        zwrite(dst, prefix + "byteorder", "big")
    record("torch_bigendian.pt", sd, format="torch-zip")


# -------------------------------------------------------------- TorchScript

class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = torch.nn.LayerNorm(2)
        self.l = torch.nn.ModuleList([torch.nn.Linear(2, 2, bias=False)])
        self.register_buffer("buf", torch.tensor(7))
        self.n = 3

    def forward(self, x):
        for m in self.l:
            x = m(x)
        return self.ln(x) * self.n


class Scripted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Block()
        self.w = torch.nn.Parameter(torch.randn(2, 2))
        self.e = torch.nn.Parameter(torch.ones(3).half())

    def forward(self, x):
        return self.b(x) @ self.w


class TinyVisual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, kernel_size=2, stride=2, bias=False)
        self.class_embedding = torch.nn.Parameter(torch.randn(8))
        self.ln_pre = torch.nn.LayerNorm(8)

    def forward(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        return self.ln_pre(x + self.class_embedding)


class TinyBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = torch.nn.MultiheadAttention(8, 2)
        self.ln_1 = torch.nn.LayerNorm(8)

    def forward(self, x):
        y = self.ln_1(x)
        return x + self.attn(y, y, y, need_weights=False)[0]


class TinyTransformer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.resblocks = torch.nn.Sequential(TinyBlock())

    def forward(self, x):
        return self.resblocks(x)


class TinyCLIP(torch.nn.Module):
    """Just enough of OpenAI's CLIP module tree to get its names."""

    def __init__(self):
        super().__init__()
        self.visual = TinyVisual()
        self.transformer = TinyTransformer()
        self.token_embedding = torch.nn.Embedding(10, 8)
        self.positional_embedding = torch.nn.Parameter(torch.randn(4, 8))
        self.logit_scale = torch.nn.Parameter(torch.tensor(4.6052))
        self.register_buffer("input_resolution", torch.tensor(4))
        self.register_buffer("context_length", torch.tensor(4))

    def forward(self, image, text):
        v = self.visual(image)
        t = self.transformer(self.token_embedding(text) + self.positional_embedding)
        return v.sum() + t.sum() * self.logit_scale.exp()


def write_torchscript():
    torch.manual_seed(3)
    m = torch.jit.script(Scripted())
    torch.jit.save(m, path("torchscript_scripted.pt"))
    record("torchscript_scripted.pt", dict(m.state_dict()), {"b.n": 3}, format="torchscript")

    torch.manual_seed(4)
    model = TinyCLIP().eval()
    traced = torch.jit.trace(model, (torch.randn(1, 3, 4, 4), torch.tensor([[1, 2, 3, 4]])))
    torch.jit.save(traced, path("torchscript_traced.pt"))
    record("torchscript_traced.pt", dict(traced.state_dict()), format="torchscript")


# -------------------------------------------------------------- safetensors

def write_safetensors(file, tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        b = raw_bytes(t)
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(file, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def write_safetensors_fixtures():
    _, tensors, _ = basic_state_dict()
    contiguous = {k: v.detach().contiguous() for k, v in tensors.items()}
    write_safetensors(path("basic.safetensors"), contiguous, {"format": "pt", "note": "tiny"})
    record("basic.safetensors", contiguous, format="safetensors", metadata={"format": "pt", "note": "tiny"})

    g = torch.Generator().manual_seed(5)
    shards = [
        {"a.weight": torch.randn(3, 2, generator=g), "a.bias": torch.randn(3, generator=g).half()},
        {"b.weight": torch.randn(2, 2, generator=g).bfloat16(), "c": torch.tensor([1, 2, 3])},
    ]
    weight_map = {}
    for i, shard in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_safetensors(path("sharded", name), shard, {"format": "pt"})
        weight_map.update({k: name for k in shard})
    with open(path("sharded", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    record("sharded/model.safetensors.index.json", {k: v for s in shards for k, v in s.items()},
           format="safetensors")


# ------------------------------------------------------ Hugging Face folders

VOCAB_TOKENS = ["a", "b", "c", "d", "ab", "cd", "abcd", "ab</w>", "c</w>", "<|startoftext|>", "<|endoftext|>"]
MERGES = [("a", "b"), ("c", "d"), ("ab", "cd"), ("a", "b</w>")]


def hf_state_dict(seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    shapes = {
        "text_model.embeddings.token_embedding.weight": (11, 8),
        "text_model.embeddings.position_embedding.weight": (4, 8),
        "text_model.encoder.layers.0.self_attn.q_proj.weight": (8, 8),
        "text_model.encoder.layers.0.self_attn.q_proj.bias": (8,),
        "text_model.final_layer_norm.weight": (8,),
        "vision_model.embeddings.class_embedding": (8,),
        "vision_model.embeddings.patch_embedding.weight": (8, 3, 2, 2),
        "vision_model.pre_layrnorm.weight": (8,),
        "visual_projection.weight": (6, 8),
        "text_projection.weight": (6, 8),
        "logit_scale": (),
    }
    return {k: torch.randn(s, generator=g).to(dtype) for k, s in shapes.items()}


def write_hf():
    # 1: full config (as older transformers saved it), safetensors weights,
    #    vocab.json + merges.txt, integer sizes in the preprocessor config.
    d = "hf_tiny"
    config = {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 6,
        "logit_scale_init_value": 2.6592, "initializer_factor": 1.0,
        "text_config": {"vocab_size": 11, "hidden_size": 8, "intermediate_size": 32,
                        "num_hidden_layers": 1, "num_attention_heads": 2,
                        "max_position_embeddings": 4, "hidden_act": "quick_gelu",
                        "layer_norm_eps": 1e-05, "bos_token_id": 0, "eos_token_id": 2,
                        "pad_token_id": 1, "projection_dim": 6, "id2label": {"0": "LABEL_0"}},
        "text_config_dict": None,
        "vision_config": {"hidden_size": 8, "intermediate_size": 32, "num_hidden_layers": 1,
                          "num_attention_heads": 2, "num_channels": 3, "image_size": 4,
                          "patch_size": 2, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05,
                          "projection_dim": 6},
        "vision_config_dict": None,
    }
    with open(path(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    sd = hf_state_dict(6)
    write_safetensors(path(d, "model.safetensors"), sd, {"format": "pt"})
    with open(path(d, "vocab.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(VOCAB_TOKENS)}, f)
    merges_txt = "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES)
    with open(path(d, "merges.txt"), "w") as f:
        f.write(merges_txt)
    with open(path(d, "preprocessor_config.json"), "w") as f:
        json.dump({"crop_size": 4, "do_center_crop": True, "do_normalize": True, "do_resize": True,
                   "feature_extractor_type": "CLIPFeatureExtractor",
                   "image_mean": [0.48145466, 0.4578275, 0.40821073],
                   "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 4}, f, indent=2)
    record(d, sd, format="safetensors", merges_txt=merges_txt)

    # 2: diff-style config (hidden_act only in vision_config, fields left to the
    #    defaults), pytorch_model.bin, tokenizer.json with [a, b] merge pairs,
    #    object sizes in the preprocessor config.
    d = "hf_tokjson"
    config = {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 6,
        "text_config": {"hidden_size": 8, "intermediate_size": 32, "num_hidden_layers": 1,
                        "num_attention_heads": 2, "max_position_embeddings": 4, "vocab_size": 11},
        "vision_config": {"hidden_size": 8, "intermediate_size": 32, "num_hidden_layers": 1,
                          "num_attention_heads": 2, "image_size": 4, "patch_size": 2,
                          "hidden_act": "gelu", "layer_norm_eps": 1e-06},
    }
    with open(path(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    sd = hf_state_dict(7, torch.float16)
    torch.save(sd, path(d, "pytorch_model.bin"))
    tokenizer = {
        "version": "1.0", "added_tokens": [{"id": 9, "content": "<|startoftext|>", "special": True}],
        "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>",
                  "continuing_subword_prefix": "", "end_of_word_suffix": "</w>",
                  "vocab": {t: i for i, t in enumerate(VOCAB_TOKENS)},
                  "merges": [[a, b] for a, b in MERGES]},
    }
    with open(path(d, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, indent=2)
    with open(path(d, "preprocessor_config.json"), "w") as f:
        json.dump({"crop_size": {"height": 4, "width": 4}, "do_center_crop": True,
                   "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
                   "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                   "image_processor_type": "CLIPImageProcessor", "resample": 3,
                   "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 4}}, f, indent=2)
    record(d, sd, format="torch-zip", merges_txt=merges_txt)


# --------------------------------------------------------- plain pickles

def plain(v):
    """The JSON form the Go test turns an unpickled value into."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, int):
        return v if -(2 ** 63) <= v < 2 ** 63 else {"bigint": True}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {"set": sorted(plain(x) for x in v)}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    raise TypeError(type(v))


def write_plain_pickles():
    """Plain Python data pickled with protocols 1 to 5 (protocol 0 writes text
    opcodes torch never uses, which the Go machine refuses)."""
    import collections
    shared = [7, 8]
    obj = {
        "int": 5, "neg": -3, "int2": 40000, "big": 2 ** 40, "negbig": -(2 ** 62), "huge": 2 ** 70,
        "float": 2.5, "nfloat": -1e-300, "str": "h\u00e9llo \u2603", "empty": "",
        "list": [1, [2, 3], []], "tuple": (1, 2), "t0": (), "t1": (1,), "t3": (1, 2, 3), "t5": (1, 2, 3, 4, 5),
        "none": None, "true": True, "false": False, "bytes": b"\x00\xff", "set": {1, 2}, "fset": frozenset([3]),
        "od": collections.OrderedDict([("x", 1), ("y", 2)]), "shared": [shared, shared],
        "long": "x" * 300, 7: "int key",
    }
    cases = []
    for proto in range(1, 6):
        cases.append({"protocol": proto, "hex": pickle.dumps(obj, protocol=proto).hex()})
    with open(path("plain_pickles.json"), "w") as f:
        json.dump({"value": plain(obj), "pickles": cases}, f, indent=1)


# ------------------------------------------------------------ fuzz corpora

def go_bytes_literal(b):
    out = []
    for c in b:
        if c == 0x22:
            out.append('\\"')
        elif c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return '"' + "".join(out) + '"'


def write_seed(target, name, *args):
    lines = ["go test fuzz v1"]
    for a in args:
        if isinstance(a, bool):
            lines.append("bool(%s)" % ("true" if a else "false"))
        elif isinstance(a, int):
            lines.append("int64(%d)" % a)
        else:
            lines.append("[]byte(%s)" % go_bytes_literal(a))
    with open(path("fuzz", target, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def data_pkl(file):
    with zipfile.ZipFile(file) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        return z.read(name)


def write_fuzz_seeds():
    for fixture, ts in [("torch_basic.pt", False), ("torch_nested.pt", False),
                        ("torch_evil.pt", False), ("torchscript_scripted.pt", True),
                        ("torchscript_traced.pt", True)]:
        write_seed("FuzzUnpickle", fixture.replace(".pt", ""), data_pkl(path(fixture)), ts)
    for fixture in ["torch_model_key.pt", "torch_bigendian.pt", "torchscript_scripted.pt"]:
        with open(path(fixture), "rb") as f:
            write_seed("FuzzTorchZip", fixture.replace(".pt", ""), f.read())
    for fixture in ["basic.safetensors", "sharded/model-00001-of-00002.safetensors"]:
        with open(path(fixture), "rb") as f:
            data = f.read()
        name = os.path.basename(fixture).replace(".safetensors", "")
        write_seed("FuzzSafetensors", name, data)
        n = struct.unpack("<Q", data[:8])[0]
        write_seed("FuzzSafetensorsHeader", name, data[8:8 + n], len(data) - 8 - n)


def main():
    if os.path.isdir(OUT):
        for entry in os.listdir(OUT):
            p = os.path.join(OUT, entry)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    write_torch_fixtures()
    write_torchscript()
    write_safetensors_fixtures()
    write_hf()
    write_plain_pickles()
    write_fuzz_seeds()
    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f"wrote {len(expected)} fixtures, {total} bytes under {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
