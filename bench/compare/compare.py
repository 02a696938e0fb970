#!/usr/bin/python3
"""clipinfer against PyTorch (fp32 and dynamic int8) and ONNX Runtime, in one run.

The comparison harness. It

1. builds a random ViT-B/32 CLIP in OpenAI's layout with a fixed seed (the
   shapes of OpenAI's ViT-B/32: 224 px, patch 32, width 768, 12 layers; text
   width 512, 12 layers, context 77, vocab 49408, embed 512, QuickGELU) and
   saves it as a torch.save state dict in a cache folder outside git;
2. converts it with bin/convert to q8 (and f32 with --f32);
3. checks correctness: cosine of every contender's embedding against PyTorch
   fp32 (OpenAI-style reference forward) for the same pixels and token ids;
4. times every contender on every configuration in alternating rounds, so
   that machine noise hits all of them alike:
     - PyTorch fp32 (OpenBLAS);
     - PyTorch dynamic int8: every projection is an nn.Linear (attention
       rebuilt from a fused qkv Linear + out Linear, the patch embedding as a
       Linear over flattened patches, both output projections as Linears) and
       torch.ao.quantization.quantize_dynamic quantises all of them;
     - ONNX Runtime fp32 (npm onnxruntime-node, via ort_bench.js), if found;
     - clipinfer q8 (and f32), by running `bin/clipinfer bench` per configuration;
     - with --clipcpp, clip.cpp q8_0 and q4_0 (image tower, batch 1), built
       from its source tarball by clipcpp.py; without it, clip.cpp's numbers
       are quoted from an earlier measurement on a machine of this kind and
       labelled as such;
5. measures peak RSS (/usr/bin/time -v clipinfer embed) and start-up
   (clipinfer bench -startup);
6. prints a markdown table with the "Must show" ratios of the performance
   targets (docs/PERFORMANCE.md), and writes the
   same as JSON.

Run it through scripts/bench.sh (`make bench`), or directly:
  /usr/bin/python3 bench/compare/compare.py --rounds 5 --runs 10 --md out.md --json out.json
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import models_ref  # noqa: E402  (OpenAI-layout PyTorch CLIP of the project's fixtures)
sys.path.insert(0, HERE)
import clipcpp  # noqa: E402  (clip.cpp built from its sources, as a contender)

# ViT-B/32, OpenAI's shapes.
SPEC = dict(embed=512, res=224, patch=32, vwidth=768, vlayers=12, twidth=512, tlayers=12, act="quick_gelu")
VOCAB, CONTEXT, SOT, EOT = models_ref.VOCAB, models_ref.CONTEXT, models_ref.SOT, models_ref.EOT
MIB = 1 << 20
# Bump when ImageTower/TextTower change, so that cached ONNX exports are redone.
ONNX_VERSION = 1

# clip.cpp (ggml, q8_0, -march=native) as quoted from an earlier measurement, shown only
# when --clipcpp does not measure it.
CLIPCPP_QUOTED = {
    ("image", 1, 1, None): 214.0,
    ("image", 1, 2, None): 109.0,
    ("text", 1, 1, 75): 153.0,  # "text 153 ms at 77 tokens"
    ("text", 1, 1, 7): 16.0,    # "16 ms at 8 tokens" — 8 tokens, not 9 positions
}
CLIPCPP_LOAD_MS, CLIPCPP_RSS_MIB, CLIPCPP_FILE_MIB = 125.0, 183.0, 157.0


def log(*a):
    print("[compare %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Benchmark forward passes (batch-first, every projection an nn.Linear)
# --------------------------------------------------------------------------

class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """Multi-head attention from a fused qkv nn.Linear and an out nn.Linear,
    so quantize_dynamic reaches every projection (nn.MultiheadAttention keeps
    its fused in_proj in fp32)."""

    def __init__(self, mha):
        super().__init__()
        w = mha.embed_dim
        self.heads, self.hd = mha.num_heads, w // mha.num_heads
        self.scale = self.hd ** -0.5
        self.qkv = nn.Linear(w, 3 * w)
        self.out = nn.Linear(w, w)
        with torch.no_grad():
            self.qkv.weight.copy_(mha.in_proj_weight)
            self.qkv.bias.copy_(mha.in_proj_bias)
            self.out.weight.copy_(mha.out_proj.weight)
            self.out.bias.copy_(mha.out_proj.bias)

    def forward(self, x, mask=None):
        b, n, w = x.shape
        qkv = self.qkv(x).view(b, n, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q * self.scale) @ k.transpose(-1, -2)
        if mask is not None:
            att = att + mask
        out = att.softmax(dim=-1) @ v
        return self.out(out.transpose(1, 2).reshape(b, n, w))


class Block(nn.Module):
    def __init__(self, ref):
        super().__init__()
        self.ln_1, self.ln_2 = ref.ln_1, ref.ln_2
        self.attn = Attention(ref.attn)
        self.c_fc, self.c_proj = ref.mlp.c_fc, ref.mlp.c_proj
        self.act = QuickGELU()

    def forward(self, x, mask=None):
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.c_proj(self.act(self.c_fc(self.ln_2(x))))


def linear_from(weight_out_in, bias=None):
    lin = nn.Linear(weight_out_in.shape[1], weight_out_in.shape[0], bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(weight_out_in)
        if bias is not None:
            lin.bias.copy_(bias)
    return lin


class ImageTower(nn.Module):
    """OpenAI's VisionTransformer with the patch conv as a Linear over
    flattened patches (conv kernel = stride = patch, no bias: the same sums)."""

    def __init__(self, ref):
        super().__init__()
        v = ref.visual
        self.patch = v.conv1.kernel_size[0]
        w = v.conv1.out_channels
        self.patch_embed = linear_from(v.conv1.weight.detach().reshape(w, -1))
        self.class_embedding = nn.Parameter(v.class_embedding.detach().clone())
        self.positional_embedding = nn.Parameter(v.positional_embedding.detach().clone())
        self.ln_pre, self.ln_post = v.ln_pre, v.ln_post
        self.blocks = nn.ModuleList([Block(b) for b in v.transformer.resblocks])
        self.proj = linear_from(v.proj.detach().t())

    def forward(self, pixels):
        b, c, h, w = pixels.shape
        p = self.patch
        x = pixels.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)
        x = self.patch_embed(x)
        cls = self.class_embedding.expand(b, 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.ln_pre(x)
        for blk in self.blocks:
            x = blk(x)
        return self.proj(self.ln_post(x[:, 0, :]))


class TextTower(nn.Module):
    """OpenAI's text transformer on the given positions (causal mask), the
    EOT row (argmax of the ids) through ln_final and the projection."""

    def __init__(self, ref):
        super().__init__()
        self.token_embedding = ref.token_embedding
        self.positional_embedding = nn.Parameter(ref.positional_embedding.detach().clone())
        self.blocks = nn.ModuleList([Block(b) for b in ref.transformer.resblocks])
        self.ln_final = ref.ln_final
        self.proj = linear_from(ref.text_projection.detach().t())
        self.register_buffer("mask", torch.full((CONTEXT, CONTEXT), float("-inf")).triu(1))

    def forward(self, ids):
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        mask = self.mask[:n, :n]
        for blk in self.blocks:
            x = blk(x, mask)
        x = self.ln_final(x)
        return self.proj(x[torch.arange(x.shape[0]), ids.argmax(dim=-1)])


# --------------------------------------------------------------------------
# Model files
# --------------------------------------------------------------------------

def build_reference(seed):
    torch.manual_seed(seed)
    m = models_ref.OpenAICLIP(**SPEC)
    gen = torch.Generator().manual_seed(seed + 1)
    models_ref.perturb(m, range(VOCAB), gen)  # every token row kept
    return m.eval()


def spec_tag(seed):
    h = hashlib.sha256(json.dumps([SPEC, seed], sort_keys=True).encode()).hexdigest()[:8]
    return "vitb32-seed%d-%s" % (seed, h)


def newer(a, *bs):
    """True if file a exists and is newer than every existing file in bs."""
    if not os.path.exists(a):
        return False
    t = os.path.getmtime(a)
    return all(not os.path.exists(b) or os.path.getmtime(b) <= t for b in bs)


def ensure_files(args):
    os.makedirs(args.cache, exist_ok=True)
    tag = spec_tag(args.seed)
    pt = os.path.join(args.cache, tag + ".pt")
    ref = None
    if not os.path.exists(pt):
        log("building random ViT-B/32 (seed %d) ->" % args.seed, pt)
        ref = build_reference(args.seed)
        tmp = pt + ".tmp"
        torch.save(ref.state_dict(), tmp)
        os.replace(tmp, pt)
    else:
        ref = models_ref.OpenAICLIP(**SPEC)
        ref.load_state_dict(torch.load(pt))
        ref.eval()
    clips = OrderedDict()
    for q in args.quants:
        out = os.path.join(args.cache, "%s.%s.clip" % (tag, q))
        if args.reconvert or not newer(out, pt, args.convert):
            log("converting -q %s ->" % q, out)
            t0 = time.perf_counter()
            run([args.convert, "-q", q, pt, out])
            log("  %.1f s" % (time.perf_counter() - t0))
        clips[q] = out
    return tag, pt, ref, clips


def export_onnx(args, tag, image_fp32, text_fp32):
    """fp32 towers as ONNX (dynamic batch; the text tower also dynamic length)."""
    img = os.path.join(args.cache, "%s.image.v%d.onnx" % (tag, ONNX_VERSION))
    txt = os.path.join(args.cache, "%s.text.v%d.onnx" % (tag, ONNX_VERSION))
    pt = os.path.join(args.cache, tag + ".pt")
    if not newer(img, pt):
        log("exporting the image tower to ONNX ->", img)
        torch.onnx.export(image_fp32, torch.randn(1, 3, SPEC["res"], SPEC["res"]), img + ".tmp",
                          input_names=["pixels"], output_names=["embedding"], opset_version=14,
                          dynamic_axes={"pixels": {0: "batch"}, "embedding": {0: "batch"}})
        os.replace(img + ".tmp", img)
    if not newer(txt, pt):
        log("exporting the text tower to ONNX ->", txt)
        ids = torch.tensor([[SOT, 320, 1125, 539, 320, 2368, EOT]], dtype=torch.long)
        torch.onnx.export(text_fp32, ids, txt + ".tmp",
                          input_names=["ids"], output_names=["embedding"], opset_version=14,
                          dynamic_axes={"ids": {0: "batch", 1: "positions"}, "embedding": {0: "batch"}})
        os.replace(txt + ".tmp", txt)
    return img, txt


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()[-2000:]))
    return p


def cosine(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def token_ids(n, seed):
    """[SOT, n random BPE ids, EOT]: EOT is the largest id, so argmax finds it."""
    g = torch.Generator().manual_seed(seed)
    mid = torch.randint(0, SOT, (n,), generator=g)
    return torch.cat([torch.tensor([SOT]), mid, torch.tensor([EOT])]).view(1, -1)


def blas_libraries():
    torch.randn(64, 64) @ torch.randn(64, 64)
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if ".so" in l}
    return sorted(os.path.basename(l) for l in libs if re.search(r"blas|lapack|gomp|mkl|dnnl", l))


def pick_qengine(want):
    engines = torch.backends.quantized.supported_engines
    if want != "auto":
        if want not in engines:
            raise SystemExit("quantized engine %r not available (have %s)" % (want, engines))
        return want
    for e in ("x86", "fbgemm", "onednn", "qnnpack"):
        if e in engines:
            return e
    raise SystemExit("no quantized engine in %s" % engines)


def cpu_model():
    """The CPU's model name and the SIMD flags that matter to the kernels."""
    name, flags = platform.processor(), []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    have = set(line.split(":", 1)[1].split())
                    flags = [x for x in ("avx2", "fma", "avx_vnni", "avx512f", "avx512_vnni") if x in have]
    except OSError:
        pass
    return name + (" (%s)" % ", ".join(flags) if flags else "")


