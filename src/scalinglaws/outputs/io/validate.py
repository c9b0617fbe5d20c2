"""Checking a fit document before it becomes a result: its JSON Schema, then its meaning.

:func:`check_json_schema` implements the subset of JSON Schema (draft 2020-12) that the
shipped schemas use, so the loader checks exactly what ``fit.schema.json`` says (a schema
using any other keyword is refused: it cannot promise more than is checked).
:func:`check_fit_semantics` then checks what a schema cannot say: that the parameters
belong to the registered form and lie inside the fit's bounds, that fixed and tied values
hold, that counts and indices agree. Every failure is an
:class:`~scalinglaws.InputError` naming the file and the field.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._exceptions import InputError
from ..._text import named_list

__all__ = ["check_json_schema", "check_fit_semantics", "check_group_semantics",
           "check_restrictions", "builtin_forms_registered", "refuse_other_kind",
           "refuse_newer_version", "one_group"]


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# The subset of JSON Schema (draft 2020-12) that check_json_schema implements; a schema
# using any other keyword is refused, so a shipped schema cannot say more than the loader
# checks. Annotations (title, description...) are ignored.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "$defs",
                          "default", "examples"})
_KEYWORDS = frozenset({"$ref", "type", "enum", "const", "required", "properties",
                       "additionalProperties", "minProperties", "maxProperties", "items", "minItems", "maxItems",
                       "uniqueItems", "minimum", "maximum", "exclusiveMinimum",
                       "exclusiveMaximum", "minLength", "pattern", "allOf", "anyOf", "if",
                       "then", "else"})
_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "text", "number": "a number",
               "integer": "an integer", "boolean": "true or false", "null": "null"}


_PLAIN_TYPES = {type(None): "null", bool: "boolean", int: "integer", float: "number",
                str: "string", dict: "object", list: "array"}


def _json_type(value: Any) -> str:
    kind = _PLAIN_TYPES.get(type(value))  # what json.loads makes: no ABC checks needed
    if kind is not None:
        return kind
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, numbers.Integral):
        return "integer"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _has_type(value: Any, wanted: str) -> bool:
    kind = _json_type(value)
    if wanted == "number":
        return kind in ("integer", "number")
    if wanted == "integer":  # JSON Schema: 2.0 is an integer
        return kind == "integer" or (kind == "number" and float(value).is_integer())
    return kind == wanted


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _json_type(a) in ("integer", "number") and _json_type(b) in ("integer", "number"):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _child(path: str, key: Any) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))


def _json_problem(value: Any, schema: Mapping, path: str, root: Mapping) -> tuple | None:
    """The first (path, problem) where ``value`` breaks ``schema``, or None."""
    if schema is True or schema == {}:
        return None
    if schema is False:
        return path, "is not allowed here"
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        found = _json_problem(value, target, path, root)
        if found:
            return found
    kind = _json_type(value)
    if kind == "number" and not math.isfinite(value):
        return path, f"must be a finite number, got {value!r}"
    if "type" in schema:
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_has_type(value, w) for w in wanted):
            words = " or ".join(_TYPE_WORDS[w] for w in wanted)
            return path, f"must be {words}, got {_TYPE_WORDS.get(kind, kind)} {_shown(value, 40)}"
    if "const" in schema and not _json_equal(value, schema["const"]):
        return path, f"must be {schema['const']!r}, got {_shown(value, 40)}"
    if "enum" in schema and not any(_json_equal(value, option) for option in schema["enum"]):
        options = ", ".join("null" if o is None else repr(o) for o in schema["enum"])
        return path, f"must be one of {options}, got {_shown(value, 40)}"
    if kind in ("integer", "number"):
        for word, fails, relation in (("minimum", lambda x, b: x < b, ">="),
                                      ("maximum", lambda x, b: x > b, "<="),
                                      ("exclusiveMinimum", lambda x, b: x <= b, ">"),
                                      ("exclusiveMaximum", lambda x, b: x >= b, "<")):
            if word in schema and fails(value, schema[word]):
                return path, f"must be {relation} {schema[word]}, got {_shown(value)}"
    if kind == "string":
        if len(value) < schema.get("minLength", 0):
            return path, "must not be empty" if schema["minLength"] == 1 else "is too short"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return path, f"is not of the expected form ({schema['pattern']}), got {_shown(value)}"
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            return path, f"must have at least {schema['minItems']} items, got {len(value)}"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return path, f"must have at most {schema['maxItems']} items, got {len(value)}"
        if schema.get("uniqueItems"):
            for i, item in enumerate(value):
                if any(_json_equal(item, other) for other in value[:i]):
                    return _child(path, i), f"repeats {_shown(item, 40)}"
        if "items" in schema:
            for i, item in enumerate(value):
                found = _json_problem(item, schema["items"], _child(path, i), root)
                if found:
                    return found
    if kind == "object":
        for key in schema.get("required", ()):
            if key not in value:
                return _child(path, key), "is missing"
        if len(value) < schema.get("minProperties", 0):
            return path, "must not be empty"
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            return path, f"must have at most {schema['maxProperties']} fields"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                found = _json_problem(item, properties[key], _child(path, key), root)
            elif extra is False:
                found = _child(path, key), "is not a known field"
            else:
                found = _json_problem(item, extra, _child(path, key), root)
            if found:
                return found
    for part in schema.get("allOf", ()):
        found = _json_problem(value, part, path, root)
        if found:
            return found
    if "anyOf" in schema:
        problems = [_json_problem(value, part, path, root) for part in schema["anyOf"]]
        if all(problems):
            return problems[0]
    if "if" in schema:
        branch = "then" if _json_problem(value, schema["if"], path, root) is None else "else"
        found = _json_problem(value, schema.get(branch, True), path, root)
        if found:
            return found
    return None


def _check_keywords(schema: Any) -> None:
    """Refuse a schema that uses a keyword :func:`_json_problem` does not implement."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        unknown = set(node) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise ValueError(f"schema keyword(s) {sorted(unknown)} are not supported")
        for word in ("items", "additionalProperties", "if", "then", "else"):
            stack.append(node.get(word))
        for word in ("properties", "$defs"):
            stack.extend((node.get(word) or {}).values())
        for word in ("allOf", "anyOf"):
            stack.extend(node.get(word) or ())


