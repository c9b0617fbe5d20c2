"""Words of messages: a count with its noun in the right number.

Every message, summary and label that counts something says ``1 run`` and ``3 runs``
through :func:`counted`, never ``1 runs``.
"""

from __future__ import annotations

__all__ = ["counted"]


def counted(n, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural``, else ``noun + "s"``).

    Examples
    --------
    >>> counted(1, "run"), counted(3, "run"), counted(0, "run"), counted(2, "run", "runs'")
    ('1 run', '3 runs', '0 runs', "2 runs'")
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