def git_describe():
    try:
        head = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()
        dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
        return head + ("+uncommitted" if dirty else "")
    except Exception:  # noqa: BLE001 — informational only
        return "unknown"


class LoadSampler:
    """Samples the 1-minute load average every few seconds in the background."""

    def __init__(self, every=5.0):
        self.every, self.samples, self._stop = every, [], threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(self.every):
                return

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    def summary(self):
        s = self.samples or [os.getloadavg()[0]]
        return {"start": round(s[0], 2), "end": round(s[-1], 2), "mean": round(statistics.mean(s), 2),
                "max": round(max(s), 2), "samples": len(s)}


# --------------------------------------------------------------------------
# Contenders
# --------------------------------------------------------------------------

class Config:
    """One timed configuration: tower, batch, threads, caption tokens."""

    def __init__(self, tower, batch, threads, tokens=None):
        self.tower, self.batch, self.threads, self.tokens = tower, batch, threads, tokens

    @property
    def positions(self):
        return None if self.tokens is None else self.tokens + 2

    @property
    def key(self):
        return (self.tower, self.batch, self.threads, self.tokens)

    def label(self):
        if self.tower == "image":
            return "image, batch %d, %d thread%s" % (self.batch, self.threads, "s" if self.threads > 1 else "")
        return "text %d tokens (%d positions), batch %d, %d thread%s" % (
            self.tokens, self.positions, self.batch, self.threads, "s" if self.threads > 1 else "")

    def id(self):
        if self.tower == "image":
            return "image-b%d-t%d" % (self.batch, self.threads)
        return "text-%dtok-b%d-t%d" % (self.tokens, self.batch, self.threads)