def check_json_schema(value: Any, schema: Mapping, source: str) -> None:
    """Check parsed JSON against a JSON Schema; :class:`InputError` names ``source`` and the field.

    Implements the subset of draft 2020-12 that the package's schemas use (types, enum,
    const, required, properties, additionalProperties, items, sizes, numeric limits,
    pattern, allOf/anyOf, if/then/else, local ``$ref``); numbers must be finite. A
    schema using another keyword is refused, so it cannot promise more than is checked.

    Examples
    --------
    >>> check_json_schema({"n_runs": -5}, {"properties": {"n_runs": {"type": "integer",
    ...                   "minimum": 0}}}, "fit.json")
    Traceback (most recent call last):
    ...
    scalinglaws._exceptions.InputError: fit.json: field n_runs must be >= 0, got -5
    """
    _check_keywords(schema)
    found = _json_problem(value, schema, "", schema)
    if found:
        path, problem = found
        where = f"field {path}" if path else "the document"
        raise InputError(f"{source}: {where} {problem}")


# ----------------------------------------------------------------------------- meaning

def builtin_forms_registered() -> None:
    """Register the package's own forms (the data-constrained, Kaplan and task laws too), so
    that loading a fit of any of them works in a fresh process."""
    from ...laws.forms import load_builtin_forms

    load_builtin_forms()


