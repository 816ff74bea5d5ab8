"""A mapping's usual row made into its record by code written for the mapping: read, clean, check
and build in one function, without pydantic's per-record validation.

The function accepts only rows it can prove the models would accept unchanged: every mapped text
a ``str`` (or a JSON number ``_clean_text`` makes one), printable (so no control character, no
lone surrogate: ``clean_texts`` and ``strict_text`` would change or refuse nothing), within the
field's length; numbers finite and within bounds; links plain ``http(s)://host`` links
(``web_url`` returns them as they are). For anything else it returns ``None`` and the caller
takes the full path (``mapping._shop``/``_offer`` and ``validate_record``), whose errors are the
ones reported. The bounds are read from the models' own field definitions, and the record it
builds holds what ``model_validate`` would have made: every field in declaration order, the
defaults filled, the fields given in ``model_fields_set`` (``tests/test_row_builder.py``
compares both on valid and hostile rows).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import annotated_types
from pydantic import BaseModel

from aggregator.constructed import constructed
from aggregator.models import (
    LINK_FIELDS,
    SLUG_PATTERN,
    OfferRecord,
    PlainJSON,
    ShopRecord,
)

#: ``build(row, platform, country)``: ``(record, its JSON form or None)``, or None.
Builder = Callable[[dict[str, Any], str, str], tuple[Any, PlainJSON | None] | None]


def _checked_otherwise(name: str, rule: Any) -> bool:
    """Whether ``rule`` of field ``name`` holds without a check of its own here: "finite" (the
    bounds are checked with ``< inf``) and the platform's slug pattern (the registration's
    platform, checked once per read)."""
    if getattr(rule, "allow_inf_nan", None) is False:
        return True
    return name == "platform" and getattr(rule, "pattern", None) == SLUG_PATTERN


def field_rules(model: type[BaseModel]) -> dict[str, tuple[str, Any, Any, Any]] | None:
    """Per field of ``model``: its kind (``text``, ``number``, ``texts``, ``flag``), its bounds
    (``min``, ``max``: lengths for texts and lists, values for numbers) and its default; ``None``
    when a field has a rule this module does not know (the full validation then always runs)."""
    rules: dict[str, tuple[str, Any, Any, Any]] = {}
    for name, info in model.model_fields.items():
        low: Any = None
        high: Any = None
        for rule in info.metadata:
            if isinstance(rule, annotated_types.MinLen):
                low = rule.min_length
            elif isinstance(rule, annotated_types.MaxLen):
                high = rule.max_length
            elif isinstance(rule, annotated_types.Ge):
                low = rule.ge
            elif isinstance(rule, annotated_types.Le):
                high = rule.le
            elif not _checked_otherwise(name, rule):
                return None
        annotation = str(info.annotation)
        required = info.is_required()
        default = [] if info.default_factory is list else None if required else info.default
        if info.default_factory not in (None, list):
            return None
        if annotation in ("<class 'str'>", "str | None"):
            kind = "text"
        elif annotation == "float | None":
            kind = "number"
        elif annotation == "list[str]":
            kind = "texts"
        elif annotation == "<class 'bool'>":
            kind = "flag"
        else:
            return None
        rules[name] = (kind, low, high, default)
    return rules


_RULES: dict[type[BaseModel], dict[str, tuple[str, Any, Any, Any]] | None] = {
    model: field_rules(model) for model in (ShopRecord, OfferRecord)
}
_SLUG = re.compile(SLUG_PATTERN)
#: Fields no mapping fills (``ConnectorRegistration`` refuses them): the full path decides.
_NOT_MAPPED = frozenset({"platform", "closed"})


def compile_builder(
    model: type[BaseModel],
    sources: dict[str, str],
    clean_text: Callable[[Any], Any],
    clean_list: Callable[[Any], Any],
    walk: Callable[[dict[str, Any], str, tuple[str, ...]], Any],
) -> Builder | None:
    """``build(row, platform, country)``: the record of a plain-dict ``row`` under the mapping
    ``sources`` (field → column or dotted path) with its JSON form (a ``PlainJSON`` copy of its
    fields, ``None`` when a float needs looking at), or ``None`` for the full path to decide. The
    cleaners are the mapping's own (``_clean_text`` for a non-text value, ``_clean_list``)."""
    rules = _RULES.get(model)
    if rules is None or any(name not in rules or name in _NOT_MAPPED for name in sources):
        return None
    shop = model is ShopRecord
    env: dict[str, Any] = {
        "_clean_text": clean_text, "_clean_list": clean_list, "_walk": walk,
"_construct": constructed, "_model": model,
        "_inf": math.inf, "_plain": PlainJSON,
    }  # fmt: skip
    code = ["def build(row, platform, country):", "    get = row.get"]
    checks: list[str] = []
    texts: list[str] = []
    lengths: list[tuple[int, str, bool]] = []  # (the text's bound, its variable, required)
    required: set[str] = set()
    for i, (name, source) in enumerate(sources.items()):
        kind, low, high, _ = rules[name]
        var = f"f{i}"
        if "." in source:  # a key holding the dot, else the path (``mapping._walk``)
            parts = env[f"parts{i}"] = tuple(source.split("."))
            code.append(f"    v = get({source!r}, _walk)")
            if len(parts) == 2:  # ``address.city``: the object's key, else the general walk
                code += [
                    "    if v is _walk:",
                    f"        v = get({parts[0]!r})",
                    "        if type(v) is dict:",
                    f"            v = v.get({parts[1]!r})",
                    "        elif v is not None:",
                    f"            v = _walk(row, {source!r}, parts{i})",
                ]
            else:
                code.append(f"    if v is _walk: v = _walk(row, {source!r}, parts{i})")
        else:
            code.append(f"    v = get({source!r})")
        if kind == "text":
            code += [
                "    if type(v) is str:",
                "        v = v.strip() or None",
                "    elif v is not None:",
                "        v = _clean_text(v)",
                "        if v is not None and type(v) is not str: return None",
            ]
            if name == "country" and shop:
                code.append("    if v is not None: v = v.upper()")
            code.append(f"    {var} = v")
            if low is not None and low >= 1:
                required.add(name)
                checks.append(f"    if {var} is None: return None")
            if high is not None:
                lengths.append((high, var, name in required))
            if name in LINK_FIELDS.get(model, ()):
                # ``PLAIN_LINK`` without the regex: once every text is printable, the only
                # whitespace left to refuse is the space (every other one is not printable).
                checks.append(
                    f"    if {var} is not None and (' ' in {var} or not ("
                    f"{var}.startswith('https://') and {var}[8:9] not in '/\\\\' "
                    f"or {var}.startswith('http://') and {var}[7:8] not in '/\\\\')): "
                    "return None"
                )
            texts.append(var if name in required else f"{var} or ''")
        elif kind == "number":
            code += [
                "    if type(v) is str:",
                "        v = v.strip()",
                "        if v:",
                "            try:",
                "                v = float(v.replace(',', '.') if ',' in v else v)",
                "            except ValueError:",
                "                return None",
                "        else:",
                "            v = None",
                "    elif v is not None and type(v) is not float:",
                "        return None",
                f"    {var} = v",
            ]
            # NaN fails every comparison; the bounds are finite, or infinities are refused.
            above = f"{float(low)!r} <= {var}" if low is not None else f"-_inf < {var}"
            below = f"{var} <= {float(high)!r}" if high is not None else f"{var} < _inf"
            checks.append(f"    if {var} is not None and not ({above} and {below}): return None")
        elif kind == "texts":
            code += ["    if v is not None: v = _clean_list(v)", f"    {var} = v"]
            bound = f" or len({var}) > {high}" if high is not None else ""
            checks.append(
                f"    if {var} is not None and (type({var}) is not list{bound} "
                f"or not ''.join({var}).isprintable()): return None"
            )
        else:
            return None
    code += checks
    if texts:
        code += [
            f"    joined = ''.join(({', '.join(texts)},))",
            "    if not joined.isprintable(): return None",
        ]
        code += _length_checks(lengths)
    # The record: every field in declaration order, as validation fills it.
    index = {name: i for i, name in enumerate(sources)}
    values, given = [], ["'platform'"] + (["'country'"] if shop else [])
    for name, (kind, _, _, default) in rules.items():
        at = index.get(name)
        empty = "[]" if kind == "texts" else repr(default)
        if name == "platform":
            values.append("'platform': platform")
        elif name == "country" and shop:
            values.append("'country': country" if at is None else f"'country': f{at} or country")
        elif at is None:
            values.append(f"{name!r}: {empty}")
        elif name in required or default is None and kind != "texts":
            values.append(f"{name!r}: f{at}")
        else:
            values.append(f"{name!r}: {empty} if f{at} is None else f{at}")
    # The fields given, as validation records them: one set display, then the marker out.
    optional = False
    for name, at in index.items():
        if name == "country" and shop:
            continue
        if name in required:
            given.append(repr(name))
        else:
            given.append(f"None if f{at} is None else {name!r}")
            optional = True
    code.append(f"    given = {{{', '.join(given)}}}")
    if optional:
        code.append("    given.discard(None)")
    code.append(f"    values = {{{', '.join(values)}}}")
    code.append("    record = _construct(_model, values, given)")
    # Its JSON form is its fields; marked plain for the store when its floats are too.
    floats = [f"f{at}" for name, at in index.items() if rules[name][0] == "number"]
    plain = " and ".join(f"({f} is None or {f} == 0.0 or abs({f}) >= 1e-4)" for f in floats)
    code.append(f"    return record, _plain(values) if {plain or 'True'} else None")
    exec("\n".join(code), env)  # noqa: S102 - names and sources enter as repr literals only
    return env["build"]  # type: ignore[no-any-return]


def _length_checks(lengths: list[tuple[int, str, bool]]) -> list[str]:
    """The texts' length checks, looked at only when they could fail: every mapped text is in
    ``joined`` (a missing one as ``''``), so none is longer than it, and a text whose bound is
    at least ``len(joined)`` needs no check of its own. Nested by bound, shortest first: the
    usual row, shorter in all than the smallest bound past its first fields, stops early."""
    if not lengths:
        return []
    code, depth = ["    n = len(joined)"], 1
    for bound in sorted({high for high, _, _ in lengths}):
        code.append(f"{'    ' * depth}if n > {bound}:")
        depth += 1
        for high, var, required in lengths:
            if high == bound:
                guard = "" if required else f"{var} is not None and "
                code.append(f"{'    ' * depth}if {guard}len({var}) > {high}: return None")
    return code


def usable(platform: str, country: str | None) -> bool:
    """Whether a registration's own values (the platform, the shops' default country) are ones
    validation would keep as they are: else every row takes the full path."""
    return bool(_SLUG.fullmatch(platform)) and (
        country is None or (type(country) is str and country.isprintable())
    )
