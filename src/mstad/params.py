"""Parameters of detectors and thresholders: declared once per class, checked on every
construction — the one home of parameter validation.

A class's ``__init__`` signature gives each parameter's type (``int``, ``float``,
``tuple[int, ...]``, ``str | None``, ``Literal[...]``); its ``param_specs`` add ranges and
choices (:func:`spec`). :func:`checked_init` wraps ``__init__`` so that every way of building
one — Python, ``make_detector`` / ``make_thresholder``, the CLI before any data is read,
``Detector.load`` — runs the same pydantic validation and fails with one line that names the
model (or threshold), the field, the value and what is allowed ("did you mean ...?" for a
misspelt name). Scalars are strict (``True`` is
not an integer, ``"abc"`` not a number, ``2.5`` not an integer); lists are accepted for tuples
(YAML and JSON have no tuples); floats must be finite.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal, Union

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)

from mstad.errors import ConfigError

#: what a ``seed`` accepts everywhere (numpy, torch and scikit-learn all take it)
SEED_MAX = 2**32 - 1
_STRICT = {int: StrictInt, float: StrictFloat, bool: StrictBool, str: StrictStr}
_NUMBER = ("ge", "gt", "le", "lt")


def spec(
    *,
    choices: Sequence[Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    item_ge: float | None = None,
    item_choices: Sequence[Any] | None = None,
    pattern: str | None = None,
) -> dict[str, Any]:
    """Range and choice constraints of one parameter (``item_*`` apply to each list element)."""
    return {
        k: v
        for k, v in dict(
            choices=tuple(choices) if choices is not None else None,
            ge=ge,
            gt=gt,
            le=le,
            lt=lt,
            min_length=min_length,
            max_length=max_length,
            item_ge=item_ge,
            item_choices=tuple(item_choices) if item_choices is not None else None,
            pattern=pattern,
        ).items()
        if v is not None
    }


#: the range of every ``seed`` parameter
SEED_SPEC = spec(ge=0, le=SEED_MAX)


def _strict(annotation: Any, item: dict[str, Any] | None = None) -> Any:
    """The annotation with strict scalars, sequences as tuples, ``item`` constraints applied."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in _STRICT:
        base = _STRICT[annotation]
        if annotation is float:
            base = typing.Annotated[base, Field(allow_inf_nan=False)]
        if item:
            if "choices" in item:
                return Literal[item["choices"]]
            return typing.Annotated[base, Field(ge=item.get("ge"))]
        return base
    if origin in (Union, types.UnionType):
        return Union[tuple(_strict(a, item) for a in args)]  # noqa: UP007
    if origin in (tuple, Sequence, list) or annotation in (tuple, list):
        element = args[0] if args else Any
        return tuple[_strict(element, item), ...]
    return annotation


def _field_type(annotation: Any, constraints: dict[str, Any]) -> Any:
    item = {}
    if "item_ge" in constraints:
        item["ge"] = constraints["item_ge"]
    if "item_choices" in constraints:
        item["choices"] = constraints["item_choices"]
    if "choices" in constraints:
        return Literal[constraints["choices"]]
    kind = _strict(annotation, item or None)
    keys = (*_NUMBER, "min_length", "max_length", "pattern")
    field = {k: constraints[k] for k in keys if k in constraints}
    return typing.Annotated[kind, Field(**field)] if field else kind


def describe(annotation: Any, constraints: dict[str, Any]) -> str:
    """What a parameter accepts, in words: ``an integer >= 1``, ``one of 'z', 'range'``."""
    if "choices" in constraints:
        return "one of " + ", ".join(repr(c) for c in constraints["choices"])
    words = _type_words(annotation)
    ops = zip(_NUMBER, (">=", ">", "<=", "<"), strict=True)
    bounds = [f"{op} {constraints[k]}" for k, op in ops if k in constraints]
    if "min_length" in constraints:
        bounds.append(f"at least {constraints['min_length']} long")
    if "max_length" in constraints:
        bounds.append(f"at most {constraints['max_length']} long")
    if "item_ge" in constraints:
        bounds.append(f"each >= {constraints['item_ge']}")
    if "pattern" in constraints:
        bounds.append(f"matching {constraints['pattern']}")
    if "item_choices" in constraints:
        bounds.append("each one of " + ", ".join(repr(c) for c in constraints["item_choices"]))
    return words + (" " + ", ".join(bounds) if bounds else "")


