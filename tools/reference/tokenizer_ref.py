#!/usr/bin/env python3
"""Reference fixtures for the Go package tokenizer (the CLIP BPE tokenizer).

This is an independent re-implementation of OpenAI's CLIP text tokenizer
(clip/simple_tokenizer.py `SimpleTokenizer` plus `clip.tokenize(...,
truncate=True)` from clip/clip.py). Its cleaning calls the real
`ftfy.fix_text` (python-ftfy 6.3.1, default configuration), as OpenAI's
does; everything else (html.unescape, the `regex` split pattern, str.lower,
the BPE) is the real Python behaviour.

Run from the repository root with ftfy importable (python-ftfy 6.3.1 and
wcwidth unpacked, e.g. from the reference archive):
    PYTHONPATH=$W/ftfy:$W/wcwidth /usr/bin/python3 tools/reference/tokenizer_ref.py

It writes (deterministically, fixed seeds):
  tokenizer/testdata/tokens.json      curated strings, their full BPE ids and
                                      their 77-id clip.tokenize rows
  tokenizer/testdata/corpus.json.gz   random strings mixed from the same
                                      pieces, same fields
  tokenizer/testdata/decode.json      id lists and SimpleTokenizer.decode text,
                                      clip.tokenize rows at short lengths
  tokenizer/testdata/normalize.json   html.unescape, ftfy.fix_text and the
                                      whole cleaning, stage by stage
  tokenizer/testdata/hf/vocab.json.gz Hugging Face style vocab.json and
  tokenizer/testdata/hf/merges.txt.gz merges.txt derived from the same BPE
  tokenizer/testdata/unicode.json.gz  per-code-point tables (split class,
                                      str.lower, final-sigma context classes,
                                      NFC, str.isspace) for exhaustive checks
  tokenizer/html_tables.go            Python's html.unescape tables as Go
"""

import gzip
import html
import html.entities
import json
import os
import random
import sys
import unicodedata

import regex
import shutil
import subprocess

BPE_PATH = os.path.join("tokenizer", "bpe_simple_vocab_16e6.txt.gz")
TESTDATA = os.path.join("tokenizer", "testdata")
NUM_MERGES = 49152 - 256 - 2  # merge lines used after the header
CONTEXT_LENGTH = 77
SOT_TEXT = "<|startoftext|>"
EOT_TEXT = "<|endoftext|>"


# ------------------------------------------------------------ byte mapping


def fix_text(text):
    """ftfy.fix_text, imported on first use: scripts that import this module
    only to build models (models_ref, bench/compare) do not need ftfy."""
    import ftfy  # python-ftfy 6.3.1

    return ftfy.fix_text(text)

