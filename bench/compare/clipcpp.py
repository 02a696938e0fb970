#!/usr/bin/python3
"""clip.cpp as a contender of bench/compare, built from the anchored sources.

clip.cpp (ggml) is the usual small C/C++ CLIP runtime, so bench/compare
times it in the same run as clipinfer. This module

1. unpacks clip.cpp (with its ggml) from a source tarball into a cache folder
   outside git and builds it exactly as its README does (cmake, Release, the
   project's default options — which include -march=native), plus the small
   timing harness clipcpp_bench.cpp compiled with the flags cmake used for
   clip.cpp itself and linked to the same library;
2. writes a GGUF file (f16, clip.cpp's own tensor names and metadata keys, as
   its models/convert_hf_to_gguf.py writes them) from the OpenAI-layout
   state dict that compare.py builds — clip.cpp's converter needs Python
   packages (transformers, gguf) that are not used here, so the GGUF layout
   (version 2, 32-byte alignment) is written with numpy;
3. quantises it with clip.cpp's `quantize` tool to q8_0 and q4_0;
4. offers ClipCpp, a contender with the same time()/embed() shape as the
   others in compare.py (image tower, batch 1 only: clip.cpp's batched
   image path and its text tower are not timed here).

Only the vision encoder is written (`clip.has_text_encoder` false): the text
tower would need clip.cpp's tokenizer vocabulary and is not compared.

Standalone use (build, write, quantise, check the cosine against PyTorch):
  /usr/bin/python3 bench/compare/clipcpp.py --cache ~/.cache/clipinfer-bench
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TARBALL_NAME = "clip.cpp-3484ffc-ggml-c3ae31e.tar.gz"


def _default_tarball():
    """shared/anchors/TARBALL_NAME in the nearest folder above the repository."""
    d = ROOT
    while True:
        parent = os.path.dirname(d)
        p = os.path.join(parent, "shared", "anchors", TARBALL_NAME)
        if os.path.exists(p) or parent == d:
            return p
        d = parent


DEFAULT_TARBALL = _default_tarball()
# clip.cpp's quantize tool takes ggml type numbers.
QUANT_TYPES = {"q4_0": 2, "q8_0": 8}
# Bump when the GGUF writer changes, so that cached files are rewritten.
GGUF_VERSION_TAG = 1


def log(*a):
    print("[clipcpp %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s" % (" ".join(map(str, cmd)), p.returncode, p.stderr.strip()[-2000:]))
    return p


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------

def build(cache, tarball=DEFAULT_TARBALL, jobs=2):
    """Builds clip.cpp (Release, default options) and clipcpp_bench into
    cache/clipcpp (re-unpacked when the tarball name changes); returns a dict with the binaries and the
    compile flags cmake used for clip.cpp."""
    if not os.path.exists(tarball):
        raise RuntimeError("clip.cpp sources not found: %s" % tarball)
    name = os.path.basename(tarball)
    top = os.path.join(cache, "clipcpp")
    src = os.path.join(top, "clip.cpp")
    bld = os.path.join(src, "build")
    stamp = os.path.join(top, "SOURCE")
    if not os.path.exists(stamp) or open(stamp).read().strip() != name:
        log("unpacking", tarball, "->", top)
        shutil.rmtree(top, ignore_errors=True)
        os.makedirs(top)
        with tarfile.open(tarball) as t:
            t.extractall(top)
        with open(stamp, "w") as f:
            f.write(name + "\n")
    for tool in ("cmake", "make", "g++"):
        if not shutil.which(tool):
            raise RuntimeError("%s not found: apt-get install -y cmake build-essential" % tool)
    if not os.path.exists(os.path.join(bld, "CMakeCache.txt")):
        log("cmake -DCMAKE_BUILD_TYPE=Release (clip.cpp's default options)")
        run(["cmake", "-S", src, "-B", bld, "-DCMAKE_BUILD_TYPE=Release"])
    log("make clip quantize")
    run(["make", "-C", bld, "-j%d" % jobs, "clip", "quantize"])

    # The flags cmake compiled clip.cpp with, reused for the harness.
    cc = json.load(open(os.path.join(bld, "compile_commands.json")))
    entry = next(e for e in cc if e["file"].endswith("/clip.cpp/clip.cpp"))
    ggml_entry = next(e for e in cc if e["file"].endswith("/ggml/src/ggml.c"))
    args = entry["command"].split()
    flags = [a for a in args[1:] if a.startswith(("-O", "-m", "-f", "-D", "-std", "-I", "-pthread"))]
    ggml_flags = [a for a in ggml_entry["command"].split()[1:] if a.startswith(("-O", "-m", "-f", "-D", "-std"))]

    libs = []
    for root, _, files in os.walk(bld):
        for f in files:
            if f in ("libclip.a", "libclip.so", "libggml.a", "libggml.so"):
                libs.append(os.path.join(root, f))
    libs.sort(key=lambda p: (0 if "clip" in os.path.basename(p) else 1, p))
    harness = os.path.join(bld, "bin", "clipcpp_bench")
    hsrc = os.path.join(HERE, "clipcpp_bench.cpp")
    if not (os.path.exists(harness) and all(os.path.getmtime(harness) >= os.path.getmtime(p) for p in libs + [hsrc])):
        log("g++ clipcpp_bench.cpp with clip.cpp's flags")
        rpath = ["-Wl,-rpath," + d for d in sorted({os.path.dirname(p) for p in libs if p.endswith(".so")})]
        run([args[0]] + flags + ["-I" + src, "-I" + os.path.join(src, "ggml", "include"), hsrc, "-o", harness]
            + libs + rpath + ["-lpthread", "-lm"])
    return {"dir": src, "source": tarball, "quantize": os.path.join(bld, "bin", "quantize"), "bench": harness,
            "cxx_flags": flags, "ggml_c_flags": ggml_flags, "compiler": args[0]}


def native_isa():
    """The ISA macros -march=native turns on here (what ggml can use)."""
    p = subprocess.run(["gcc", "-march=native", "-dM", "-E", "-x", "c", "/dev/null"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    want = ("__AVX2__", "__FMA__", "__F16C__", "__AVX512F__", "__AVX512BW__", "__AVX512VL__", "__AVX512VNNI__",
            "__AVXVNNI__", "__AVX512BF16__")
    have = {l.split()[1] for l in p.stdout.splitlines() if l.startswith("#define")}
    return [w.strip("_") for w in want if w in have]


# --------------------------------------------------------------------------
# GGUF (version 2) writer
# --------------------------------------------------------------------------

GGUF_MAGIC, GGUF_VERSION, ALIGN = 0x46554747, 2, 32
T_U32, T_F32, T_BOOL, T_STR, T_ARR = 4, 6, 7, 8, 9
GGML_F32, GGML_F16 = 0, 1


def _str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _kv(key, typ, val):
    out = _str(key) + struct.pack("<i", typ)
    if typ == T_U32:
        return out + struct.pack("<I", val)
    if typ == T_F32:
        return out + struct.pack("<f", val)
    if typ == T_BOOL:
        return out + struct.pack("<B", 1 if val else 0)
    if typ == T_STR:
        return out + _str(val)
    if typ == T_ARR:  # float32 arrays only
        return out + struct.pack("<iQ", T_F32, len(val)) + np.asarray(val, "<f4").tobytes()
    raise ValueError(typ)


def hf_vision_tensors(sd):
    """clip.cpp's tensor names (those convert_hf_to_gguf.py derives from
    Hugging Face's CLIPVisionModel) from an OpenAI-layout state dict;
    Hugging Face's Linear weights are [out, in], like OpenAI's, except the
    final projection (OpenAI's x @ proj) which is transposed."""
    g = lambda k: sd[k].detach().float().numpy()
    v = "visual."
    out = [("v.class_embd", g(v + "class_embedding")),
           ("v.patch_embd.weight", g(v + "conv1.weight")),
           ("v.position_embd.weight", g(v + "positional_embedding")),
           ("v.pre_ln.weight", g(v + "ln_pre.weight")), ("v.pre_ln.bias", g(v + "ln_pre.bias"))]
    n = 0
    while (v + "transformer.resblocks.%d.ln_1.weight" % n) in sd:
        p, b = v + "transformer.resblocks.%d." % n, "v.blk.%d." % n
        w, bias = g(p + "attn.in_proj_weight"), g(p + "attn.in_proj_bias")
        d = w.shape[1]
        for i, qkv in enumerate("qkv"):
            out += [(b + "attn_%s.weight" % qkv, w[i * d:(i + 1) * d]), (b + "attn_%s.bias" % qkv, bias[i * d:(i + 1) * d])]
        out += [(b + "attn_out.weight", g(p + "attn.out_proj.weight")), (b + "attn_out.bias", g(p + "attn.out_proj.bias")),
                (b + "ln1.weight", g(p + "ln_1.weight")), (b + "ln1.bias", g(p + "ln_1.bias")),
                (b + "ffn_down.weight", g(p + "mlp.c_fc.weight")), (b + "ffn_down.bias", g(p + "mlp.c_fc.bias")),
                (b + "ffn_up.weight", g(p + "mlp.c_proj.weight")), (b + "ffn_up.bias", g(p + "mlp.c_proj.bias")),
                (b + "ln2.weight", g(p + "ln_2.weight")), (b + "ln2.bias", g(p + "ln_2.bias"))]
        n += 1
    out += [("v.post_ln.weight", g(v + "ln_post.weight")), ("v.post_ln.bias", g(v + "ln_post.bias")),
            ("visual_projection.weight", g(v + "proj").T)]
    return out, n


def write_gguf(sd, path, spec, name="random ViT-B/32"):
    """Writes the vision tower of an OpenAI-layout state dict as clip.cpp's
    f16 GGUF (the converter's default: 4-D and 2-D .weight tensors f16,
    everything else f32). Atomic: written to path.tmp, then renamed."""
    tensors, layers = hf_vision_tensors(sd)
    width = tensors[0][1].shape[0]
    kvs = [
        _kv("general.architecture", T_STR, "clip"),
        _kv("clip.has_text_encoder", T_BOOL, False),
        _kv("clip.has_vision_encoder", T_BOOL, True),
        _kv("general.file_type", T_U32, 1),
        _kv("general.name", T_STR, name),
        _kv("general.description", T_STR, "vision-only CLIP model"),
        _kv("clip.vision.image_size", T_U32, spec["res"]),
        _kv("clip.vision.patch_size", T_U32, spec["patch"]),
        _kv("clip.vision.embedding_length", T_U32, width),
        _kv("clip.vision.feed_forward_length", T_U32, 4 * width),
        _kv("clip.vision.projection_dim", T_U32, spec["embed"]),
        _kv("clip.vision.attention.head_count", T_U32, width // 64),
        _kv("clip.vision.attention.layer_norm_epsilon", T_F32, 1e-5),
        _kv("clip.vision.block_count", T_U32, layers),
        _kv("clip.vision.image_mean", T_ARR, [0.48145466, 0.4578275, 0.40821073]),
        _kv("clip.vision.image_std", T_ARR, [0.26862954, 0.26130258, 0.27577711]),
        _kv("clip.use_gelu", T_BOOL, spec.get("act") == "gelu"),
    ]
    infos, blobs, off = [], [], 0
    for tname, a in tensors:
        a = np.squeeze(a)
        if a.ndim == 4 or (a.ndim == 2 and tname.endswith(".weight")):
            a, typ = np.ascontiguousarray(a, "<f2"), GGML_F16
        else:
            a, typ = np.ascontiguousarray(a, "<f4"), GGML_F32
        # ggml's ne[0] is the innermost (last numpy) dimension.
        infos.append(_str(tname) + struct.pack("<I", a.ndim) + b"".join(struct.pack("<Q", d) for d in a.shape[::-1])
                     + struct.pack("<iQ", typ, off))
        data = a.tobytes()
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        off += len(data) + pad
    head = struct.pack("<IIQQ", GGUF_MAGIC, GGUF_VERSION, len(tensors), len(kvs)) + b"".join(kvs) + b"".join(infos)
    head += b"\0" * ((-len(head)) % ALIGN)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def ensure_models(built, sd, spec, cache, tag, quants=("q8_0", "q4_0")):
    """f16 GGUF from the state dict and its quantised copies, in the cache;
    redone when the state dict is newer. Returns {quant: path}."""
    f16 = os.path.join(cache, "%s.clipcpp-v%d.f16.gguf" % (tag, GGUF_VERSION_TAG))
    pt = os.path.join(cache, tag + ".pt")
    fresh = lambda p: os.path.exists(p) and (not os.path.exists(pt) or os.path.getmtime(p) >= os.path.getmtime(pt))
    if not fresh(f16):
        log("writing clip.cpp GGUF ->", f16)
        write_gguf(sd, f16, spec)
    out = {}
    for q in quants:
        p = os.path.join(cache, "%s.clipcpp-v%d.%s.gguf" % (tag, GGUF_VERSION_TAG, q))
        if not fresh(p) or os.path.getmtime(p) < os.path.getmtime(f16):
            log("clip.cpp quantize %s ->" % q, p)
            run([built["quantize"], f16, p + ".tmp", str(QUANT_TYPES[q])])
            os.replace(p + ".tmp", p)
        out[q] = p
    return out


# --------------------------------------------------------------------------
# Contender
# --------------------------------------------------------------------------

class ClipCpp:
    """clip.cpp's image encoder through clipcpp_bench, one process per call
    (like the clipinfer contender), on a fixed preprocessed image."""

    def __init__(self, bench, model, quant, pixels):
        self.bench, self.model, self.quant = bench, model, quant
        self.name = "clipcpp-" + quant
        self.pixels = pixels  # path of a 3×S×S float32 file

    def supports(self, cfg):
        return cfg.tower == "image" and cfg.batch == 1

    def time(self, cfg, runs, warmup):
        out = run([self.bench, self.model, self.pixels, str(cfg.threads), str(runs), str(warmup)]).stdout
        ms = sorted(json.loads(out.strip().splitlines()[-1])["ms"])
        mid = len(ms) // 2
        med = ms[mid] if len(ms) % 2 else (ms[mid - 1] + ms[mid]) / 2
        return {"median_ms": med, "min_ms": ms[0], "max_ms": ms[-1], "runs": len(ms)}

    def embed_pixels(self, chw, threads=1):
        with tempfile.TemporaryDirectory() as d:
            px, emb = os.path.join(d, "px.f32"), os.path.join(d, "emb.f32")
            np.ascontiguousarray(chw, "<f4").tofile(px)
            run([self.bench, self.model, px, str(threads), "1", "0", emb])
            return np.fromfile(emb, "<f4")


def write_pixels(chw, path):
    np.ascontiguousarray(chw, "<f4").tofile(path)
    return path


def main():
    import torch
    sys.path.insert(0, HERE)
    import compare  # the model of the comparison, its cache and its reference forward

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/clipinfer-bench"))
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--tarball", default=DEFAULT_TARBALL)
    a = ap.parse_args()
    built = build(a.cache, a.tarball)
    log("flags:", " ".join(built["cxx_flags"]), "| -march=native enables:", " ".join(native_isa()))
    tag = compare.spec_tag(a.seed)
    pt = os.path.join(a.cache, tag + ".pt")
    if not os.path.exists(pt):
        raise SystemExit("clipcpp.py: %s missing; run compare.py once to build the model" % pt)
    ref = compare.models_ref.OpenAICLIP(**compare.SPEC)
    ref.load_state_dict(torch.load(pt))
    ref.eval()
    models = ensure_models(built, ref.state_dict(), compare.SPEC, a.cache, tag)
    g = torch.Generator().manual_seed(7)
    px = torch.randn(1, 3, compare.SPEC["res"], compare.SPEC["res"], generator=g)
    with torch.inference_mode():
        want = ref.encode_image(px).numpy()[0]
    for q, path in models.items():
        got = ClipCpp(built["bench"], path, q, None).embed_pixels(px[0].numpy())
        log("cosine clip.cpp %s vs PyTorch fp32: %.6f" % (q, compare.cosine(got, want)))


if __name__ == "__main__":
    main()
