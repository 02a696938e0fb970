#!/usr/bin/env python3
"""Golden fixtures for the Go package tokenizer/ftfy from the real python-ftfy.

Runs ftfy.fix_text (6.3.1, default configuration) and OpenAI's CLIP
tokenizer semantics (tools/reference/tokenizer_ref.py, whose cleaning calls
the real ftfy) over corpora built here:

  - ftfy's own tests/test_cases.json (copied to testdata with its licence);
  - real multilingual text: the AppStream (DEP-11) summaries of Debian
    bookworm in every language apt has them for, turned into mojibake by
    encoding as UTF-8 and decoding with every codec ftfy knows (and a few
    lossy ones: strict codecs with U+FFFD or "?" for undefined bytes), twice
    over, partially, with U+00A0 turned into spaces, mixed with clean text;
    C1 controls (Windows-1252 bytes read as Latin-1); CESU-8 and Java NULs;
    HTML character references in every form (named, upper-case names,
    decimal, hexadecimal with x and X, without semicolons, nested &amp;amp;,
    after a "<"); terminal escapes; ligatures, full-width forms, curly
    quotes, line breaks and control characters;
  - random strings over the characters of ftfy's badness classes, with
    badness.is_bad for each, to test the RE2 translation of BADNESS_RE;
  - long texts past max_decode_length, stored as a recipe and a SHA-256.

Run from the repository root with ftfy importable (README of the reference
archive):
    PYTHONPATH=$W/ftfy:$W/wcwidth /usr/bin/python3 tools/reference/ftfy_ref.py [ftfy-source-dir]

It writes tokenizer/ftfy/testdata/{test_cases.json,LICENSE-ftfy.txt,
fixtures.json.gz} and the 3,000 plain English captions of the tokenizer
benchmark, tokenizer/testdata/captions.txt.gz (needs python3-yaml). The optional argument is the unpacked python-ftfy source
(with tests/ and LICENSE.txt); by default it is found from ftfy.__file__.
"""

import gzip
import hashlib
import html.entities
import json
import os
import random
import shutil
import sys

import ftfy
import ftfy.bad_codecs  # noqa: F401
from ftfy import badness, chardata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_ref  # noqa: E402

OUT_DIR = os.path.join("tokenizer", "ftfy", "testdata")
DEP11 = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_dep11_Components-amd64.yml.gz"


# ---------------------------------------------------------------- sources

def dep11_summaries():
    """(language, text) of every translated Summary line in DEP-11."""
    out = []
    with gzip.open(DEP11, "rt", encoding="utf-8") as f:
        in_summary = False
        for line in f:
            if line.startswith("Summary:"):
                in_summary = True
                continue
            if not line.startswith("  "):
                in_summary = False
                continue
            if in_summary and ": " in line:
                lang, _, text = line.strip().partition(": ")
                text = text.strip().strip("'\"")
                if text:
                    out.append((lang, text))
    return out