def byte_to_unicode_table():
    """GPT-2's reversible byte -> printable character map, as an ordered
    list of (byte, char) pairs: printable Latin-1 bytes map to themselves,
    the other 68 bytes to U+0100 upwards, in byte order."""
    keep = (list(range(ord("!"), ord("~") + 1)) +
            list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
            list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    pairs = [(b, chr(b)) for b in keep]
    extra = 0
    for b in range(256):
        if b not in keep:
            pairs.append((b, chr(256 + extra)))
            extra += 1
    return pairs


# ------------------------------------------------------------- tokenizer

def basic_clean(text):
    text = fix_text(text)
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = regex.sub(r"\s+", " ", text)
    return text.strip()


SPLIT_PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|"""
    r"""[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", regex.IGNORECASE)


class ClipTokenizer:
    """SimpleTokenizer's semantics. merges_text is the merges file text with
    its header line; vocab, if given, is a Hugging Face vocab.json dict."""

    def __init__(self, merges_text, vocab=None):
        table = byte_to_unicode_table()
        self.byte_encoder = dict(table)
        self.byte_decoder = {c: b for b, c in table}
        lines = merges_text.split("\n")[1:NUM_MERGES + 1]
        merges = [tuple(line.split()) for line in lines]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        if vocab is None:
            words = [c for _, c in table]
            words += [c + "</w>" for c in words]
            words += ["".join(m) for m in merges]
            words += [SOT_TEXT, EOT_TEXT]
            vocab = {w: i for i, w in enumerate(words)}
        self.encoder = dict(vocab)
        self.decoder = {i: w for w, i in self.encoder.items()}
        self.cache = {SOT_TEXT: SOT_TEXT, EOT_TEXT: EOT_TEXT}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            best, best_rank = None, None
            for pair in zip(word, word[1:]):
                rank = self.ranks.get(pair)
                if rank is not None and (best_rank is None or rank < best_rank):
                    best, best_rank = pair, rank
            if best is None:
                break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        out = " ".join(word)
        self.cache[token] = out
        return out

    def encode(self, text):
        text = whitespace_clean(basic_clean(text)).lower()
        ids = []
        for piece in SPLIT_PATTERN.findall(text):
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[s] for s in self.bpe(mapped).split(" "))
        return ids

    def decode(self, ids):
        text = "".join(self.decoder[i] for i in ids)
        raw = bytearray(self.byte_decoder[c] for c in text)
        return raw.decode("utf-8", errors="replace").replace("</w>", " ")

    def tokenize(self, text, context_length=CONTEXT_LENGTH):
        """clip.tokenize(text, context_length, truncate=True)[0]."""
        sot, eot = self.encoder[SOT_TEXT], self.encoder[EOT_TEXT]
        tokens = [sot] + self.encode(text) + [eot]
        if len(tokens) > context_length:
            tokens = tokens[:context_length]
            tokens[-1] = eot
        return tokens + [0] * (context_length - len(tokens))


def load_merges_text():
    with gzip.open(BPE_PATH) as f:
        lines = f.read().decode("utf-8").split("\n")
    return "\n".join(lines[:NUM_MERGES + 1]) + "\n"


# ---------------------------------------------------------------- cases

ZALGO = "z" + "".join(chr(0x300 + (i * 7) % 0x70) for i in range(40)) + "algo"
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
         "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim "
         "ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
         "aliquip ex ea commodo consequat. Duis aute irure dolor in "
         "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla "
         "pariatur. Excepteur sint occaecat cupidatat non proident, sunt in "
         "culpa qui officia deserunt mollit anim id est laborum.")