#: where each kind of scalinglaws document is read, for the message of a loader given
#: another kind
LOADER_HINTS = {
    "scalinglaws.fit": "; read a fit with scalinglaws.load",
    "scalinglaws.curve_fit": "; read a learning-curve fit with scalinglaws.load_curve_fit",
    "scalinglaws.isoflop": "; read an IsoFLOP analysis with scalinglaws.load_isoflop",
    "scalinglaws.grouped_fit": "; read a grouped fit with scalinglaws.load_grouped",
    "scalinglaws.envelope": "; read an Approach 1 (envelope) analysis with "
                            "scalinglaws.load_envelope",
    "scalinglaws.grouped_bootstrap": "; read a grouped bootstrap with "
                                     "scalinglaws.load_grouped_bootstrap",
    "scalinglaws.comparison": "; read a comparison with scalinglaws.load_comparison",
    "scalinglaws.tasks": "; read task predictions with "
                         "scalinglaws.outputs.io.tasks.load_predictions",
}


def refuse_other_kind(doc: Mapping, kind: str, source: str, *, what: str, writer: str) -> None:
    """Refuse another kind of scalinglaws document, naming it and where it is read
    (:data:`LOADER_HINTS`); ``what`` is the document expected ("an IsoFLOP analysis"),
    ``writer`` what writes it. A document without a ``kind`` is left to the schema."""
    from ...data._hints import document_name

    other = doc.get("kind")
    if isinstance(other, str) and other.startswith("scalinglaws.") and other != kind:
        raise InputError(f"{source}: this is a scalinglaws {document_name(other)} file (kind "
                         f"{other!r}), not {what}; {writer}" + LOADER_HINTS.get(other, ""))


def refuse_newer_version(doc: Mapping, version: int, source: str) -> None:
    """A readable message for a ``schema_version`` above ``version``, the one this package
    writes and reads (before the schema, which would only say it is not ``version``)."""
    from ..._version import __version__

    found = doc.get("schema_version")
    if isinstance(found, int) and not isinstance(found, bool) and found > version:
        raise InputError(f"{source}: schema_version {found} is not supported (this is "
                         f"scalinglaws {__version__}, which reads version {version})")


def one_group(doc: Mapping, group: Any, source: str, *, command: str, loader: str,
              analysis: tuple) -> Mapping:
    """The analysis of ``group`` in a document of ``scalinglaws COMMAND --by COLUMN``
    (``{"kind": ..., "by": COLUMN, "groups": [{"group": ..., ...}]}``), without its
    ``group`` field; a document of one analysis is returned as it is. ``analysis`` is what
    one and several are called (``("IsoFLOP analysis", "IsoFLOP analyses")``), ``loader``
    the function that reads them."""
    grouped = "groups" in doc and "a" not in doc
    if not grouped:
        if group is not None:
            raise InputError(f"{source}: holds one {analysis[0]}, not one per group; "
                             f"read it without group= (got group={group!r})")
        return doc
    groups, by = doc.get("groups"), doc.get("by")
    if (not isinstance(groups, list) or not all(isinstance(g, Mapping) and "group" in g
                                                for g in groups)):
        raise InputError(f"{source}: field groups must be a list of analyses, each with its "
                         "group")
    labels = [g["group"] for g in groups]
    shown = named_list([repr(label) for label in labels], 20)
    if group is None:
        raise InputError(f"{source}: holds {len(groups)} {analysis[1]}, one per value of "
                         f"{by!r} (`scalinglaws {command} --by {by}`); read one with "
                         f"{loader}(path, group=...), group one of {shown}")
    # a label read from JSON may be a number: group=0 and group="0" both find 0
    found = [g for g in groups if g["group"] == group] or \
        [g for g in groups if str(g["group"]) == str(group)]
    if not found:
        raise InputError(f"{source}: no group {group!r} among the {len(groups)} analyses "
                         f"(by {by!r}); group is one of {shown}")
    return {key: value for key, value in found[0].items() if key != "group"}


def form_from_doc(form_doc: Mapping, source: str):
    """The registered form a document's ``form`` section names, checked against its
    ``config`` (a form registered here under that name with another configuration is
    refused: the parameters would mean something else)."""
    from ...laws.forms import get_form

    builtin_forms_registered()
    try:
        form = get_form(form_doc["name"])
    except InputError as exc:
        raise InputError(f"{source}: field form.name: {exc}") from None
    if form_doc.get("config") and form.config() != form_doc["config"]:
        raise InputError(f"{source}: field form.config: form {form.name!r} registered here has "
                         f"config {form.config()}, the file has {form_doc['config']}")
    return form


