"""aiogram's Telegram types and methods, each validator built when first used.

At import, ``aiogram.types`` calls ``model_rebuild`` on every one of its ~300 types, and
pydantic builds a validator and a serializer for each, every nested type inlined again:
about 100 MiB and 2 s of start-up in every process, against the couple of dozen types a
bot ever parses or sends (Update and what it carries, Message, the methods it calls).
``defer_aiogram_builds()``, called before anything imports aiogram, lets that loop only
record the namespace its forward references resolve in; pydantic then builds a type's
validator on its first use (its mock validator calls ``model_rebuild`` then), in that same
namespace. What is validated, and how, does not change; only when it is built.

Relies on aiogram ending ``aiogram/types/__init__.py`` with that loop (it passes
``_types_namespace``) and on pydantic's deferred build (``defer_build=True``, which
aiogram's types and methods set); tests/bot_runtime/test_lean_start.py
checks both in a fresh interpreter.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

_NAMESPACE: dict[str, Any] = {}  # what aiogram's eager loop passed: every type, by name


def _is_aiogram(cls: type) -> bool:
    return cls.__module__.startswith("aiogram.")


def defer_aiogram_builds() -> bool:
    """Make aiogram's import record instead of build; False when aiogram came first."""
    if "aiogram" in sys.modules:
        return False
    original = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]

    def recording(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        if _is_aiogram(cls) and _types_namespace is not None and not force:
            _NAMESPACE.update(_types_namespace)
            return None  # built on first use instead
        return original(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(recording)  # type: ignore[assignment,method-assign]
    try:
        import aiogram.client.context_controller
        import aiogram.methods.base
    finally:
        BaseModel.model_rebuild = classmethod(original)  # type: ignore[method-assign,assignment]

    def on_first_use(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: Any = None,
    ) -> bool | None:
        return original(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_NAMESPACE if _types_namespace is None else _types_namespace,
        )

    # The roots of aiogram's models: types and methods (BotContextController), and the
    # request/answer envelopes (Response[list[Update]] is what getUpdates parses).
    bases: tuple[type[BaseModel], ...] = (
        aiogram.client.context_controller.BotContextController,
        aiogram.methods.base.Response,
        aiogram.methods.base.Request,
    )
    for base in bases:
        base.model_rebuild = classmethod(on_first_use)  # type: ignore[method-assign,assignment]
    return True


def built_types() -> int:
    """How many aiogram types have their validator built (for tests and benchmarks)."""
    import aiogram.types

    return sum(
        1
        for name in aiogram.types.__all__
        if isinstance(cls := getattr(aiogram.types, name), type)
        and issubclass(cls, BaseModel)
        and cls.__pydantic_complete__
    )
