#!/usr/bin/env python3
"""Reference fixtures for the Go package tokenizer/siglip.

transformers cannot be installed here, so this is a transcription of what
Hugging Face transformers does for

  SiglipTokenizer(...)(text, padding="max_length", max_length=N, truncation=True)
      (tokenization_siglip.py: tokenize, _tokenize, canonicalize_text;
       PreTrainedTokenizer.tokenize's do_lower_case and added-token split;
       prepare_for_model's truncation, T5's _add_eos_if_not_present, padding)
  Gemma tokenizer as SigLIP 2 uses it (add_bos_token / add_eos_token,
       added tokens split off the raw text, each other part lower-cased
       when configured, as Siglip2Tokenizer's Lowercase normaliser does,
       and encoded by SentencePiece, right padding with <pad>).

The SentencePiece part is the real python3-sentencepiece. The models are the
ones tools/reference/sentencepiece_ref.py trained (run that first):
unigram_t5like has T5's special-id layout (pad 0, eos 1, unk 2) and nmt_nfkc
normalisation like SigLIP's spiece.model; bpe_gemmalike has Gemma's (pad 0,
eos 1, bos 2, unk 3, identity normalisation, no dummy prefix, byte fallback).

Run from the repository root:
    /usr/bin/python3 tools/reference/siglip_tokenizer_ref.py

Writes tokenizer/siglip/testdata/golden.json.gz:
  {"texts": [...], "cases": {NAME: {"model", "config", "ids": [[...]]}}}
where config is the Go siglip.Config as JSON.
"""

import gzip
import json
import os
import re
import string
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPDATA = os.path.join(ROOT, "tokenizer", "sentencepiece", "testdata")
OUT = os.path.join(ROOT, "tokenizer", "siglip", "testdata")
SPIECE_UNDERLINE = "\u2581"

# A serialized ModelProto holding only normalizer_spec{add_dummy_prefix:
# false}. Appending it to a model merges it in, which is what
# SiglipTokenizer.get_spm_processor does with protobuf's MergeFrom.
NO_DUMMY_PREFIX = b"\x1a\x02\x18\x00"


def read_gz(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def model_bytes(name):
    golden = json.loads(read_gz(os.path.join(SPDATA, "golden.json.gz")))
    data = read_gz(os.path.join(SPDATA, "models", name + ".model.gz"))
    if golden["models"][name]["options"].get("charsmap_fragment"):
        data += read_gz(os.path.join(SPDATA, "models", "charsmap.pb.gz"))
    return data, golden["texts"]


def trie_split(text, contents):
    """Leftmost-longest split around the added tokens (transformers' Trie.split)."""
    out, start, i = [], 0, 0
    longest = max((len(c) for c in contents), default=0)
    while i < len(text):
        hit = None
        for l in range(min(longest, len(text) - i), 0, -1):
            if text[i:i + l] in contents:
                hit = text[i:i + l]
                break
        if hit is None:
            i += 1
            continue
        if start < i:
            out.append(text[start:i])
        out.append(hit)
        i += len(hit)
        start = i
    if start < len(text):
        out.append(text[start:])
    return out


def strip_around(tokens, added):
    """PreTrainedTokenizer.tokenize's lstrip/rstrip handling."""
    for i, token in enumerate(tokens):
        if token in added:
            a = added[token]
            left = tokens[i - 1] if i > 0 else None
            right = tokens[i + 1] if i < len(tokens) - 1 else None
            if a["rstrip"] and right:
                tokens[i + 1] = right.lstrip()
            if a["lstrip"] and left:
                tokens[i - 1] = left.rstrip()
    return tokens


class Siglip:
    def __init__(self, data, cfg):
        self.sp = spm.SentencePieceProcessor(model_proto=data + NO_DUMMY_PREFIX)
        self.cfg = cfg
        self.unk_token = cfg.get("unk_token") or "<unk>"
        self.eos_id = self.sp.piece_to_id(cfg.get("eos_token") or "</s>")
        self.pad_id = self.sp.piece_to_id(cfg.get("pad_token") or "</s>")
        added = cfg.get("added")
        if not added:
            added = [{"content": c, "id": self.sp.piece_to_id(c), "lstrip": True, "rstrip": True}
                     for c in [cfg.get("eos_token") or "</s>", self.unk_token,
                               cfg.get("pad_token") or "</s>"]]
        self.order = [a["content"] for a in added]
        self.added = {}
        for a in added:
            self.added.setdefault(a["content"], {"id": a["id"], "lstrip": a.get("lstrip", False),
                                                 "rstrip": a.get("rstrip", False)})

    def canonicalize_text(self, text):
        text = text.translate(str.maketrans("", "", string.punctuation))
        text = re.sub(r"\s+", " ", text)
        return text.strip()

    def _tokenize(self, text):
        text = self.canonicalize_text(text)
        tokens = self.sp.encode(self.unk_token + text, out_type=str)
        unk_token_length = len(self.sp.encode(str(self.unk_token)))
        return tokens[unk_token_length:] if len(tokens) >= unk_token_length else tokens

    def tokenize(self, text):
        text = SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " ")
        if self.cfg.get("lowercase"):
            pattern = r"(" + r"|".join(re.escape(c) for c in self.order) + r")|" + r"(.+?)"
            text = re.sub(pattern, lambda m: m.groups()[0] or m.groups()[1].lower(), text)
        tokens = strip_around(trie_split(text, self.added), self.added)
        out = []
        for token in tokens:
            if not token:
                continue
            if token in self.added:
                out.append(token)
            else:
                out.extend(self._tokenize(token))
        if len(out) > 1 and out[0] == SPIECE_UNDERLINE and out[1] in self.added:
            out = out[1:]
        return out

    def __call__(self, text):
        ids = [self.added[t]["id"] if t in self.added else self.sp.piece_to_id(t)
               for t in self.tokenize(text)]
        n = self.cfg["max_length"]
        if len(ids) + 1 > n:
            ids = ids[:n - 1]
        if not (ids and ids[-1] == self.eos_id):
            ids = ids + [self.eos_id]
        return ids + [self.pad_id] * (n - len(ids))