CURATED = [
    # plain English captions and prompts
    "a photo of a cat", "a photo of a dog.", "A Photo Of A Dog",
    "a diagram", "a dog", "a cat", "an astronaut riding a horse on the moon",
    "This is a photo of a large red double-decker bus in London.",
    "two people sitting on a bench near the water at sunset",
    "a black and white photo of an old man smiling",
    "a close-up photo of a cute kitten sleeping on a windowsill",
    "A painting of a fox in the style of Van Gogh",
    "itap of a {}.", "a bad photo of the {}.", "a origami {}.",
    "a photo of the large {}.", "art of the {}.", "a photo of the small {}.",
    "hello world", "Hello, World!", "HELLO WORLD", "hElLo WoRlD",
    "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "the quick brown fox jumps over the lazy dog",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "jekyll habib", "newyork", "cliptokenizer", "gpt2 bpe",
    # punctuation
    "hello, world!", "...", "?!?!", "!!!", "a-b_c", "@user #tag $100 50%",
    "http://example.com/path?x=1&y=2", "user@example.com", "C++ & C#",
    "(parentheses) [brackets] {braces}", "semi;colon:colon", "a/b\\c|d",
    "~tilde `backtick` ^caret", "\"double quotes\"", "'single quotes'",
    "--double-dash--", "a...b...c", "¡Hola! ¿Qué tal?", "«guillemets»",
    "em—dash en–dash", "bullet • point", "§ section ¶ pilcrow",
    "©®™", "°C ±5 ×2 ÷3", "<b>bold</b>", "<div class=\"x\">hi</div>",
    # contractions, in all cases
    "it's", "don't", "they're", "we've", "I'm", "we'll", "he'd",
    "IT'S", "DON'T", "THEY'RE", "WE'VE", "I'M", "WE'LL", "HE'D",
    "It'S", "can'T", "you'Re", "i'Ve", "she'Ll", "'s", "'S", "'sam",
    "''s", "!'s", "a'b", "'", "''", "rock'n'roll", "o'clock", "'tis",
    "James' book", "'ll'll'll", "'ſ", "x'ſ", "'ẞ",
    # digits and numbers
    "123", "3.14159", "1,000,000", "2024-01-31", "v1.2.3", "0x1F", "007",
    "٣٤٥", "१२३", "²³", "½ ¼ ¾", "①②③", "Ⅻ ⅻ Ⅳ", "12abc34", "a1b2c3",
    "𝟙𝟚𝟛", "〇一二三",
    # accents and Latin scripts
    "café", "naïve", "résumé", "Ångström", "crème brûlée", "jalapeño",
    "Zürich", "Øresund", "Łódź", "Dvořák", "Ærøskøbing", "façade",
    "CAFÉ NAÏVE", "Ça va?", "ÉCOLE", "Ελληνικά", "Привет, мир!",
    "ПРИВЕТ МИР", "Україна", "Ђорђе", "Việt Nam", "Tiếng Việt có dấu",
    # combining marks and normalization
    "cafe\u0301", "e\u0301", "a\u0308\u0304", "o\u0323\u0302",
    "\u0301leading mark", "n\u0303", "A\u030a", "\u1100\u1161\u11a8",
    "\u1100\u1161", "\uac00\u11a8", "\u0b47\u0b3e", "\u0915\u093c",
    ZALGO, "Z" + "\u0336" * 35 + "A" + "\u0337\u0338" * 20,
    "x" + "\u0316\u0301" * 20 + "y", "\u0345", "\u03b1\u0345",
    "x\u0345y", "!\u0345?", "a\u0345\u0345b", "\u0399\u0345",
    "\u1fb3", "\u1f85\u0345",
    # Turkish, German, Greek
    "İstanbul", "ISTANBUL", "IŞIK", "ışık", "İ", "i\u0307", "ı", "Iİıi",
    "KİTAP", "Straße", "STRASSE", "ẞ", "GROẞ", "Fußgängerübergänge",
    "ΟΔΟΣ", "ΣΑΣ", "Σ", "ΑΣ", "ΑΣ.", "ΑΣ'Β", "ΑΣ\u0301", "ΑΣ\u0301Β",
    "Σ.Σ", "ΑΣ Σ", "ὈΔΥΣΣΕΎΣ", "ΣΊΣΥΦΟΣ", "ΆΣΟΣ1", "ΑΣ1", "aΣ", "ΑΣ:Β",
    "ΑΣ\u00adΒ", "1Σ", "ʰΣ", "ΑΣʰ", "ΑΣ\u200dΒ",
    # CJK, Japanese, Korean, other scripts
    "日本語のテキスト", "東京タワーの写真", "ひらがなとカタカナ", "ｶﾞｷﾞｸﾞ",
    "你好，世界", "一只猫的照片", "中文测试：标点符号。", "繁體中文字",
    "안녕하세요", "고양이 사진", "مرحبا بالعالم", "صورة قطة", "العربية ١٢٣",
    "שלום עולם", "नमस्ते दुनिया", "एक बिल्ली की तस्वीर", "हिन्दी",
    "สวัสดีชาวโลก", "ภาษาไทย", "Γειά σου Κόσμε", "ქართული", "Հայերեն",
    "አማርኛ", "ᚠᚢᚦ", "𐌰𐌱𐌲", "ꦗꦮ", "தமிழ்", "বাংলা", "ਪੰਜਾਬੀ",
    "ગુજરાતી", "ಕನ್ನಡ", "മലയാളം", "සිංහල", "ພາສາລາວ", "ខ្មែរ", "မြန်မာ",
    "ᠮᠣᠩᠭᠣᠯ", "ꓡꓲꓢꓤ", "ᏣᎳᎩ",
    # emoji
    "👍", "👍🏽", "👍🏿👍🏻", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈",
    "❤️", "❤", "🇯🇵🇺🇸", "1️⃣", "🧑🏿\u200d💻", "😀😃😄😁", "a🐱b",
    "I ❤️ NY", "🐈‍⬛", "👩🏽\u200d🔬 science", "☕️ coffee", "©️",
    # HTML entities
    "&amp;", "&amp", "&lt;3", "&gt;", "&quot;hi&quot;", "&#39;s",
    "&amp;amp;", "&amp;lt;", "&amp;amp;amp;", "&#0;", "&#x80;", "&#128;",
    "&#x9F;", "&#x9f;", "&#129;", "&#xD800;", "&#x110000;",
    "&#99999999999999999999;", "&#1;", "&#x1F600;", "&#65", "&#x41",
    "&#65;&#66;&#67;", "&notit;", "&notin", "&notin;", "&Aacute",
    "&aacute;", "&ampx", "&&amp;", "&#;", "&#x;", "&#", "&", "&;",
    "&nbsp;a&nbsp;", "&#13;", "&#xFFFE;", "&#xFDD0;", "&NewLine;x",
    "a&Tab;b", "&ThickSpace;", "&lt;|endoftext|&gt;", "&#x27;s",
    "&rsquo;s", "&#8217;t", "&hellip;", "&fflig;", "&copy", "&COPY;",
    "&amp;#39;", "&#38;#38;", "&euro;100", "&NotANamedEntityAtAll;",
    "&abcdefghijklmnopqrstuvwxyzabcdefghijkl;", "AT&T", "R&D dept",
    "&lt;&gt;&amp;", "&#x0d;&#x0a;", "&#133;", "&#x2028;", "&#11;",
    "&#127;", "&#160;", "&#xFEFF;x", "&#x202F;a", "&#x3000;b",
    # whitespace
    "  leading and trailing  ", "a  b   c", "\t\ta\n\nb", "a\r\nb",
    "a\rb", "a\r\rb", "a\u3000b", "a\u00a0b", "a\u2003b", "a\u1680b",
    "a\u2028b", "a\u2029b", "a\u0085b", "a\x0bb", "a\x0cb", "a\u200bb",
    "a\u202fb\u205fc", "   ", "\t\n", "\r\n", " \u3000 ", "", " ",
    "\n\nline one\nline two\n\n", "tab\tseparated\tvalues",
    # control characters
    "\x00a\x01b", "a\x7fb", "\x1b[31mred\x1b[0m", "a\x08b", "\x1cx\x1f",
    "a\x80b\x9fc", "\ufeffbom", "a\u206ab", "x\ufff9y\ufffcz", "\ufffd",
    "a\u200e\u200fb", "a\u00adb", "a\u2060b", "a\u034fb",
    # curly quotes
    "don’t", "‘hi’", "“quoted”", "it‛s", "„low“", "ʼn", "it’S", "we’LL",
    "‟reversed‟", "‚comma‚", "they’re", "O’Brien",
    # ligatures
    "ﬁne ﬂour", "ﬀ ﬃ ﬄ", "ﬅ ﬆ", "Ĳssel ĳs", "Ǆ ǅ ǆ", "Ǉ ǈ ǉ", "Ǌ ǋ ǌ",
    "Ǳ ǲ ǳ", "ŉ", "oﬀice", "ﬁnal ﬁx", "ŉ's",
    # full-width and half-width forms
    "ＡＢＣ１２３！", "ｈｅｌｌｏ　ｗｏｒｌｄ", "￥１００", "￦￠￡",
    "＇ｓ", "ＩＴ＇Ｓ", "￣", "＜｜ｅｎｄｏｆｔｅｘｔ｜＞", "（括弧）",
    "ﾊﾝｶｸ", "￨￩￮",
    # special-token strings inside text
    "<|startoftext|>", "<|endoftext|>", "<|startoftext|>hello<|endoftext|>",
    "hello <|endoftext|> world", "<|STARTOFTEXT|>", "<|EndOfText|>",
    "<|ſtartoftext|>", "x<|endoftext|>y", "!<|endoftext|>",
    "<|endoftext|", "<|endoftext", "<<|endoftext|>>", "<|endoftext|>" * 3,
    "<|startoftext|><|endoftext|>",
    # long texts and long words
    LOREM, LOREM.upper(), LOREM * 3, "a " * 200, "ab" * 300,
    "abcdefghij" * 100, "x" * 1000, "1" * 200, "!?" * 150,
    "日本" * 100, "👍" * 60,
]


