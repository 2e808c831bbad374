"""The Bot API specification (botapi/api.json, see botapi/README.md), parsed once per process.

Only what the request validator needs: each method's parameters and each object type's
fields (name, declared types, required), the abstract types' subtypes with the value of
their discriminating field ("type": "chat" for BotCommandScopeChat), and the few
enumerations the documentation gives in prose (parse modes, chat actions, update types,
the action fields of an inline keyboard button).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("botapi") / "api.json"

# "Mode for parsing entities ... See formatting options": the formatting options section of
# the documentation names three modes; Telegram compares them case-insensitively.
PARSE_MODES = frozenset({"html", "markdownv2", "markdown"})

_DISCRIMINATOR_RE = re.compile(r"(?:must be|always) [“\"]?([A-Za-z_]+)")
_CHAT_ACTION_RE = re.compile(r"\b([a-z_]+) (?:for|or)\b")
_BUTTON_RE = re.compile(r"fields other than (.+?) must be used")


@dataclass(frozen=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str


@dataclass(frozen=True)
class ObjectType:
    name: str
    fields: dict[str, Field]
    # Abstract types (BotCommandScope, MenuButton, ...) list their concrete subtypes.
    subtypes: tuple[str, ...] = ()
    # A subtype's discriminating field and its fixed value: ("type", "chat").
    discriminator: tuple[str, str] | None = None

    @property
    def discriminator_name(self) -> str | None:
        return self.discriminator[0] if self.discriminator else None

    @property
    def discriminator_value(self) -> str | None:
        return self.discriminator[1] if self.discriminator else None


@dataclass(frozen=True)
class Method:
    name: str
    fields: dict[str, Field]


@dataclass(frozen=True)
class Spec:
    version: str
    methods: dict[str, Method]  # by lower-cased name: Telegram ignores the case
    types: dict[str, ObjectType]
    update_types: frozenset[str]
    chat_actions: frozenset[str]
    button_actions: frozenset[str]  # InlineKeyboardButton: exactly one of these

    def method(self, name: str) -> Method | None:
        return self.methods.get(name.lower())


def _fields(raw: list[dict[str, Any]] | None) -> dict[str, Field]:
    return {
        f["name"]: Field(f["name"], tuple(f["types"]), bool(f["required"]), f["description"])
        for f in raw or []
    }


def _discriminator(fields: dict[str, Field]) -> tuple[str, str] | None:
    first = next(iter(fields.values()), None)
    if first is None or first.types != ("String",):
        return None
    match = _DISCRIMINATOR_RE.search(first.description)
    return (first.name, match.group(1)) if match else None


def _parse(data: dict[str, Any]) -> Spec:
    types: dict[str, ObjectType] = {}
    parents = {
        sub for raw in data["types"].values() for sub in raw.get("subtypes", ())
    }
    for name, raw in data["types"].items():
        fields = _fields(raw.get("fields"))
        types[name] = ObjectType(
            name,
            fields,
            tuple(raw.get("subtypes", ())),
            _discriminator(fields) if name in parents else None,
        )
    methods = {
        name.lower(): Method(name, _fields(raw.get("fields")))
        for name, raw in data["methods"].items()
    }
    action = methods["sendchataction"].fields["action"].description
    button = " ".join(data["types"]["InlineKeyboardButton"]["description"])
    match = _BUTTON_RE.search(button)
    if match is None:  # pragma: no cover - a spec update changed the wording
        raise ValueError("InlineKeyboardButton: can't find which fields are not actions")
    not_actions = set(re.split(r",\s*(?:and\s+)?|\s+and\s+", match.group(1)))
    return Spec(
        version=data["version"],
        methods=methods,
        types=types,
        update_types=frozenset(types["Update"].fields) - {"update_id"},
        chat_actions=frozenset(_CHAT_ACTION_RE.findall(action)),
        button_actions=frozenset(types["InlineKeyboardButton"].fields) - not_actions,
    )


@functools.cache
def load_spec() -> Spec:
    with SPEC_PATH.open(encoding="utf-8") as file:
        return _parse(json.load(file))
