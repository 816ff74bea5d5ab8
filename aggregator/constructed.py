"""A pydantic model made from values already known valid, without validation: what
``model_construct`` makes, without its per-field look-ups. Used where a million models are
built from values checked beforehand (golden records, and rows a mapping's code has checked).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)

_new, _set = object.__new__, object.__setattr__


def constructed(cls: type[Model], values: dict[str, Any], fields_set: set[str]) -> Model:
    """A ``cls`` holding ``values`` (every field, in declaration order) with ``fields_set`` as
    its ``model_fields_set``; for a model with no extra fields and no private attributes."""
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
