"""Files, safely: atomic writes, never over an input or another kind of file.

Every file the package writes goes through :func:`atomic_write` (content in memory) or
:func:`atomic_output` (a writer that wants a path, such as ``savefig``): the content goes
to a temporary file in the destination folder, is flushed to disk (``fsync``) and renamed
into place. A reader therefore sees the old file or the new one, never a truncated one;
a write that fails part-way leaves the old file untouched; two writers racing leave one
complete file. :func:`check_output_path` is called *before* any work by every command
that writes a file. :func:`parse_json` reads JSON with a nesting limit, refusing
duplicate keys and, for fit files, ``NaN``/``Infinity`` literals.

Temporaries are named ``.NAME.scalinglaws-XXXXXXXX.tmpSUFFIX`` beside ``NAME``; one a killed
process left is removed by a write to ``NAME`` a day later. A stream (a FIFO or pipe such as
``>(gzip > x.gz)``, this process's terminal or standard streams, ``/dev/null``) gets the
complete content written into it, never read, renamed over or replaced; any other special
file (a block device, a socket, another device) is refused. A name of this process's
standard output or error (``/dev/stdout``, ``/dev/fd/1``, ``/proc/self/fd/2``) is that
stream even when the shell redirected it to a file (``> log`` or ``>> log``): the content
goes through the stream's own descriptor, after what the command printed, instead of
replacing the file and, with it, what was printed or was there before.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ._exceptions import InputError
from ._json_text import MAX_JSON_DEPTH, json_text, parse_json, read_bounded  # noqa: F401

#: (the JSON readers and writer live in :mod:`._json_text`; imported from here as before)

__all__ = ["atomic_write", "atomic_output", "check_output_path", "document_kind", "file_kind",
           "parse_json", "read_bounded", "json_text", "MAX_JSON_DEPTH", "writes_into_stream",
           "same_file"]

#: suffix -> kind of file; an existing file is only replaced by one of the same kind
_KINDS = {".json": "json", ".csv": "table", ".tsv": "table", ".tab": "table",
          ".jsonl": "table", ".ndjson": "table", ".parquet": "table", ".pq": "table",
          ".html": "html", ".htm": "html", ".png": "image", ".pdf": "image", ".svg": "image",
          ".jpg": "image", ".jpeg": "image"}
#: the usual suffix of each kind, for messages (a figure's: any of matplotlib's formats,
#: which its writers check its name against, outputs.plot._formats.check_image_format)
_SUFFIX_OF = {"fit": ".json", "json": ".json", "table": ".csv", "html": ".html"}
_STALE_AFTER = 86400  #: seconds: a temporary file of ours this old was left by a killed writer


def _named(out, argument: str) -> Path:
    """``out`` as a path; the empty name, ``-`` (which names no file) and a path ending
    with a separator (``results/``: a folder, which pathlib would read as a file
    ``results``) are refused."""
    shown = os.fspath(out)
    if shown in ("", b""):
        raise InputError(f"{argument}: the path is empty; name the file to write")
    if isinstance(shown, str) and shown.endswith(tuple(filter(None, (os.sep, os.altsep)))):
        raise InputError(f"{argument} {shown!r} ends with {shown[-1]!r}, so it names a folder, "
                         f"not a file; name the file to write in it ({shown}NAME)")
    if shown in ("-", b"-"):
        how = ("--out /dev/stdout (or --json, where the command has it, to print the JSON "
               "document instead of the table)") if argument.startswith("-") else "'/dev/stdout'"
        raise InputError(f"{argument} '-': '-' is not read as standard output; to write "
                         f"there pass {how}, or './-' for a file named '-'")
    return Path(shown)


def _target(path) -> Path:
    """The file a write to ``path`` should replace: a symlink is followed to its target."""
    path = Path(os.fspath(path))
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _standard_descriptor(path: Path) -> int | None:
    """1 or 2 when ``path`` is a link naming this process's standard output or error
    (``/dev/stdout``, ``/dev/fd/1``...) and that stream is a regular file (redirected with
    ``>`` or ``>>``); else None. A plain file name is never a stream, even that file's."""
    with contextlib.suppress(OSError):
        if not path.is_symlink():
            return None
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode):
            for fd in (1, 2):
                with contextlib.suppress(OSError):
                    other = os.fstat(fd)
                    if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
                        return fd
    return None


def writes_into_stream(path) -> bool:
    """Whether a write to ``path`` goes into a stream (a pipe, a terminal, ``/dev/null``,
    standard output even when redirected to a file) rather than replacing a file; a
    special file that is no stream raises :class:`InputError`."""
    return _is_stream(Path(os.fspath(path)), os.fspath(path))


