#!/usr/bin/env python3
"""Reference fixtures for the Go package tokenizer/sentencepiece.

Trains small SentencePiece models with Debian's python3-sentencepiece
(unigram and BPE, several vocabulary sizes, with and without byte fallback,
nmt_nfkc, identity and a custom rule table, user-defined and control
symbols, T5-like and Gemma-like special-id layouts), then encodes one varied
string set with every model using the default options of
`SentencePieceProcessor(model_proto=...).encode(text)`.

Run from the repository root:
    /usr/bin/python3 tools/reference/sentencepiece_ref.py

Writes:
  tokenizer/sentencepiece/testdata/models/NAME.model.gz  the trained models;
      those marked "charsmap_fragment" are stored without their nmt_nfkc
      precompiled_charsmap, which models/charsmap.pb.gz holds once: the model
      is the concatenation of both (protocol buffers merge concatenations)
  tokenizer/sentencepiece/testdata/golden.json.gz        {"version", "texts",
      "models": {NAME: {"options", "size", "bos", "eos", "pad", "unk",
      "ids": [[...] per text]}}}; the hand-built synthetic_* models carry
      their own "texts"; the derived ones are the model "derived_from" (with
      its charsmap fragment) followed by the bytes "append_hex"

Training is not guaranteed to be bit-for-bit reproducible across
sentencepiece versions; the committed models and the ids computed from them
belong together, so regenerate both at once.
"""

import gzip
import io
import json
import os
import random
import struct
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTDATA = os.path.join(ROOT, "tokenizer", "sentencepiece", "testdata")

# Phrases in several scripts, written for these fixtures.
MULTILINGUAL = [
    "The quick brown fox jumps over the lazy dog.",
    "a photo of a cat sitting on a red sofa",
    "Der schnelle braune Fuchs springt über den faulen Hund. Größe, Straße, Äpfel.",
    "Le cœur a ses raisons que la raison ne connaît point; l'été à Noël.",
    "El niño comió piñas y jalapeños en la montaña; ¿qué pasó? ¡Olé!",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο. ΟΔΟΣ",
    "الثعلب البني السريع يقفز فوق الكلب الكسول",
    "השועל החום המהיר קופץ מעל הכלב העצלן",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है। नमस्ते",
    "敏捷的棕色狐狸跳过了懒狗。我喜欢吃苹果和香蕉。",
    "素早い茶色の狐が怠け者の犬を飛び越える。写真の中の猫はかわいい。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘는다. 고양이 사진",
    "เสือสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ",
    "Hızlı kahverengi tilki tembel köpeğin üstünden atlar. İstanbul, ılık",
    "Szybki brązowy lis przeskakuje nad leniwym psem. Zażółć gęślą jaźń",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Tiếng Việt có dấu: Đây là một bức ảnh con mèo.",
    "ქართული ენა, Հայերեն լեզու, ᠮᠣᠩᠭᠣᠯ",
    "full-width ＡＢＣ　ｄｅｆ　１２３！ and ligatures ﬁ ﬂ ﬀ ½ ² ㎏ ℃ Ⅻ",
    "emoji 😀 👍🏽 ❤️ 👨‍👩‍👧 🇯🇵 ✈︎ 🐈",
    "numbers 3.14159 2026-12-01 1,000,000 0x1F -42 +7 1e-9",
    "code: if (x != y) { return a[i] + b->c; } // comment #tag @user",
    "mixed 東京Tokyo2026年 とうきょう ＴＯＫＹＯ",
]


