#!/usr/bin/python3
"""Trains the small emoji CLIP (OpenAI layout) and saves its state dict.

    train.py [--steps N] [--batch B] [--out models/emoji-clip.pt] [--seed S]

Data: the training styles of manifest.json as built by fetch.py in the cache. Each step takes
B distinct concepts (an epoch-wise permutation of all concepts, so no duplicate in a batch),
one random training style per concept (mixed-style batches), augments the image (random
background, scale, shift, rotation, occasional low resolution; no flips, no colour changes)
and draws a caption from the concept's CLDR name, alternative names and keywords.
Loss: the lecture's symmetric InfoNCE with a learnable logit_scale (init log(1/0.07), clamped so
that exp(logit_scale) <= 100 as CLIP does). AdamW, linear warm-up then cosine decay, weight
decay on matrices only (not on gains, biases, embeddings or logit_scale). fp32 throughout.

Deterministic for a given seed, step count and thread count, as long as the run is ended by
--steps. The schedule's progress is max(step / steps, elapsed / time-budget): on a machine
too busy to finish --steps within --time-budget the schedule follows the clock instead, so
the run still anneals fully and ends in time, but is then no longer bit-reproducible. The
log (`<out>.trainlog.json`) records which of the two ended the run.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import atomic  # noqa: E402
import data  # noqa: E402
from clip_model import CLIP, clip_loss  # noqa: E402
from clip_tokenizer import EOT, Tokenizer  # noqa: E402
from fetch import default_cache  # noqa: E402


class Batcher:
    """Deterministic sampler of (image, caption) batches."""

    def __init__(self, cache, seed, style_names, outline_p=0.0):
        self.concepts = data.load_concepts(cache)
        self.style_names = style_names
        self.outline_p = outline_p
        self.images = []  # per style: premultiplied images
        self.where = [[] for _ in self.concepts]  # concept -> [(style, row)]
        for s, style in enumerate(style_names):
            idx, prem = data.load_style(cache, style)
            self.images.append(prem)
            for row, c in enumerate(idx.tolist()):
                self.where[c].append((s, row))
        self.trainable = np.array([i for i, w in enumerate(self.where) if w])
        by_group = {}
        for i in self.trainable:
            by_group.setdefault(self.concepts[i]["group"], []).append(i)
        self.groups = [np.array(v) for _, v in sorted(by_group.items()) if len(v) >= 64]
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.tok = Tokenizer()
        self.tok_cache = {}
        self.order, self.pos = np.empty(0, dtype=np.int64), 0

    def tokens(self, text):
        ids = self.tok_cache.get(text)
        if ids is None:
            ids = self.tok.tokenize(text)
            ids = ids[:ids.index(EOT) + 1]
            self.tok_cache[text] = ids
        return ids

    def next(self, batch, group_p):
        """With probability group_p the batch holds concepts of one Emojibase group only
        (harder negatives: faces with faces, flags with flags); otherwise it is the next
        slice of an epoch-wise permutation of all concepts. Never a concept twice."""
        group = None
        if self.rng.random() < group_p:
            group = self.groups[self.rng.integers(len(self.groups))]
        if group is not None:
            cs = self.rng.choice(group, size=min(batch, len(group)), replace=False)
        else:
            if self.pos + batch > len(self.order):
                self.order, self.pos = self.rng.permutation(self.trainable), 0
            cs = self.order[self.pos:self.pos + batch]
            self.pos += batch
        picks = [self.where[c][self.rng.integers(len(self.where[c]))] for c in cs]
        prem = torch.stack([self.images[s][r] for s, r in picks])
        img = data.augment(prem, self.gen, outline_p=self.outline_p)
        seqs = [self.tokens(data.caption(self.concepts[c], self.rng)) for c in cs]
        n = max(len(s) for s in seqs)
        txt = torch.zeros(len(seqs), n, dtype=torch.long)
        for i, s in enumerate(seqs):
            txt[i, :len(s)] = torch.tensor(s)
        return img, txt


def param_groups(model, wd):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.ndim >= 2 and "embedding" not in name:
            decay.append(p)
        else:  # gains, biases, class/positional/token embeddings, logit_scale
            no_decay.append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(progress, peak):
    """Cosine decay from peak at progress 0 to 0 at progress 1 (warm-up is applied by steps)."""
    return peak * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=default_cache())
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "models", "emoji-clip.pt"))
    ap.add_argument("--steps", type=int, default=4800)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=50, help="linear warm-up steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vision-layers", type=int, default=4)
    ap.add_argument("--text-layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--embed", type=int, default=128)
    ap.add_argument("--time-budget", type=float, default=85 * 60,
                    help="seconds; on a slow machine the schedule follows elapsed time instead of steps")
    ap.add_argument("--outline-p", type=float, default=0.35, help="share of images given a dark contour")
    ap.add_argument("--group-p", type=float, default=0.5, help="share of single-group batches")
    ap.add_argument("--styles", default="", help="comma-separated training styles (default: all)")
    ap.add_argument("--checkpoint-every", type=int, default=100)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = CLIP(embed_dim=args.embed, vision_layers=args.vision_layers, vision_width=args.width,
                 transformer_width=args.width, transformer_layers=args.text_layers)
    train_styles = args.styles.split(",") if args.styles else data.styles("train")
    assert not set(train_styles) & set(data.styles("eval")), "never train on the held-out style"
    batcher = Batcher(args.cache, args.seed, train_styles, args.outline_p)
    opt = torch.optim.AdamW(param_groups(model, args.wd), lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    max_scale = math.log(100)
    log = {"args": vars(args), "params": sum(p.numel() for p in model.parameters()),
           "trainable_concepts": len(batcher.trainable), "styles": train_styles, "steps": []}
    print(json.dumps({k: v for k, v in log.items() if k != "steps"}), file=sys.stderr)
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    ckpt = os.path.join(args.cache, "checkpoint.pt")
    init_tokens = model.token_embedding.weight.detach().clone()
    start = time.time()
    model.train()
    step = clock_steps = 0
    elapsed = 0.0  # time taken by the steps done so far (0 before the first: step 0 is never clock-driven)
    while True:
        # Progress drives the cosine schedule: normally step / steps (deterministic); if the
        # machine is too slow for --steps within --time-budget, elapsed / budget takes over
        # so the run still anneals fully and ends in time (the log says which one ended it).
        progress = max(step / args.steps, elapsed / args.time_budget)
        if progress >= 1:
            break
        clock_steps += elapsed / args.time_budget > step / args.steps
        lr = lr_at(progress, args.lr) * min(1.0, (step + 1) / args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        img, txt = batcher.next(args.batch, args.group_p)
        img_emb, txt_emb = model(img, txt)
        logits = model.logit_scale.exp() * txt_emb @ img_emb.T  # [text, image]
        loss = clip_loss(logits)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, max_scale)
        if step % 10 == 0:
            rec = {"step": step, "batch": len(txt), "loss": round(loss.item(), 4), "scale": round(model.logit_scale.exp().item(), 2),
                   "lr": round(lr, 6), "progress": round(progress, 4), "elapsed_s": round(time.time() - start, 1)}
            log["steps"].append(rec)
            print(json.dumps(rec), file=sys.stderr, flush=True)
        step += 1
        if step % args.checkpoint_every == 0:
            atomic.replace(ckpt, lambda f: torch.save(model.state_dict(), f))
        elapsed = time.time() - start
    log["train_seconds"] = round(time.time() - start, 1)
    log["steps_done"] = step
    log["ended_by"] = "steps" if step >= args.steps else "time budget"
    log["clock_driven_steps"] = clock_steps  # 0 means the run is bit-reproducible
    sd = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    # Token rows no caption ever used are still exactly their random initial values
    # (embeddings get no weight decay, so nothing moved them). Zero them: they carry no
    # meaning either way, and zeros make the committed file compress in git.
    untouched = (sd["token_embedding.weight"] == init_tokens).all(dim=1)
    sd["token_embedding.weight"][untouched] = 0
    log["token_rows_trained"] = int((~untouched).sum())
    atomic.replace(out, lambda f: torch.save(sd, f))  # zip format (PyTorch >= 1.6 default)
    atomic.write_json(os.path.splitext(out)[0] + ".trainlog.json", log, indent=1)
    print(f"train: saved {out} ({os.path.getsize(out) / 1e6:.1f} MB) after {log['train_seconds']} s", file=sys.stderr)


if __name__ == "__main__":
    main()