def write_captions(path, count=3000):
    """Plain English captions for the tokenizer benchmark: sentences of the
    English (C) summaries and descriptions in DEP-11, markup removed."""
    import re
    import yaml
    sents, seen = [], set()
    with gzip.open(DEP11, "rt", encoding="utf-8") as f:
        for doc in yaml.load_all(f, Loader=yaml.CSafeLoader):
            if not doc:
                continue
            for key in ("Summary", "Description"):
                v = (doc.get(key) or {}).get("C")
                if not isinstance(v, str):
                    continue
                v = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", v)).strip()
                for sent in re.split(r"(?<=[.!?])\s+", v):
                    sent = sent.strip()
                    if 20 <= len(sent) <= 160 and sent not in seen:
                        seen.add(sent)
                        sents.append(sent)
    random.Random(3).shuffle(sents)
    with open(path, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(("\n".join(sents[:count]) + "\n").encode("utf-8"))


def sample_by_language(pairs, per_lang, rng):
    by = {}
    for lang, text in pairs:
        by.setdefault(lang, []).append(text)
    out = []
    for lang in sorted(by):
        texts = sorted(set(by[lang]))
        rng.shuffle(texts)
        out += texts[:per_lang]
    return out


# --------------------------------------------------------------- mojibake

CODECS = list(chardata.CHARMAP_ENCODINGS) + [
    "sloppy-windows-1255", "sloppy-windows-1256", "sloppy-windows-1258",
    "cp850", "iso-8859-15", "koi8-r", "mac-cyrillic", "iso-8859-5"]
LOSSY = ["windows-1252", "windows-1251", "windows-1250", "windows-1253",
         "iso-8859-7", "ascii"]


def moji(text, enc, errors="strict"):
    return text.encode("utf-8").decode(enc, errors=errors)


def variants(text, rng):
    """Broken forms of one real string."""
    out = []
    for enc in rng.sample(CODECS, 4):
        try:
            m = moji(text, enc)
        except UnicodeDecodeError:
            continue
        out.append(m)
        if "\xa0" in m:
            out.append(m.replace("\xa0", " "))
    enc = rng.choice(LOSSY)
    out.append(moji(text, enc, "replace"))
    # "?" in place of undefined bytes: encode after decoding with U+FFFD.
    try:
        out.append(moji(text, "windows-1252", "replace").encode(
            "windows-1252", errors="replace").decode("windows-1252"))
    except UnicodeError:
        pass
    m1 = moji(text, "sloppy-windows-1252")
    out.append(moji(m1, rng.choice(["sloppy-windows-1252", "latin-1", "sloppy-windows-1251"])))
    k = rng.randrange(len(text) + 1)
    out.append(text[:k] + moji(text[k:], rng.choice(CODECS[:10])))
    out.append(text + " / " + m1)
    # C1 controls: Windows-1252 bytes read as Latin-1, and UTF-8 read as Latin-1.
    out.append(text.encode("windows-1252", errors="ignore").decode("latin-1"))
    out.append(moji(text, "latin-1"))
    return out


def cesu8(text):
    out = bytearray()
    for c in text:
        cp = ord(c)
        if cp >= 0x10000:
            v = cp - 0x10000
            for s in (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)):
                out += bytes([0xE0 | (s >> 12), 0x80 | ((s >> 6) & 0x3F), 0x80 | (s & 0x3F)])
        elif cp == 0:
            out += b"\xc0\x80"
        else:
            out += c.encode("utf-8")
    return bytes(out)


NAMES = sorted(html.entities.html5)


def entity_forms(c, rng):
    forms = ["&#%d;" % ord(c), "&#x%x;" % ord(c), "&#X%X;" % ord(c), "&#%d" % ord(c)]
    names = [n for n in NAMES if html.entities.html5[n] == c]
    for n in names[:3]:
        forms.append("&" + n)
        forms.append("&" + n.upper())
    return forms


def htmlize(text, rng):
    out = []
    for c in text:
        if not c.isalnum() or rng.random() < 0.15:
            out.append(rng.choice(entity_forms(c, rng)) if rng.random() < 0.6 else c)
        else:
            out.append(c)
    s = "".join(out)
    if rng.random() < 0.3:
        s = s.replace("&", "&amp;", 1)
    return s


def terminal(text, rng):
    codes = ["\x1b[0m", "\x1b[1;31m", "\x1b[36;44m", "\x1b[m", "\x1b[2K", "\x1b[10;20H",
             "\x1b[;;m", "\x1b[", "\x1b[1", "\x1b]0;t\x07", "\x1b[\u0663m", "\x1b[1;\u0967A"]
    words = text.split(" ")
    return " ".join(w if rng.random() < 0.7 else rng.choice(codes) + w for w in words) + rng.choice(codes)


def dress(text, rng):
    """Ligatures, full width, curly quotes, line breaks, control chars."""
    table = {"fi": "\ufb01", "fl": "\ufb02", "ff": "\ufb00", "'": "\u2019", '"': "\u201c",
             " ": rng.choice([" ", "\u3000", "\r\n", "\r", "\u2028", "\u0085", " \x00", "\ufeff "])}
    s = text
    for k, v in table.items():
        if rng.random() < 0.5:
            s = s.replace(k, v)
    if rng.random() < 0.3:
        s = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)
    return s


