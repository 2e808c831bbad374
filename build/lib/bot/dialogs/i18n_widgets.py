"""aiogram-dialog widgets that render Fluent texts in the user's language.

``I18nText("wizard-phone-ask")`` renders the key with the translator the language middleware
put into ``middleware_data["t"]``; Fluent arguments come from the window's getter data
(plain values only: str, numbers, dates), optionally renamed or computed with ``args``:

    I18nText("wizard-summary", args={"doctor": "doctor_name", "when": lambda d: d["start"]})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from aiogram_dialog.api.protocols import DialogManager
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.text import Text

from bot.i18n import I18n, Translator

_PLAIN = (str, int, float, Decimal, datetime, date)

ArgSource = str | Callable[[dict[str, Any]], Any]


def translator_of(manager: DialogManager) -> Translator:
    """The update's translator; English when a dialog renders outside an update."""
    t = manager.middleware_data.get("t")
    if isinstance(t, Translator):
        return t
    i18n = manager.middleware_data.get("i18n")
    if isinstance(i18n, I18n):
        return i18n.translator("en")
    raise LookupError("no translator in middleware_data: is LanguageMiddleware installed?")


class I18nText(Text):
    def __init__(
        self,
        key: str,
        *,
        args: Mapping[str, ArgSource] | None = None,
        when: WhenCondition = None,
    ) -> None:
        super().__init__(when=when)
        self.key = key
        self.args = dict(args or {})

    def fluent_args(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: v for k, v in data.items() if isinstance(v, _PLAIN) and not k.startswith("_")
        }
        for name, source in self.args.items():
            out[name] = source(data) if callable(source) else data.get(source)
        return out

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        if manager.is_preview():
            return self.key
        return translator_of(manager)(self.key, **self.fluent_args(data))
