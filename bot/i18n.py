"""Fluent-based translations.

Every ``bot/locales/<lang>/*.ftl`` file is loaded into one bundle per language (ru, en).
Keys are prefixed by flow (``access-…``, ``wizard-…``, ``notify-…``, ``list-…``) so the
files of different flows never collide.

Usage::

    i18n = I18n(LOCALES_DIR)
    t = i18n.translator("ru")
    t("access-no-access", user_id=str(123))

Arguments named ``id`` or ending in ``_id`` are passed to Fluent as strings: Fluent would
otherwise format a Telegram id with the locale's digit grouping ("123 456 789").
A key missing in the requested language falls back to the other language, then to the key
itself; each miss is logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from fluent.runtime import FluentBundle
from fluent.syntax import FluentParser
from fluent.syntax.ast import Junk, Message, Resource

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = ("ru", "en")
DEFAULT_LANGUAGE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"

# Telegram language codes that get the Russian texts.
_RUSSIAN_CODES = frozenset({"ru", "uk", "be", "kk"})


def resolve_language(chosen: str | None, telegram_code: str | None) -> str:
    """The user's explicit choice wins; otherwise Telegram's ``language_code`` decides."""
    if chosen in LANGUAGES:
        return chosen
    if telegram_code:
        primary = telegram_code.lower().replace("_", "-").split("-", 1)[0]
        if primary in _RUSSIAN_CODES:
            return "ru"
    return "en"


# Messages that are not answers, to someone whose language nothing tells (never chose one,
# no Telegram language_code seen yet): the clinic's staff work in Russian.
PUSH_FALLBACK_LANGUAGE = "ru"


class KnowsLanguages(Protocol):
    """What `language_of` reads: a storage ``User`` fits."""

    @property
    def language(self) -> str | None: ...

    @property
    def telegram_language(self) -> str | None: ...


def language_of(user: KnowsLanguages | None) -> str:
    """The language of a message the bot sends on its own (notification, reminder, alert,
    demo mark of an outbox row) to a stored user — the one rule every such path follows.

    As in a chat (DESIGN.md, Conventions): the language chosen with /language, else the one
    of their Telegram client (``users.telegram_language``, recorded by the user
    middleware). Only when neither is known (a user who has not written since it was
    recorded, an ADMIN_IDS entry never seen) Russian, not ``resolve_language``'s English.
    """
    if user is None:
        return PUSH_FALLBACK_LANGUAGE
    chosen, code = user.language, user.telegram_language
    if chosen not in LANGUAGES and not code:
        return PUSH_FALLBACK_LANGUAGE
    return resolve_language(chosen, code)


class FtlSyntaxError(ValueError):
    """A .ftl file holds entries Fluent could not parse."""


def parse_errors(text: str) -> list[str]:
    """Annotations of every Junk entry in one .ftl source (empty when the file is clean)."""
    return _junk(FluentParser(with_spans=True).parse(text))


def _junk(resource: Resource) -> list[str]:
    errors: list[str] = []
    for entry in resource.body:
        if isinstance(entry, Junk):
            notes = "; ".join(a.message for a in entry.annotations if a.message) or "junk"
            errors.append(f"{notes}: {(entry.content or '').strip()[:60]!r}")
    return errors


def message_ids(text: str) -> set[str]:
    """Ids of the messages (not terms) defined in one .ftl source."""
    resource = FluentParser(with_spans=False).parse(text)
    return {e.id.name for e in resource.body if isinstance(e, Message)}


class Translate(Protocol):
    """Any ``t(key, **args) -> str``: a ``Translator``, or a stand-in in a pure renderer's
    tests."""

    def __call__(self, key: str, /, **args: object) -> str: ...


class Translator:
    """Callable bound to one language: ``t(key, **args) -> str``."""

    __slots__ = ("_i18n", "lang")

    def __init__(self, i18n: I18n, lang: str) -> None:
        self._i18n = i18n
        self.lang = lang

    def __call__(self, key: str, /, **args: object) -> str:
        return self._i18n.format(self.lang, key, args)

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"


class I18n:
    def __init__(self, locales_dir: Path | str = LOCALES_DIR, *, strict: bool = False) -> None:
        self.locales_dir = Path(locales_dir)
        self._bundles: dict[str, FluentBundle] = {}
        self._keys: dict[str, set[str]] = {}
        self._reported: set[tuple[str, str]] = set()
        self._translators: dict[str, Translator] = {}
        self._plain: dict[tuple[str, str], str] = {}
        for lang in LANGUAGES:
            # Unicode isolation marks (FSI/PDI) are shown by Telegram as stray characters.
            bundle = FluentBundle([lang], use_isolating=False)
            keys: set[str] = set()
            for path in sorted((self.locales_dir / lang).glob("*.ftl")):
                # Parsed once, without source spans: the bundle keeps this tree for good.
                resource = FluentParser(with_spans=False).parse(path.read_text(encoding="utf-8"))
                errors = _junk(resource)
                if errors:
                    msg = f"{path}: {errors[0]}"
                    if strict:
                        raise FtlSyntaxError(msg)
                    log.error("ftl_parse_error file=%s count=%d", path, len(errors))
                bundle.add_resource(resource)
                keys |= {e.id.name for e in resource.body if isinstance(e, Message)}
            self._bundles[lang] = bundle
            self._keys[lang] = keys
            self._translators[lang] = Translator(self, lang)

    @property
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES

    def keys(self, lang: str) -> set[str]:
        return set(self._keys.get(lang, set()))

    def translator(self, lang: str | None) -> Translator:
        return self._translators.get(lang or "", self._translators[DEFAULT_LANGUAGE])

    def has(self, lang: str, key: str) -> bool:
        bundle = self._bundles.get(lang)
        return bundle is not None and bundle.has_message(key)

    def format(self, lang: str, key: str, args: Mapping[str, object] | None = None) -> str:
        if args:
            return self._format(lang, key, args)
        # Most texts take no arguments (labels, step titles): formatted once per language.
        found = self._plain.get((lang, key))
        if found is None:
            found = self._plain[(lang, key)] = self._format(lang, key, {})
        return found

    def _format(self, lang: str, key: str, args: Mapping[str, object]) -> str:
        prepared = _prepare_args(args)
        for candidate in self._fallback_chain(lang):
            bundle = self._bundles[candidate]
            if not bundle.has_message(key):
                continue
            message = bundle.get_message(key)
            if message.value is None:
                continue
            if candidate != lang:
                self._report_once(lang, key)
            text, errors = bundle.format_pattern(message.value, prepared)
            if errors:
                self._report_once(candidate, key, errors)
            return str(text)
        self._report_once(lang, key)
        return key

    def _fallback_chain(self, lang: str) -> Iterable[str]:
        first = lang if lang in self._bundles else DEFAULT_LANGUAGE
        yield first
        for other in LANGUAGES:
            if other != first:
                yield other

    def _report_once(self, lang: str, key: str, errors: list[Exception] | None = None) -> None:
        if (lang, key) in self._reported:
            return
        self._reported.add((lang, key))
        if errors:
            log.warning("i18n_format_error lang=%s key=%s error=%s", lang, key, errors[0])
        else:
            log.warning("i18n_missing_key lang=%s key=%s", lang, key)


def _prepare_args(args: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in args.items():
        if value is None:
            out[name] = ""
        elif (name == "id" or name.endswith("_id")) and isinstance(value, int):
            out[name] = str(value)
        else:
            out[name] = value
    return out
