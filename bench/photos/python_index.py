#!/usr/bin/python3
"""The Python photo-indexing pipeline clipinfer is compared with: Pillow
decode + OpenAI CLIP preprocessing (torchvision) + PyTorch dynamic-int8
ViT-B/32 image tower with random weights (every projection an int8
nn.Linear, as in bench/compare/compare.py), one image at a time in each of
--workers processes with one thread each.

    bench/photos/python_index.py [--workers 2] FILE...

Prints one JSON line: images per second over the whole pass (model set-up
excluded), the CPU seconds per image (decode to embedding, the workers' own
accounting) and the peak RSS of every worker summed.
"""
import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "compare"))

_MODEL = None
_T = None


def _init():
    global _MODEL, _T
    import torch
    import torch.nn as nn
    import compare  # noqa: E402
    from pillow_bench import MEAN, STD
    from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor
    torch.set_num_threads(1)
    torch.manual_seed(1)
    ref = compare.models_ref.OpenAICLIP(**compare.SPEC)
    tower = compare.ImageTower(ref).eval()
    del ref
    _MODEL = torch.ao.quantization.quantize_dynamic(tower, {nn.Linear}, dtype=torch.qint8)
    _T = Compose([Resize(224, interpolation=InterpolationMode.BICUBIC), CenterCrop(224),
                  lambda im: im.convert("RGB"), ToTensor(), Normalize(MEAN, STD)])


def _one(path):
    import torch
    from PIL import Image
    t0 = time.process_time()
    with torch.no_grad():
        v = _MODEL(_T(Image.open(path))[None])
        v = v / v.norm(dim=-1, keepdim=True)
    assert v.shape[0] == 1
    return time.process_time() - t0


def _rss(_):
    time.sleep(0.1)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    with mp.get_context("spawn").Pool(a.workers, initializer=_init) as pool:
        pool.map(_rss, range(a.workers))  # wait for every worker's set-up
        t0 = time.perf_counter()
        cpu = pool.map(_one, a.files, chunksize=1)
        secs = time.perf_counter() - t0
        rss = pool.map(_rss, range(a.workers))
    print(json.dumps({"impl": "python-pillow-torch-int8", "workers": a.workers, "files": len(a.files),
                      "seconds": secs, "images_per_s": len(a.files) / secs,
                      "cpu_s_per_image": sum(cpu) / len(cpu),
                      "peak_rss_mib_sum": sum(rss) / 1024}))


if __name__ == "__main__":
    main()
