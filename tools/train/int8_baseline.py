#!/usr/bin/python3
"""PyTorch's own int8 on the demo model: the baseline for the q8 agreement figures.

    int8_baseline.py [--model models/emoji-clip.pt] [--out FILE.json]

Scores PyTorch dynamic int8 (torch.ao.quantization.quantize_dynamic on every projection:
attention is rebuilt from nn.Linear as in bench/compare, so the fused qkv is quantised too)
against PyTorch fp32 on exactly the held-out set and prompt of eval.py: embedding cosine
(mean, min) and zero-shot top-1 agreement, plus both models' metrics. tools/demoeval reports
the same figures for clipinfer's q8 against its f32, so the two can be read side by side:
how far any int8 scheme moves the predictions of this model over 1,914 near-tied names.
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench", "compare"))

import atomic  # noqa: E402
import compare  # noqa: E402  (ImageTower/TextTower: every projection an nn.Linear)
import data  # noqa: E402
import eval as demo_eval  # noqa: E402
from clip_model import build_from_state_dict  # noqa: E402
from clip_tokenizer import Tokenizer  # noqa: E402
from fetch import default_cache  # noqa: E402


@torch.no_grad()
def embed(image_tower, text_tower, rgb, ids):
    img = torch.cat([image_tower(data.normalize(rgb[i:i + 256])) for i in range(0, len(rgb), 256)])
    txt = torch.cat([text_tower(ids[i:i + 256]) for i in range(0, len(ids), 256)])
    return F.normalize(img, dim=-1), F.normalize(txt, dim=-1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=default_cache())
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "emoji-clip.pt"))
    ap.add_argument("--engine", default="auto", help="quantized engine (auto: x86, fbgemm, onednn, qnnpack)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.quantized.engine = compare.pick_qengine(args.engine)

    model = build_from_state_dict(torch.load(args.model, map_location="cpu"))
    tok = Tokenizer()
    concepts = data.load_concepts(args.cache)
    (held_out,) = data.styles("eval")
    idx, prem = data.load_style(args.cache, held_out)
    names = [concepts[i]["name"] for i in idx.tolist()]
    ids = torch.tensor([tok.tokenize(data.NAME_TEMPLATES[0].format(n)) for n in names])
    ids = ids[:, :int((ids != 0).sum(1).max())]
    rgb = data.on_white(prem)

    f32 = (compare.ImageTower(model).eval(), compare.TextTower(model).eval())
    q8 = tuple(torch.ao.quantization.quantize_dynamic(t, {torch.nn.Linear}, dtype=torch.qint8) for t in f32)
    ref_img, ref_txt = embed(*f32, rgb, ids)
    q_img, q_txt = embed(*q8, rgb, ids)
    # The rebuilt fp32 towers must be the model itself before int8 means anything.
    # Their disagreement with the model's own modules (nn.MultiheadAttention: the same math,
    # another summation order) is the noise floor of the agreement figure.
    with torch.no_grad():
        orig_img = demo_eval.encode_images(model, rgb)
        orig_txt = F.normalize(model.encode_text(ids), dim=-1)
    assert (orig_img * ref_img).sum(1).min() > 0.99999, "rebuilt image tower differs from the model"
    assert (orig_txt * ref_txt).sum(1).min() > 0.99999, "rebuilt text tower differs from the model"

    pct = lambda x: round(100.0 * x, 2)  # noqa: E731
    ref_pred = (ref_img @ ref_txt.T).argmax(1)
    q_pred = (q_img @ q_txt.T).argmax(1)
    orig_pred = (orig_img @ orig_txt.T).argmax(1)
    cos_i, cos_t = (ref_img * q_img).sum(1), (ref_txt * q_txt).sum(1)
    result = {
        "model": os.path.basename(args.model),
        "engine": torch.backends.quantized.engine,
        "prompt": data.NAME_TEMPLATES[0],
        "fp32": demo_eval.retrieval_metrics(ref_img, ref_txt),
        "dynamic_int8": demo_eval.retrieval_metrics(q_img, q_txt),
        "vs_fp32": {
            "image_cosine_mean": round(cos_i.mean().item(), 6), "image_cosine_min": round(cos_i.min().item(), 6),
            "text_cosine_mean": round(cos_t.mean().item(), 6), "text_cosine_min": round(cos_t.min().item(), 6),
            "zero_shot_top1_agreement": pct((ref_pred == q_pred).float().mean().item()),
        },
        "fp32_rebuilt_vs_fp32_modules": {
            "image_cosine_min": round((orig_img * ref_img).sum(1).min().item(), 9),
            "text_cosine_min": round((orig_txt * ref_txt).sum(1).min().item(), 9),
            "zero_shot_top1_agreement": pct((ref_pred == orig_pred).float().mean().item()),
        },
    }
    atomic.emit_json(result, args.out)


if __name__ == "__main__":
    main()