CURATED = [
    "", "a photo of a cat", "Ã©", "'Ã©'", "\x93hi\x94", "\x85", "it&#8217;s", "&amp;amp;amp;",
    "&#xff21;", "&EACUTE;", "\x1b[36mcolor\x1b[0m", "Xpaint Å¨ÃÂ¾ø ÀÂýÀ¡Î",
    "a < b\n&amp; c\n", "&amp; c\na < b\n&amp;\n", "&lt;tag&gt; &amp;amp;",
    "&#59;", "&#x3b;", "&#0;", "&#1;", "&#128;", "&#x9D;", "&#xD800;", "&#99999999999999999999;",
    "&#x41g;", "&#0x41;", "&abcdefghijklmnopqrstuvwxyz;", "&abcdefghijklmnopqrstuvwx;",
    "&NTILDE; &nTILDE; &SZLIG;", "P&EACUTE;REZ", "&Jscr;ohn &HilbertSpace;ancock",
    "\xc3 la", "Ã la mode", "Ã quele", "fÃ cil", "voilÃ le travail", "Ã s", "Ã\n",
    "here comes a null! \xc3\x80\xc2\x80", "Ã€\n", "À\x80", "À\n", "\xed\xa0\xbd\xed\xb2\xa9",
    "í ½í²©", "í ½í²©\n", "í ½í²", "â€œ like this â€\ufffd", "â€œ like this â€?",
    "\ufffd", "\x1a", "Ã\x1a", "ğŸ˜€", "ÃƒÂ©", "Ã¢â‚¬Å“", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "Ñ„Ñƒ",
    "â”Œ", "Ã‡", "×²", "Â¡", "Â", "Â ", "x Â ", "ÃÂ", "вЂ", "вЂњ", "ГўВЂВњ hello",
    "Ø§Ù„Ø¹Ø±Ø¨ÙŠØ©", "à¤¨à¤®à¤¸à¥à¤¤à¥‡", "Ã¦Ã¸Ã¥", "Ã¤Ã¶Ã¼", "Å¼Ã³Å‚w", "Ä…Ä™",
    "\r\n\r\n", "a\u2028b\u2029c\x85d", "\ufb01\ufb02\u0149", "ＬＯＵＤ　ＮＯＩＳＥＳ", "Ｕﾀｰﾝ",
    "\u201chere\u2019s a test\u201d", "\x00\x01\x7f\u206a\ufeff\ufff9\ufffc", "\x1b[1;\u0663m x",
    "\x1b[", "\x1bx", "e\u0301", "\u1100\u1161", "a\u0301" + "\u0316" * 40,
    "√±", "≈°", "‚Ä†", "‚âà", "Œ±", "œ", "œx", "Ã°", "ΒΌΒ", "β€™", "ā€", "à²",
    "ÂÃÎÐ", "×³", "Ù€Ø¨", "Ã˜Â§", "ˆ", "Ã\xa0", "\xa0", "ÃÃÃÃ", "ÂÂÂÂ",
    "\u00c2\u00a0", "l\u00c3\u00a9", "\u00e2\u0080\u0099", "\u00e2\u0080\u009d",
]


# ----------------------------------------------------------- random bad

def badness_pool():
    pool = set()
    for v in badness.MOJIBAKE_CATEGORIES.values():
        pool.update(chardata_class(v))
    pool.update("ÂÃÎÐØÙàÃ√≈‚ÄâóàäêвЂВГРСβ€ΒΓΞΟāŒœ×°²³ГўВЂ")
    pool.update("aZ .,?!\n\t")
    return sorted(pool)


def chardata_class(cls):
    import re
    pat = re.compile("[" + cls + "]")
    return [chr(cp) for cp in range(0x3000) if pat.match(chr(cp))] + (["\uf8ff", "\ufffd"] if pat.match("\uf8ff") or pat.match("\ufffd") else [])


