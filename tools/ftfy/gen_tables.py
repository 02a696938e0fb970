#!/usr/bin/env python3
"""Generate tokenizer/ftfy/tables.go from python-ftfy's own data.

Every table the Go package needs comes from the ftfy module itself (its
chardata.py, badness.py and bad_codecs) or from the Python standard library
codecs and html module that ftfy calls, so nothing is typed by hand:

  - the single-byte codecs of chardata.CHARMAP_ENCODINGS, in order, as
    256-entry decoding tables (the "sloppy-" ones through ftfy's
    bad_codecs), and strict windows-1252 for bytes 0x80-0x9F;
  - chardata.HTML_ENTITIES and html's invalid character reference tables;
  - chardata.LIGATURES, WIDTH_MAP and CONTROL_CHARS;
  - the character classes of chardata.UTF8_CLUES;
  - badness.BADNESS_RE translated from Python's parse tree into RE2 syntax
    (Go's regexp): \\s becomes Python's explicit whitespace set, \\w becomes
    [\\p{L}\\p{N}_] (checked here to equal Python's \\w), literals become
    \\x{...} escapes. The pattern has no lookaround, so RE2 runs it as it is;
    the result is checked against Python's re on generated strings.

Usage, from the repository root, with ftfy importable (see
../shared/reference/README.md for the archive):
    PYTHONPATH=$W/ftfy:$W/wcwidth /usr/bin/python3 tools/ftfy/gen_tables.py
"""

import html
import os
import re
import shutil
import subprocess
import sys
import unicodedata

try:
    from re import _parser as sre_parse  # Python 3.11+
    from re import _constants as sre_c
except ImportError:  # pragma: no cover
    import sre_parse
    import sre_constants as sre_c

import ftfy
import ftfy.bad_codecs  # noqa: F401  (registers the sloppy codecs)
from ftfy import badness, chardata

OUT = os.path.join("tokenizer", "ftfy", "tables.go")


def go_rune(cp):
    return "-1" if cp < 0 else "0x%04X" % cp


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


# ---------------------------------------------------------------- codecs

def charmap_tables():
    """Decoding tables of CHARMAP_ENCODINGS, checked to be what ftfy's
    possible_encoding regexes accept and what str.encode inverts."""
    tables = []
    for enc in chardata.CHARMAP_ENCODINGS:
        dec = [bytes([b]).decode(enc) for b in range(256)]
        assert all(len(c) == 1 for c in dec), enc
        # Every accepted character encodes back to the byte it came from.
        allowed = [chr(c) for c in range(0x80) if c != 0x1A]
        allowed += dec[0x80:] + [dec[0x1A]]
        pattern = chardata.ENCODING_REGEXES[enc]
        for ch in allowed:
            assert pattern.match(ch), (enc, ch)
            b = ch.encode(enc)
            assert len(b) == 1 and dec[b[0]] == ch, (enc, ch)
        for cp in range(0x110000):
            ch = chr(cp)
            if 0xD800 <= cp <= 0xDFFF:
                continue
            assert bool(pattern.match(ch)) == (ch in allowed), (enc, hex(cp))
        tables.append((enc, [ord(c) for c in dec]))
    return tables


def cp1252_strict():
    out = []
    for b in range(0x80, 0xA0):
        try:
            out.append(ord(bytes([b]).decode("windows-1252")))
        except UnicodeDecodeError:
            out.append(-1)
    return out


# ---------------------------------------------------------- char classes

def class_members(cls):
    """All code points that the character class text `cls` (as put inside
    [...] in ftfy's regexes) matches."""
    pat = re.compile("[" + cls + "]")
    return [cp for cp in range(0x110000)
            if not 0xD800 <= cp <= 0xDFFF and pat.match(chr(cp))]


PY_SPACE = [cp for cp in range(0x110000) if re.match(r"\s", chr(cp))]


def check_word_class():
    w = re.compile(r"\w")
    for cp in range(0x110000):
        c = chr(cp)
        want = unicodedata.category(c)[0] in "LN" or c == "_"
        assert bool(w.match(c)) == want, hex(cp)


# ------------------------------------------------------ regex translation

def esc(cp):
    return "\\x{%x}" % cp


