#!/usr/bin/env python3
"""Tiny random SigLIP and SigLIP 2 models in the Hugging Face folder layout,
and golden outputs of their forward pass, for runtime/siglip_test.go.

transformers cannot be installed here, so the forward pass below is our own
transcription of transformers' modeling_siglip.py (SiglipModel):

  vision: Conv2d patch embedding (with bias) + position embedding, no class
          token, no pre-LayerNorm; pre-LN encoder layers (LayerNorm,
          attention, residual, LayerNorm, fc1, gelu_pytorch_tanh, fc2,
          residual); post_layernorm; the multi-head attention pooling head
          (a learned probe attends to every patch through
          nn.MultiheadAttention, then residual + LayerNorm + MLP) -> [:, 0].
  text:   token + position embedding over all max_length positions, no
          attention mask, the same encoder layers, final_layer_norm, the
          LAST position, then the head Linear.
  scores: exp(logit_scale) * cos + logit_bias, sigmoid per label.

Image preprocessing is SiglipImageProcessor's with Pillow: convert("RGB"),
resize straight to (size, size) with the configured filter (BICUBIC for
the SigLIP fixture, BILINEAR for the SigLIP 2 one), rescale by 1/255 (float64,
stored float32), normalise with mean = std = 0.5 in float32.

Tokens come from the transcriptions of SiglipTokenizer and of SigLIP 2's
Gemma tokenizer in siglip_tokenizer_ref.py, over the SentencePiece models
that sentencepiece_ref.py trained (the real python3-sentencepiece encodes).

Run from the repository root (after sentencepiece_ref.py):
    /usr/bin/python3 tools/reference/siglip_ref.py

Writes testdata/models/siglip-tiny/ and testdata/models/siglip2-tiny/
(config.json, model.safetensors, preprocessor_config.json,
tokenizer_config.json, spiece.model or tokenizer.model) and
testdata/golden/siglip-tiny.json.gz, siglip2-tiny.json.gz.
"""

import gzip
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import siglip_tokenizer_ref as tokref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, "testdata", "models")
GOLDEN = os.path.join(ROOT, "testdata", "golden")
IMAGES = ["alpha-40x32.png", "checker-gray-70x90.png", "gradient-64x48.png", "noise-33x40.png", "small-25x20.png"]
TEXTS = ["a photo of a cat.", "A Photo Of A DOG!!!", "", "two dogs, playing in the snow (at night)",
         " ".join(["word"] * 80), "ΟΔΟΣ ΣΑΣ – İstanbul", "hello </s> world"]

EPS = 1e-6


class Dims:
    """Model sizes (both towers share width, heads, MLP and depth here)."""

    def __init__(self, width=32, heads=2, mlp=64, layers=2, ctx=64, image=32, patch=8):
        self.width, self.heads, self.mlp, self.layers = width, heads, mlp, layers
        self.ctx, self.image, self.patch = ctx, image, patch


TINY = Dims()
BASE16 = Dims(width=768, heads=12, mlp=3072, layers=12, ctx=64, image=224, patch=16)  # siglip-base-patch16-224

VARIANTS = {
    "siglip-tiny": {
        "model": "unigram_t5like", "file": "spiece.model", "cls": tokref.Siglip,
        "tok_cfg": {"kind": "siglip", "max_length": 64, "lowercase": True},
        "tokenizer_config": {"tokenizer_class": "SiglipTokenizer", "model_max_length": 64, "do_lower_case": True,
                             "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"},
        "seed": 1, "resample": 3,
    },
    "siglip2-tiny": {
        "model": "bpe_gemmalike", "file": "tokenizer.model", "cls": tokref.Gemma,
        "tok_cfg": {"kind": "gemma", "max_length": 64, "lowercase": True, "add_eos": True},
        "tokenizer_config": {"tokenizer_class": "GemmaTokenizer", "model_max_length": 64, "add_bos_token": False,
                             "add_eos_token": True, "bos_token": "<bos>", "eos_token": "<eos>",
                             "pad_token": "<pad>", "unk_token": "<unk>"},
        "seed": 2, "resample": 2,  # a bilinear resize, to cover Pillow's BILINEAR too
    },
}


