"""Words of messages: a count with its noun in the right number, and a list cut short.

Every message, summary and label that counts something says ``1 run`` and ``3 runs``
through :func:`counted`, never ``1 runs``; every one that lists the first few of many
things says how many it left out through :func:`named_list` (``'a', 'b' and 3 more``).
"""

from __future__ import annotations

from itertools import islice

__all__ = ["counted", "named_list"]


def counted(n, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural``, else ``noun + "s"``).

    Examples
    --------
    >>> counted(1, "run"), counted(3, "run"), counted(0, "run"), counted(2, "run", "runs'")
    ('1 run', '3 runs', '0 runs', "2 runs'")
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def named_list(items, shown: int = 5, *, total: int | None = None, sep: str = ", ",
               noun: str = "", plural: str | None = None) -> str:
    """The first ``shown`` of ``items`` as text, joined by ``sep``, then how many more.

    Parameters
    ----------
    items : iterable
        What to name, each written with :func:`str` (format them first, or pass a
        generator: only the first ``shown`` are taken from it).
    shown : int, optional
        How many to name at most (1 or more).
    total : int, optional
        How many there are in all; ``len(items)`` when not given (give it for a
        generator, or to name the first of many, ``[first_bad_cell], total=bad.sum()``).
    sep : str, optional
        Between two items: ``", "``, or ``"; "`` when items hold commas themselves. The
        count follows ``", "`` as `` and 3 more`` (no comma before *and*) and any other
        separator with it kept, ``"; and 3 more"``.
    noun, plural : str, optional
        What the ones left out are, after *more*: ``noun`` for one, ``plural`` (else
        ``noun + "s"``) for several, as :func:`counted` writes them.

    Returns
    -------
    str
        ``""`` for no items; the items alone when there are ``shown`` or fewer.

    Examples
    --------
    >>> named_list(["a", "b", "c"], 3), named_list(["a", "b", "c", "d"], 3), named_list([], 3)
    ('a, b, c', 'a, b, c and 1 more', '')
    >>> named_list((f"row {i} (line {i + 2})" for i in range(7)), 2, total=7, sep="; ",
    ...            noun="run")
    'row 0 (line 2); row 1 (line 3); and 5 more runs'
    >>> named_list(["row 4: value 'x' is not a number"], total=3, sep="; ",
    ...            noun="bad cell in column 'loss'", plural="bad cells in column 'loss'")
    "row 4: value 'x' is not a number; and 2 more bad cells in column 'loss'"
    """
    head = [str(item) for item in islice(items, shown)]
    more = (len(items) if total is None else total) - len(head)
    if more <= 0:
        return sep.join(head)
    tail = counted(more, f"more {noun}", plural and f"more {plural}") if noun else f"{more} more"
    return sep.join(head) + (" and " if sep == ", " else f"{sep}and ") + tail