def token_count_cases(tok):
    """Strings whose BPE id count is exactly n, for n around the context
    length (each gives a clip.tokenize row of n+2 ids before truncation)."""
    words = ("a photo of the big red dog running across green grass while "
             "children play with colourful kites under bright summer sky").split()
    out = []
    for target in (73, 74, 75, 76, 77, 78):
        text, i = "", 0
        while True:
            candidate = (text + " " + words[i % len(words)]).strip()
            n = len(tok.encode(candidate))
            if n > target:
                # Finish with single-id words until the count matches.
                while len(tok.encode(text)) < target:
                    text += " a"
                break
            text = candidate
            if n == target:
                break
            i += 1
        assert len(tok.encode(text)) == target, target
        out.append(text)
    return out


PIECES = [
    "a", "photo", "of", "the", "dog", "Cat", "HELLO", "world", "it's",
    "DON'T", "we'll", "I'M", "'s", "'", "ſ", "123", "4", "3.5", "٣", "²",
    "½", "Ⅻ", ",", ".", "!", "?", "...", "-", "&", "#", "@", "(", ")", "'",
    '"', "café", "naïve", "e\u0301", "\u0308", "\u0345", "İ", "ß", "ẞ",
    "ΟΔΟΣ", "Σ", "σ", "ς", "日本語", "東京", "カタカナ", "ｶﾞ", "한국어",
    "مرحبا", "١٢", "नमस्ते", "ไทย", "Привет", "👍", "🏽", "\u200d",
    "👨\u200d👩\u200d👧", "❤️", "\ufe0f", "🇯🇵", "&amp;", "&amp", "&lt;",
    "&#39;", "&#x80;", "&#0;", "&nbsp;", "&notin", "&#", "&#x", "  ", "\t",
    "\n", "\r\n", "\r", "\u3000", "\u00a0", "\u2028", "\u0085", "\x00",
    "\x1b", "\x7f", "\x0b", "\x0c", "\ufeff", "\u200b", "’", "‘", "“", "”",
    "ʼ", "ﬁ", "ﬂ", "ĳ", "ǅ", "ŉ", "Ａ", "１", "！", "＇", "<|endoftext|>",
    "<|startoftext|>", "<|", "|>", "</w>", "supercalifragilistic", "ab" * 8,
    "zalgo" + "\u0301\u0316" * 17,
]
SEPARATORS = ["", " ", " ", " ", "  ", "\n", "\t", "-", "'"]


