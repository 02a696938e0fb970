#!/usr/bin/python3
"""Evaluates the emoji CLIP on the held-out OpenMoji style and prints JSON.

    eval.py [--model models/emoji-clip.pt] [--out FILE.json] [--ensemble] [--export-dir DIR]
            [--export-seen-dir DIR]

Images: every concept that exists in OpenMoji, rendered and normalised by fetch.py (content
cropped, centred, 56 of 64 px) and composited on white. Texts: "a picture of {CLDR name}" per
concept (--ensemble: the mean of the normalised embeddings of all NAME_TEMPLATES, renormalised).
Metrics: zero-shot top-1/top-5 over all those names, text->image recall@1/5/10 (one matching
image per text), their chance levels, and the lecture's modality-gap figures
(compute_modality_gap, analyze_intra_inter_similarity from 11_modality_gap.py, reproduced below
with the same arithmetic). --export-dir writes the evaluation images as PNG plus labels.json
so that another runtime (the Go q8 model) can be scored on exactly the same inputs;
--export-seen-dir does the same for the seen (training) style.
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import atomic  # noqa: E402
import data  # noqa: E402
from clip_model import build_from_state_dict  # noqa: E402
from clip_tokenizer import Tokenizer  # noqa: E402
from fetch import default_cache  # noqa: E402


# --- From the lecture, 11_modality_gap.py (same computation) ---------------------------------
def compute_modality_gap(text_emb, image_emb):
    """Modality gap: centroid difference and the angle between the centroids."""
    text_emb = F.normalize(text_emb, dim=-1)
    image_emb = F.normalize(image_emb, dim=-1)
    text_centroid = text_emb.mean(dim=0)
    image_centroid = image_emb.mean(dim=0)
    gap_vector = text_centroid - image_centroid
    gap_magnitude = gap_vector.norm().item()
    text_centroid_norm = F.normalize(text_centroid, dim=0)
    image_centroid_norm = F.normalize(image_centroid, dim=0)
    cos_angle = (text_centroid_norm @ image_centroid_norm).item()
    angle_deg = torch.acos(torch.tensor(cos_angle)).item() * 180 / 3.14159
    return {"gap_vector": gap_vector, "gap_magnitude": gap_magnitude, "centroid_angle_deg": angle_deg}


def analyze_intra_inter_similarity(text_emb, image_emb):
    """Mean intra-modal and inter-modal (matched / unmatched) cosine similarities."""
    text_emb = F.normalize(text_emb, dim=-1)
    image_emb = F.normalize(image_emb, dim=-1)
    text_sim = text_emb @ text_emb.T
    image_sim = image_emb @ image_emb.T
    n = text_emb.size(0)
    mask = ~torch.eye(n, dtype=torch.bool, device=text_emb.device)
    intra_text = text_sim[mask].mean().item()
    intra_image = image_sim[mask].mean().item()
    cross_sim = text_emb @ image_emb.T
    inter_matched = cross_sim.diag().mean().item()
    inter_unmatched = cross_sim[mask].mean().item()
    return {"intra_text_similarity": intra_text, "intra_image_similarity": intra_image,
            "inter_matched_similarity": inter_matched, "inter_unmatched_similarity": inter_unmatched}
# ------------------------------------------------------------------------------------------


@torch.no_grad()
def encode_texts(model, tok, texts, batch=256):
    out = []
    for i in range(0, len(texts), batch):
        ids = torch.tensor([tok.tokenize(t) for t in texts[i:i + batch]])
        n = int((ids != 0).sum(1).max())
        out.append(F.normalize(model.encode_text(ids[:, :n]), dim=-1))
    return torch.cat(out)


@torch.no_grad()
def encode_images(model, rgb, batch=256):
    out = []
    for i in range(0, len(rgb), batch):
        out.append(F.normalize(model.encode_image(data.normalize(rgb[i:i + batch])), dim=-1))
    return torch.cat(out)


def retrieval_metrics(img, txt):
    """img[i] and txt[i] belong to concept i. Returns percentages."""
    n = len(img)
    sim = img @ txt.T  # [image, text]
    diag = sim.diag().unsqueeze(1)
    rank_i2t = (sim > diag).sum(1)  # zero-shot: rank of the right name for each image
    rank_t2i = (sim.T > diag).sum(1)  # retrieval: rank of the right image for each text
    pct = lambda x: round(100.0 * x, 2)  # noqa: E731
    return {
        "n": n,
        "zero_shot_top1": pct((rank_i2t < 1).float().mean().item()),
        "zero_shot_top5": pct((rank_i2t < 5).float().mean().item()),
        "text_to_image_R@1": pct((rank_t2i < 1).float().mean().item()),
        "text_to_image_R@5": pct((rank_t2i < 5).float().mean().item()),
        "text_to_image_R@10": pct((rank_t2i < 10).float().mean().item()),
        "chance_top1": pct(1 / n), "chance_top5": pct(5 / n), "chance_R@10": pct(10 / n),
    }


def evaluate(model, tok, concepts, idx, prem, ensemble):
    names = [concepts[i]["name"] for i in idx.tolist()]
    if ensemble:
        txt = sum(encode_texts(model, tok, [t.format(n) for n in names]) for t in data.NAME_TEMPLATES)
        txt = F.normalize(txt, dim=-1)
    else:
        txt = encode_texts(model, tok, [data.NAME_TEMPLATES[0].format(n) for n in names])
    img = encode_images(model, data.on_white(prem))
    res = retrieval_metrics(img, txt)
    gap = compute_modality_gap(txt, img)
    res["modality_gap"] = {"gap_magnitude": round(gap["gap_magnitude"], 4),
                           "centroid_angle_deg": round(gap["centroid_angle_deg"], 2)}
    res["similarity"] = {k: round(v, 4) for k, v in analyze_intra_inter_similarity(txt, img).items()}
    return res


def export(dirname, concepts, idx, prem):
    from PIL import Image
    os.makedirs(dirname, exist_ok=True)
    rgb = (data.on_white(prem).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    labels = []
    for k, (c, im) in enumerate(zip(idx.tolist(), rgb)):
        fname = f"{k:04d}.png"
        Image.fromarray(im).save(os.path.join(dirname, fname))
        labels.append({"file": fname, "name": concepts[c]["name"], "hex": concepts[c]["hex"]})
    atomic.write_json(os.path.join(dirname, "labels.json"), {"prompt": data.NAME_TEMPLATES[0], "images": labels},
                      ensure_ascii=False, indent=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=default_cache())
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "models", "emoji-clip.pt"))
    ap.add_argument("--out", default="")
    ap.add_argument("--ensemble", action="store_true", help="also report a template ensemble")
    ap.add_argument("--seen-style", default="twemoji", help="also report on this training style ('' for none)")
    ap.add_argument("--export-dir", default="")
    ap.add_argument("--export-seen-dir", default="", help="also export the seen style's images (q8 agreement on a style the model knows)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sd = torch.load(args.model, map_location="cpu")
    model = build_from_state_dict(sd)
    tok = Tokenizer()
    concepts = data.load_concepts(args.cache)
    result = {"model": os.path.basename(args.model), "prompt": data.NAME_TEMPLATES[0],
              "logit_scale_exp": round(float(sd["logit_scale"].exp()), 3)}
    (held_out,) = data.styles("eval")
    idx, prem = data.load_style(args.cache, held_out)
    result["held_out_style"] = held_out
    result["held_out"] = evaluate(model, tok, concepts, idx, prem, False)
    if args.ensemble:
        result["held_out_ensemble"] = evaluate(model, tok, concepts, idx, prem, True)
        result["ensemble_templates"] = data.NAME_TEMPLATES
    if args.seen_style:
        sidx, sprem = data.load_style(args.cache, args.seen_style)
        result["seen_style"] = args.seen_style
        result["seen"] = evaluate(model, tok, concepts, sidx, sprem, False)
        if args.export_seen_dir:
            export(args.export_seen_dir, concepts, sidx, sprem)
    if args.export_dir:
        export(args.export_dir, concepts, idx, prem)
    atomic.emit_json(result, args.out)


if __name__ == "__main__":
    main()