def _fail(source: str, field: str, problem: str):
    raise InputError(f"{source}: field {field} {problem}")


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


def _check_names(doc: Mapping, form, source: str) -> None:
    names, label = list(form.param_names), f"form {form.name!r}"
    declared = doc["form"]
    if list(declared["param_names"]) != names:
        _fail(source, "form.param_names", f"must be {names} for {label}, got "
              f"{declared['param_names']}")
    if "inputs" in declared and list(declared["inputs"]) != list(form.inputs):
        _fail(source, "form.inputs", f"must be {list(form.inputs)} for {label}, got "
              f"{declared['inputs']}")
    params = doc["params"]
    missing = [name for name in names if name not in params]
    if missing:
        _fail(source, f"params.{missing[0]}", f"is missing ({label} has {', '.join(names)})")
    for name in params:
        if name not in names:
            _fail(source, f"params.{name}", f"is not a parameter of {label} ({', '.join(names)})")
    for index, optimum in enumerate(doc.get("local_optima") or ()):
        if sorted(optimum["params"]) != sorted(names):
            _fail(source, f"local_optima[{index}].params", f"must name exactly {', '.join(names)}")
    correlated = (doc.get("diagnostics") or {}).get("most_correlated")
    for index, name in enumerate((correlated or {}).get("params") or ()):
        if name not in names:
            _fail(source, f"diagnostics.most_correlated.params[{index}]",
                  f"= {name!r} is not a parameter of {label}")


def check_restrictions(doc: Mapping, form, source: str, at: Mapping | None = None) -> list:
    """Fixed and tied values name parameters of ``form`` (a law of runs or of curves) and
    hold, and ``free_params`` and ``at_bounds`` agree; return the free parameters. ``at``
    maps a section (``params``, ``fixed``, ``tied``, ``at_bounds``) to where it sits in
    the file, for a document laid out otherwise (a grouped fit's group)."""
    names, params = list(form.param_names), doc["params"]
    fixed, tied = doc.get("fixed") or {}, doc.get("tied") or {}
    where = {key: (at or {}).get(key, key) for key in ("params", "fixed", "tied", "at_bounds")}
    for name, value in fixed.items():
        if name not in names:
            _fail(source, f"{where['fixed']}.{name}", f"is not a parameter of form {form.name!r}")
        if not _same(params[name], value):
            _fail(source, f"{where['params']}.{name}", f"= {params[name]!r} differs from its "
                  f"fixed value {value!r}")
    for name, target in tied.items():
        if name not in names or target not in names or name == target or name in fixed:
            _fail(source, f"{where['tied']}.{name}", f"= {target!r} does not tie a parameter of "
                  f"form {form.name!r} to another one")
        if not _same(params[name], params[target]):
            _fail(source, f"{where['params']}.{name}", f"= {params[name]!r} differs from "
                  f"{target} = {params[target]!r}, to which it is tied")
    free = [name for name in names if name not in fixed and name not in tied]
    if "free_params" in doc and list(doc["free_params"]) != free:
        _fail(source, "free_params", f"must be {free} (the parameters neither fixed nor tied), "
              f"got {doc['free_params']}")
    for name in doc.get("at_bounds") or ():
        if name not in free:
            _fail(source, where["at_bounds"], f"names {name!r}, which is not a free parameter")
    return free