def random_corpus(seed, count):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        n = rng.randint(1, 12) if i % 10 else rng.randint(20, 120)
        parts = []
        for _ in range(n):
            parts.append(rng.choice(PIECES))
            parts.append(rng.choice(SEPARATORS))
        out.append("".join(parts[:-1]))
    return out


def random_id_lists(seed, count, vocab_size):
    rng = random.Random(seed)
    lists = []
    for _ in range(count):
        n = rng.randint(1, 12)
        if rng.random() < 0.5:
            lists.append([rng.randrange(vocab_size) for _ in range(n)])
        else:  # mostly byte-level ids: more invalid UTF-8
            lists.append([rng.randrange(512) for _ in range(n)])
    return lists


def random_entity_strings(seed, count):
    """Strings dense in character-reference syntax, for html.unescape."""
    rng = random.Random(seed)
    names = sorted(html.entities.html5)
    bits = ["&", "&#", "&#x", "&#X", ";", "#", "x", "0", "9", "12", "65",
            "128", "0x", "ff", "D800", "110000", "a", "Z", " ", "\t", "\n",
            "\r", "<", "é", "日", "&amp;", "amp", "lt", "not", "in", "it"]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.3:
                name = rng.choice(names)
                parts.append("&" + name[:rng.randint(1, len(name))])
            else:
                parts.append(rng.choice(bits))
        out.append("".join(parts))
    return out