def stats(ms):
    ms = sorted(ms)
    return {"median_ms": statistics.median(ms), "min_ms": ms[0], "max_ms": ms[-1], "runs": len(ms)}


class Torch:
    def __init__(self, name, image, text, qengine=None):
        self.name, self.image, self.text, self.qengine = name, image, text, qengine
        self._inputs = {}

    def inputs(self, cfg):
        if cfg.key not in self._inputs:
            g = torch.Generator().manual_seed(7)
            if cfg.tower == "image":
                self._inputs[cfg.key] = torch.randn(cfg.batch, 3, SPEC["res"], SPEC["res"], generator=g)
            else:
                self._inputs[cfg.key] = torch.cat([token_ids(cfg.tokens, 100 + i) for i in range(cfg.batch)])
        return self._inputs[cfg.key]

    def time(self, cfg, runs, warmup):
        torch.set_num_threads(cfg.threads)
        if self.qengine:
            torch.backends.quantized.engine = self.qengine
        f = self.image if cfg.tower == "image" else self.text
        x = self.inputs(cfg)
        ms = []
        with torch.inference_mode():
            for i in range(warmup + runs):
                t0 = time.perf_counter()
                f(x)
                if i >= warmup:
                    ms.append((time.perf_counter() - t0) * 1e3)
        return stats(ms)

    def embed(self, tower, x, threads=1):
        torch.set_num_threads(threads)
        if self.qengine:
            torch.backends.quantized.engine = self.qengine
        with torch.inference_mode():
            return (self.image if tower == "image" else self.text)(x).numpy()


