#!/usr/bin/python3
"""Golden fixtures for clipinfer's fp32 towers.

Builds small random CLIP ViT models in the real checkpoint layouts and dumps
what PyTorch computes for them, so the Go tests can check the converter and
the runtime without PyTorch:

  testdata/models/openai-qgelu.pt            OpenAI state dict (torch.save zip), QuickGELU
  testdata/models/openclip-gelu.safetensors  OpenAI/OpenCLIP keys, exact GELU (convert -act gelu)
  testdata/models/hf-gelu/                   Hugging Face CLIPModel directory, gelu, head_dim 16
  testdata/models/hf-qgelu/                  Hugging Face CLIPModel directory, quick_gelu
  testdata/golden/<name>.json                token ids, text and image embeddings, logit scale
  testdata/golden/<name>-pixels-N.npy        the image tensors the embeddings were computed from

The model code below is written from docs/DESIGN.md §1.1 (OpenAI's clip/model.py
semantics) and, separately, from Hugging Face's CLIPModel semantics, so the
two layouts are checked against two independent forward passes.

Every parameter is perturbed (LayerNorm gains ≠ 1, biases ≠ 0), except the
rows of the 49408-row token tables that no fixture text uses: those are zero
so that the committed files stay small in git (they cannot influence any
output). Run: /usr/bin/python3 tools/reference/models_ref.py
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import tokenizer_ref  # noqa: E402  (the project's reference tokenizer)

OUT_MODELS = os.path.join(ROOT, "testdata", "models")
OUT_GOLDEN = os.path.join(ROOT, "testdata", "golden")
IMAGES = os.path.join(ROOT, "testdata", "images")

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
VOCAB, CONTEXT = 49408, 77
SOT, EOT = 49406, 49407

TEXTS = [
    "a photo of a cat",
    "a diagram",
    "",
    "A DOG running on the beach at sunset!!",
    "she's here, isn't she? we'll see.",
    "1234567890 numbers 3.14159",
    "café naïve résumé",
    "東京の夜景",
    "🐶🐱 emoji 👩‍👩‍👧",
    "&amp; &lt;b&gt; html entities",
    "   lots    of\twhitespace\n\n here  ",
    "a very long caption " * 20,
    "<|startoftext|>special<|endoftext|> tokens",
    "x",
]


# --------------------------------------------------------------------------
# OpenAI layout
# --------------------------------------------------------------------------

class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads, act, mask=None):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, width * 4)),
            ("gelu", QuickGELU() if act == "quick_gelu" else nn.GELU()),
            ("c_proj", nn.Linear(width * 4, width)),
        ]))
        self.ln_2 = nn.LayerNorm(width)
        self.attn_mask = mask

    def forward(self, x):
        mask = self.attn_mask
        if mask is not None:
            mask = mask[: x.shape[0], : x.shape[0]]
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, act, mask=None):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, act, mask) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, resolution, patch, width, layers, heads, out_dim, act):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        s = width ** -0.5
        self.class_embedding = nn.Parameter(s * torch.randn(width))
        self.positional_embedding = nn.Parameter(s * torch.randn((resolution // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads, act)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(s * torch.randn(width, out_dim))

    def forward(self, x):
        x = self.conv1(x)
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
        cls = self.class_embedding + torch.zeros(x.shape[0], 1, x.shape[-1])
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.ln_pre(x).permute(1, 0, 2)
        x = self.transformer(x).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class OpenAICLIP(nn.Module):
    def __init__(self, embed, res, patch, vwidth, vlayers, twidth, tlayers, act):
        super().__init__()
        self.visual = VisionTransformer(res, patch, vwidth, vlayers, vwidth // 64, embed, act)
        mask = torch.empty(CONTEXT, CONTEXT).fill_(float("-inf")).triu_(1)
        self.transformer = Transformer(twidth, tlayers, twidth // 64, act, mask)
        self.token_embedding = nn.Embedding(VOCAB, twidth)
        self.positional_embedding = nn.Parameter(torch.randn(CONTEXT, twidth) * 0.01)
        self.ln_final = nn.LayerNorm(twidth)
        self.text_projection = nn.Parameter(torch.randn(twidth, embed) * twidth ** -0.5)
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))

    def encode_image(self, pixels):
        return self.visual(pixels)

    def encode_text(self, ids, truncate_at_eot=False):
        x = self.token_embedding(ids) + self.positional_embedding[: ids.shape[1]]
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ self.text_projection


# --------------------------------------------------------------------------
# Hugging Face layout (CLIPModel semantics, written independently)
# --------------------------------------------------------------------------

ACT = {"gelu": lambda x: F.gelu(x), "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x)}


class HFAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads, self.hd = heads, width // heads
        self.scale = self.hd ** -0.5
        self.q_proj, self.k_proj = nn.Linear(width, width), nn.Linear(width, width)
        self.v_proj, self.out_proj = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, x, causal):
        b, n, w = x.shape
        split = lambda t: t.view(b, n, self.heads, self.hd).transpose(1, 2)
        q, k, v = split(self.q_proj(x) * self.scale), split(self.k_proj(x)), split(self.v_proj(x))
        att = q @ k.transpose(-1, -2)
        if causal:
            att = att + torch.full((n, n), torch.finfo(att.dtype).min).triu(1)
        out = att.softmax(dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(b, n, w))


class HFLayer(nn.Module):
    def __init__(self, width, heads, inter, act, eps):
        super().__init__()
        self.self_attn = HFAttention(width, heads)
        self.layer_norm1 = nn.LayerNorm(width, eps=eps)
        self.mlp = nn.Module()
        self.mlp.fc1, self.mlp.fc2 = nn.Linear(width, inter), nn.Linear(inter, width)
        self.layer_norm2 = nn.LayerNorm(width, eps=eps)
        self.act = ACT[act]

    def forward(self, x, causal):
        x = x + self.self_attn(self.layer_norm1(x), causal)
        return x + self.mlp.fc2(self.act(self.mlp.fc1(self.layer_norm2(x))))


class HFCLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        tc, vc = cfg["text_config"], cfg["vision_config"]
        self.text_model = nn.Module()
        self.text_model.embeddings = nn.Module()
        self.text_model.embeddings.token_embedding = nn.Embedding(tc["vocab_size"], tc["hidden_size"])
        self.text_model.embeddings.position_embedding = nn.Embedding(tc["max_position_embeddings"], tc["hidden_size"])
        self.text_model.encoder = nn.Module()
        self.text_model.encoder.layers = nn.ModuleList([
            HFLayer(tc["hidden_size"], tc["num_attention_heads"], tc["intermediate_size"], tc["hidden_act"], tc["layer_norm_eps"])
            for _ in range(tc["num_hidden_layers"])])
        self.text_model.final_layer_norm = nn.LayerNorm(tc["hidden_size"], eps=tc["layer_norm_eps"])
        vw = vc["hidden_size"]
        self.vision_model = nn.Module()
        self.vision_model.embeddings = nn.Module()
        self.vision_model.embeddings.class_embedding = nn.Parameter(torch.randn(vw) * vw ** -0.5)
        self.vision_model.embeddings.patch_embedding = nn.Conv2d(3, vw, vc["patch_size"], vc["patch_size"], bias=False)
        npos = (vc["image_size"] // vc["patch_size"]) ** 2 + 1
        self.vision_model.embeddings.position_embedding = nn.Embedding(npos, vw)
        self.vision_model.pre_layrnorm = nn.LayerNorm(vw, eps=vc["layer_norm_eps"])
        self.vision_model.encoder = nn.Module()
        self.vision_model.encoder.layers = nn.ModuleList([
            HFLayer(vw, vc["num_attention_heads"], vc["intermediate_size"], vc["hidden_act"], vc["layer_norm_eps"])
            for _ in range(vc["num_hidden_layers"])])
        self.vision_model.post_layernorm = nn.LayerNorm(vw, eps=vc["layer_norm_eps"])
        self.visual_projection = nn.Linear(vw, cfg["projection_dim"], bias=False)
        self.text_projection = nn.Linear(tc["hidden_size"], cfg["projection_dim"], bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(cfg["logit_scale_init_value"]))

    def encode_image(self, pixels):
        vm = self.vision_model
        x = vm.embeddings.patch_embedding(pixels).flatten(2).transpose(1, 2)
        cls = vm.embeddings.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + vm.embeddings.position_embedding.weight
        x = vm.pre_layrnorm(x)
        for layer in vm.encoder.layers:
            x = layer(x, causal=False)
        return self.visual_projection(vm.post_layernorm(x[:, 0, :]))

    def encode_text(self, ids):
        tm = self.text_model
        n = ids.shape[1]
        x = tm.embeddings.token_embedding(ids) + tm.embeddings.position_embedding.weight[:n]
        for layer in tm.encoder.layers:
            x = layer(x, causal=True)
        x = tm.final_layer_norm(x)
        eos = self.cfg["text_config"]["eos_token_id"]
        if eos == 2:
            pos = ids.argmax(dim=-1)
        else:
            pos = (ids == eos).int().argmax(dim=-1)
        return self.text_projection(x[torch.arange(x.shape[0]), pos])


# --------------------------------------------------------------------------
# Perturbation and serialisation
# --------------------------------------------------------------------------

def perturb(model, used_tokens, gen):
    """Every parameter random: gains around 1, biases around 0, weights with
    fan-in scaling; token rows not in used_tokens zeroed (see module doc)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("logit_scale"):
                p.fill_(math.log(1 / 0.07) + 0.3)
            elif p.ndim == 1 and ("ln" in name or "norm" in name) and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p.shape[-1] if p.ndim == 2 else int(np.prod(p.shape[1:]))
                if "proj" in name and p.ndim == 2 and (name.endswith(".proj") or name == "text_projection"):
                    fan_in = p.shape[0]  # OpenAI projections are width × embed
                p.copy_(torch.randn(p.shape, generator=gen) * fan_in ** -0.5)
        for name, p in model.named_parameters():
            if name.endswith("token_embedding.weight"):
                keep = torch.zeros(p.shape[0], dtype=torch.bool)
                keep[sorted(used_tokens)] = True
                p[~keep] = 0
                p[keep] *= 3  # like trained tables, larger than the positional part


SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16"}


def save_safetensors(tensors, path, metadata=None):
    """Writes the safetensors format by hand (no safetensors package here)."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


TOKENIZER = tokenizer_ref.ClipTokenizer(tokenizer_ref.load_merges_text())


def write_hf_tokenizer(dirname):
    """vocab.json and merges.txt derived from the default BPE, as HF ships them."""
    vocab = TOKENIZER.encoder
    merges = sorted(TOKENIZER.ranks, key=TOKENIZER.ranks.get)
    with open(os.path.join(dirname, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(dirname, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


# --------------------------------------------------------------------------
# Inputs: images, preprocessing, texts
# --------------------------------------------------------------------------

def make_images():
    """A handful of PNG (and one JPEG) test images of assorted sizes and modes."""
    os.makedirs(IMAGES, exist_ok=True)
    rng = np.random.default_rng(7)
    specs = []
    yy, xx = np.mgrid[0:48, 0:64]
    grad = np.stack([xx * 4, yy * 5, (xx + yy) * 2], axis=-1).clip(0, 255).astype(np.uint8)
    specs.append(("gradient-64x48.png", Image.fromarray(grad, "RGB")))
    noise = rng.integers(0, 256, size=(40, 33, 3), dtype=np.uint8)
    specs.append(("noise-33x40.png", Image.fromarray(noise, "RGB")))
    checker = ((np.indices((90, 70)).sum(axis=0) // 7) % 2 * 255).astype(np.uint8)
    specs.append(("checker-gray-70x90.png", Image.fromarray(checker, "L")))
    rgba = np.concatenate([grad[:32, :40], rng.integers(0, 256, size=(32, 40, 1), dtype=np.uint8)], axis=-1)
    specs.append(("alpha-40x32.png", Image.fromarray(rgba, "RGBA")))
    small = rng.integers(0, 256, size=(20, 25, 3), dtype=np.uint8)
    specs.append(("small-25x20.png", Image.fromarray(small, "RGB")))
    specs.append(("gradient-64x48.jpg", Image.fromarray(grad, "RGB")))
    out = []
    for name, im in specs:
        path = os.path.join(IMAGES, name)
        if name.endswith(".jpg"):
            im.save(path, quality=92)
        else:
            im.save(path)
        out.append(name)
    return out


def openai_transform(n):
    return T.Compose([
        T.Resize(n, interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(n),
        lambda im: im.convert("RGB"),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])


def hf_preprocess(im, n, mean, std):
    """CLIPImageProcessor: RGB first, shortest edge n (PIL bicubic), centre
    crop with floor offsets, rescale, normalise."""
    im = im.convert("RGB")
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(n * long / short)
    size = (n, new_long) if w <= h else (new_long, n)
    im = im.resize(size, Image.BICUBIC)
    a = np.asarray(im).astype(np.float32)
    h, w = a.shape[:2]
    top, left = (h - n) // 2, (w - n) // 2
    a = a[top:top + n, left:left + n]
    a = a * np.float32(1 / 255)
    a = (a - np.array(mean, np.float32)) / np.array(std, np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr, dtype=np.float32))


# --------------------------------------------------------------------------

def golden(name, model, ids, pixels_by_image, extra):
    model.eval()
    with torch.no_grad():
        txt = F.normalize(model.encode_text(ids), dim=-1)
        rnd = torch.randn(3, 3, extra["image_size"], extra["image_size"], generator=torch.Generator().manual_seed(11))
        img_rnd = F.normalize(model.encode_image(rnd), dim=-1)
        images = []
        for i, (fname, px) in enumerate(pixels_by_image):
            emb = F.normalize(model.encode_image(px[None]), dim=-1)[0]
            npy = f"{name}-pixels-{i}.npy"
            save_npy(os.path.join(OUT_GOLDEN, npy), px.numpy())
            images.append({"file": fname, "pixels": npy, "embedding": emb.tolist()})
        for i in range(rnd.shape[0]):
            npy = f"{name}-random-{i}.npy"
            save_npy(os.path.join(OUT_GOLDEN, npy), rnd[i].numpy())
            images.append({"file": "", "pixels": npy, "embedding": img_rnd[i].tolist()})
        logit_scale = float(model.logit_scale.exp())
    out = dict(extra)
    out.update({
        "name": name,
        "logit_scale": logit_scale,
        "texts": [{"text": t, "ids": ids[i].tolist(), "embedding": txt[i].tolist()} for i, t in enumerate(TEXTS)],
        "images": images,
    })
    with open(os.path.join(OUT_GOLDEN, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)


def main():
    torch.manual_seed(0)
    os.makedirs(OUT_MODELS, exist_ok=True)
    os.makedirs(OUT_GOLDEN, exist_ok=True)
    ids = torch.tensor([TOKENIZER.tokenize(t, CONTEXT) for t in TEXTS], dtype=torch.long)
    used = set(ids.flatten().tolist())
    gen = torch.Generator().manual_seed(1234)
    used |= set(torch.randint(0, VOCAB, (1500,), generator=gen).tolist())
    image_files = make_images()
    pil = {f: Image.open(os.path.join(IMAGES, f)) for f in image_files}
    size = 32

    # 1. OpenAI layout, QuickGELU, torch.save zip.
    m = OpenAICLIP(embed=64, res=size, patch=8, vwidth=128, vlayers=2, twidth=128, tlayers=2, act="quick_gelu")
    perturb(m, used, gen)
    torch.save(m.state_dict(), os.path.join(OUT_MODELS, "openai-qgelu.pt"))
    px = [(f, openai_transform(size)(pil[f])) for f in image_files]
    golden("openai-qgelu", m, ids, px, {"source": "models/openai-qgelu.pt", "activation": "quick_gelu", "image_size": size, "pipeline": "openai"})

    # 2. OpenCLIP-style: the same keys, exact GELU, safetensors.
    m = OpenAICLIP(embed=32, res=size, patch=16, vwidth=128, vlayers=1, twidth=64, tlayers=1, act="gelu")
    perturb(m, used, gen)
    save_safetensors(OrderedDict((k, v.detach()) for k, v in m.state_dict().items()),
                     os.path.join(OUT_MODELS, "openclip-gelu.safetensors"), {"format": "pt"})
    px = [(f, openai_transform(size)(pil[f])) for f in image_files]
    golden("openclip-gelu", m, ids, px, {"source": "models/openclip-gelu.safetensors", "activation": "gelu", "image_size": size, "pipeline": "openai"})

    # 3./4. Hugging Face directories.
    for name, act, vw, vh, tw, th, layers, eos in [
        ("hf-gelu", "gelu", 64, 4, 64, 4, 2, EOT),
        ("hf-qgelu", "quick_gelu", 128, 2, 64, 1, 1, 2),
    ]:
        cfg = {
            "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 48,
            "logit_scale_init_value": 2.6592, "initializer_factor": 1.0,
            "text_config": {"hidden_size": tw, "intermediate_size": tw * 4, "num_attention_heads": th,
                            "num_hidden_layers": layers, "max_position_embeddings": CONTEXT, "vocab_size": VOCAB,
                            "hidden_act": act, "layer_norm_eps": 1e-5, "bos_token_id": SOT,
                            "eos_token_id": eos, "pad_token_id": 1, "model_type": "clip_text_model"},
            "vision_config": {"hidden_size": vw, "intermediate_size": vw * 4 - 32, "num_attention_heads": vh,
                              "num_hidden_layers": layers, "image_size": size, "patch_size": 8, "num_channels": 3,
                              "hidden_act": act, "layer_norm_eps": 1e-5, "model_type": "clip_vision_model"},
        }
        m = HFCLIP(cfg)
        perturb(m, used, gen)
        d = os.path.join(OUT_MODELS, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        mean, std = [0.5, 0.45, 0.4], [0.25, 0.3, 0.28]
        with open(os.path.join(d, "preprocessor_config.json"), "w") as f:
            json.dump({"crop_size": {"height": size, "width": size}, "do_center_crop": True, "do_convert_rgb": True,
                       "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": mean,
                       "image_std": std, "image_processor_type": "CLIPImageProcessor", "resample": 3,
                       "rescale_factor": 1 / 255, "size": {"shortest_edge": size}}, f, indent=2)
        sd = OrderedDict((k, v.detach()) for k, v in m.state_dict().items())
        save_safetensors(sd, os.path.join(d, "model.safetensors"), {"format": "pt"})
        write_hf_tokenizer(d)
        px = [(f, hf_preprocess(pil[f], size, mean, std)) for f in image_files]
        golden(name, m, ids, px, {"source": f"models/{name}", "activation": act, "image_size": size, "pipeline": "hf"})
    print("wrote", OUT_MODELS, OUT_GOLDEN)


if __name__ == "__main__":
    main()
