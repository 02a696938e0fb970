#!/usr/bin/python3
"""Golden fixtures for the lecture's SimpleCLIP (docs/DESIGN.md §1.4).

The model classes below are the lecture's 11_simple_multimodal.py code as
written there (BiLSTM text encoder, MLP image encoder, log_temperature).
Random weights, every parameter perturbed, saved as a torch.save zip and as
safetensors; outputs for several sequence lengths and batch sizes go to
testdata/simpleclip/golden.json. Run: /usr/bin/python3 tools/reference/simpleclip_ref.py
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from models_ref import save_safetensors  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "testdata", "simpleclip")


# --- the lecture's code (11_simple_multimodal.py) ------------------------------
class SimpleTextEncoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, output_dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.projection = nn.Linear(hidden_dim * 2, output_dim)

    def forward(self, x):
        emb = self.embedding(x)
        _, (h, _) = self.lstm(emb)
        h = torch.cat([h[0], h[1]], dim=-1)
        out = self.projection(h)
        return F.normalize(out, dim=-1)


class SimpleImageEncoder(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(input_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, output_dim),
        )

    def forward(self, x):
        out = self.encoder(x)
        return F.normalize(out, dim=-1)


class SimpleCLIP(nn.Module):
    def __init__(self, vocab_size, text_embed_dim, text_hidden_dim, image_input_dim, image_hidden_dim, shared_dim):
        super().__init__()
        self.text_encoder = SimpleTextEncoder(vocab_size, text_embed_dim, text_hidden_dim, shared_dim)
        self.image_encoder = SimpleImageEncoder(image_input_dim, image_hidden_dim, shared_dim)
        self.log_temperature = nn.Parameter(torch.tensor([0.07]).log())

    def forward(self, text_tokens, image_features):
        text_emb = self.text_encoder(text_tokens)
        image_emb = self.image_encoder(image_features)
        return text_emb, image_emb
# ----------------------------------------------------------------------------


def main():
    torch.manual_seed(42)
    os.makedirs(OUT, exist_ok=True)
    vocab, edim, hdim, idim, ihid, out = 1000, 32, 48, 64, 96, 40
    m = SimpleCLIP(vocab, edim, hdim, idim, ihid, out)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name == "log_temperature":
                p.fill_(-2.3)
            else:
                p.add_(0.05 * torch.randn_like(p))  # PyTorch inits are random already; perturb further
    m.eval()
    sd = m.state_dict()
    torch.save(sd, os.path.join(OUT, "simpleclip.pt"))
    save_safetensors({k: v.contiguous() for k, v in sd.items()}, os.path.join(OUT, "simpleclip.safetensors"))
    words = [f"w{i}" for i in range(vocab)]
    words[0], words[1], words[2], words[3] = "<pad>", "<unk>", "cat", "dog"
    with open(os.path.join(OUT, "vocab.txt"), "w") as f:
        f.write("\n".join(words) + "\n")
    gen = torch.Generator().manual_seed(7)
    golden = {"log_temperature": float(m.log_temperature), "logit_scale": float(1 / m.log_temperature.exp()),
              "texts": [], "images": [], "words": []}
    with torch.no_grad():
        for batch, length in [(3, 5), (2, 1), (4, 20), (1, 77)]:
            ids = torch.randint(0, vocab, (batch, length), generator=gen)
            emb = m.text_encoder(ids)
            for i in range(batch):
                golden["texts"].append({"ids": ids[i].tolist(), "embedding": emb[i].tolist()})
        feats = torch.randn(5, idim, generator=gen) * 2
        emb = m.image_encoder(feats)
        for i in range(5):
            golden["images"].append({"features": feats[i].tolist(), "embedding": emb[i].tolist()})
        # Words through the packed vocabulary: lower-cased, unknown → 1.
        for text in ["Cat dog w17", "a CAT   sat", "dog"]:
            ids = [words.index(w) if w in words else 1 for w in text.lower().split()]
            e = m.text_encoder(torch.tensor([ids]))[0]
            golden["words"].append({"text": text, "ids": ids, "embedding": e.tolist()})
        t = torch.tensor([x["embedding"] for x in golden["texts"][:3]])
        im = torch.tensor([x["embedding"] for x in golden["images"][:3]])
        golden["logits"] = ((t @ im.T) / m.log_temperature.exp()).tolist()
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
