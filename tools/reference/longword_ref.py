#!/usr/bin/env python3
"""Reference rows for very long words (the Go tokenizer's long-word bound).

clip.tokenize(word, 77, truncate=True) for words of 5 KB to 10 MB, computed
with SimpleTokenizer's BPE loop on the whole word (tokenizer_ref.py's
ClipTokenizer), so that a tokenizer encoding only a prefix can be checked
against what the whole word gives. Random words are stored as given; the
10 MB words as a repeated pattern. The words are lower-case ASCII letters,
punctuation or kana, which the text cleaning leaves unchanged.

Run from the repository root (takes a few minutes):
    /usr/bin/python3 tools/reference/longword_ref.py
"""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
import tokenizer_ref as ref  # noqa: E402


def row(tok, word):
    mapped = "".join(tok.byte_encoder[b] for b in word.encode("utf-8"))
    ids = [tok.encoder[s] for s in tok.bpe(mapped).split(" ")]
    sot, eot = tok.encoder[ref.SOT_TEXT], tok.encoder[ref.EOT_TEXT]
    tokens = ([sot] + ids + [eot])[:ref.CONTEXT_LENGTH]
    tokens[-1] = eot
    return tokens


def main():
    tok = ref.ClipTokenizer(ref.load_merges_text())
    rnd = random.Random(13)
    kana = "".join(chr(c) for c in range(0x3041, 0x3097))
    words = []
    for alphabet, n in [("abcdefghijklmnopqrstuvwxyz", 5000),
                        ("abcdefghijklmnopqrstuvwxyz", 20000),
                        ("ab", 20000), ("aeiou", 20000), ("qxz", 20000),
                        ("!?.,-_=+*#", 20000), (kana, 4000)]:
        words.append({"word": "".join(rnd.choice(alphabet) for _ in range(n))})
    for pattern in ["a", "ab", "abcdefghijklmnopqrstuvwxyz", "photo"]:
        words.append({"pattern": pattern, "bytes": 10 << 20})
    for w in words:
        word = w.get("word") or w["pattern"] * (w["bytes"] // len(w["pattern"]))
        w["tokens"] = row(tok, word)
        print(len(word), "bytes done", file=sys.stderr)
    ref.write_json(os.path.join(ref.TESTDATA, "longwords.json.gz"), words, compress=True)


if __name__ == "__main__":
    main()