def _type_words(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    if annotation in names:
        return names[annotation]
    if annotation is type(None):
        return "null"
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_words(a) for a in args)
    if origin in (tuple, Sequence, list):
        element = _type_words(args[0]) if args else "values"
        return f"a list of {element.removeprefix('an ').removeprefix('a ')}s"
    return str(annotation)


@functools.cache
def _schema(funcs: tuple[Callable, ...], specs_key: tuple) -> tuple[type, dict[str, Any]]:
    specs = dict(specs_key)
    fields, annotations = {}, {}
    for func in funcs:
        hints = typing.get_type_hints(func, include_extras=True)
        for p in inspect.signature(func).parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            annotation = hints.get(p.name, Any)
            constraints = dict(specs.get(p.name, ()))
            annotations[p.name] = (annotation, constraints)
            fields[p.name] = (_field_type(annotation, constraints), p.default)
    name = "_".join(f.__qualname__.replace(".", "_") for f in funcs) + "Params"
    model = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    return model, annotations


def _freeze(specs: dict[str, dict[str, Any]]) -> tuple:
    return tuple(sorted((k, tuple(sorted(v.items()))) for k, v in specs.items()))


def validate_call(
    func: Callable | tuple[Callable, ...],
    values: dict[str, Any],
    owner: str,
    specs: dict[str, dict] | None = None,
) -> dict[str, Any]:
    """``values`` checked against the signature of ``func`` (or of several functions together;
    ``self`` and ``**kwargs`` left out) and ``specs``; the checked values (tuples for lists,
    floats for integers given as numbers), all parameters filled in. A problem is a
    :class:`ConfigError` that starts with ``owner``."""
    funcs = func if isinstance(func, tuple) else (func,)
    model, annotations = _schema(funcs, _freeze(specs or {}))
    unknown = sorted(set(values) - set(annotations))
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, list(annotations), n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        valid = ", ".join(annotations) or "none"
        raise ConfigError(f"{owner}: unknown parameter {', '.join(hints)}; valid: {valid}")
    try:
        checked = model(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        annotation, constraints = annotations[field]
        raise ConfigError(
            f"{owner}: parameter {field}={values.get(field)!r} is not valid "
            f"({error['msg'].rstrip('.')}); expected {describe(annotation, constraints)}"
        ) from None
    return {k: getattr(checked, k) for k in annotations}


def checked_init(cls: type, kind: str = "model") -> None:
    """Wrap ``cls.__init__`` (when ``cls`` defines one) with :func:`validate_call` against its
    signature and ``cls.param_specs``; a cross-field ``ValueError`` raised by the ``__init__``
    itself becomes a :class:`ConfigError` naming the model too."""
    init = cls.__dict__.get("__init__")
    if init is None or getattr(init, "_checked", False):
        return
    names = list(inspect.signature(init).parameters)[1:]
    owner = f"{kind} {getattr(cls, 'name', cls.__name__)}"

    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise ConfigError(f"{owner}: takes at most {len(names)} parameters")
        values = {**dict(zip(names, args, strict=False)), **kwargs}
        try:
            init(self, **validate_call(init, values, owner, getattr(cls, "param_specs", {})))
        except ValueError as exc:
            raise ConfigError(f"{owner}: {exc}") from None

    __init__._checked = True  # type: ignore[attr-defined]
    cls.__init__ = __init__  # type: ignore[method-assign]