def _is_stream(path: Path, where: str, hint: str = "") -> bool:
    """Whether ``path`` (links followed) is a stream to write into: a FIFO or pipe, the null
    device, the controlling terminal or a standard stream (also one redirected to a file,
    :func:`_standard_descriptor`); another special file is refused. Never opens ``path``
    (opening a FIFO waits for the other end)."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return _standard_descriptor(path) is not None
    if stat.S_ISDIR(mode) or stat.S_ISFIFO(mode):
        return stat.S_ISFIFO(mode)
    if stat.S_ISCHR(mode):
        for known in (os.devnull, "/dev/tty", 0, 1, 2):
            with contextlib.suppress(OSError):
                other = os.fstat(known) if isinstance(known, int) else os.stat(known)
                if stat.S_ISCHR(other.st_mode) and other.st_rdev == info.st_rdev:
                    return True
    what = next((name for test, name in ((stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")) if test(mode)),
                "a special file")
    raise InputError(f"{where} is {what}, not a file: scalinglaws writes only into files, "
                     f"pipes (FIFOs), its terminal and {os.devnull}; name a file{hint}")


def _short(name: str) -> str:
    """``name`` as it appears in its temporary file's name (which stays within 255 bytes)."""
    return os.fsdecode(os.fsencode(name)[:180])


def _remove_stale(folder: Path, target: Path) -> None:
    """Remove this user's temporaries for ``target`` (or nested) left a day ago or more."""
    one = r"\.scalinglaws-[a-z0-9_]{8}\.tmp" + re.escape(target.suffix)
    pattern = re.compile(r"\.\.?" + re.escape(_short(target.name)) + f"(?:{one}){{1,2}}")
    cutoff, uid = time.time() - _STALE_AFTER, getattr(os, "geteuid", lambda: None)()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False) if pattern.fullmatch(entry.name) else None
                if (info is not None and stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff
                        and uid in (None, info.st_uid)):
                    os.unlink(entry.path)


