"""Dataset, captions and augmentation for the emoji CLIP (used by train.py and eval.py)."""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from clip_model import MEAN, STD

HERE = os.path.dirname(os.path.abspath(__file__))

# Caption templates around the CLDR name. The first is the evaluation prompt.
NAME_TEMPLATES = [
    "a picture of {}",
    "{}",
    "an emoji of {}",
    "a drawing of {}",
    "an icon of {}",
    "the {} emoji",
    "a picture of a {}",
    "a cartoon of {}",
    "{} emoji",
    "a small picture of {}",
]
KEYWORD_TEMPLATES = ["{}", "a picture of {}", "{} emoji", "an icon of {}"]


def manifest():
    return json.load(open(os.path.join(HERE, "manifest.json")))["packages"]


def styles(role):
    return [p["style"] for p in manifest() if p["role"] == role]


def load_concepts(cache):
    return json.load(open(os.path.join(cache, "data", "concepts.json"), encoding="utf-8"))


def load_style(cache, style):
    """(concept indices [N], premultiplied float images [N, 4, 64, 64] in 0..1)."""
    z = np.load(os.path.join(cache, "data", f"style_{style}.npz"))
    rgba = torch.from_numpy(z["rgba"]).permute(0, 3, 1, 2).float().div_(255)
    rgba[:, :3] *= rgba[:, 3:4]
    return torch.from_numpy(z["idx"]).long(), rgba


def caption(concept, rng):
    """A caption drawn from the concept's CLDR name, alternative names and keywords."""
    r = rng.random()
    kws, alts = concept["keywords"], concept["alt_names"]
    if r < 0.70 or (not kws and not alts):
        return NAME_TEMPLATES[rng.integers(len(NAME_TEMPLATES))].format(concept["name"])
    if r < 0.80 and alts:
        return KEYWORD_TEMPLATES[rng.integers(len(KEYWORD_TEMPLATES))].format(alts[rng.integers(len(alts))])
    if not kws:
        return concept["name"]
    k = rng.choice(len(kws), size=min(len(kws), 1 + rng.integers(3)), replace=False)
    text = ", ".join(kws[i] for i in k)
    if rng.random() < 0.3:
        text = concept["name"] + ", " + text
    return KEYWORD_TEMPLATES[rng.integers(len(KEYWORD_TEMPLATES))].format(text)


def normalize(rgb):
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (rgb - mean) / std


def on_white(prem):
    """Composites premultiplied RGBA [N,4,H,W] over white: the evaluation and demo background."""
    return prem[:, :3] + (1 - prem[:, 3:4])


def backgrounds(n, size, gen):
    """Random backgrounds [n,3,size,size]: white, flat colours, gradients, smooth and fine noise."""
    kind = torch.randint(0, 5, (n,), generator=gen)
    c1 = torch.rand(n, 3, 1, 1, generator=gen)
    c2 = torch.rand(n, 3, 1, 1, generator=gen)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    ang = torch.rand(n, 1, 1, generator=gen) * 6.2832
    t = (torch.cos(ang) * xs + torch.sin(ang) * ys)
    t = ((t - t.amin((1, 2), keepdim=True)) / (t.amax((1, 2), keepdim=True) - t.amin((1, 2), keepdim=True) + 1e-6)).unsqueeze(1)
    grad = c1 * (1 - t) + c2 * t
    coarse = F.interpolate(torch.rand(n, 3, 4, 4, generator=gen), size=size, mode="bicubic", align_corners=False)
    smooth = (c1 + 0.5 * (coarse - 0.5)).clamp(0, 1)
    fine = (c1 + 0.25 * (torch.rand(n, 3, size, size, generator=gen) - 0.5)).clamp(0, 1)
    bg = torch.where((kind == 0).view(n, 1, 1, 1), torch.ones_like(grad), c1.expand_as(grad))
    bg = torch.where((kind == 2).view(n, 1, 1, 1), grad, bg)
    bg = torch.where((kind == 3).view(n, 1, 1, 1), smooth, bg)
    return torch.where((kind == 4).view(n, 1, 1, 1), fine, bg)


def outline(prem, gen, p):
    """For a share p of the images, a dark sticker-style contour (1 or 2 px) around the shape."""
    n = prem.shape[0]
    pick = torch.rand(n, generator=gen) < p
    if not pick.any():
        return prem
    k = 3 + 2 * int(torch.randint(0, 2, (1,), generator=gen))
    a = prem[:, 3:4]
    grown = F.max_pool2d(a, k, stride=1, padding=k // 2)
    shade = torch.rand(n, 1, 1, 1, generator=gen) * 0.25
    ring = grown * (1 - a)
    out = torch.cat([prem[:, :3] + shade * ring, a + ring], 1)
    return torch.where(pick.view(n, 1, 1, 1), out, prem)


def augment(prem, gen, scale=(0.7, 1.1), shift=0.12, degrees=12.0, blur_p=0.25, outline_p=0.0):
    """Random scale/translation/rotation (no flips), random background, occasional
    low-resolution blur, optional dark contour. Colours of the emoji itself are never changed."""
    prem = outline(prem, gen, outline_p) if outline_p > 0 else prem
    n, _, h, w = prem.shape
    s = scale[0] + (scale[1] - scale[0]) * torch.rand(n, generator=gen)
    a = (torch.rand(n, generator=gen) * 2 - 1) * degrees * 3.14159265 / 180
    tx = (torch.rand(n, generator=gen) * 2 - 1) * shift
    ty = (torch.rand(n, generator=gen) * 2 - 1) * shift
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, prem.shape, align_corners=False)
    out = F.grid_sample(prem, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    rgb = out[:, :3] + backgrounds(n, h, gen) * (1 - out[:, 3:4])
    lowres = torch.rand(n, generator=gen) < blur_p
    if lowres.any():
        side = int(torch.randint(36, 57, (1,), generator=gen))
        small = F.interpolate(rgb[lowres], size=side, mode="bilinear", align_corners=False, antialias=True)
        rgb[lowres] = F.interpolate(small, size=h, mode="bilinear", align_corners=False)
    return normalize(rgb.clamp(0, 1))