def dpkg_descriptions(limit):
    """English text: the long descriptions of installed Debian packages."""
    out = []
    try:
        with open("/var/lib/dpkg/status", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("Description: ") or line.startswith(" "):
                    s = line.strip()
                    if s and s != ".":
                        out.append(s.removeprefix("Description: "))
    except OSError:
        pass
    return out[:limit]


def lecture_lines():
    path = "/work/shared/seed/000_54db4671ee1071fc.txt"
    try:
        with open(path, encoding="utf-8") as f:
            return [l.strip() for l in f if l.strip()][:400]
    except OSError:
        return []


def training_corpus():
    rng = random.Random(17)
    lines = dpkg_descriptions(6000) + lecture_lines()
    for _ in range(20):
        lines.extend(MULTILINGUAL)
    for _ in range(2000):
        a = rng.sample(MULTILINGUAL, 2)
        lines.append(a[0][: rng.randint(5, 40)] + " " + a[1][rng.randint(0, 10):])
    rng.shuffle(lines)
    return lines


# A small custom normalisation table (tab-separated code points), which keeps
# the precompiled charsmap small while exercising multi-character sources,
# one-to-many and deleting rules.
RULE_TSV = "\n".join([
    "FF21\t41", "FF22\t42", "FF23\t43", "FF41\t61", "FF42\t62",
    "FF11\t31", "FF12\t32", "3000\t20", "A0\t20", "9\t20", "A\t20",
    "FB01\t66 69", "FB02\t66 6C", "2160\t49", "216B\t58 49 49",
    "65 301\tE9", "61 300\tE0",  # decomposed to composed (two-code-point sources)
    "200B\t",                    # zero width space is deleted
    "2028\t20", "D\t20",
]) + "\n"

# name -> trainer options
MODELS = {
    "unigram_nfkc_1k": dict(model_type="unigram", vocab_size=1000),
    "unigram_nfkc_4k": dict(model_type="unigram", vocab_size=4000, split_digits=True),
    "unigram_identity_bytefb": dict(model_type="unigram", vocab_size=700,
                                    normalization_rule_name="identity", byte_fallback=True,
                                    character_coverage=0.98),
    "unigram_user_rules": dict(model_type="unigram", vocab_size=800,
                               user_defined_symbols=["<sep>", "[MASK]", "ab", "🙂", "ing"],
                               control_symbols=["<ctl>"], rules=True, character_coverage=0.98),
    "unigram_t5like": dict(model_type="unigram", vocab_size=1200,
                              pad_id=0, eos_id=1,
                              unk_id=2, bos_id=-1),
    "unigram_raw_ws": dict(model_type="unigram", vocab_size=900,
                           normalization_rule_name="identity", add_dummy_prefix=False,
                           remove_extra_whitespaces=False, character_coverage=0.98),
    "unigram_suffix": dict(model_type="unigram", vocab_size=900,
                           treat_whitespace_as_suffix=True, rules=True,
                           character_coverage=0.98),
    "bpe_nfkc_1k": dict(model_type="bpe", vocab_size=1000),
    "bpe_identity_bytefb": dict(model_type="bpe", vocab_size=800,
                                normalization_rule_name="identity", byte_fallback=True,
                                character_coverage=0.98),
    "bpe_user_rules": dict(model_type="bpe", vocab_size=700,
                           user_defined_symbols=["<sep>", "[MASK]", "ab", "🙂"], rules=True,
                           character_coverage=0.98),
    "bpe_gemmalike": dict(model_type="bpe", vocab_size=1500,
                          normalization_rule_name="identity", byte_fallback=True,
                          add_dummy_prefix=False, remove_extra_whitespaces=False,
                          split_digits=True, allow_whitespace_only_pieces=True,
                          pad_id=0, eos_id=1, bos_id=2, unk_id=3,
                          pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>",
                          control_symbols=["<mask>", "[@BOS@]"],
                          user_defined_symbols=["<start_of_turn>", "<end_of_turn>", "\n\n", "  "]),
    "bpe_suffix": dict(model_type="bpe", vocab_size=900,
                       normalization_rule_name="identity", character_coverage=0.98,
                       treat_whitespace_as_suffix=True),
    "bpe_small_raw": dict(model_type="bpe", vocab_size=900,
                          normalization_rule_name="identity", character_coverage=0.98,
                          remove_extra_whitespaces=False),
}


def train(name, opts, corpus):
    opts = dict(opts)
    rules = opts.pop("rules", False)
    buf = io.BytesIO()
    kw = dict(sentence_iterator=iter(corpus), model_writer=buf,
              num_threads=1, minloglevel=2)
    kw.setdefault("character_coverage", 0.9995)
    kw.update(opts)
    if rules:
        path = "/tmp/sentencepiece_ref_rules.tsv"
        with open(path, "w") as f:
            f.write(RULE_TSV)
        kw["normalization_rule_tsv"] = path
    spm.SentencePieceTrainer.train(**kw)
    return buf.getvalue(), {k: v for k, v in opts.items()} | ({"rules": True} if rules else {})


FRAGMENTS = [
    "", " ", "  ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "\u200b", "\u2028", "\u0000",
    "\u007f", "\ufffd", "\ue000", "\U0010fffd", "\u0301", "e\u0301", "a\u0300",
    "😀", "👍🏽", "❤️", "👨‍👩‍👧", "🇯🇵", "🙂", "<sep>", "[MASK]", "<ctl>", "<s>", "</s>",
    "<unk>", "<pad>", "<0x41>", "<eos>", "<bos>", "<mask>", "ab", "abab", "ing", "<start_of_turn>", "<end_of_turn>",
    "ＡＢＣ", "ｆｕｌｌ", "ﬁ", "ﬂ", "Ⅻ", "½", "㎏", "℃", "ǅ", "ß", "İ", "ﬀ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀋𡈽", "ꙮ", "◌", "…", "—", "«»", "''", "\"", "\\", "{}", "$€¥₹",
    "0123456789", "3.14", "2026", "x" * 40, "supercalifragilisticexpialidocious",
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
]


def words(rng, pool):
    line = rng.choice(pool)
    ws = line.split()
    if not ws:
        return line
    i = rng.randrange(len(ws))
    return " ".join(ws[i:i + rng.randint(1, 6)])


def test_strings():
    rng = random.Random(20261201)
    english = dpkg_descriptions(6000)
    pool = MULTILINGUAL + english[:800] + lecture_lines()[:100]
    texts = ["", " ", "   ", "\t\n", "a", "A", "▁", "▁▁ ▁", "hello world", " hello  world ",
             "Hello World!", "ＨＥＬＬＯ ｗｏｒｌｄ", "\u3000leading ideographic space",
             "trailing space ", "  many   inner    spaces  ", "tab\tsep\tvalues", "line\nbreaks\n",
             "<sep>a<sep>b<sep>", "[MASK][MASK]", "🙂🙂🙂", "abababab", "<s>hi</s>", "<unk>",
             "unknown chars: \ue000\U0010fffd\u0000\u007f", "👨‍👩‍👧 family", "e\u0301te\u0301",
             "x" * 300, "ab" * 150, "日本語" * 60, "😀" * 50, " ".join(["word"] * 100),
             "\n\n\n", "  \n  \n", "a" + " " * 50 + "b", "The year 2026 had 365 days."]
    texts += MULTILINGUAL
    texts += english[800:900]
    # random mixtures
    while len(texts) < 450:
        parts = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.45:
                parts.append(words(rng, pool))
            elif r < 0.85:
                parts.append(rng.choice(FRAGMENTS))
            else:
                # random code points from several blocks
                blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff),
                          (0x590, 0x6ff), (0x900, 0x97f), (0x3040, 0x30ff), (0x4e00, 0x9fff),
                          (0xac00, 0xd7a3), (0xff00, 0xffef), (0x1f300, 0x1f64f),
                          (0x2000, 0x206f), (0xfb00, 0xfb4f)]
                lo, hi = rng.choice(blocks)
                parts.append("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 8))))
        sep = rng.choice(["", " ", "  ", "\t", "\n", "\u3000"])
        texts.append(sep.join(parts))
    # strip surrogates (not encodable as UTF-8) if any slipped in
    return [t for t in texts if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]


def read_varint(b, i):
    shift = v = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            out.append(c | 0x80)
        else:
            out.append(c)
            return bytes(out)


def fields(b):
    """Top-level (field number, wire type, raw bytes of the whole field) triples."""
    i = 0
    while i < len(b):
        start = i
        key, i = read_varint(b, i)
        num, wt = key >> 3, key & 7
        payload = None
        if wt == 0:
            _, i = read_varint(b, i)
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        elif wt == 2:
            n, i = read_varint(b, i)
            payload = b[i:i + n]
            i += n
        else:
            raise ValueError("unexpected wire type %d" % wt)
        yield num, wt, b[start:i], payload


def length_field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def split_charsmap(model):
    """Moves a large precompiled_charsmap out of a serialized ModelProto.

    Returns (model without the charsmap, ModelProto fragment holding only
    normalizer_spec.precompiled_charsmap). Protocol buffers merge concatenated
    messages, so model + fragment parses as the original model; the fixtures
    store one fragment for all models instead of one copy per model.
    """
    out = bytearray()
    charsmap = None
    for num, wt, raw, payload in fields(model):
        if num == 3 and wt == 2:
            spec = bytearray()
            for n2, w2, raw2, p2 in fields(payload):
                if n2 == 2 and w2 == 2 and len(p2) > 4096:
                    charsmap = p2
                else:
                    spec += raw2
            out += length_field(3, bytes(spec))
        else:
            out += raw
    if charsmap is None:
        return model, None
    return bytes(out), length_field(3, length_field(2, charsmap))


def float_field(num, v):
    return varint(num << 3 | 5) + struct.pack("<f", v)


def int_field(num, v):
    return varint(num << 3) + varint(v & 0xFFFFFFFFFFFFFFFF)


def synthetic_model(model_type, pieces, byte_fallback=False):
    """A hand-built ModelProto: pieces as (piece, score, type), identity
    normalisation. Trained models rarely have equal scores or unused pieces;
    these exercise the tie order and BPE's resegmentation of unused pieces."""
    out = bytearray()
    for p, score, typ in pieces:
        out += length_field(1, length_field(1, p.encode()) + float_field(2, score) + int_field(3, typ))
    trainer = int_field(3, model_type) + int_field(35, int(byte_fallback))
    out += length_field(2, trainer)
    out += length_field(3, length_field(1, b"identity"))
    return bytes(out)


NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED = 1, 2, 3, 4, 5
SYNTHETIC = {
    # Equal scores everywhere: the fewest pieces win, ties go to the order
    # in which the encoder meets the candidates.
    "synthetic_unigram_ties": (1, [("<unk>", 0, UNKNOWN), ("<s>", 0, CONTROL), ("</s>", 0, CONTROL)]
                               + [(p, -1.0, NORMAL) for p in
                                  ["a", "b", "c", "ab", "bc", "ca", "abc", "cab", "\u2581", "\u2581a",
                                   "\u2581ab", "bca", "aa", "aaa"]]
                               + [("\u2581b", -1.0, UNUSED), ("cc", 0, USER_DEFINED)]),
    # Scores whose float sums round: -0.1 + -0.2 against -0.3 and friends.
    "synthetic_unigram_rounding": (1, [("<unk>", 0, UNKNOWN)]
                                   + [(p, sc, NORMAL) for p, sc in
                                      [("a", -0.1), ("b", -0.2), ("ab", -0.3), ("c", -0.7),
                                       ("bc", -0.9), ("abc", -1.2), ("\u2581", -0.4), ("\u2581a", -0.5),
                                       ("ca", -0.8), ("cab", -1.1)]]),
    # BPE with equal merge scores (leftmost first) and unused pieces that
    # are merged through but split back.
    "synthetic_bpe_unused": (2, [("<unk>", 0, UNKNOWN), ("<s>", 0, CONTROL)]
                             + [(p, sc, t) for p, sc, t in
                                [("ab", -1.0, UNUSED), ("abc", -2.0, NORMAL), ("bc", -1.0, NORMAL),
                                 ("ca", -1.0, NORMAL), ("\u2581a", -3.0, NORMAL), ("aa", -1.0, NORMAL),
                                 ("aaa", -0.5, UNUSED), ("aaaa", -4.0, NORMAL), ("cc", 0, USER_DEFINED),
                                 ("a", -5.0, NORMAL), ("b", -5.0, NORMAL), ("c", -5.0, NORMAL),
                                 ("\u2581", -5.0, NORMAL)]]),
}


# Trained models with normaliser fields the trainers refuse to train with
# (escape_whitespaces=false): the field is merged in by appending a
# serialized ModelProto{normalizer_spec{...}}, which sentencepiece and the Go
# reader both read as the merge.
DERIVED = {
    "unigram_nfkc_noescape": ("unigram_nfkc_1k", length_field(3, int_field(5, 0))),
    "bpe_noescape_raw": ("bpe_identity_bytefb", length_field(3, int_field(5, 0) + int_field(3, 0) + int_field(4, 0))),
}


def synthetic_texts():
    rng = random.Random(7)
    texts = ["", "a", "ab", "abc", "abcabc", "aaaa", "aaaaaaa", "cab", "ccab", "a b c", "abx", "xyz",
             "bca bca", "\u2581ab", "a\u2581b"]
    while len(texts) < 300:
        texts.append("".join(rng.choice("aabbc  xé") for _ in range(rng.randint(1, 24))))
    return texts


def read_model(name):
    with gzip.open(os.path.join(TESTDATA, "models", name + ".model.gz"), "rb") as f:
        return f.read()


def main():
    os.makedirs(os.path.join(TESTDATA, "models"), exist_ok=True)
    corpus = training_corpus()
    texts = test_strings()
    golden = {"version": spm.__version__, "texts": texts, "models": {}}
    total_ids = 0
    shared_fragment = None
    for name, opts in MODELS.items():
        data, used = train(name, opts, corpus)
        stored, fragment = split_charsmap(data)
        if fragment is not None:
            if shared_fragment is None:
                shared_fragment = fragment
                with gzip.GzipFile(os.path.join(TESTDATA, "models", "charsmap.pb.gz"),
                                   "wb", mtime=0) as f:
                    f.write(fragment)
            assert fragment == shared_fragment, name + ": a second large charsmap"
            used["charsmap_fragment"] = True
        with gzip.GzipFile(os.path.join(TESTDATA, "models", name + ".model.gz"), "wb", mtime=0) as f:
            f.write(stored)
        sp = spm.SentencePieceProcessor(model_proto=stored + (fragment or b""))
        ids = [sp.encode(t) for t in texts]
        # The reassembled model is the trained one.
        orig = spm.SentencePieceProcessor(model_proto=data)
        assert ids == [orig.encode(t) for t in texts], name
        total_ids += sum(len(x) for x in ids)
        golden["models"][name] = {
            "options": used, "size": sp.get_piece_size(), "bos": sp.bos_id(),
            "eos": sp.eos_id(), "pad": sp.pad_id(), "unk": sp.unk_id(), "ids": ids}
        print("%-26s %6d bytes  vocab %5d" % (name, len(data), sp.get_piece_size()))
    for name, (base, fragment) in DERIVED.items():
        stored = read_model(base)
        data = stored + (shared_fragment if golden["models"][base]["options"].get("charsmap_fragment") else b"") + fragment
        sp = spm.SentencePieceProcessor(model_proto=data)
        ids = [sp.encode(t) for t in texts]
        total_ids += sum(len(x) for x in ids)
        golden["models"][name] = {
            "options": {"derived_from": base, "append_hex": fragment.hex()}, "size": sp.get_piece_size(),
            "bos": sp.bos_id(), "eos": sp.eos_id(), "pad": sp.pad_id(), "unk": sp.unk_id(), "ids": ids}
        print("%-26s derived from %s + %s" % (name, base, fragment.hex()))
    stexts = synthetic_texts()
    for name, (model_type, pieces) in SYNTHETIC.items():
        data = synthetic_model(model_type, pieces)
        with gzip.GzipFile(os.path.join(TESTDATA, "models", name + ".model.gz"), "wb", mtime=0) as f:
            f.write(data)
        sp = spm.SentencePieceProcessor(model_proto=data)
        ids = [sp.encode(t) for t in stexts]
        total_ids += sum(len(x) for x in ids)
        golden["models"][name] = {
            "options": {"synthetic": True}, "size": sp.get_piece_size(), "bos": sp.bos_id(),
            "eos": sp.eos_id(), "pad": sp.pad_id(), "unk": sp.unk_id(), "texts": stexts, "ids": ids}
        print("%-26s %6d bytes  vocab %5d (hand-built)" % (name, len(data), sp.get_piece_size()))
    with gzip.GzipFile(os.path.join(TESTDATA, "golden.json.gz"), "wb", mtime=0) as f:
        f.write(json.dumps(golden, ensure_ascii=False, separators=(",", ":")).encode())
    print("%d texts, %d trained models, %d synthetic models with %d texts, %d ids" % (
        len(texts), len(MODELS), len(SYNTHETIC), len(stexts), total_ids))


if __name__ == "__main__":
    sys.exit(main())