def _check_bounds(doc: Mapping, form, free: list, source: str,
                  at: Mapping | None = None) -> None:
    """Log-stored parameters are positive; free ones lie inside the fit's bounds (``at``:
    as for :func:`check_restrictions`)."""
    names, params = list(form.param_names), doc["params"]
    where = (at or {}).get("params", "params")
    for name in names:
        if name in form.log_params and params[name] <= 0:
            _fail(source, f"{where}.{name}", f"must be > 0 (form {form.name!r} takes its "
                  f"logarithm), got {params[name]!r}")
    low, high = (np.array(side, dtype=float) for side in form.default_bounds())
    for name, pair in ((doc.get("options") or {}).get("bounds") or {}).items():
        if name not in names:
            _fail(source, f"options.bounds.{name}", f"is not a parameter of form {form.name!r}")
        index, is_log = names.index(name), name in form.log_params
        for side, value, target in (("low", pair[0], low), ("high", pair[1], high)):
            if value is None:
                continue
            if is_log and value <= 0:
                _fail(source, f"options.bounds.{name}", f"{side} must be > 0, got {value!r}")
            target[index] = math.log(value) if is_log else value
        if low[index] >= high[index]:
            _fail(source, f"options.bounds.{name}", f"= {pair} is empty (low >= high)")
    for index, name in enumerate(names):
        if name not in free:
            continue
        value = params[name]
        internal = math.log(value) if name in form.log_params else value
        slack = 1e-9 * max(1.0, abs(low[index]), abs(high[index]))
        if not low[index] - slack <= internal <= high[index] + slack:
            shown = [math.exp(b) if name in form.log_params else b
                     for b in (low[index], high[index])]
            _fail(source, f"{where}.{name}", f"= {value!r} lies outside the fit's bounds "
                  f"[{shown[0]:.6g}, {shown[1]:.6g}]")


def _check_optimizer_and_options(doc: Mapping, source: str) -> None:
    optimizer = doc.get("optimizer") or {}
    starts = optimizer.get("best_basin_starts") or []
    if "n_best_basin" in optimizer and optimizer["n_best_basin"] != len(starts):
        _fail(source, "optimizer.n_best_basin", f"= {optimizer['n_best_basin']} but "
              f"best_basin_starts lists {len(starts)} starts")
    if "n_starts" in optimizer:
        for index, start in enumerate(starts):
            if start >= optimizer["n_starts"]:
                _fail(source, f"optimizer.best_basin_starts[{index}]", f"= {start} is not below "
                      f"n_starts = {optimizer['n_starts']}")
    options, loss = doc.get("options") or {}, doc["loss"]
    for key, stated, field in (("loss", loss.get("name"), "loss.name"),
                               ("delta", loss.get("delta"), "loss.delta"),
                               ("space", doc.get("space"), "space"),
                               ("fixed", doc.get("fixed") or {}, "fixed"),
                               ("tied", doc.get("tied") or {}, "tied")):
        if key in options and options[key] != stated and not (
                key in ("fixed", "tied") and not options[key] and not stated):
            _fail(source, f"options.{key}", f"= {options[key]!r} disagrees with {field} = "
                  f"{stated!r}")


def check_fit_semantics(doc: Mapping, form, source: str) -> None:
    """What the schema cannot say about a fit document (see the schema's ``$comment``)."""
    _check_names(doc, form, source)
    free = check_restrictions(doc, form, source)
    _check_bounds(doc, form, free, source)
    _check_optimizer_and_options(doc, source)


def check_group_semantics(params: Mapping, at_bounds, options: Mapping, form, source: str,
                          field: str) -> None:
    """What :func:`check_fit_semantics` checks of a fit's parameters, for one group of a
    grouped fit (``field``, e.g. ``"groups[0]"``): positive where the form takes the
    logarithm, inside the fit's bounds, and the fit's fixed values and ties
    (``options.fixed``, ``options.tied``) held. The document passed its schema first."""
    doc = {"params": params, "at_bounds": at_bounds, "fixed": options.get("fixed") or {},
           "tied": options.get("tied") or {}, "options": {"bounds": options.get("bounds")}}
    at = {"params": f"{field}.params", "fixed": "options.fixed", "tied": "options.tied",
          "at_bounds": f"{field}.at_bounds"}
    free = check_restrictions(doc, form, source, at)
    _check_bounds(doc, form, free, source, at)
