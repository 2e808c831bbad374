"""The unit's reads and writes of conversation state kept in Redis (bot/fsm_unit.py).

Same keys, values and TTLs as aiogram's ``RedisStorage`` (which serves direct calls), so
a conversation moves between the two without a trace. An update reads once — one script
call returning the FSM state and data, aiogram-dialog's default stack and the context on top
of it — and writes once: one MULTI/EXEC of the values that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_unit import EMPTY_DATA, Part, Prefetch, StateUnit, UnitStorage, Value

if TYPE_CHECKING:
    from aiogram.fsm.storage.redis import RedisStorage

# aiogram-dialog 2.x keys (aiogram_dialog/context/storage.py): a stack's record holds the
# ids of its intents, the last one on top; each intent's context has a record of its own.
STACK_DESTINY = "aiogd:stack:"
CONTEXT_DESTINY = "aiogd:context:"
_INTENT = "\x00intent\x00"  # stands for the intent id while the context key is built

# KEYS: FSM state, FSM data, stack data; ARGV: the context key before/after its intent id.
# Reads the context of the stack's top intent in the same call (undeclared key: standalone
# Redis, as the bot uses it; a cluster would need the keys to share a hash slot).
_PREFETCH = """
local values = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])
local intent = false
local context = false
if values[3] then
  local ok, stack = pcall(cjson.decode, values[3])
  if ok and type(stack) == 'table' and type(stack['intents']) == 'table' then
    local top = stack['intents'][#stack['intents']]
    if type(top) == 'string' then
      intent = top
      context = redis.call('GET', ARGV[1] .. top .. ARGV[2])
    end
  end
end
return {values[1], values[2], values[3], intent, context}
"""


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


class RedisStateIO:
    """``StateIO`` over a ``RedisStorage``'s client, key builder, JSON and TTLs."""

    in_transaction = False

    def __init__(self, storage: RedisStorage) -> None:
        self.storage = storage
        self._prefetch = storage.redis.register_script(_PREFETCH)

    def encode(self, data: Mapping[str, Any]) -> str:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        return self.storage.json_dumps(data) if data else EMPTY_DATA

    def decode(self, raw: str) -> dict[str, Any]:
        return cast(dict[str, Any], self.storage.json_loads(raw))

    def _build(self, key: StorageKey, part: Part) -> str:
        return self.storage.key_builder.build(key, part)

    async def prefetch(self, unit: StateUnit, key: StorageKey) -> Prefetch:
        fsm = StorageKey(
            bot_id=key.bot_id,
            chat_id=key.chat_id,
            user_id=key.user_id,
            thread_id=key.thread_id,
            business_connection_id=key.business_connection_id,
        )
        # aiogram-dialog's default stack: "" in a private chat, one per user elsewhere.
        private = key.user_id == key.chat_id and key.business_connection_id is None
        stack_id = "" if private else f"<{key.user_id}>"
        dialog = StorageKey(
            bot_id=key.bot_id,
            chat_id=key.chat_id,
            user_id=key.chat_id,
            thread_id=key.thread_id,
            business_connection_id=key.business_connection_id,
            destiny=STACK_DESTINY + stack_id,
        )
        before, _, after = self._build(
            replace(dialog, destiny=CONTEXT_DESTINY + _INTENT), "data"
        ).partition(_INTENT)
        state, data, stack, intent, context = await self._prefetch(
            keys=[self._build(fsm, "state"), self._build(fsm, "data"), self._build(dialog, "data")],
            args=[before, after],
        )
        values: dict[tuple[StorageKey, Part], Value] = {
            (fsm, "state"): _text(state),
            (fsm, "data"): _text(data) or EMPTY_DATA,
            (dialog, "data"): _text(stack) or EMPTY_DATA,
        }
        if intent is not None:
            top = replace(dialog, destiny=CONTEXT_DESTINY + str(_text(intent)))
            values[(top, "data")] = _text(context) or EMPTY_DATA
        return Prefetch(values)

    async def read(self, unit: StateUnit, key: StorageKey, part: Part) -> Value:
        raw = _text(await self.storage.redis.get(self._build(key, part)))
        return raw if raw is not None or part == "state" else EMPTY_DATA

    async def write(self, unit: StateUnit, changes: dict[StorageKey, dict[Part, Value]]) -> None:
        async with self.storage.redis.pipeline(transaction=True) as pipe:
            for key, parts in changes.items():
                for part, value in parts.items():
                    name = self._build(key, part)
                    if value is None or (part == "data" and value == EMPTY_DATA):
                        pipe.delete(name)
                    else:
                        ttl = self.storage.state_ttl if part == "state" else self.storage.data_ttl
                        pipe.set(name, value, ex=ttl)
            await pipe.execute()


def redis_storage(storage: RedisStorage) -> UnitStorage:
    """The dispatcher's storage on Redis: ``storage`` direct outside updates, unit inside."""
    return UnitStorage(storage, RedisStateIO(storage))
