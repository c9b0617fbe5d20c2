"""The report object every reproduction returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...fitting.estimator import FitResult

__all__ = ["Reproduction"]


@dataclass(frozen=True)
class Reproduction:
    """A reproduction: the fit(s), comparison tables and a printable report."""

    title: str
    fit: FitResult | None
    tables: dict = field(default_factory=dict)
    notes: tuple = ()

    def __str__(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for name, table in self.tables.items():
            lines += ["", name, "-" * len(name),
                      table.to_string(index=False, float_format=lambda v: f"{v:.4g}")]
        if self.notes:
            lines += [""] + [f"* {note}" for note in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        import json

        return {"title": self.title, "notes": list(self.notes),
                "tables": {k: json.loads(v.to_json(orient="records")) for k, v in
                           self.tables.items()},
                "fit": None if self.fit is None else self.fit.to_dict()}
