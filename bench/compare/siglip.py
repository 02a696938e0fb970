#!/usr/bin/env python3
"""clipinfer against PyTorch on a random SigLIP base-patch16-224, in one run.

Builds (once, in the cache) a Hugging Face SiglipModel folder with
siglip-base-patch16-224's shapes (224 px, patch 16, width 768, 12 layers,
12 heads, MLP 3072 in both towers, text at 64 positions, vocabulary 32000)
and random weights (tools/reference/siglip_ref.py), converts it with
bin/convert (q8, and f32 with --f32), checks that clipinfer's embeddings
match the PyTorch transcription of SiglipModel, then times the image tower
(one image) and the text tower (one text: all 64 positions run, as SigLIP
has no attention mask) in alternating rounds: PyTorch fp32 (our
transcription of modeling_siglip.py, torch.no_grad, torch threads = the
thread count) and `clipinfer bench`. Medians per contender; ratios to
PyTorch.

    /usr/bin/python3 bench/compare/siglip.py [--rounds 3] [--runs 5] [--threads 1]

Needs bin/convert and bin/clipinfer (make build) and about 2 GB in the
cache (BENCH_CACHE, default ~/.cache/clipinfer-bench).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import siglip_ref as ref  # noqa: E402

VOCAB = 32000


def build(cache, seed):
    d = os.path.join(cache, "siglip-base-patch16-224-random")
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return d
    v = ref.VARIANTS["siglip-tiny"]
    data, _ = ref.tokref.model_bytes(v["model"])
    print("building", d, file=sys.stderr)
    wts = ref.random_weights(VOCAB, seed, ref.BASE16)
    ref.write_folder(d, v, data, VOCAB, wts, ref.BASE16)
    return d


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, t in header.items():
            if name == "__metadata__":
                continue
            a, b = t["data_offsets"]
            f.seek(base + a)
            out[name] = torch.from_numpy(np.frombuffer(f.read(b - a), dtype="<f4").copy().reshape(t["shape"]))
    return out


def convert(folder, cache, q):
    out = os.path.join(cache, "siglip-base-patch16-224-random-%s.clip" % q)
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(os.path.join(ROOT, "bin", "convert")):
        subprocess.run([os.path.join(ROOT, "bin", "convert"), "-q", q, "-brief", folder, out], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def clipinfer_embed(model, image, text):
    r = subprocess.run([os.path.join(ROOT, "bin", "clipinfer"), "embed", "-m", model, "-text", text, "-image", image],
                       check=True, capture_output=True, text=True)
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    return torch.tensor(lines[0]["embedding"]), torch.tensor(lines[1]["embedding"])


def clipinfer_bench(model, runs, threads):
    r = subprocess.run([os.path.join(ROOT, "bin", "clipinfer"), "bench", "-m", model, "-runs", str(runs),
                        "-tokens", "7", "-batch", "1", "-threads", str(threads)],
                       check=True, capture_output=True, text=True)
    res = {}
    for l in r.stdout.splitlines():
        j = json.loads(l)
        res[j["tower"]] = j["median_ms"]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--f32", action="store_true", help="also time clipinfer's f32 file")
    ap.add_argument("--check-only", action="store_true", help="build, convert and compare embeddings; no timing")
    ap.add_argument("--cache", default=os.environ.get("BENCH_CACHE", os.path.expanduser("~/.cache/clipinfer-bench")))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.cache, exist_ok=True)
    folder = build(a.cache, a.seed)
    quants = ["q8"] + (["f32"] if a.f32 else [])
    models = {q: convert(folder, a.cache, q) for q in quants}
    w = read_safetensors(os.path.join(folder, "model.safetensors"))
    d = ref.BASE16
    image = os.path.join(ROOT, "testdata", "images", "gradient-64x48.png")
    text = "a photo of a cat"
    tok = ref.tokref.Siglip(ref.tokref.model_bytes("unigram_t5like")[0], ref.VARIANTS["siglip-tiny"]["tok_cfg"])
    ids = [tok(text)]
    pix = torch.from_numpy(ref.preprocess(image, d)).unsqueeze(0)
    with torch.no_grad():
        t_ref = torch.nn.functional.normalize(ref.text(w, ids, d), dim=-1)[0]
        i_ref = torch.nn.functional.normalize(ref.vision(w, pix, d, check=False), dim=-1)[0]
    check = {}
    for q, m in models.items():
        t_ci, i_ci = clipinfer_embed(m, image, text)
        check[q] = {"text_cosine": float(t_ci @ t_ref), "image_cosine": float(i_ci @ i_ref)}
        print("%s: cosine with PyTorch: text %.6f, image %.6f" % (q, check[q]["text_cosine"], check[q]["image_cosine"]),
              file=sys.stderr)

    if a.check_only:
        return 0
    times = {"pytorch-fp32": {"image": [], "text": []}}
    for q in quants:
        times["clipinfer-" + q] = {"image": [], "text": []}
    with torch.no_grad():
        ref.vision(w, pix, d, check=False)
        ref.text(w, ids, d)
        for r in range(a.rounds):
            for tower, f in (("image", lambda: ref.vision(w, pix, d, check=False)), ("text", lambda: ref.text(w, ids, d))):
                ms = []
                for _ in range(a.runs):
                    t0 = time.perf_counter()
                    f()
                    ms.append((time.perf_counter() - t0) * 1000)
                times["pytorch-fp32"][tower].append(statistics.median(ms))
            for q, m in models.items():
                res = clipinfer_bench(m, a.runs, a.threads)
                for tower in ("image", "text"):
                    times["clipinfer-" + q][tower].append(res[tower])
    med = {c: {t: statistics.median(v) for t, v in tv.items()} for c, tv in times.items()}
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print("SigLIP base-patch16-224 (random weights), %d thread(s), %d rounds × %d runs, %s" % (a.threads, a.rounds, a.runs, cpu))
    print()
    print("| contender | image ms (median) | text ms, 64 positions (median) | image vs PyTorch | text vs PyTorch |")
    print("| --- | --- | --- | --- | --- |")
    for c, m in med.items():
        print("| %s | %.1f | %.1f | %.2f× | %.2f× |" % (c, m["image"], m["text"], med["pytorch-fp32"]["image"] / m["image"],
                                                    med["pytorch-fp32"]["text"] / m["text"]))
    out = os.path.join(ROOT, "bench", "compare", "results", time.strftime("%Y-%m-%d-siglip.json"))
    with open(out, "w") as f:
        json.dump({"cpu": cpu, "threads": a.threads, "rounds": a.rounds, "runs": a.runs, "check": check,
                   "rounds_ms": times, "median_ms": med}, f, indent=1)
    print("\nwritten", out, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
