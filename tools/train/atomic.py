"""Atomic file writes for the training tools.

The content goes to a temporary file in the destination's directory, is synced, and replaces
the destination (os.replace) only when complete: a reader never sees a partial file, and an
interrupted run never destroys what was there before (e.g. the committed models/emoji-clip.pt).
"""

import json
import os
import tempfile


def replace(path, write, mode="wb"):
    """Creates or replaces path with what write(f) writes to the open file f (mode 0644)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix="." + os.path.basename(path) + ".tmp-")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text(path, text):
    replace(path, lambda f: f.write(text), mode="w")


def write_json(path, obj, **kw):
    """obj as JSON (json.dumps keyword arguments kw), with a final newline."""
    write_text(path, json.dumps(obj, **kw) + "\n")


def emit_json(obj, out=""):
    """Prints obj as indented JSON and, if out is given, also writes it there."""
    text = json.dumps(obj, indent=1)
    print(text)
    if out:
        write_text(out, text + "\n")