def random_weights(vocab, seed, d=TINY):
    W, MLP, LAYERS, CTX, IMAGE, PATCH = d.width, d.mlp, d.layers, d.ctx, d.image, d.patch
    g = torch.Generator().manual_seed(seed)

    def mat(o, i):
        return torch.randn(o, i, generator=g) / math.sqrt(i)

    def vec(n, s=0.1):
        return torch.randn(n, generator=g) * s

    w = {}

    def ln(p, n):
        w[p + ".weight"] = 1 + vec(n)
        w[p + ".bias"] = vec(n)

    def lin(p, o, i):
        w[p + ".weight"] = mat(o, i)
        w[p + ".bias"] = vec(o)

    def layers(prefix):
        for i in range(LAYERS):
            p = "%s.encoder.layers.%d" % (prefix, i)
            ln(p + ".layer_norm1", W)
            for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
                lin(p + ".self_attn." + n, W, W)
            ln(p + ".layer_norm2", W)
            lin(p + ".mlp.fc1", MLP, W)
            lin(p + ".mlp.fc2", W, MLP)

    grid = IMAGE // PATCH
    w["vision_model.embeddings.patch_embedding.weight"] = torch.randn(W, 3, PATCH, PATCH, generator=g) / math.sqrt(3 * PATCH * PATCH)
    w["vision_model.embeddings.patch_embedding.bias"] = vec(W)
    w["vision_model.embeddings.position_embedding.weight"] = torch.randn(grid * grid, W, generator=g) * 0.5
    layers("vision_model")
    ln("vision_model.post_layernorm", W)
    h = "vision_model.head."
    w[h + "probe"] = torch.randn(1, 1, W, generator=g)
    w[h + "attention.in_proj_weight"] = mat(3 * W, W)
    w[h + "attention.in_proj_bias"] = vec(3 * W)
    lin(h + "attention.out_proj", W, W)
    ln(h + "layernorm", W)
    lin(h + "mlp.fc1", MLP, W)
    lin(h + "mlp.fc2", W, MLP)
    w["text_model.embeddings.token_embedding.weight"] = torch.randn(vocab, W, generator=g) * 0.5
    w["text_model.embeddings.position_embedding.weight"] = torch.randn(CTX, W, generator=g) * 0.5
    layers("text_model")
    ln("text_model.final_layer_norm", W)
    lin("text_model.head", W, W)
    w["logit_scale"] = torch.tensor([math.log(10.0)])
    w["logit_bias"] = torch.tensor([-2.5])
    return {k: v.float().contiguous() for k, v in w.items()}


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        b = tensors[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# --- the forward pass (transcription of modeling_siglip.py) -------------

def layer_norm(w, x, p):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], EPS)


def linear(w, x, p):
    return F.linear(x, w[p + ".weight"], w[p + ".bias"])


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


def attention(d, q, k, v):
    """Multi-head scaled dot-product attention, no mask; q, k, v: B×N×W."""
    b, nq, _ = q.shape
    nk = k.shape[1]
    hd = d.width // d.heads
    q = q.view(b, nq, d.heads, hd).transpose(1, 2)
    k = k.view(b, nk, d.heads, hd).transpose(1, 2)
    v = v.view(b, nk, d.heads, hd).transpose(1, 2)
    a = torch.softmax(torch.matmul(q, k.transpose(2, 3)) * hd ** -0.5, dim=-1, dtype=torch.float32)
    return torch.matmul(a, v).transpose(1, 2).reshape(b, nq, d.width)


def encoder(d, w, x, prefix):
    for i in range(d.layers):
        p = "%s.encoder.layers.%d" % (prefix, i)
        r = x
        h = layer_norm(w, x, p + ".layer_norm1")
        a = p + ".self_attn."
        h = attention(d, linear(w, h, a + "q_proj"), linear(w, h, a + "k_proj"), linear(w, h, a + "v_proj"))
        x = r + linear(w, h, a + "out_proj")
        r = x
        h = layer_norm(w, x, p + ".layer_norm2")
        x = r + linear(w, gelu_tanh(linear(w, h, p + ".mlp.fc1")), p + ".mlp.fc2")
    return x


def head(d, w, x):
    W = d.width
    """SiglipMultiheadAttentionPoolingHead, nn.MultiheadAttention spelled out."""
    h = "vision_model.head."
    ipw, ipb = w[h + "attention.in_proj_weight"], w[h + "attention.in_proj_bias"]
    probe = w[h + "probe"].repeat(x.shape[0], 1, 1)
    q = F.linear(probe, ipw[:W], ipb[:W])
    k = F.linear(x, ipw[W:2 * W], ipb[W:2 * W])
    v = F.linear(x, ipw[2 * W:], ipb[2 * W:])
    y = linear(w, attention(d, q, k, v), h + "attention.out_proj")
    r = y
    y = layer_norm(w, y, h + "layernorm")
    y = r + linear(w, gelu_tanh(linear(w, y, h + "mlp.fc1")), h + "mlp.fc2")
    return y[:, 0]