def random_bad(rng, pool, count):
    out = []
    for _ in range(count):
        n = rng.randint(1, 7)
        out.append("".join(rng.choice(pool) for _ in range(n)))
    return out


# -------------------------------------------------------------- long text

LONG = [
    # recipe: piece, repeat count
    ["Ã©t\u00e9 &amp; ", 250_001],   # 2.5 M code points, no line break
    ["sch\u00c3\u00b6n\n", 200_000],
    ["x" * 999_999 + "Ã", 2],
    ["&lt;" + "a" * 999_990, 3],
]


def sha(s):
    return hashlib.sha256(s.encode("utf-8", errors="surrogatepass")).hexdigest()


# --------------------------------------------------------------------- main

def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(ftfy.__file__))
    os.makedirs(OUT_DIR, exist_ok=True)
    shutil.copy(os.path.join(src, "tests", "test_cases.json"), os.path.join(OUT_DIR, "test_cases.json"))
    shutil.copy(os.path.join(src, "LICENSE.txt"), os.path.join(OUT_DIR, "LICENSE-ftfy.txt"))
    with open(os.path.join(src, "tests", "test_cases.json"), encoding="utf-8") as f:
        cases = json.load(f)

    write_captions(os.path.join("tokenizer", "testdata", "captions.txt.gz"))
    rng = random.Random(20261201)
    real = sample_by_language(dep11_summaries(), 15, rng)
    broken = []
    for t in real:
        broken += variants(t, rng)
    html_cases = [htmlize(t, rng) for t in real]
    term_cases = [terminal(t, rng) for t in real[::3]]
    dressed = [dress(t, rng) for t in real[::2]]
    cesu = []
    for t in real[::7]:
        emoji = rng.choice(["\U0001F600", "\U0001F4A9", "\U00010348", "\U0001F1EF\U0001F1F5"])
        b = cesu8(t + " " + emoji + "\x00")
        cesu.append(b.decode(rng.choice(["latin-1", "sloppy-windows-1252"])))
    multiline = ["\n".join(rng.sample(broken, 5)) for _ in range(200)]
    multiline += ["\n".join(rng.sample(html_cases, 3) + ["a < b"] + rng.sample(html_cases, 3))
                  for _ in range(100)]

    tok = tokenizer_ref.ClipTokenizer(tokenizer_ref.load_merges_text())
    groups = {
        "curated": CURATED,
        "real": real,
        "mojibake": broken,
        "html": html_cases,
        "terminal": term_cases,
        "dressed": dressed,
        "cesu8": cesu,
        "multiline": multiline,
        "test_cases": [c["original"] for c in cases],
    }
    fixtures = {"ftfy_version": ftfy.__version__, "groups": {}, "long": [], "badness": []}
    total = 0
    for name, texts in groups.items():
        rows = []
        seen = set()
        for t in texts:
            if t in seen:
                continue
            seen.add(t)
            fixed = ftfy.fix_text(t)
            if any(0xD800 <= ord(c) <= 0xDFFF for c in t + fixed):
                continue  # not representable in Go strings
            rows.append([t, fixed, tok.encode(t)])
        fixtures["groups"][name] = rows
        total += len(rows)
        print("%-10s %6d" % (name, len(rows)))
    for piece, n in LONG:
        t = piece * n
        fixed = ftfy.fix_text(t)
        fixtures["long"].append({"piece": piece, "repeat": n, "sha256": sha(fixed),
                                 "length": len(fixed)})
    pool = badness_pool()
    for t in random_bad(rng, pool, 15000):
        fixtures["badness"].append([t, badness.is_bad(t), ftfy.fix_text(t)])
    data = json.dumps(fixtures, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with open(os.path.join(OUT_DIR, "fixtures.json.gz"), "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
            gz.write(data)
    print("cases %d, long %d, badness %d, %d bytes raw" % (
        total, len(fixtures["long"]), len(fixtures["badness"]), len(data)))


if __name__ == "__main__":
    main()
