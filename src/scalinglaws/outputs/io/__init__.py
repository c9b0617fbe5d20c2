"""JSON export and import (plain types only; never pickle).

- :mod:`.fit`: fit files (``save``, ``load``, ``to_json``, ``from_json``, the schema).
- :mod:`.validate`: the checks a document passes before it becomes a result.
- :mod:`.isoflop`, :mod:`.envelope`, :mod:`.grouped`, :mod:`.curves`, :mod:`.tasks`: the
  other documents (``load_isoflop``, ``load_envelope``, ``load_grouped``...).
"""

from __future__ import annotations

from .fit import (SCHEMA_VERSION, SUPPORTED_VERSIONS, fit_from_dict, fit_to_dict, from_json,
                  load, save, schema, to_json)

__all__ = ["SCHEMA_VERSION", "SUPPORTED_VERSIONS", "fit_to_dict", "fit_from_dict", "to_json",
           "from_json", "save", "load", "schema"]
