"""A create body that comes as JSON or as a form (multipart/form-data with file parts, or
urlencoded), validated into one body model by the same rules either way.

The OpenAI surface takes forms because the `openai` SDK sends them; the native surface takes
them so that a file goes up as its bytes (ClipForge's SDK and CLI), not as a base64 `data:`
URL. A file part stands for a body field (`files`): the field reads `upload:<part>` and the
bytes go to the media intake as they came. A form's text values are typed by the body
model's JSON schema (`"8"` is 8 where the field is an integer, `"true"` is true where it is a
boolean); anything else stays text, which validation then refuses naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from clipforge.api.accept.media.forms import Upload, read_form
from clipforge.api.http.errors import BODY_MODEL, where_json_broke
from clipforge.api.http.json_body import loads
from clipforge.errors import InvalidField

UPLOAD_PREFIX = "upload:"
"""The value a body field takes when a form uploads it as a file part of that name."""
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def json_or_form(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` of a route that reads its body with `parsed`: the body in JSON and in
    multipart/form-data."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    shown = {"schema": {k: v for k, v in schema.items() if k != "$defs"}}
    content = {"application/json": shown, "multipart/form-data": shown}
    return {"requestBody": {"required": True, "content": content}}


async def parsed(
    request: Request, model: type[BaseModel], files: Mapping[str, str | None] = {}
) -> tuple[Any, dict[str, Upload]]:
    """The body as `model`, from JSON or a form (parsed off the event loop), and the form's
    files. `files`: the file parts taken, each with the body field it stands for (None: a
    part the route reads itself). A body that does not validate is the usual 400."""
    uploads: dict[str, Upload] = {}
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await read_form(request)
        values = list(form.values)
        for upload in form.files:
            if upload.name not in files:
                raise InvalidField(upload.name, "a file is not taken here")
            if upload.name in uploads:
                raise InvalidField(upload.name, "given more than once")
            uploads[upload.name] = upload
            field = files[upload.name]
            if field is not None:
                values.append((field, UPLOAD_PREFIX + upload.name))
        data = form_values(values, model)
    else:
        data = await _json(request)
    try:
        return model.model_validate(data), uploads
    except ValidationError as exc:
        request.scope[BODY_MODEL] = model  # for "did you mean" on a misspelt field
        raise RequestValidationError(exc.errors()) from None


async def _json(request: Request) -> Any:
    body = await request.body()
    try:
        return loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidField("body", where_json_broke(body, exc.pos, exc.msg)) from None
    except ValueError as exc:
        raise InvalidField("body", f"expected a JSON object or a form ({exc})") from None


def form_values(form: list[tuple[str, Any]], model: type[BaseModel]) -> dict[str, Any]:
    """A form's (name, value) pairs as the JSON body they stand for: nested `a[b]` fields,
    numbers and booleans where `model` has them. A field given twice (`a` twice, `a` and
    `a[b]`) is refused, as a duplicate JSON key is: taking one would ignore the other."""
    values: dict[str, Any] = {}
    form, loras = _without_loras(form)
    if loras is not None:
        values["loras"] = loras
    for name, value in form:
        outer, inner = name[:-1].split("[", 1) if "[" in name and name.endswith("]") else (name, "")
        into = values.setdefault(outer, {}) if inner else values
        key = inner or outer
        if not isinstance(into, dict) or key in into:
            raise InvalidField(outer, "given more than once")
        into[key] = value
    kinds = _scalar_kinds(model)
    for name, value in values.items():
        if isinstance(value, str) and name in kinds:
            values[name] = _typed(value, kinds[name])
    return values


LORA_FIELDS = ("loras[][name]", "loras[][scale]")
"""How the openai SDK sends `extra_body={"loras": [...]}` in a form (its "brackets" arrays):
every name in order, then every scale in order."""


def _without_loras(form: list[tuple[str, Any]]) -> tuple[list[tuple[str, Any]], Any]:
    """The form without its `loras[]` fields, and the list they stand for (None: none)."""
    rest = [(name, value) for name, value in form if not name.startswith("loras[]")]
    if len(rest) == len(form):
        return form, None
    names = [value for name, value in form if name == LORA_FIELDS[0]]
    scales = [_typed(value, _NUMBER) for name, value in form if name == LORA_FIELDS[1]]
    unknown = {name for name, _ in form if name.startswith("loras[]")} - set(LORA_FIELDS)
    if unknown or (scales and len(scales) != len(names)):
        raise InvalidField(
            "loras", "in a form: loras[][name] per adapter, loras[][scale] for all or none"
        )
    items: list[dict[str, Any]] = [{"name": name} for name in names]
    for item, scale in zip(items, scales, strict=False):
        item["scale"] = scale
    return rest, items


@cache
def _scalar_kinds(model: type[BaseModel]) -> dict[str, frozenset[str]]:
    """The JSON types (integer, number, boolean) each top-level field of `model` takes."""
    properties = model.model_json_schema().get("properties", {})
    return {
        name: frozenset(_types(schema)) & {"integer", "number", "boolean"}
        for name, schema in properties.items()
    }


def _types(schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    found = [schema["type"]] if isinstance(schema.get("type"), str) else []
    for alternatives in ("anyOf", "oneOf", "allOf"):
        for inner in schema.get(alternatives, []):
            found += _types(inner)
    return found


_INTEGER = re.compile(r"-?[0-9]{1,20}")
_DECIMAL = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")
_BOOLEANS = {"true": True, "false": False}
_NUMBER = frozenset({"number"})


def _typed(text: str, kinds: frozenset[str]) -> object:
    """ASCII digits only (`int()` alone would read other scripts' digits), `true` or `false`;
    anything else stays a string."""
    if "integer" in kinds and _INTEGER.fullmatch(text):
        return int(text)
    if "number" in kinds and _DECIMAL.fullmatch(text):
        return float(text)
    if "boolean" in kinds and text in _BOOLEANS:
        return _BOOLEANS[text]
    return text