def class_items_to_go(items):
    """Translate the items of a parsed IN node to the inside of a Go
    character class. Returns (text, negated, explicit code points)."""
    parts, negate, explicit = [], False, set()
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            parts.append(esc(av))
            explicit.add(av)
        elif op is sre_c.RANGE:
            lo, hi = av
            parts.append(esc(lo) + "-" + esc(hi))
            explicit.update(range(lo, hi + 1))
        elif op is sre_c.CATEGORY:
            if av is sre_c.CATEGORY_SPACE:
                parts.extend(esc(cp) for cp in PY_SPACE)
            elif av is sre_c.CATEGORY_WORD:
                parts.append("\\p{L}\\p{N}_")
            else:
                raise ValueError("category %r" % av)
        else:
            raise ValueError("class item %r" % op)
    return "".join(parts), negate, explicit


def node_to_go(sub, required):
    """Translate a parsed (sub)pattern to Go syntax. For each top-level
    alternative, `required` collects the explicit sets of non-negated
    positions made only of non-ASCII characters (one of which any match of
    that alternative contains)."""
    out = []
    for op, av in sub:
        if op is sre_c.LITERAL:
            out.append(esc(av))
            if av >= 0x80:
                required.append({av})
        elif op is sre_c.IN:
            text, negate, explicit = class_items_to_go(av)
            out.append("[" + ("^" if negate else "") + text + "]")
            has_cat = any(o is sre_c.CATEGORY for o, _ in av)
            if not negate and not has_cat and explicit and min(explicit) >= 0x80:
                required.append(explicit)
        elif op is sre_c.ANY:
            out.append(".")
        elif op is sre_c.AT:
            if av is sre_c.AT_BEGINNING:
                out.append("^")
            else:
                raise ValueError("anchor %r" % av)
        elif op is sre_c.MAX_REPEAT:
            lo, hi, item = av
            inner = node_to_go(item, [])
            hi_s = "" if hi is sre_c.MAXREPEAT else str(hi)
            if (lo, hi) == (0, 1):
                out.append("(?:%s)?" % inner)
            else:
                out.append("(?:%s){%d,%s}" % (inner, lo, hi_s))
        elif op is sre_c.SUBPATTERN:
            out.append("(?:%s)" % node_to_go(av[-1], required))
        elif op is sre_c.BRANCH:
            out.append("(?:%s)" % "|".join(node_to_go(b, []) for b in av[1]))
        else:
            raise ValueError("op %r" % op)
    return "".join(out)


def badness_to_go():
    parsed = sre_parse.parse(badness.BADNESS_RE.pattern, badness.BADNESS_RE.flags)
    items = list(parsed)
    assert len(items) == 1 and items[0][0] is sre_c.BRANCH
    alts, prefilter, width = [], set(), 0
    for branch in items[0][1][1]:
        required = []
        alts.append(node_to_go(branch, required))
        assert required, "alternative without a non-ASCII position"
        for s in required:
            prefilter |= s
        width = max(width, branch.getwidth()[1])
        anchors = [i for i, (op, _) in enumerate(branch) if op is sre_c.AT]
        assert anchors in ([], [0]), "anchor inside an alternative"
    return alts, sorted(prefilter), width


# ------------------------------------------------------------------ emit

def rune_list(cps, per_line=10):
    lines = []
    for i in range(0, len(cps), per_line):
        lines.append("\t" + " ".join(go_rune(c) + "," for c in cps[i:i + per_line]))
    return lines


