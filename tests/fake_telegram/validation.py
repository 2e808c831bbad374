"""Every request the fake receives, checked against the Bot API specification (spec.py).

Refused with a 400 (`{"ok": false, "error_code": 400, "description": "Bad Request: ..."}`),
before any method runs:
  * a parameter the method does not declare (Telegram itself ignores these; the fake refuses
    them so a misspelt or retired parameter, like disable_web_page_preview, is a failing
    test rather than a silently ignored option), and an upload nothing refers to;
  * a required parameter that is missing;
  * a value that is not of a declared type: Integer, Float, Boolean ("true"/"false"/"1"/"0"
    in form data), String, InputFile (an upload or `attach://<name>` naming one), arrays, and
    the object types recursively (unknown or missing fields, wrong field types; abstract
    types such as BotCommandScope and MenuButton by their `type`);
  * the enumerations the documentation gives in prose: parse_mode, sendChatAction's action,
    the update types of allowed_updates, and exactly one action per inline keyboard button.

Where Telegram has its own error text (reply markup, keyboard buttons, parse_mode, chat
action) the fake answers with it; the other texts name the parameter and the expected type.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import ApiError, bad_request
from .params import Params
from .spec import PARSE_MODES, Field, Method, ObjectType, Spec, load_spec

_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_ATTACH_RE = re.compile(r"attach://([^\s\"']+)")
_BOOLEAN_STRINGS = frozenset({"true", "false", "1", "0"})
_SCALARS = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
# Telegram's own texts for a missing value (the others say "parameter <name> is required").
_MISSING = {"text": "message text is empty", "chat_id": "chat_id is empty"}
_LABELS = {"reply_markup": "reply keyboard markup"}
_BUTTON = "can't parse inline keyboard button: "


class Violation(Exception):
    """A value the specification refuses.

    final: the detail is Telegram's whole text; mismatch: only "not of this type";
    json: the form field is not JSON; overlap: how many fields of an object matched (ranks
    the candidates of a union such as reply_markup)."""

    def __init__(
        self,
        detail: str,
        *,
        final: bool = False,
        mismatch: bool = False,
        json: bool = False,
        overlap: int = 0,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.final = final
        self.mismatch = mismatch
        self.json = json
        self.overlap = overlap


def validate_request(method_name: str, params: Params) -> None:
    """Raise ApiError(400) unless the request is what the specification allows.

    Methods the specification does not know are left to the server (404)."""
    spec = load_spec()
    method = spec.method(method_name)
    if method is None:
        return
    _Checker(spec, params).check_method(method)


def _present(value: Any) -> bool:
    return value is not None


class _Checker:
    def __init__(self, spec: Spec, params: Params) -> None:
        self.spec = spec
        self.params = params
        self.attached = {
            name
            for value in params.values.values()
            for name in _ATTACH_RE.findall(value if isinstance(value, str) else json.dumps(value))
        }

    # ---- top level ------------------------------------------------------------------------

    def check_method(self, method: Method) -> None:
        params = self.params
        for key in params.values:
            if key not in method.fields:
                raise bad_request(f'unknown parameter "{key}" for method {method.name}')
        for key in params.uploads:
            field = method.fields.get(key)
            if key not in self.attached and (field is None or "InputFile" not in field.types):
                raise bad_request(f'unknown parameter "{key}" for method {method.name}')
        for field in method.fields.values():
            value = params.values.get(field.name)
            if value is None or (value == "" and "String" not in field.types):
                if field.required and field.name not in params.uploads:
                    missing = _MISSING.get(field.name, f"parameter {field.name} is required")
                    raise bad_request(missing)
                continue
            try:
                self.check_param(method, field, value)
            except Violation as exc:
                raise _api_error(field, exc) from None

    def check_param(self, method: Method, field: Field, value: Any) -> None:
        self.union(value, field.types, top=True, name=field.name)
        decoded = self.decode(value) if field.name == "allowed_updates" else None
        if isinstance(decoded, list):
            unknown = [u for u in decoded if u not in self.spec.update_types]
            if unknown:
                raise Violation(
                    f'allowed_updates: unsupported update type "{unknown[0]}"', final=True
                )
        if (method.name, field.name) == ("sendChatAction", "action") and (
            value not in self.spec.chat_actions
        ):
            raise Violation("wrong parameter action in request", final=True)

    def decode(self, value: Any) -> Any:
        """A form field holding an object or array is JSON text."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise Violation("not JSON", json=True) from None

    # ---- values ---------------------------------------------------------------------------

    def union(self, value: Any, types: tuple[str, ...], *, top: bool, name: str) -> None:
        if (
            "InputFile" in types
            and isinstance(value, str)
            and value.startswith("attach://")
            and value.removeprefix("attach://") not in self.params.uploads
        ):
            raise Violation(f"{name}: there is no file {value} in the request", final=True)
        failures: list[Violation] = []
        for type_name in types:
            try:
                self.value(value, type_name, top=top, name=name)
                return
            except Violation as exc:
                if exc.final:
                    raise
                failures.append(exc)
        for failure in failures:
            if failure.json or failure.final:
                raise failure
        best = max(failures, key=lambda f: f.overlap)
        if best.overlap:
            raise best
        for failure in failures:
            if not failure.mismatch:
                raise failure
        raise Violation(_mismatch(types), mismatch=True)

    def value(self, value: Any, type_name: str, *, top: bool, name: str) -> None:
        if type_name.startswith("Array of "):
            items = self.decode(value) if top else value
            if not isinstance(items, list):
                raise Violation(_mismatch((type_name,)), mismatch=True)
            inner = type_name.removeprefix("Array of ")
            for item in items:
                self.union(item, (inner,), top=False, name=name)
            return
        if type_name in _SCALARS:
            if not self.scalar(value, type_name, top=top):
                raise Violation(_mismatch((type_name,)), mismatch=True)
            parse_mode = name == "parse_mode" or name.endswith("_parse_mode")
            if parse_mode and value and str(value).lower() not in PARSE_MODES:
                raise Violation("unsupported parse_mode", final=True)
            return
        obj = self.spec.types.get(type_name)
        if obj is None:
            raise Violation(f"unknown type {type_name}")
        self.object(self.decode(value) if top else value, obj)

    def scalar(self, value: Any, type_name: str, *, top: bool) -> bool:
        text = top and isinstance(value, str)  # form data: every scalar arrives as text
        if type_name == "String":
            return isinstance(value, str)
        if type_name == "Integer":
            if text:
                return bool(_INTEGER_RE.match(value))
            return isinstance(value, int) and not isinstance(value, bool)
        if type_name == "Float":
            if text:
                try:
                    float(value)
                except ValueError:
                    return False
                return True
            return isinstance(value, int | float) and not isinstance(value, bool)
        if type_name == "Boolean":
            if text:
                return value.lower() in _BOOLEAN_STRINGS
            return isinstance(value, bool)
        # InputFile: a file in this multipart request, referred to as attach://<name>.
        return (
            isinstance(value, str)
            and value.startswith("attach://")
            and value.removeprefix("attach://") in self.params.uploads
        )

    # ---- objects --------------------------------------------------------------------------

    def object(self, value: Any, obj: ObjectType) -> None:
        if not isinstance(value, dict):
            raise Violation(f"{obj.name} should be an Object", mismatch=True)
        if obj.subtypes:
            self.abstract(value, obj)
            return
        overlap = len(value.keys() & obj.fields.keys()) + 1
        for key in value:
            if key not in obj.fields:
                raise Violation(f'{obj.name}: unknown field "{key}"', overlap=overlap)
        if obj.name == "InlineKeyboardMarkup" and "inline_keyboard" in value:
            self.inline_keyboard(value)
        for field in obj.fields.values():
            item = value.get(field.name)
            if item is None:
                if field.required:
                    raise Violation(f'Can\'t find field "{field.name}"', overlap=overlap)
                continue
            try:
                self.union(item, field.types, top=False, name=field.name)
            except Violation as exc:
                if exc.final:
                    raise
                separator = " " if exc.mismatch else ": "
                raise Violation(
                    f'Field "{field.name}"{separator}{exc.detail}', overlap=overlap
                ) from None
            if field.name == obj.discriminator_name and item != obj.discriminator_value:
                # Not this subtype: a union of subtypes (InputMedia*) tries the next one.
                raise Violation(f'Field "{field.name}" must be "{obj.discriminator_value}"',
                                mismatch=True)
        if obj.name == "InlineKeyboardButton":
            actions = sorted(value.keys() & self.spec.button_actions)
            if not actions:
                raise Violation("Text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise Violation(
                    f"exactly one action field must be used, got {', '.join(actions)}"
                )

    def abstract(self, value: dict[str, Any], obj: ObjectType) -> None:
        concrete = [self.spec.types[s] for s in obj.subtypes if s in self.spec.types]
        keyed = [c for c in concrete if c.discriminator is not None]
        key = keyed[0].discriminator_name if keyed else None
        if key is not None and len(keyed) == len(obj.subtypes):
            if value.get(key) is None:
                raise Violation(f'{obj.name}: Can\'t find field "{key}"', overlap=1)
            chosen = next((c for c in keyed if c.discriminator_value == value[key]), None)
            if chosen is None:
                raise Violation(f'{obj.name}: unsupported {key} "{value[key]}"', overlap=1)
            self.object(value, chosen)
            return
        self.union(value, obj.subtypes, top=False, name=obj.name)

    def inline_keyboard(self, value: dict[str, Any]) -> None:
        rows = value.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise Violation(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of '
                "Arrays",
                final=True,
            )
        button = self.spec.types["InlineKeyboardButton"]
        for row in rows:
            for item in row:
                if not isinstance(item, dict):
                    detail = _BUTTON + "InlineKeyboardButton should be an Object"
                    raise Violation(detail, final=True)
                try:
                    self.object(item, button)
                except Violation as exc:
                    raise Violation(_BUTTON + exc.detail, final=True) from None


def _is_scalar(type_name: str) -> bool:
    return type_name in _SCALARS


def _mismatch(types: tuple[str, ...]) -> str:
    return "must be of type " + " or ".join(types)


def _api_error(field: Field, exc: Violation) -> ApiError:
    if exc.final:
        return bad_request(exc.detail)
    if exc.json:
        return bad_request(f"can't parse {_LABELS.get(field.name, field.name)} JSON object")
    if all(_is_scalar(t) for t in field.types):
        return bad_request(f"invalid {field.name} specified: {exc.detail}")
    label = _LABELS.get(field.name, field.name)
    return bad_request(f"can't parse {label} JSON object: {exc.detail}")
