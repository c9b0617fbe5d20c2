"""Writing files safely: atomically, never over an input, never over another kind of file.

Every file the package writes goes through :func:`atomic_write`: the content goes to a
temporary file in the destination folder, is flushed to disk and renamed into place, so
a reader sees the old file or the new one, never a truncated one, and a write that
fails part-way leaves the old file untouched. :func:`check_output_path` is called
*before* any work by every command that writes a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ._exceptions import InputError

__all__ = ["atomic_write", "check_output_path", "file_kind"]

#: suffix -> kind of file; an existing file is only replaced by one of the same kind
_KINDS = {".json": "json", ".csv": "table", ".tsv": "table", ".jsonl": "table",
          ".parquet": "table", ".html": "html", ".htm": "html", ".png": "image",
          ".pdf": "image", ".svg": "image"}


def atomic_write(path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    path : str or os.PathLike
        Destination. Its folder must exist.
    data : str or bytes
        Content; text is encoded with ``encoding``.

    Returns
    -------
    pathlib.Path
        The destination.
    """
    path = Path(os.fspath(path))
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{os.fspath(path)}: folder {os.fspath(folder)!r} does not exist")
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():  # keep the permissions of the file being replaced
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def file_kind(path) -> str | None:
    """The kind of an existing file (``json``, ``table``, ``html``, ``image``) or None.

    A ``.json`` file that is a fit file says so (``fit``); other JSON is ``json``.
    """
    path = Path(os.fspath(path))
    kind = _KINDS.get(path.suffix.lower())
    if kind == "json" and path.is_file():
        try:
            with open(path, encoding="utf-8") as handle:
                head = handle.read(4096)
            if '"scalinglaws.fit"' in head or json.loads(head).get("kind") == "scalinglaws.fit":
                return "fit"
        except (OSError, ValueError, AttributeError):
            pass
    return kind


def check_output_path(out, *, inputs: Iterable = (), kind: str | None = None,
                      force: bool = False, argument: str = "--out") -> Path:
    """Refuse, before any work, an output path that would destroy something.

    Parameters
    ----------
    out : str or os.PathLike
        Where the command will write.
    inputs : iterable of paths
        Files the command reads; writing over any of them is always refused.
    kind : str, optional
        Kind of file about to be written (``fit``, ``json``, ``table``, ``html``,
        ``image``). An existing file of another kind is refused unless ``force``.
    force : bool
        Allow replacing an existing file of another kind.
    argument : str
        Name of the option, for messages.

    Returns
    -------
    pathlib.Path
        ``out`` as a path.
    """
    path = Path(os.fspath(out))
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{argument} {os.fspath(path)!r} is a folder, not a file")
    if not folder.is_dir():
        raise InputError(f"{argument} {os.fspath(path)!r}: folder {os.fspath(folder)!r} does not "
                         "exist")
    for source in inputs:
        if source is None:
            continue
        source = Path(os.fspath(source))
        same = (path.exists() and source.exists() and os.path.samefile(path, source)) or \
            path.resolve() == source.resolve()
        if same:
            raise InputError(f"{argument} {os.fspath(path)!r} is also an input of this command "
                             f"({os.fspath(source)!r}); refusing to overwrite it")
    if path.exists() and kind is not None and not force:
        existing = file_kind(path)
        if existing is not None and existing != kind:
            raise InputError(f"{argument} {os.fspath(path)!r} exists and holds a {existing} file, "
                             f"not a {kind} file; choose another name or pass --force")
    return path
