"""JSON, safely: bounded reads, no duplicate keys, no NaN in fit files, named failures.

:func:`parse_json` reads JSON with a nesting limit, refusing duplicate keys and, for fit
files, ``NaN``/``Infinity`` literals; :func:`read_bounded` reads a file only up to a size;
:func:`json_text` writes JSON and names the value it cannot hold. (Split from
:mod:`scalinglaws._files`, which re-exports them.)
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from ._exceptions import InputError

__all__ = ["parse_json", "read_bounded", "json_text", "MAX_JSON_DEPTH"]

#: deepest nesting of arrays/objects accepted in a JSON file (a fit file needs 6)
MAX_JSON_DEPTH = 64


def _no_duplicates(pairs: list) -> dict:
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _walk(value: Any, finite: bool, max_depth: int) -> tuple[int, str | None]:
    """Nesting depth of arrays/objects (counted up to just past ``max_depth``) and, with
    ``finite``, the path of the first non-finite number; iterative, so a deep document
    cannot recurse."""
    deepest, stack = 0, [(value, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > max_depth:
                return deepest, None
            items = node.items() if isinstance(node, dict) else enumerate(node)
            children = [(child, depth + 1, _path(path, key) if finite else "")
                        for key, child in items]
            stack.extend(reversed(children))  # depth first, in document order
        elif finite and isinstance(node, float) and not math.isfinite(node):
            return deepest, path
    return deepest, None


def _path(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def read_bounded(path, *, what: str, max_bytes: int) -> tuple[str, bytes]:
    """``(source, content)`` of the file at ``path``, read whole; a folder, a file over
    ``max_bytes`` or an unreadable one is an :class:`InputError` naming the file and
    ``what`` it should be (e.g. ``"fit file"``)."""
    source = os.fspath(path)
    if os.path.isdir(source):
        raise InputError(f"{source}: is a folder, not a {what}")
    try:
        size = os.path.getsize(source)
        if size > max_bytes:
            raise InputError(f"{source}: {size / 2**30:.3g} GiB is far too large for a {what}")
        with open(source, "rb") as handle:
            return source, handle.read()
    except OSError as exc:
        raise InputError(f"{source}: cannot read {what} ({exc.strerror})") from None


def parse_json(text: str | bytes, source: str, *, finite: bool = True,
               max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON text; any problem is an :class:`InputError` naming ``source``.

    Refuses objects with a repeated key, nesting deeper than ``max_depth`` (instead of a
    ``RecursionError``) and, with ``finite``, the non-standard literals ``NaN``,
    ``Infinity``, ``-Infinity`` and numbers that overflow a float (``1e400``), naming
    the field that holds one (``params.E``).
    """
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise InputError(f"{source}: JSON nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (ValueError, TypeError) as exc:
        raise InputError(f"{source}: not valid JSON ({exc})") from None
    depth, bad = _walk(value, finite, max_depth)
    if depth > max_depth:
        raise InputError(f"{source}: JSON nested more than {max_depth} levels deep")
    if bad is not None:
        raise InputError(f"{source}: field {bad or '(the document)'} is not a finite number "
                         "(NaN, Infinity and numbers beyond a 64-bit float are not JSON; write "
                         "null for a missing value)")
    return value


def _unencodable(value: Any, path: str = "") -> str:
    """Where the first value JSON cannot encode sits, e.g. ``options.callback (function)``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path or 'the document'} (key {key!r} is not text)"
            found = _unencodable(item, f"{path}.{key}" if path else key)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _unencodable(item, f"{path}[{index}]")
            if found:
                return found
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        return f"{path} ({type(value).__name__})"
    return ""


def json_text(doc: Any, *, what: str = "the document", **kwargs) -> str:
    """``doc`` as JSON text (indent 2 unless given); a value JSON cannot hold raises
    :class:`InputError` naming where it sits."""
    kwargs.setdefault("indent", 2)
    try:
        return json.dumps(doc, allow_nan=False, **kwargs)
    except (TypeError, ValueError) as exc:
        where = _unencodable(doc) or str(exc)
        raise InputError(f"cannot write {what} as JSON: {where} is not a JSON value") from None