def _mkstemp(target: Path, folder, shown: str) -> str:
    """A new empty temporary file for ``target`` in ``folder``; errors name ``shown``."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{_short(target.name)}.scalinglaws-",
                                   suffix=f".tmp{target.suffix}", dir=folder)
    except OSError as exc:  # the user's path, not the temporary one
        where = f"folder {os.fspath(folder)!r}" if folder else "the temporary folder"
        raise InputError(f"{shown}: cannot write here: {where} takes no new file "
                         f"({exc.strerror or exc})") from None
    os.close(fd)
    return tmp


@contextlib.contextmanager
def atomic_output(path) -> Iterator[Path]:
    """Context manager yielding a temporary path to write; renamed onto ``path`` on success.

    For writers that want a path rather than bytes (``fig.savefig(tmp)``,
    ``frame.to_parquet(tmp)``). The temporary file sits in the destination folder (so the
    rename is atomic), is named ``.NAME.scalinglaws-XXXXXXXX.tmpSUFFIX`` and keeps the
    destination's suffix (writers that infer the format from it still work). On an
    exception, including ``KeyboardInterrupt``, it is removed and the destination is
    untouched. A symlink is followed: its target is replaced, the link kept. A stream (a
    FIFO, ``/dev/stdout``, ``/dev/null``) is written into, with no rename (module notes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_output(out) as tmp:
    ...     _ = tmp.write_text("done")
    >>> out.read_text()
    'done'
    """
    shown = os.fspath(path)
    path = _named(path, "the output path")
    if _is_stream(path, shown):
        yield from _stream_output(path, shown)
        return
    target = _target(path)
    folder = _folder(target)
    if target.is_dir() or not folder.is_dir():
        raise InputError(f"{shown}: is a folder, not a file" if target.is_dir() else
                         f"{shown}: folder {os.fspath(folder)!r} does not exist")
    _remove_stale(folder, target)
    tmp = _mkstemp(target, folder, shown)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:  # the writer may not have flushed to disk
            os.fsync(handle.fileno())
        _set_mode(tmp, target)
        os.replace(tmp, target)
        _sync_folder(folder)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, InputError):
            raise InputError(f"{shown}: cannot write it ({exc.strerror or exc})") from None
        raise


def _stream_output(path: Path, shown: str) -> Iterator[Path]:
    """:func:`atomic_output` into a stream: a temporary file (system folder), then copied into
    the stream opened write-only, creating and truncating nothing (a FIFO waits for a reader)."""
    tmp = _mkstemp(path, None, shown)
    try:
        yield Path(tmp)
        with contextlib.suppress(AttributeError, OSError, ValueError):  # printed text first
            sys.stdout.flush(), sys.stderr.flush()
        standard = _standard_descriptor(path)
        if standard is not None:
            # a standard stream redirected to a file: through its own descriptor (its
            # offset, its append mode), not the file opened afresh at offset 0
            with open(os.dup(standard), "wb") as sink, open(tmp, "rb") as source:
                shutil.copyfileobj(source, sink)
            return
        fd = os.open(path, os.O_WRONLY)
        with open(fd, "wb") as sink, open(tmp, "rb") as source:
            if stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for a file since the check
                raise InputError(f"{shown}: became a file while writing; not written")
            shutil.copyfileobj(source, sink)
    except OSError as exc:  # (an InputError is no OSError)
        raise InputError(f"{shown}: cannot write it ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def atomic_write(path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename).

    Parameters
    ----------
    path : str or os.PathLike
        Destination. Its folder must exist. A symlink is followed: its target is
        replaced, the link kept. An existing file's permissions are kept. A stream (a
        FIFO, ``/dev/stdout``, ``/dev/null``) is written into, never replaced.
    data : str or bytes
        Content; text is encoded with ``encoding``.

    Returns
    -------
    pathlib.Path
        The destination.

    Raises
    ------
    InputError
        When the path is empty or ``-``, a folder, a special file other than a stream, in
        no folder, or cannot be written (naming the path and why); the old file is kept.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "fit.json"
    >>> _ = atomic_write(out, '{"ok": true}')
    >>> out.read_text()
    '{"ok": true}'
    """
    if not isinstance(data, (str, bytes, bytearray, memoryview)):
        raise InputError(f"atomic_write: data must be text or bytes, got {type(data).__name__}")
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        handle.write(payload)
    return Path(os.fspath(path))


def _set_mode(tmp: str, target: Path) -> None:
    """Give the new file the old file's permissions, or the usual ones (0666 & ~umask)."""
    try:
        mode = target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ----------------------------------------------------------------------------- kinds


def _sniff(head: bytes) -> str | None:
    """Kind of a file from its first bytes (None when it says nothing)."""
    start = head.lstrip()[:512].lower()
    if head.startswith(b"\x89PNG") or head.startswith(b"%PDF") or head.startswith(b"\xff\xd8"):
        return "image"
    if start.startswith(b"<svg") or (start.startswith(b"<?xml") and b"<svg" in start):
        return "image"
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    if head.startswith(b"PAR1"):
        return "table"
    return None


#: largest JSON file read whole to learn its top-level ``kind``
_KIND_READ_LIMIT = 256 * 2**20


def _document_kind(path: Path) -> str | None:
    """The top-level ``kind`` of a JSON object the package wrote (``scalinglaws.fit``,
    ``scalinglaws.comparison``...), else None. Read whole: a document that merely quotes a
    fit (a back-test holding its fold fits) is not a fit."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _KIND_READ_LIMIT:
            return None  # a FIFO or device is never opened: reading one may wait forever
        with open(path, "rb") as handle:
            head = handle.read(4096)
            if head.lstrip()[:1] != b"{":
                return None  # a table, an image...: not read whole to learn nothing
            doc = json.loads(head + handle.read())
    except (OSError, ValueError, RecursionError):
        return None
    kind = doc.get("kind") if isinstance(doc, dict) else None
    return kind if isinstance(kind, str) and kind.startswith("scalinglaws.") else None


def document_kind(path) -> str | None:
    """The top-level ``kind`` of the scalinglaws JSON document at ``path``
    (``"scalinglaws.fit"``, ``"scalinglaws.isoflop"``...), else None (not a regular file,
    not a JSON object, unreadable, or no such kind): for a command that reads several
    kinds of document and dispatches on it (``optimal``: a fit or an analysis)."""
    return _document_kind(Path(os.fspath(path)))


def _a(word: str) -> str:
    """``word`` with its indefinite article: "an image", "an HTML", "a table"."""
    shown = "HTML" if word == "html" else "JSON" if word == "json" else word
    return f"{'an' if shown[0].lower() in 'aeiou' or shown == 'HTML' else 'a'} {shown}"


def file_kind(path) -> str | None:
    """The kind of a file: ``fit``, ``json``, ``table``, ``html`` or ``image``; None if unknown.

    An existing file is recognised by its content first (PNG/PDF/JPEG/SVG, HTML, Parquet,
    a scalinglaws fit), then by its suffix; a missing file by its suffix alone.
    """
    path = Path(os.fspath(path))
    by_suffix = _KINDS.get(path.suffix.lower())
    if not path.is_file():
        return by_suffix
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return by_suffix
    sniffed = _sniff(head)
    if sniffed is not None:
        return sniffed
    if _document_kind(path) == "scalinglaws.fit":
        return "fit"
    if by_suffix is None and head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return by_suffix


def check_output_path(out, *, inputs: Iterable = (), kind: str | None = None,
                      force: bool = False, argument: str = "--out",
                      document: str | None = None, force_option: str | None = None,
                      outputs: Iterable = ()) -> Path:
    """Refuse, before any work, an output path that would destroy something.

    Parameters
    ----------
    out : str or os.PathLike
        Where the command will write.
    inputs : iterable of paths
        Files the command reads; writing over any of them is always refused, ``force``
        or not (compared after resolving symlinks and hard links).
    kind : str, optional
        Kind of file about to be written (``fit``, ``json``, ``table``, ``html``,
        ``image``). An existing file of another kind is refused unless ``force``.
    force : bool
        Allow replacing an existing file of another kind, or an existing table or JSON
        file that is not a scalinglaws document (without ``force`` those are refused:
        they may be the user's data).
    argument : str
        Name of the option (``--out``) or of the Python argument (```path```), for
        messages.
    document : str, optional
        The top-level ``kind`` of the JSON document about to be written
        (``scalinglaws.curve_fit``...): an existing scalinglaws document of another
        kind (a fit with its bootstrap, a comparison) is refused unless ``force``.
    force_option : str, optional
        How the caller's user asks to replace, for messages: by default ``--force`` when
        ``argument`` is a command-line option (starts with ``-``), else ``force=True``
        (a Python ``save(path, force=True)``).
    outputs : iterable of (argument, path)
        The command's other outputs (``("--out", "fit.json")``): naming the same file as
        one of them is always refused, ``force`` or not (one write would replace the
        other), resolved as ``inputs`` are.

    Returns
    -------
    pathlib.Path
        ``out`` as a path.

    Raises
    ------
    InputError
        Naming the option, the path and, for a clash, the input or the kind it holds.
    """
    path = _named(out, argument)
    shown = os.fspath(path)
    if force_option is None:
        force_option = "--force" if argument.startswith("-") else "force=True"
    if path.is_dir():
        raise InputError(f"{argument} {shown!r} is a folder, not a file")
    hint = " (or pass --json to print the document)" if argument.startswith("-") else ""
    if _is_stream(path, f"{argument} {shown!r}", hint):
        return path  # written into, never replaced: its folder and content do not matter
    target = _target(path)
    folder = _folder(target)
    if not folder.is_dir():
        raise InputError(f"{argument} {shown!r}: folder {os.fspath(folder)!r} does not exist")
    os.unlink(_mkstemp(target, folder, f"{argument} {shown!r}"))  # writable? (root or not)
    for source in inputs:
        if source is not None and same_file(path, source):
            raise InputError(f"{argument} {shown!r} is also an input of this command "
                             f"({os.fspath(source)!r}); refusing to overwrite it")
    for other_argument, other in outputs:
        if other is not None and same_file(path, other):
            raise InputError(f"{argument} {shown!r} and {other_argument} {os.fspath(other)!r} "
                             "name the same file: one would replace the other; give each "
                             "its own name")
    if path.exists() and kind is not None and not force and not _empty(path):
        existing = file_kind(path)
        held = _document_kind(path) if document is not None and existing in ("json", "fit") \
            else None
        # (a command with actions stamped "scalinglaws.<command>" before 0.3: its own file)
        if held is not None and held != document and not document.startswith(held + "_"):
            raise InputError(f"{argument} {shown!r} exists and holds another scalinglaws "
                             f"document ({held!r}, not {document!r}); choose another name or "
                             f"pass {force_option} to replace it")
        if existing is not None and existing != kind:
            raise InputError(f"{argument} {shown!r} exists and holds {_a(existing)} file, "
                             f"not {_a(kind)} file; choose another name or pass {force_option}")
        if existing in ("table", "json", "html", "image", None) and not _written_by_us(path):
            # a table, a JSON file or a file of no known kind may be somebody's data (a
            # sweep, a log export): the package cannot tell its own tables from them, so it
            # replaces none unasked
            what = {"table": "a table", "json": "a JSON file", "html": "a web page",
                    "image": "an image", None: "a file"}[existing]
            raise InputError(f"{argument} {shown!r} exists and holds {what} that may be data "
                             f"(scalinglaws replaces unasked only the files it can tell it "
                             f"wrote: fits and its other JSON documents, reports, figures); "
                             f"choose another name or pass {force_option} to replace it")
    named = _KINDS.get(path.suffix.lower())
    # (an image's name is checked against every format matplotlib writes by the callers
    # that write figures, --force or not: a figure named like a table cannot be drawn)
    if (kind not in (None, "image") and named is not None and named != kind and not force
            and {named, kind} != {"json", "fit"}):
        # `fit --out fit.csv` would write JSON under a table's name, for the next tool to
        # misread
        raise InputError(f"{argument} {shown!r}: a {kind} file is written here, but the name "
                         f"ends like a {named} file; end it with {_SUFFIX_OF[kind]} (or pass "
                         f"{force_option})")
    return path


def same_file(path, other) -> bool:
    """Whether ``path`` and ``other`` name one file: the same path once relative parts and
    symlinks are resolved, or hard links to one file."""
    path, other = Path(os.fspath(path)), Path(os.fspath(other))
    same = path.resolve() == other.resolve()
    with contextlib.suppress(OSError):
        same = same or os.path.samefile(path, other)
    return same


def _empty(path: Path) -> bool:
    """An empty file (e.g. a temporary file made for the output) holds nothing to lose."""
    with contextlib.suppress(OSError):
        return path.is_file() and path.stat().st_size == 0
    return False


#: how the package signs the reports and figures it writes: an HTML ``<meta
#: name="generator">`` and the figure formats' own creator field (:func:`figure_signature`)
GENERATOR = "scalinglaws"
_SIGNED_READ_LIMIT = 8 * 2**20  # a figure or report larger than this is not searched


def figure_signature(fmt: str) -> dict:
    """The ``savefig`` keywords that sign a figure of format ``fmt`` as the package's: the
    creator field of PNG, PDF, SVG and PostScript (``metadata``), the comment of JPEG and
    GIF (Pillow's ``pil_kwargs``); none for a format with no such field matplotlib writes
    (TIFF, WebP, AVIF, raw, PGF: ``metadata`` there is refused). :func:`_signed` reads
    each signature back."""
    fmt = str(fmt).lower()
    if fmt in ("png", "pdf", "svg", "svgz", "eps", "ps"):
        return {"metadata": {"Software" if fmt == "png" else "Creator": GENERATOR}}
    if fmt in ("jpg", "jpeg", "gif"):
        return {"pil_kwargs": {"comment": GENERATOR}}
    return {}


def _signed(path: Path) -> bool:
    """Whether a report or figure carries the package's signature (see :data:`GENERATOR`)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > _SIGNED_READ_LIMIT:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    name = re.escape(GENERATOR.encode())
    return re.search(b'<meta name="generator" content="' + name  # HTML
                     + b"|Software\x00" + name                     # PNG tEXt chunk
                     + b"|/Creator \\(" + name                   # PDF info
                     + b"|%%Creator: " + name                      # PostScript
                     + b"|\xff\xfe[\x00-\xff]{2}" + name           # JPEG comment
                     + b"|!\xfe[\x00-\xff]" + name                 # GIF comment
                     + rb"|<dc:creator>\s*<cc:Agent>\s*<dc:title>" + name,  # SVG
                     data) is not None


def _written_by_us(path: Path) -> bool:
    """Whether ``path`` is a JSON document the package wrote (its top-level ``kind`` says
    so), or a report or figure it signed."""
    return _document_kind(path) is not None or _signed(path)


class JsonDocument:
    """``to_json`` and ``save`` of a frozen result whose ``to_dict`` is its plain document
    (the grouped fit, the comparison); ``_document`` names it in messages."""

    _document = "the document"

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text (``kwargs`` go to :func:`json.dumps`; no indent
        unless given). A value JSON cannot hold raises :class:`InputError` naming it."""
        return json_text(self.to_dict(), what=self._document, **{"indent": None, **kwargs})

    def save(self, path, *, force: bool = False) -> None:
        """Write :meth:`to_dict` to ``path`` as JSON, atomically (never over another kind
        of file, a JSON file the package did not write, or another kind of scalinglaws
        document, e.g. an IsoFLOP analysis or a fit, unless ``force``; a document of the
        same ``kind`` is replaced)."""
        doc = self.to_dict()
        kind = doc.get("kind") if isinstance(doc, dict) else None
        target = check_output_path(path, kind="json", force=force, argument="`path`",
                                   document=kind if isinstance(kind, str) else None)
        text = json_text(doc, what=self._document, indent=2)
        atomic_write(target, text + "\n")