# ------------------------------------------------------- unicode tables

def runs(values):
    """Run-length encode a list as [[start, value], ...]."""
    out, prev = [], object()
    for cp, v in enumerate(values):
        if v != prev:
            out.append([cp, v])
            prev = v
    return out


def unicode_tables():
    flag = regex.IGNORECASE
    letter = regex.compile(r"[\p{L}]", flag)
    number = regex.compile(r"[\p{N}]", flag)
    other = regex.compile(r"[^\s\p{L}\p{N}]", flag)
    space = regex.compile(r"\s", flag)
    classes, sigma, unassigned = [], [], []
    lower, nfc, isspace = {}, {}, []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            classes.append("X")
            sigma.append("O")
            unassigned.append(1)
            continue
        c = chr(cp)
        if space.match(c):
            cls = "S"
        elif letter.match(c):
            cls = "L"
        elif number.match(c):
            cls = "N"
        elif other.match(c):
            cls = "P"
        else:
            cls = "X"  # matched by no alternative: findall skips it
        classes.append(cls)
        # Final-sigma context classes, observed through str.lower().
        after_cased = ("A" + c + "\u03a3").lower()[-1] == "\u03c2"
        alone = (c + "\u03a3").lower()[-1] == "\u03c2"
        sigma.append("C" if alone else ("I" if after_cased else "O"))
        unassigned.append(1 if unicodedata.category(c) == "Cn" else 0)
        if c.lower() != c:
            lower[cp] = c.lower()
        if unicodedata.normalize("NFC", c) != c:
            nfc[cp] = unicodedata.normalize("NFC", c)
        if c.isspace():
            isspace.append(cp)
    return {
        "python_unicode_version": unicodedata.unidata_version,
        "regex_version": regex.__version__,
        "split_class": runs(classes),
        "sigma_class": runs(sigma),
        "python_unassigned": runs(unassigned),
        "lower": {str(k): v for k, v in lower.items()},
        "nfc": {str(k): v for k, v in nfc.items()},
        "isspace": isspace,
    }


# ------------------------------------------------------------- Go tables

def go_quote(s):
    out = ['"']
    for c in s:
        cp = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= cp < 0x7F:
            out.append(c)
        elif cp <= 0xFFFF:
            out.append("\\u%04x" % cp)
        else:
            out.append("\\U%08x" % cp)
    out.append('"')
    return "".join(out)


