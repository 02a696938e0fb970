"""CLIP byte-level BPE tokenizer: an independent port of OpenAI's SimpleTokenizer.

Behaviour follows docs/DESIGN.md §1.3 (OpenAI `SimpleTokenizer` + `clip.tokenize(truncate=True)`).
ftfy is not available on this machine; `fix_text` below implements the subset of
`ftfy.fix_text` that docs/DESIGN.md §1.3 lists (line breaks, control characters, curly quotes,
Latin ligatures, full-width forms, NFC). The training captions are CLDR English names and
keywords, which that subset covers.
"""

import functools
import gzip
import html
import os
import unicodedata

import regex

SOT = 49406
EOT = 49407
CONTEXT = 77
NUM_MERGES = 49152 - 256 - 2  # 48,894 merge lines after the header

DEFAULT_BPE = os.environ.get("CLIP_BPE", "/work/shared/clip/bpe_simple_vocab_16e6.txt.gz")

_PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE,
)

_LIGATURES = {
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
    "\ufb05": "ſt", "\ufb06": "st", "\u0132": "IJ", "\u0133": "ij", "\u01c4": "DŽ",
    "\u01c5": "Dž", "\u01c6": "dž", "\u01c7": "LJ", "\u01c8": "Lj", "\u01c9": "lj",
    "\u01ca": "NJ", "\u01cb": "Nj", "\u01cc": "nj", "\u01f1": "DZ", "\u01f2": "Dz",
    "\u01f3": "dz", "\u0149": "ʼn",
}


@functools.lru_cache()
def byte_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable characters."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def fix_text(text):
    """The subset of ftfy.fix_text listed in docs/DESIGN.md §1.3."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for ch in ("\u2028", "\u2029", "\u0085"):
        text = text.replace(ch, "\n")
    out = []
    for ch in text:
        cp = ord(ch)
        if ch in "\t\n\f":
            out.append(ch)
        elif unicodedata.category(ch) == "Cc":
            continue
        elif ch == "\u02bc" or 0x2018 <= cp <= 0x201B:
            out.append("'")
        elif 0x201C <= cp <= 0x201F:
            out.append('"')
        elif ch in _LIGATURES:
            out.append(_LIGATURES[ch])
        elif 0xFF01 <= cp <= 0xFFEE or cp == 0x3000:
            out.append(unicodedata.normalize("NFKC", ch))
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


class Tokenizer:
    """Encodes text to CLIP BPE ids exactly as OpenAI's SimpleTokenizer does."""

    def __init__(self, bpe_path=DEFAULT_BPE):
        with gzip.open(bpe_path) as f:
            lines = f.read().decode("utf-8").split("\n")
        merges = [tuple(line.split()) for line in lines[1:NUM_MERGES + 1]]
        symbols = list(byte_to_unicode().values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = {tok: i for i, tok in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.byte_map = byte_to_unicode()
        self.cache = {"<|startoftext|>": ["<|startoftext|>"], "<|endoftext|>": ["<|endoftext|>"]}

    def _bpe(self, piece):
        if piece in self.cache:
            return self.cache[piece]
        word = list(piece[:-1]) + [piece[-1] + "</w>"]
        while len(word) > 1:
            best, best_rank = None, None
            for pair in zip(word, word[1:]):
                r = self.ranks.get(pair)
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = pair, r
            if best is None:
                break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self.cache[piece] = word
        return word

    def encode(self, text):
        """BPE ids of text, without start/end tokens."""
        text = html.unescape(html.unescape(fix_text(text))).strip()
        text = regex.sub(r"\s+", " ", text).strip().lower()
        ids = []
        for piece in _PATTERN.findall(text):
            mapped = "".join(self.byte_map[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(mapped))
        return ids

    def tokenize(self, text, context=CONTEXT):
        """[SOT] + ids + [EOT], truncated to context (last id forced to EOT), zero-padded."""
        ids = [SOT] + self.encode(text) + [EOT]
        if len(ids) > context:
            ids = ids[:context]
            ids[-1] = EOT
        return ids + [0] * (context - len(ids))


if __name__ == "__main__":
    import sys
    tok = Tokenizer()
    for t in sys.argv[1:]:
        print(tok.tokenize(t))