class ORT:
    """The ONNX Runtime worker (ort_bench.js) over a pipe."""

    def __init__(self, node, node_path, image_onnx, text_onnx):
        env = dict(os.environ, NODE_PATH=node_path)
        self.p = subprocess.Popen([node, os.path.join(HERE, "ort_bench.js")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
        self.models = {"image": image_onnx, "text": text_onnx}
        self.name = "ort"
        self.version = self.call({"op": "info"})["version"]

    def call(self, cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("ort_bench.js exited (exit %s)" % self.p.poll())
        ans = json.loads(line)
        if not ans.get("ok"):
            raise RuntimeError("ort_bench.js: %s" % ans.get("error"))
        return ans

    def time(self, cfg, runs, warmup):
        cmd = {"op": "time", "model": self.models[cfg.tower], "threads": cfg.threads, "runs": runs, "warmup": warmup}
        if cfg.tower == "image":
            cmd.update(input="pixels", shape=[cfg.batch, 3, SPEC["res"], SPEC["res"]])
        else:
            cmd.update(input="ids", ids=[token_ids(cfg.tokens, 100 + i)[0].tolist() for i in range(cfg.batch)])
        return stats(self.call(cmd)["ms"])

    def embed(self, tower, x, threads=1):
        with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
            f.write(np.ascontiguousarray(x.numpy(), dtype=np.int64 if tower == "text" else np.float32).tobytes())
        try:
            ans = self.call({"op": "run", "model": self.models[tower], "threads": threads,
                             "input": "ids" if tower == "text" else "pixels", "file": f.name, "shape": list(x.shape)})
        finally:
            os.unlink(f.name)
        return np.asarray(ans["output"], np.float32)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


class Clipinfer:
    def __init__(self, binary, model, quant, kernel, tag=""):
        self.bin, self.model, self.quant, self.kernel = binary, model, quant, kernel
        self.name = "clipinfer-" + quant + tag
        self.kernel_used = None

    def time(self, cfg, runs, warmup):
        cmd = [self.bin, "bench", "-m", self.model, "-tower", cfg.tower, "-batch", str(cfg.batch),
               "-threads-list", str(cfg.threads), "-runs", str(runs), "-warmup", str(warmup)]
        if cfg.tower == "text":
            cmd += ["-tokens", str(cfg.tokens)]
        if self.kernel:
            cmd += ["-kernel", self.kernel]
        lines = [json.loads(l) for l in run(cmd).stdout.splitlines() if l.strip()]
        rows = [l for l in lines if l.get("tower") == cfg.tower and l.get("batch") == cfg.batch
                and l.get("threads") == cfg.threads and (cfg.tokens is None or l.get("tokens") == cfg.tokens)]
        if len(rows) != 1:
            raise RuntimeError("clipinfer bench: expected one %s line, got %r" % (cfg.id(), lines))
        r = rows[0]
        if cfg.tower == "text" and r.get("positions") not in (None, cfg.positions):
            raise RuntimeError("clipinfer bench ran %s positions, want %d" % (r.get("positions"), cfg.positions))
        self.kernel_used = r.get("kernel")
        return {"median_ms": r["median_ms"], "min_ms": r["min_ms"], "max_ms": r["max_ms"], "runs": r["runs"]}

    def embed_tokens(self, ids):
        out = run([self.bin, "embed", "-m", self.model, "-tokens", " ".join(str(int(i)) for i in ids)]).stdout
        return np.asarray(json.loads(out.splitlines()[0])["embedding"], np.float32)

    def embed_image(self, path):
        out = run([self.bin, "embed", "-m", self.model, "-image", path]).stdout
        return np.asarray(json.loads(out.splitlines()[0])["embedding"], np.float32)

    def preprocess(self, path, out):
        run([self.bin, "preprocess", "-m", self.model, "-o", out, path])
        return np.load(out)


# --------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------

def test_image(cache):
    """A deterministic 320x240 RGB PNG with structure and noise."""
    from PIL import Image
    path = os.path.join(cache, "check-320x240.png")
    if not os.path.exists(path):
        rng = np.random.default_rng(3)
        yy, xx = np.mgrid[0:240, 0:320]
        base = np.stack([xx * 0.7, yy * 0.9, (xx + yy) * 0.4], -1) + 40 * np.sin(xx / 9.0)[..., None]
        im = (base + rng.normal(0, 25, base.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(im, "RGB").save(path)
    return path


def check_correctness(args, ref, torchs, ort, clips, ccpps=()):
    """Cosine of every contender against the OpenAI-style PyTorch fp32 forward.
    clip.cpp gets the same preprocessed pixels (its own resize is not used)."""
    res = []
    first = next(iter(clips.values()))
    img = test_image(args.cache)
    with tempfile.TemporaryDirectory() as d:
        px = torch.from_numpy(first.preprocess(img, os.path.join(d, "px.npy")))[None]
    with torch.inference_mode():
        torch.set_num_threads(1)
        want_img = ref.encode_image(px).numpy()[0]
        cases = [("image", "pixels of %s (clipinfer preprocess)" % os.path.basename(img), px, want_img)]
        for n in args.tokens:
            ids = token_ids(n, 1000 + n)
            cases.append(("text", "%d random caption tokens" % n, ids, ref.encode_text(ids).numpy()[0]))
    for tower, what, x, want in cases:
        row = {"tower": tower, "input": what, "cosine": OrderedDict()}
        for t in torchs:
            row["cosine"][t.name] = cosine(t.embed(tower, x), want)
        if ort:
            row["cosine"][ort.name] = cosine(ort.embed(tower, x), want)
        for c in clips.values():
            got = c.embed_image(img) if tower == "image" else c.embed_tokens(x[0].tolist())
            row["cosine"][c.name] = cosine(got, want)
        if tower == "image":
            for c in ccpps:
                row["cosine"][c.name] = cosine(c.embed_pixels(x[0].numpy()), want)
        res.append(row)
        log("cosine vs PyTorch fp32, %s %s:" % (tower, what),
            ", ".join("%s %.6f" % kv for kv in row["cosine"].items()))
    return res


def peak_rss(args, clips):
    """Maximum resident set size of one-shot clipinfer embed runs."""
    out = []
    timev = shutil.which("time") if not os.path.exists("/usr/bin/time") else "/usr/bin/time"
    if not timev:
        log("no /usr/bin/time: skipping peak RSS")
        return out
    img = test_image(args.cache)
    for c in clips.values():
        size = os.path.getsize(c.model)
        for what, flag, val in (("image", "-image", img), ("text", "-text", "a photo of a cat on the grass")):
            p = run([timev, "-v", c.bin, "embed", "-m", c.model, flag, val])
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
            w = re.search(r"Elapsed \(wall clock\) time[^:]*: ([\d:.]+)", p.stderr)
            rss = int(m.group(1)) * 1024
            out.append({"contender": c.name, "embed": what, "peak_rss_bytes": rss, "file_bytes": size,
                        "budget_bytes": size + 64 * MIB, "wall": w.group(1) if w else None})
            log("peak RSS %s embed %s: %.1f MiB (file %.1f MiB)" % (c.name, what, rss / MIB, size / MIB))
    return out


def startup(args, clips):
    out = []
    for c in clips.values():
        cmd = [c.bin, "bench", "-m", c.model, "-tower", "text", "-tokens", "7", "-batch", "1",
               "-runs", str(max(args.runs, 5)), "-warmup", "1", "-startup"]
        lines = [json.loads(l) for l in run(cmd).stdout.splitlines() if l.strip()]
        for l in lines:
            if l.get("measure"):
                l["contender"] = c.name
                out.append(l)
                log("start-up %s: %s median %.1f ms" % (c.name, l["measure"], l["median_ms"]))
    return out


def make_configs(args):
    cfgs = []
    for th in args.threads:
        for b in args.batch:
            if b == 1 or th == args.threads[0] or args.batch_all_threads:
                cfgs.append(Config("image", b, th))
    for th in args.threads:
        for n in sorted(args.tokens, reverse=True):
            cfgs.append(Config("text", 1, th, n))
    return cfgs


def also_kernels(args):
    """The kernels of --also-kernels; 'all' asks clipinfer which are available."""
    if not args.also_kernels:
        return []
    if args.also_kernels != "all":
        return [k.strip() for k in args.also_kernels.split(",") if k.strip()]
    info = json.loads(run([args.clipinfer, "info", "-json"]).stdout.splitlines()[-1])
    return [k["name"] for k in info["kernels"] if k["available"]]


def time_all(args, cfgs, contenders):
    """rounds × configurations × contenders; the contender order rotates per
    round. Returns {config id: {contender: [per-round stats]}}."""
    per = OrderedDict((c.id(), OrderedDict((k.name, []) for k in contenders)) for c in cfgs)
    t_start = time.perf_counter()
    for r in range(args.rounds):
        order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
        for cfg in cfgs:
            for k in order:
                if hasattr(k, "supports") and not k.supports(cfg):
                    continue
                runs = args.runs
                if cfg.tower == "image" and cfg.batch > 1:
                    runs = args.batch_runs
                s = k.time(cfg, runs, args.warmup)
                per[cfg.id()][k.name].append(s)
        log("round %d/%d done, %.0f s elapsed, load %.2f" % (r + 1, args.rounds, time.perf_counter() - t_start,
                                                             os.getloadavg()[0]))
    return per


def summarise(cfgs, per):
    """Median of per-round medians; min of mins; max of maxes."""
    out = OrderedDict()
    for cfg in cfgs:
        row = OrderedDict()
        for name, rounds in per[cfg.id()].items():
            if not rounds:
                continue
            meds = [s["median_ms"] for s in rounds]
            row[name] = {"median_ms": statistics.median(meds), "min_ms": min(s["min_ms"] for s in rounds),
                         "max_ms": max(s["max_ms"] for s in rounds), "round_medians_ms": meds,
                         "runs": sum(s["runs"] for s in rounds)}
        out[cfg.id()] = row
    return out


def ratio(per, num_cfg, num, den_cfg, den, num_div=1.0, den_div=1.0):
    """Ratio of medians plus the range of the per-round ratios (same round)."""
    a = per.get(num_cfg, {}).get(num)
    b = per.get(den_cfg, {}).get(den)
    if not a or not b:
        return None
    am = statistics.median(s["median_ms"] for s in a) / num_div
    bm = statistics.median(s["median_ms"] for s in b) / den_div
    rr = [(x["median_ms"] / num_div) / (y["median_ms"] / den_div) for x, y in zip(a, b)]
    return {"value": am / bm, "round_min": min(rr), "round_max": max(rr)}


def must_show(args, per, main, rss, start):
    """The performance targets ("Must show") as rows {what, value, target, ok}."""
    t1, t2 = args.threads[0], (args.threads[1] if len(args.threads) > 1 else None)
    b8 = max(args.batch)
    img1, img2, img8 = "image-b1-t%d" % t1, "image-b1-t%s" % t2, "image-b%d-t%d" % (b8, t1)
    long_n, short_n = max(args.tokens), min(args.tokens)
    txt_l, txt_s = "text-%dtok-b1-t%d" % (long_n, t1), "text-%dtok-b1-t%d" % (short_n, t1)
    rows = []

    def add(what, r, op, target, note=""):
        if r is None:
            return
        ok = r["value"] <= target if op == "<=" else r["value"] >= target
        rows.append({"what": what, "value": r["value"], "round_min": r.get("round_min"),
                     "round_max": r.get("round_max"), "target": "%s %g" % (op, target), "ok": ok, "note": note})

    add("image q8 b1 %dt / PyTorch fp32" % t1, ratio(per, img1, main, img1, "torch-fp32"), "<=", 0.5)
    add("image q8 b1 %dt / PyTorch int8" % t1, ratio(per, img1, main, img1, "torch-int8"), "<=", 0.8)
    if "ort" in per.get(img1, {}):
        add("image q8 b1 %dt / ONNX Runtime fp32" % t1, ratio(per, img1, main, img1, "ort"), "<=", 1.0,
            "not among the targets; shown for context")
    ccpp = [n for n in per.get(img1, {}) if n.startswith("clipcpp-")]
    for n in ccpp:
        for th, cfg in ((t1, img1), (t2, img2)):
            if th:
                add("image q8 b1 %dt / clip.cpp %s (measured, same run)" % (th, n.split("-", 1)[1]),
                    ratio(per, cfg, main, cfg, n), "<=", 0.5 if n == "clipcpp-q8_0" else 1.0,
                    "" if n == "clipcpp-q8_0" else "shown for context")
    q = CLIPCPP_QUOTED.get(("image", 1, t1, None))
    if q and img1 in per and not ccpp:
        v = statistics.median(s["median_ms"] for s in per[img1][main]) / q
        rows.append({"what": "image q8 b1 %dt / clip.cpp q8_0 (QUOTED %g ms, not measured)" % (t1, q),
                     "value": v, "target": "<= 0.35", "ok": v <= 0.35, "note": ""})
    if t2:
        r = ratio(per, img1, main, img2, main)
        add("image q8 b1: 1-thread time / %d-thread time (speed-up)" % t2, r, ">=", 1.7)
    if b8 > 1:
        add("image q8 %dt: per-image time at batch %d / batch 1" % (t1, b8),
            ratio(per, img8, main, img1, main, num_div=b8), "<=", 0.85)
    add("text q8 %d positions %dt / PyTorch int8" % (long_n + 2, t1), ratio(per, txt_l, main, txt_l, "torch-int8"),
        "<=", 0.8)
    add("text q8 %d positions %dt / PyTorch fp32" % (long_n + 2, t1), ratio(per, txt_l, main, txt_l, "torch-fp32"),
        "<=", 1.0, "not among the targets; shown for context")
    if long_n != short_n:
        add("text q8 %dt: %d-token time / %d-token time (speed-up)" % (t1, long_n, short_n),
            ratio(per, txt_l, main, txt_s, main), ">=", 5.0)
    for s in start:
        if s["contender"] == main:
            rows.append({"what": "open + first 7-token text embedding (ms, page cache)", "value": s["median_ms"],
                         "target": "<= 50", "ok": s["median_ms"] <= 50, "note": "clipinfer bench -startup"})
    for r in rss:
        if r["contender"] == main:
            rows.append({"what": "peak RSS, embed %s (MiB) vs q8 file %.1f MiB + 64" % (r["embed"], r["file_bytes"] / MIB),
                         "value": r["peak_rss_bytes"] / MIB, "target": "<= %.1f" % (r["budget_bytes"] / MIB),
                         "ok": r["peak_rss_bytes"] <= r["budget_bytes"], "note": "/usr/bin/time -v"})
    return rows


def scaling(args, per, contenders):
    """Per contender: 2-thread speed-up, batched per-image time vs batch 1,
    short-caption speed-up. Context for reading the machine's state: if
    every contender gains little from a second thread, the CPU was busy."""
    t1 = args.threads[0]
    b8 = max(args.batch)
    long_n, short_n = max(args.tokens), min(args.tokens)
    out = OrderedDict()
    for name in contenders:
        row = OrderedDict()
        for th in args.threads[1:]:
            row["image b1 speed-up %dt vs %dt" % (th, t1)] = ratio(per, "image-b1-t%d" % t1, name, "image-b1-t%d" % th, name)
            row["text %dtok speed-up %dt vs %dt" % (long_n, th, t1)] = ratio(
                per, "text-%dtok-b1-t%d" % (long_n, t1), name, "text-%dtok-b1-t%d" % (long_n, th), name)
        if b8 > 1:
            row["image per-image time, batch %d / batch 1 (%dt)" % (b8, t1)] = ratio(
                per, "image-b%d-t%d" % (b8, t1), name, "image-b1-t%d" % t1, name, num_div=b8)
        if long_n != short_n:
            row["text speed-up %d vs %d tokens (%dt)" % (short_n, long_n, t1)] = ratio(
                per, "text-%dtok-b1-t%d" % (long_n, t1), name, "text-%dtok-b1-t%d" % (short_n, t1), name)
        out[name] = row
    return out


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def fmt_cell(s, div=1.0):
    if not s:
        return "—"
    return "%.1f (%.1f–%.1f)" % (s["median_ms"] / div, s["min_ms"] / div, s["max_ms"] / div)


def markdown(report):
    env, cfgs, summ = report["environment"], report["configs"], report["results"]
    names = report["contenders"]
    titles = {"torch-fp32": "PyTorch fp32", "torch-int8": "PyTorch int8 (dynamic)", "ort": "ONNX Runtime fp32"}
    for n in names:
        if n.startswith("clipinfer-"):
            titles[n] = "clipinfer " + n.split("-", 1)[1]
        if n.startswith("clipcpp-"):
            titles[n] = "clip.cpp " + n.split("-", 1)[1]
    measured_ccpp = any(n.startswith("clipcpp-") for n in names)
    L = []
    L.append("# clipinfer vs PyTorch%s — %s" % (" vs ONNX Runtime" if "ort" in names else "", report["date"]))
    L.append("")
    L.append("Random-weight ViT-B/32 (OpenAI layout, seed %d), the same machine, one run, %d alternating rounds "
             "× %d timed runs (%d for batched images; +%d warm-up) per contender and configuration. Cells: median "
             "of the per-round medians, (min–max over all runs), milliseconds per call." % (
                 report["seed"], report["rounds"], report["runs"], report["batch_runs"], report["warmup"]))
    L.append("")
    L.append("- CPU: %s, %d logical CPUs; load average (1 min) during the run: mean %.2f, max %.2f "
             "(start %.2f, end %.2f)" % (env["cpu"], env["cpus"], env["load"]["mean"], env["load"]["max"],
                                       env["load"]["start"], env["load"]["end"]))
    L.append("- clipinfer %s, kernel %s; PyTorch %s (BLAS: %s), int8 engine `%s`%s" % (
        env["git"], env.get("clipinfer_kernel") or "?", env["torch"], ", ".join(env["blas"]) or "?",
        env["qengine"], "; onnxruntime-node %s" % env["ort"] if env.get("ort") else "; ONNX Runtime not run"))
    cc = report.get("clipcpp")
    if cc:
        L.append("- clip.cpp from `%s`, cmake Release with its default options (no OpenBLAS); clip.cpp compiled "
                 "`%s %s`, ggml `%s`; `-march=native` enables %s here. Image tower only, batch 1, fed the same "
                 "preprocessed pixels; its own resize/normalise is not timed" % (
                     cc["source"], cc["compiler"], " ".join(f for f in cc["cxx_flags"] if not f.startswith("-I")),
                     " ".join(cc["ggml_c_flags"]), ", ".join(cc["native_isa"])))
    if report.get("invoked_as"):
        L.append("- command: `%s`, which ran `%s`" % (report["invoked_as"], report["command"]))
    else:
        L.append("- command: `%s`" % report["command"])
    if env["load"]["mean"] >= env["cpus"]:
        L.append("")
        L.append("**The machine was shared and oversubscribed during this run** (mean load %.1f on %d CPUs): "
                 "absolute times are inflated and noisy, and multi-thread results mostly measure contention "
                 "(OpenMP and ONNX Runtime thread pools suffer most). Compare contenders within a row, and "
                 "rerun on an idle machine before quoting scaling numbers." % (env["load"]["mean"], env["cpus"]))
    L.append("")
    head = ["configuration"] + [titles.get(n, n) for n in names]
    if not measured_ccpp:
        head.append("clip.cpp q8_0 (QUOTED, not measured)")
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "---|" * len(head))
    for c in cfgs:
        cfg = Config(c["tower"], c["batch"], c["threads"], c.get("tokens"))
        row = summ[cfg.id()]
        q = CLIPCPP_QUOTED.get(cfg.key)
        qs = "—" if q is None else ("%g ms" % q + (" (at 8 tokens)" if cfg.key == ("text", 1, 1, 7) else ""))
        L.append("| " + " | ".join([cfg.label()] + [fmt_cell(row.get(n)) for n in names]
                                   + ([] if measured_ccpp else [qs])) + " |")
        if cfg.tower == "image" and cfg.batch > 1:
            L.append("| ↳ per image | " + " | ".join(fmt_cell(row.get(n), cfg.batch) for n in names)
                     + ("" if measured_ccpp else " | —") + " |")
    L.append("")
    L.append("## Must show (performance targets)")
    L.append("")
    L.append("Ratios of the medians above (same run, same threads); in brackets the range of the ratio "
             "computed round by round.")
    L.append("")
    L.append("| measure | value | per-round range | target | met |")
    L.append("|---|---|---|---|---|")
    for m in report["must_show"]:
        rng = "%.3f–%.3f" % (m["round_min"], m["round_max"]) if m.get("round_min") is not None else ""
        note = " (%s)" % m["note"] if m.get("note") else ""
        L.append("| %s%s | %.3f | %s | %s | %s |" % (m["what"], note, m["value"], rng, m["target"],
                                                     "yes" if m["ok"] else "**no**"))
    L.append("")
    if report.get("scaling"):
        names_s = list(report["scaling"])
        measures = list(report["scaling"][names_s[0]])
        L.append("## Scaling, every contender (same run)")
        L.append("")
        L.append("| measure | " + " | ".join(titles.get(n, n) for n in names_s) + " |")
        L.append("|---|" + "---|" * len(names_s))
        for m in measures:
            cells = []
            for n in names_s:
                r = report["scaling"][n].get(m)
                cells.append("—" if not r else "%.2f (%.2f–%.2f)" % (r["value"], r["round_min"], r["round_max"]))
            L.append("| %s | %s |" % (m, " | ".join(cells)))
        L.append("")
    L.append("## Correctness (cosine vs PyTorch fp32, OpenAI-style forward)")
    L.append("")
    cols = list(OrderedDict((n, 1) for r in report["correctness"] for n in r["cosine"]))
    L.append("| input | " + " | ".join(titles.get(n, n) for n in cols) + " |")
    L.append("|---|" + "---|" * len(cols))
    for r in report["correctness"]:
        L.append("| %s: %s | " % (r["tower"], r["input"]) + " | ".join(
            "%.6f" % r["cosine"][n] if n in r["cosine"] else "—" for n in cols) + " |")
    L.append("")
    L.append("## Memory and start-up (clipinfer)")
    L.append("")
    L.append("| measure | value |")
    L.append("|---|---|")
    for r in report["peak_rss"]:
        L.append("| peak RSS, `%s embed %s` (/usr/bin/time -v) | %.1f MiB (file %.1f MiB, budget %.1f MiB) |" % (
            r["contender"], r["embed"], r["peak_rss_bytes"] / MIB, r["file_bytes"] / MIB, r["budget_bytes"] / MIB))
    for s in report["startup"]:
        L.append("| %s %s, %d runs | median %.1f ms (%.1f–%.1f) |" % (s["contender"], s["measure"], s["runs"],
                                                                    s["median_ms"], s["min_ms"], s["max_ms"]))
    if cc:
        for q, b in cc["file_bytes"].items():
            L.append("| clip.cpp %s GGUF file | %.1f MiB |" % (q, b / MIB))
    else:
        L.append("| clip.cpp (QUOTED from an earlier measurement, not measured) | load %g ms, peak RSS %g MiB, file %g MiB |" % (
            CLIPCPP_LOAD_MS, CLIPCPP_RSS_MIB, CLIPCPP_FILE_MIB))
    if report.get("ort_load_ms"):
        L.append("| ONNX Runtime session creation (fp32 .onnx) | %s |" % ", ".join(
            "%s %.0f ms" % kv for kv in report["ort_load_ms"].items()))
    L.append("")
    L.append("Wall time of the whole comparison: %.0f s." % report["wall_s"])
    return "\n".join(L) + "\n"


# --------------------------------------------------------------------------

def int_list(s):
    try:
        v = [int(x) for x in s.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("want integers separated by commas, got %r" % s)
    if not v or any(x <= 0 for x in v):
        raise argparse.ArgumentTypeError("want positive integers, got %r" % s)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per contender, configuration and round (default 10)")
    ap.add_argument("--batch-runs", type=int, default=0, help="timed runs for batched image configurations (default: half of --runs, at least 3)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs before each timed series (default 2)")
    ap.add_argument("--threads", type=int_list, default=[1, 2], help="thread counts (default 1,2)")
    ap.add_argument("--batch", type=int_list, default=[1, 8], help="image batch sizes (default 1,8)")
    ap.add_argument("--batch-all-threads", action="store_true", help="batched images at every thread count (default: the first only)")
    ap.add_argument("--tokens", type=int_list, default=[75, 7], help="caption lengths in BPE tokens; positions = tokens+2 (default 75,7)")
    ap.add_argument("--seed", type=int, default=2024, help="seed of the random ViT-B/32 (default 2024)")
    ap.add_argument("--f32", action="store_true", help="also convert to f32 and time clipinfer f32")
    ap.add_argument("--kernel", default="", help="clipinfer -kernel (default: its best)")
    ap.add_argument("--also-kernels", default="",
                    help="comma-separated kernels (or 'all': every one clipinfer info lists as available) timed as "
                         "extra q8 contenders clipinfer-q8-KERNEL in the same rounds")
    ap.add_argument("--qengine", default="auto", help="PyTorch quantized engine: auto (x86, fbgemm, onednn, qnnpack in that order) or a name")
    ap.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime")
    ap.add_argument("--clipcpp", default="", metavar="TARBALL",
                    help="build clip.cpp from this source tarball into CACHE/clipcpp and time it (q8_0 and q4_0, "
                         "image tower, batch 1) in the same rounds; 'auto' = %s if it exists" % clipcpp.DEFAULT_TARBALL)
    ap.add_argument("--ort-dir", default="", help="folder holding node_modules/onnxruntime-node (default: CACHE/ort)")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "clipinfer-bench"),
                    help="model cache outside git (default ~/.cache/clipinfer-bench)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"), help="folder of clipinfer and convert (default ROOT/bin)")
    ap.add_argument("--reconvert", action="store_true", help="convert even if the .clip files look current")
    ap.add_argument("--md", default="", help="also write the markdown report here")
    ap.add_argument("--json", default="", help="also write the JSON report here")
    ap.add_argument("--render", default="", metavar="JSON", help="only re-print the markdown of an earlier JSON report")
    args = ap.parse_args()
    if args.render:
        with open(args.render, encoding="utf-8") as f:
            sys.stdout.write(markdown(json.load(f, object_pairs_hook=OrderedDict)))
        return
    if args.rounds < 1 or args.runs < 1 or args.warmup < 0:
        ap.error("--rounds and --runs must be ≥ 1, --warmup ≥ 0")
    args.clipinfer = os.path.join(args.bin, "clipinfer")
    args.convert = os.path.join(args.bin, "convert")
    for b in (args.clipinfer, args.convert):
        if not os.access(b, os.X_OK):
            raise SystemExit("%s not found: run `make build` (or scripts/bench.sh) first" % b)
    if args.batch_runs <= 0:
        args.batch_runs = min(args.runs, max(3, (args.runs + 1) // 2))
    args.quants = ["q8"] + (["f32"] if args.f32 else [])
    wall0 = time.perf_counter()

    blas = blas_libraries()
    if not any("openblas" in l for l in blas):
        log("WARNING: PyTorch is not running on OpenBLAS (%s): fp32 times will be far too slow; "
            "install libopenblas0-openmp" % blas)
    qengine = pick_qengine(args.qengine)
    log("PyTorch %s, BLAS %s, quantized engine %s (of %s)" % (torch.__version__, blas, qengine,
                                                             torch.backends.quantized.supported_engines))

    tag, pt, ref, clip_files = ensure_files(args)
    image_fp32, text_fp32 = ImageTower(ref).eval(), TextTower(ref).eval()
    torch.backends.quantized.engine = qengine
    image_int8 = torch.ao.quantization.quantize_dynamic(ImageTower(ref).eval(), {nn.Linear}, dtype=torch.qint8)
    text_int8 = torch.ao.quantization.quantize_dynamic(TextTower(ref).eval(), {nn.Linear}, dtype=torch.qint8)
    left = [n for n, m in list(image_int8.named_modules()) + list(text_int8.named_modules()) if type(m) is nn.Linear]
    if left:
        raise SystemExit("quantize_dynamic left fp32 Linears: %s" % left)
    torchs = [Torch("torch-fp32", image_fp32, text_fp32), Torch("torch-int8", image_int8, text_int8, qengine)]
    # The rebuilt fp32 towers must equal the OpenAI-style forward.
    with torch.inference_mode():
        x = torch.randn(2, 3, SPEC["res"], SPEC["res"], generator=torch.Generator().manual_seed(5))
        ids = token_ids(20, 5)
        di = (image_fp32(x) - ref.encode_image(x)).abs().max().item()
        dt = (text_fp32(ids) - ref.encode_text(ids)).abs().max().item()
    log("rebuilt fp32 towers vs OpenAI-style forward: max |diff| image %.2g, text %.2g" % (di, dt))
    if di > 1e-3 or dt > 1e-3:
        raise SystemExit("the rebuilt PyTorch towers do not match the reference forward")

    ort = None
    if not args.no_ort:
        ort_dir = args.ort_dir or os.path.join(args.cache, "ort")
        node = shutil.which("node")
        if node and os.path.isdir(os.path.join(ort_dir, "node_modules", "onnxruntime-node")):
            img_onnx, txt_onnx = export_onnx(args, tag, image_fp32, text_fp32)
            ort = ORT(node, os.path.join(ort_dir, "node_modules"), img_onnx, txt_onnx)
            log("onnxruntime-node", ort.version)
        else:
            log("ONNX Runtime skipped: no node or no %s/node_modules/onnxruntime-node "
                "(see bench/compare/README.md)" % ort_dir)

    ccpps, ccpp_info = [], None
    if args.clipcpp == "auto" and not os.path.exists(clipcpp.DEFAULT_TARBALL):
        log("clip.cpp skipped: no %s" % clipcpp.DEFAULT_TARBALL)
        args.clipcpp = ""
    if args.clipcpp:
        built = clipcpp.build(args.cache, clipcpp.DEFAULT_TARBALL if args.clipcpp == "auto" else args.clipcpp)
        ggufs = clipcpp.ensure_models(built, ref.state_dict(), SPEC, args.cache, tag)
        px = Torch("", None, None).inputs(Config("image", 1, 1))[0].numpy()
        pixels = clipcpp.write_pixels(px, os.path.join(args.cache, "clipcpp-pixels-%d.f32" % SPEC["res"]))
        ccpps = [clipcpp.ClipCpp(built["bench"], f, q, pixels) for q, f in ggufs.items()]
        ccpp_info = OrderedDict(
            source=os.path.basename(built["source"]), compiler=os.path.basename(built["compiler"]),
            cxx_flags=built["cxx_flags"], ggml_c_flags=built["ggml_c_flags"], native_isa=clipcpp.native_isa(),
            file_bytes=OrderedDict((q, os.path.getsize(f)) for q, f in ggufs.items()))
        log("clip.cpp: %s; -march=native enables %s" % (" ".join(built["cxx_flags"]), ", ".join(ccpp_info["native_isa"])))

    clips = OrderedDict((q, Clipinfer(args.clipinfer, f, q, args.kernel)) for q, f in clip_files.items())
    correctness = check_correctness(args, ref, torchs, ort, clips, ccpps)
    bad = [(r["tower"], n, v) for r in correctness for n, v in r["cosine"].items() if v < 0.99]
    if bad:
        log("WARNING: cosine below 0.99:", bad)

    cfgs = make_configs(args)
    extra = [Clipinfer(args.clipinfer, clip_files["q8"], "q8", k, "-" + k) for k in also_kernels(args)]
    contenders = list(clips.values()) + extra + ccpps + torchs + ([ort] if ort else [])
    log("timing %d configurations × %d contenders × %d rounds" % (len(cfgs), len(contenders), args.rounds))
    with LoadSampler() as load:
        per = time_all(args, cfgs, contenders)
        rss = peak_rss(args, clips)
        start = startup(args, clips)
    ort_load = None
    if ort:
        ort_load = OrderedDict()
        for t in ("image", "text"):
            for th in args.threads:
                s = ort.call({"op": "time", "model": ort.models[t], "threads": th, "runs": 1, "warmup": 0,
                              "input": "ids" if t == "text" else "pixels",
                              **({"ids": [token_ids(7, 1)[0].tolist()]} if t == "text" else {"shape": [1, 3, SPEC["res"], SPEC["res"]]})})
                ort_load["%s %dt" % (t, th)] = s["load_ms"]
        ort.close()

    main_name = clips["q8"].name
    report = OrderedDict()
    report["date"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    report["command"] = " ".join([os.path.relpath(sys.argv[0], ROOT) if sys.argv[0].startswith(ROOT) else sys.argv[0]]
                                 + sys.argv[1:])
    report["invoked_as"] = os.environ.get("CLIPINFER_BENCH_COMMAND", "")
    report["seed"], report["rounds"], report["runs"], report["warmup"] = args.seed, args.rounds, args.runs, args.warmup
    report["batch_runs"] = args.batch_runs
    report["model"] = {"spec": SPEC, "pt": pt, "clip": {q: {"path": f, "bytes": os.path.getsize(f)} for q, f in clip_files.items()}}
    report["environment"] = OrderedDict(
        cpu=cpu_model(), cpus=os.cpu_count(), git=git_describe(), torch=torch.__version__, blas=blas, qengine=qengine,
        ort=ort.version if ort else None, clipinfer_kernel=clips["q8"].kernel_used, load=load.summary(),
        python=platform.python_version())
    report["contenders"] = [k.name for k in contenders]
    report["configs"] = [{"id": c.id(), "tower": c.tower, "batch": c.batch, "threads": c.threads,
                          "tokens": c.tokens, "positions": c.positions} for c in cfgs]
    report["results"] = summarise(cfgs, per)
    report["clipcpp"] = ccpp_info
    if not ccpps:
        report["quoted_clipcpp"] = {
            "note": "quoted from an earlier measurement (clip.cpp, ggml q8_0, -march=native); not measured by this harness",
            "image_b1_t1_ms": 214, "image_b1_t2_ms": 109, "text_77_positions_t1_ms": 153, "text_8_tokens_t1_ms": 16,
            "load_ms": CLIPCPP_LOAD_MS, "peak_rss_mib": CLIPCPP_RSS_MIB, "file_mib": CLIPCPP_FILE_MIB}
    report["correctness"] = correctness
    report["peak_rss"] = rss
    report["startup"] = start
    report["ort_load_ms"] = ort_load
    report["must_show"] = must_show(args, per, main_name, rss, start)
    report["scaling"] = scaling(args, per, report["contenders"])
    report["wall_s"] = time.perf_counter() - wall0
    md = markdown(report)
    sys.stdout.write(md)
    if args.md:
        with open(args.md, "w", encoding="utf-8") as f:
            f.write(md)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    if bad:
        sys.exit(2)


if __name__ == "__main__":
    main()
