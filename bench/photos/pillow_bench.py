#!/usr/bin/python3
"""Pillow (libjpeg-turbo) decode + OpenAI CLIP preprocessing on several
worker processes: the Python half of bench/photos/run.sh.

    bench/photos/pillow_bench.py [--workers 2] [--rounds 3] [--draft] [--exif] FILE...

Each worker runs PIL.Image.open -> (draft("RGB", (S, S)) with --draft) ->
(ImageOps.exif_transpose with --exif) -> Resize(S, BICUBIC) -> CenterCrop(S)
-> convert("RGB") -> ToTensor -> Normalize, the transform of OpenAI's
clip.load. Prints one JSON line: the median pass over all files, the
images per second, and the CPU seconds per image summed over the workers.
"""
import argparse
import json
import multiprocessing as mp
import resource
import statistics
import time

from PIL import Image, ImageOps
from torchvision.transforms import CenterCrop, Compose, Normalize, Resize, ToTensor
from torchvision.transforms import InterpolationMode

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
_T = None
_OPT = None


def _init(size, draft, exif):
    global _T, _OPT
    import torch
    torch.set_num_threads(1)
    _T = Compose([Resize(size, interpolation=InterpolationMode.BICUBIC), CenterCrop(size),
                  lambda im: im.convert("RGB"), ToTensor(), Normalize(MEAN, STD)])
    _OPT = (size, draft, exif)


def _one(path):
    size, draft, exif = _OPT
    t0 = time.process_time()
    im = Image.open(path)
    if draft:
        im.draft("RGB", (size, size))
    if exif:
        im = ImageOps.exif_transpose(im)
    x = _T(im)
    assert x.shape == (3, size, size)
    return time.process_time() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--draft", action="store_true")
    ap.add_argument("--exif", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    passes, cpu = [], []
    with mp.Pool(a.workers, initializer=_init, initargs=(a.size, a.draft, a.exif)) as pool:
        pool.map(_one, a.files[:a.workers])  # warm up imports in every worker
        for _ in range(a.rounds):
            t0 = time.perf_counter()
            cpu += pool.map(_one, a.files, chunksize=1)
            passes.append(time.perf_counter() - t0)
        rss = max(pool.map(_rss, range(a.workers)))
    med = statistics.median(passes)
    print(json.dumps({"impl": "pillow-" + Image.__version__, "draft": a.draft, "exif": a.exif,
                      "workers": a.workers, "files": len(a.files), "median_pass_s": med,
                      "images_per_s": len(a.files) / med,
                      "cpu_s_per_image": statistics.median(cpu),
                      "cpu_s_per_image_mean": statistics.mean(cpu),
                      "max_rss_mib_per_worker": rss / 1024}))


def _rss(_):
    time.sleep(0.05)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