class Gemma:
    def __init__(self, data, cfg):
        self.sp = spm.SentencePieceProcessor(model_proto=data)
        self.cfg = cfg
        sp = self.sp
        self.bos = sp.piece_to_id(cfg.get("bos_token") or "<bos>") if cfg.get("add_bos") else None
        self.eos = sp.piece_to_id(cfg.get("eos_token") or "<eos>") if cfg.get("add_eos") else None
        self.pad = sp.piece_to_id(cfg.get("pad_token") or "<pad>")
        added = cfg.get("added") or [
            {"content": sp.id_to_piece(i), "id": i}
            for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)]
        self.added = {}
        for a in added:
            self.added.setdefault(a["content"], {"id": a["id"], "lstrip": a.get("lstrip", False),
                                                 "rstrip": a.get("rstrip", False)})

    def __call__(self, text):
        ids = []
        for token in strip_around(trie_split(text, self.added), self.added):
            if token in self.added:
                ids.append(self.added[token]["id"])
            elif token:
                # Siglip2Tokenizer's Lowercase normaliser sees the text
                # between the special tokens.
                ids.extend(self.sp.encode(token.lower() if self.cfg.get("lowercase") else token))
        n = self.cfg["max_length"]
        special = (self.bos is not None) + (self.eos is not None)
        if len(ids) + special > n:
            ids = ids[:max(n - special, 0)]
        if self.bos is not None:
            ids = [self.bos] + ids
        if self.eos is not None:
            ids = ids + [self.eos]
        ids = ids[:n]
        return ids + [self.pad] * (n - len(ids))


EXTRA_TEXTS = [
    "a photo of a cat.", "A Photo Of A CAT!!!", "This is a photo of 2 dogs.",
    "</s>", "hello </s> world", "hello</s>world", "  </s>  ", "<unk>", "x <unk>y", "</S>",
    "<pad>", "a <pad> b", "<eos>", "<EOS> text", "<bos>x<eos>", "<mask>", "[@BOS@] a",
    "\u2581\u2581a \u2581b", "\u2581", "ΟΔΟΣ ΣΑΣ", "İstanbul", "ǅemal", "ﬁsh ﬂour",
    "\x1c spaces\x85and\u3000more ", "it's a dog's life", "e-mail: a.b@c.d (test) [x] {y}",
    "¿Qué? ¡Sí! «quoted» — dash…", "tab\tnew\nline\r\n", "",
    " ".join(["word"] * 100), "supercalifragilisticexpialidocious " * 8,
    "<start_of_turn>user\n\nhi<end_of_turn>", "a  b   c    d", "ΣΑΣ<eos>ΟΔΟΣ", "<EOS> and <Eos>",
]

CASES = {
    "siglip": ("unigram_t5like", Siglip, {"kind": "siglip", "max_length": 64, "lowercase": True}),
    "siglip_cased_16": ("unigram_t5like", Siglip, {"kind": "siglip", "max_length": 16, "lowercase": False}),
    "siglip_added_flags": ("unigram_t5like", Siglip, {
        "kind": "siglip", "max_length": 64, "lowercase": True,
        "added": [{"content": "</s>", "id": 1, "lstrip": True, "rstrip": True},
                  {"content": "<unk>", "id": 2, "lstrip": True, "rstrip": True},
                  {"content": "<pad>", "id": 0, "rstrip": True}]}),
    "siglip2_gemma": ("bpe_gemmalike", Gemma, {"kind": "gemma", "max_length": 64, "lowercase": True,
                                               "add_eos": True}),
    "gemma_bos_cased_16": ("bpe_gemmalike", Gemma, {"kind": "gemma", "max_length": 16, "lowercase": False,
                                                    "add_bos": True}),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    _, sp_texts = model_bytes("unigram_t5like")
    texts = EXTRA_TEXTS + sp_texts[:400]
    out = {"version": spm.__version__, "texts": texts, "cases": {}}
    for name, (model, cls, cfg) in CASES.items():
        data, _ = model_bytes(model)
        tok = cls(data, cfg)
        ids = [tok(t) for t in texts]
        assert all(len(x) == cfg["max_length"] for x in ids)
        out["cases"][name] = {"model": model, "config": cfg, "ids": ids}
        print("%-20s %d texts" % (name, len(texts)))
    with gzip.GzipFile(os.path.join(OUT, "golden.json.gz"), "wb", mtime=0) as f:
        f.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())


if __name__ == "__main__":
    sys.exit(main())