def write_go_tables(path):
    lines = [
        "// Code generated by tools/reference/tokenizer_ref.py from Python %s's"
        % sys.version.split()[0],
        "// html module; DO NOT EDIT.",
        "",
        "package tokenizer",
        "",
        "// htmlEntities is Python's html.entities.html5: every HTML5 named",
        "// character reference, with and without its semicolon where the",
        "// standard allows both.",
        "var htmlEntities = map[string]string{",
    ]
    for name in sorted(html.entities.html5):
        lines.append("\t%s: %s," % (go_quote(name), go_quote(html.entities.html5[name])))
    # The numeric-reference tables (html._invalid_charrefs and
    # _invalid_codepoints) live once, in package tokenizer/ftfy (ftfy.CharRef).
    lines += ["}", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    gofmt = shutil.which("gofmt") or "/usr/local/go/bin/gofmt"
    if os.path.exists(gofmt):
        subprocess.run([gofmt, "-w", path], check=True)
    else:
        print("warning: gofmt not found; run gofmt -w " + path)


# ------------------------------------------------------------------ main

def write_json(path, obj, compress=False):
    data = json.dumps(obj, ensure_ascii=False, indent=None,
                      separators=(",", ":")).encode("utf-8")
    if compress:
        with open(path, "wb") as f:
            # mtime=0 keeps the output byte-for-byte reproducible.
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
                gz.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def cases_json(tok, texts):
    return [{"text": t, "encode": tok.encode(t), "tokens": tok.tokenize(t)}
            for t in texts]


def main():
    merges_text = load_merges_text()
    tok = ClipTokenizer(merges_text)
    assert len(tok.encoder) == 49408, len(tok.encoder)
    assert tok.encoder[SOT_TEXT] == 49406 and tok.encoder[EOT_TEXT] == 49407

    curated = CURATED + token_count_cases(tok)
    assert len(curated) >= 300, len(curated)
    assert len(set(curated)) == len(curated), "duplicate curated case"
    corpus = random_corpus(20240531, 2000)

    os.makedirs(os.path.join(TESTDATA, "hf"), exist_ok=True)
    write_json(os.path.join(TESTDATA, "tokens.json"), {
        "context_length": CONTEXT_LENGTH,
        "cases": cases_json(tok, curated)})
    write_json(os.path.join(TESTDATA, "corpus.json.gz"), {
        "context_length": CONTEXT_LENGTH,
        "cases": cases_json(tok, corpus)}, compress=True)

    # Short context lengths, including the degenerate ones clip.tokenize
    # handles by truncating to [EOT] (length 1) or [SOT, EOT] (length 2).
    short = []
    for n in (1, 2, 3, 5, 16):
        for t in ("", "a photo of a cat", LOREM):
            short.append({"text": t, "context_length": n,
                          "tokens": tok.tokenize(t, n)})

    decode_cases = []
    for t in curated[:80]:
        ids = tok.encode(t)
        decode_cases.append({"ids": ids, "text": tok.decode(ids)})
    for ids in random_id_lists(7, 300, len(tok.encoder)):
        decode_cases.append({"ids": ids, "text": tok.decode(ids)})
    # Each cleaning stage on its own, for focused failures.
    unescape_inputs = [t for t in curated if "&" in t]
    unescape_inputs += random_entity_strings(11, 600)
    write_json(os.path.join(TESTDATA, "normalize.json"), {
        "unescape": [[t, html.unescape(t)] for t in unescape_inputs],
        "fix_text": [[t, fix_text(t)] for t in curated],
        "clean": [[t, whitespace_clean(basic_clean(t)).lower()]
                  for t in curated + corpus[:300]],
    })

    write_json(os.path.join(TESTDATA, "decode.json"),
               {"decode": decode_cases, "short_context": short})

    # Hugging Face layout: vocab.json (word -> id) and merges.txt with the
    # "#version: 0.2" header. Check that Python gets identical ids from it.
    hf_merges = "#version: 0.2\n" + merges_text.split("\n", 1)[1]
    hf_vocab = dict(tok.encoder)
    hf_tok = ClipTokenizer(hf_merges, hf_vocab)
    for t in curated + corpus[:200]:
        assert hf_tok.tokenize(t) == tok.tokenize(t), t
    write_json(os.path.join(TESTDATA, "hf", "vocab.json.gz"), hf_vocab,
               compress=True)
    with open(os.path.join(TESTDATA, "hf", "merges.txt.gz"), "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(hf_merges.encode("utf-8"))

    write_json(os.path.join(TESTDATA, "unicode.json.gz"), unicode_tables(),
               compress=True)
    write_go_tables(os.path.join("tokenizer", "html_tables.go"))
    print("curated %d, corpus %d, decode %d" % (
        len(curated), len(corpus), len(decode_cases)))


if __name__ == "__main__":
    main()
