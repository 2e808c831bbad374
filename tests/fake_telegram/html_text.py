"""Telegram's HTML parse mode, parsed the way the Bot API does it.

The fake needs the text the user actually sees (tags stripped, entities decoded) for the
4096-character check and for assertions, and it must refuse the markup Telegram refuses, with
Telegram's own wording, so a formatting bug fails in tests instead of in production.
The rules follow tdlib's `parse_html`: only the documented tags, byte offsets in errors,
unknown `&name;` entities kept literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# tag -> entity type; `span` is a spoiler only with class="tg-spoiler" (checked below).
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlParseError(ValueError):
    """Markup Telegram would refuse; str() is the part after "can't parse entities: "."""


@dataclass(frozen=True)
class Entity:
    type: str
    offset: int  # UTF-16 code units, as in the Bot API
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key in ("url", "language", "custom_emoji_id"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class ParsedText:
    text: str
    entities: tuple[Entity, ...] = ()


@dataclass
class _Open:
    tag: str
    start16: int
    attrs: dict[str, str]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, i: int) -> tuple[str, int] | None:
    """Decode `&...;` at i; None when it is not an entity Telegram knows (kept literally)."""
    end = source.find(";", i + 1, i + 12)
    if end == -1:
        return None
    body = source[i + 1 : end]
    if body.startswith("#"):
        digits = body[1:]
        try:
            code = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits, 10)
            return chr(code), end + 1
        except (ValueError, OverflowError):
            return None
    if body in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[body], end + 1
    return None


def decode_entities(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&" and (decoded := _decode_entity(text, i)) is not None:
            out.append(decoded[0])
            i = decoded[1]
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _parse_attributes(source: str, i: int, begin: int, tag: str) -> tuple[dict[str, str], int]:
    """Parse attributes from i (just after the tag name); return them and the index after '>'."""
    n = len(source)
    attrs: dict[str, str] = {}
    offset = _byte_offset(source, begin)
    while True:
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {offset}")
        if source[i] == ">":
            return attrs, i + 1
        name_start = i
        while i < n and not source[i].isspace() and source[i] not in "=>":
            i += 1
        name = source[name_start:i].lower()
        if not name:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        while i < n and source[i].isspace():
            i += 1
        if i < n and source[i] != "=" and name == "expandable":
            attrs[name] = ""  # the one boolean attribute Telegram accepts
            continue
        if i >= n or source[i] != "=":
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {offset}"
            )
        i += 1
        while i < n and source[i].isspace():
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {offset}")
        if source[i] in "'\"":
            quote = source[i]
            end = source.find(quote, i + 1)
            if end == -1:
                raise HtmlParseError(f"Unclosed start tag at byte offset {offset}")
            value = decode_entities(source[i + 1 : end])
            i = end + 1
        else:
            value_start = i
            while i < n and (source[i].isalnum() or source[i] in ".-"):
                i += 1
            value = source[value_start:i]
            if not value:
                raise HtmlParseError(f"Expected quote at byte offset {_byte_offset(source, i)}")
        if i < n and not source[i].isspace() and source[i] != ">":
            raise HtmlParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(source, i)}"
            )
        attrs[name] = value


def _entity_for(open_tag: _Open, end16: int, inner_code: Entity | None) -> Entity | None:
    length = end16 - open_tag.start16
    if length <= 0:
        return None
    kind = _TAG_ENTITY[open_tag.tag]
    attrs = open_tag.attrs
    if kind == "text_link":
        href = attrs.get("href")
        return Entity(kind, open_tag.start16, length, url=href) if href else None
    if kind == "custom_emoji":
        return Entity(kind, open_tag.start16, length, custom_emoji_id=attrs.get("emoji-id"))
    if kind == "blockquote" and "expandable" in attrs:
        kind = "expandable_blockquote"
    if kind == "pre" and inner_code is not None and inner_code.language:
        return Entity("pre", open_tag.start16, length, language=inner_code.language)
    if kind == "code":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            return Entity(kind, open_tag.start16, length, language=language[len("language-") :])
    return Entity(kind, open_tag.start16, length)


def parse_html(source: str) -> ParsedText:
    """Return the visible text and its entities, or raise HtmlParseError like Telegram."""
    out: list[str] = []
    out16 = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    n = len(source)
    i = 0

    def emit(chunk: str) -> None:
        nonlocal out16
        out.append(chunk)
        out16 += utf16_len(chunk)

    while i < n:
        ch = source[i]
        if ch == "&":
            decoded = _decode_entity(source, i)
            if decoded is None:
                emit("&")
                i += 1
            else:
                emit(decoded[0])
                i = decoded[1]
            continue
        if ch != "<":
            emit(ch)
            i += 1
            continue
        begin = i
        i += 1
        if i >= n or source[i] != "/":
            name_start = i
            while i < n and not source[i].isspace() and source[i] != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
                )
            tag = source[name_start:i].lower()
            if tag not in _TAG_ENTITY:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
                )
            attrs, i = _parse_attributes(source, i, begin, tag)
            if tag == "span" and attrs.get("class") != "tg-spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(source, begin)}"
                )
            stack.append(_Open(tag, out16, attrs))
            continue
        # an end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
        i += 1
        name_start = i
        while i < n and not source[i].isspace() and source[i] != ">":
            i += 1
        end_name = source[name_start:i].lower()
        while i < n and source[i].isspace():
            i += 1
        if i >= n or source[i] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
        i += 1
        open_tag = stack.pop()
        if end_name and end_name != open_tag.tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                f'expected "</{open_tag.tag}>", found "</{end_name}>"'
            )
        inner_code = None
        # <pre><code class="language-x"> is one pre entity with a language
        if (
            open_tag.tag == "pre"
            and entities
            and entities[-1].type == "code"
            and entities[-1].offset == open_tag.start16
            and entities[-1].language
        ):
            inner_code = entities.pop()
        entity = _entity_for(open_tag, out16, inner_code)
        if entity is not None:
            entities.append(entity)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e.offset, -e.length))
    return ParsedText("".join(out), tuple(entities))