def head_nn(d, w, x):
    W = d.width
    """The same head through torch's own nn.MultiheadAttention (a check of
    the transcription above)."""
    h = "vision_model.head."
    mha = torch.nn.MultiheadAttention(W, d.heads, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(w[h + "attention.in_proj_weight"])
        mha.in_proj_bias.copy_(w[h + "attention.in_proj_bias"])
        mha.out_proj.weight.copy_(w[h + "attention.out_proj.weight"])
        mha.out_proj.bias.copy_(w[h + "attention.out_proj.bias"])
        y = mha(w[h + "probe"].repeat(x.shape[0], 1, 1), x, x)[0]
    r = y
    y = layer_norm(w, y, h + "layernorm")
    y = r + linear(w, gelu_tanh(linear(w, y, h + "mlp.fc1")), h + "mlp.fc2")
    return y[:, 0]


def vision(w, pixels, d=TINY, check=True):
    e = "vision_model.embeddings."
    x = F.conv2d(pixels, w[e + "patch_embedding.weight"], w[e + "patch_embedding.bias"], stride=d.patch)
    x = x.flatten(2).transpose(1, 2) + w[e + "position_embedding.weight"]
    x = encoder(d, w, x, "vision_model")
    x = layer_norm(w, x, "vision_model.post_layernorm")
    out = head(d, w, x)
    if check:
        assert torch.allclose(out, head_nn(d, w, x), atol=1e-5), "head transcription differs from nn.MultiheadAttention"
    return out


def text(w, ids, d=TINY):
    e = "text_model.embeddings."
    ids = torch.tensor(ids)
    x = w[e + "token_embedding.weight"][ids] + w[e + "position_embedding.weight"][: ids.shape[1]]
    x = encoder(d, w, x, "text_model")
    x = layer_norm(w, x, "text_model.final_layer_norm")
    return linear(w, x[:, -1, :], "text_model.head")


def preprocess(path, d=TINY, resample=3):
    img = Image.open(path).convert("RGB").resize((d.image, d.image), resample=resample)
    a = (np.asarray(img).astype(np.float64) * 0.00392156862745098).astype(np.float32)
    mean = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    a = (a - mean) / mean
    return a.transpose(2, 0, 1).copy()


def write_folder(d, v, data, vocab, wts, dims=TINY):
    """Writes a Hugging Face SiglipModel folder: weights, configs, tokenizer."""
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "model.safetensors"), wts)
    cfg = {
        "architectures": ["SiglipModel"], "model_type": "siglip",
        "text_config": {"model_type": "siglip_text_model", "vocab_size": vocab, "hidden_size": dims.width,
                        "intermediate_size": dims.mlp, "num_hidden_layers": dims.layers, "num_attention_heads": dims.heads,
                        "max_position_embeddings": dims.ctx, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": EPS},
        "vision_config": {"model_type": "siglip_vision_model", "hidden_size": dims.width, "intermediate_size": dims.mlp,
                          "num_hidden_layers": dims.layers, "num_attention_heads": dims.heads, "image_size": dims.image,
                          "patch_size": dims.patch, "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": EPS},
    }
    pre = {"image_processor_type": "SiglipImageProcessor", "processor_class": "SiglipProcessor",
           "do_resize": True, "size": {"height": dims.image, "width": dims.image}, "resample": v.get("resample", 3),
           "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
           "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}
    for fn, obj in (("config.json", cfg), ("preprocessor_config.json", pre),
                    ("tokenizer_config.json", v["tokenizer_config"])):
        with open(os.path.join(d, fn), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
    with open(os.path.join(d, v["file"]), "wb") as f:
        f.write(data)


def main():
    torch.set_num_threads(1)
    os.makedirs(GOLDEN, exist_ok=True)
    for name, v in VARIANTS.items():
        data, _ = tokref.model_bytes(v["model"])
        tok = v["cls"](data, v["tok_cfg"])
        vocab = tok.sp.get_piece_size()
        wts = random_weights(vocab, v["seed"])
        write_folder(os.path.join(MODELS, name), v, data, vocab, wts)
        ids = [tok(t) for t in TEXTS]
        with torch.no_grad():
            temb = F.normalize(text(wts, ids), dim=-1)
            pix = np.stack([preprocess(os.path.join(ROOT, "testdata", "images", f), resample=v["resample"]) for f in IMAGES])
            iemb = F.normalize(vision(wts, torch.from_numpy(pix)), dim=-1)
            scale = wts["logit_scale"].exp().item()
            bias = wts["logit_bias"].item()
            logits = iemb @ temb.T * scale + bias
        out = {
            "name": name, "tokenizer": v["tok_cfg"]["kind"], "logit_scale": scale, "logit_bias": bias,
            "texts": [{"text": t, "ids": i, "embedding": e.tolist()} for t, i, e in zip(TEXTS, ids, temb)],
            "images": [{"file": f, "pixels": p.reshape(-1).tolist(), "embedding": e.tolist()}
                       for f, p, e in zip(IMAGES, pix, iemb)],
            "probabilities": torch.sigmoid(logits).tolist(),
        }
        with gzip.GzipFile(os.path.join(GOLDEN, name + ".json.gz"), "wb", mtime=0) as f:
            f.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())
        print("%s: vocab %d, %d texts, %d images" % (name, vocab, len(TEXTS), len(IMAGES)))


if __name__ == "__main__":
    sys.exit(main())