def main():
    check_word_class()
    lines = [
        "// Code generated by tools/ftfy/gen_tables.py from python-ftfy %s"
        % ftfy.__version__,
        "// on Python %s (Unicode %s); DO NOT EDIT."
        % (sys.version.split()[0], unicodedata.unidata_version),
        "",
        "package ftfy",
        "",
        "// charmapNames are ftfy's CHARMAP_ENCODINGS, in the order fix_encoding",
        "// tries them.",
        "var charmapNames = [...]string{",
    ]
    tables = charmap_tables()
    for name, _ in tables:
        lines.append("\t%s," % go_quote(name))
    lines += ["}", "",
              "// charmapDecode holds the 256-byte decoding table of each of",
              "// charmapNames (ftfy's sloppy codecs pass unassigned bytes through",
              "// as Latin-1 and decode byte 0x1A as U+FFFD).",
              "var charmapDecode = [len(charmapNames)][256]rune{"]
    for name, dec in tables:
        lines.append("\t{ // " + name)
        lines += ["\t" + l for l in rune_list(dec, 8)]
        lines.append("\t},")
    lines += ["}", "",
              "// cp1252Strict decodes bytes 0x80-0x9F as Python's strict",
              "// windows-1252 codec; -1 marks the five undefined bytes.",
              "var cp1252Strict = [32]rune{"]
    lines += rune_list(cp1252_strict(), 8)
    lines += ["}", ""]

    lines += ["// htmlEntities is ftfy's HTML_ENTITIES: every HTML5 named reference",
              "// that ends in a semicolon, and the upper-case forms of the",
              "// lower-case names that html.unescape does not already know.",
              "var htmlEntities = map[string]string{"]
    for k in sorted(chardata.HTML_ENTITIES):
        lines.append("\t%s: %s," % (go_quote(k), go_quote(chardata.HTML_ENTITIES[k])))
    lines += ["}", "",
              "// htmlInvalidCharrefs are the numeric references html.unescape",
              "// replaces (NUL, CR and the Windows-1252 range 0x80-0x9F).",
              "var htmlInvalidCharrefs = map[int]string{"]
    for num in sorted(html._invalid_charrefs):
        lines.append("\t0x%X: %s," % (num, go_quote(html._invalid_charrefs[num])))
    lines += ["}", "",
              "// htmlInvalidCodepoints are the numeric references html.unescape",
              "// drops.",
              "var htmlInvalidCodepoints = map[int]bool{"]
    for num in sorted(html._invalid_codepoints):
        lines.append("\t0x%X: true," % num)
    lines += ["}", ""]

    lines += ["// ligatures is ftfy's LIGATURES (fix_latin_ligatures).",
              "var ligatures = map[rune]string{"]
    for k in sorted(chardata.LIGATURES):
        lines.append("\t%s: %s," % (go_rune(k), go_quote(chardata.LIGATURES[k])))
    lines += ["}", "",
              "// widthMap is ftfy's WIDTH_MAP (fix_character_width).",
              "var widthMap = map[rune]string{"]
    for k in sorted(chardata.WIDTH_MAP):
        lines.append("\t%s: %s," % (go_rune(k), go_quote(chardata.WIDTH_MAP[k])))
    lines += ["}", "",
              "// controlChars are the code points of ftfy's CONTROL_CHARS",
              "// (remove_control_chars deletes them).",
              "var controlChars = []rune{"]
    lines += rune_list(sorted(chardata.CONTROL_CHARS))
    lines += ["}", ""]

    for key, goname in [("utf8_first_of_2", "clueFirstOf2"),
                        ("utf8_first_of_3", "clueFirstOf3"),
                        ("utf8_first_of_4", "clueFirstOf4"),
                        ("utf8_continuation", "clueContinuation"),
                        ("utf8_continuation_strict", "clueContinuationStrict")]:
        members = class_members(chardata.UTF8_CLUES[key])
        lines += ["// %s is the character class UTF8_CLUES[%s]." % (goname, go_quote(key)),
                  "var %s = []rune{" % goname]
        lines += rune_list(members)
        lines += ["}", ""]

    alts, prefilter, width = badness_to_go()
    lines += ["// badnessAlternatives are the alternatives of badness.BADNESS_RE in",
              "// RE2 syntax; only those starting with \"^\" are anchored.",
              "var badnessAlternatives = []string{"]
    lines += ["\t%s," % go_quote(a) for a in alts]
    lines += ["}", "",
              "// badnessMaxWidth is the most code points one match of",
              "// BADNESS_RE spans.",
              "const badnessMaxWidth = %d" % width, "",
              "// badnessRunes holds at least one character of every match of",
              "// badnessPattern: text without any of them is not bad.",
              "var badnessRunes = []rune{"]
    lines += rune_list(prefilter)
    lines += ["}", ""]

    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    gofmt = shutil.which("gofmt") or "/usr/local/go/bin/gofmt"
    subprocess.run([gofmt, "-w", OUT], check=True)
    print("wrote %s: %d entities, %d badness alternatives (width <= %d), prefilter %d runes" % (
        OUT, len(chardata.HTML_ENTITIES), len(alts), width, len(prefilter)))


if __name__ == "__main__":
    main()
