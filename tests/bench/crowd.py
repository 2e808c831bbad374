"""The fake crowd of the update benchmarks: players that walk the /start_callback wizard
or talk to an echo bot over the fake Bot API, one step at a time (a real user reads the answer
before the next tap), and the latency of each step.

Used by tests.bench.updates, tests.bench.update_floors and tests.bench.footprint; the
wizard's texts are the Russian ones of the bot (see tests/wizard/helpers).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.update_costs import Costs

DOCTOR = "Иванова Мария Петровна · Терапевт"
CANCEL = "✖ Отмена"
PHONE = "+7 909 970-85-93"
NAME = "Петров Пётр Иванович"
# What the chat shows once each step was answered (Russian texts, see tests/wizard/helpers).
ASK_DOCTOR = "Шаг 1: врач"
ASK_PHONE = "Шаг 2: телефон пациента"
ASK_NAME = "Шаг 3: ФИО пациента"
ASK_TIME = "Шаг 4: когда начать?"
CANCELLED = "Отменено"
STEPS_PER_CYCLE = 5
FIRST_USER = 700_000
STEP_TIMEOUT = 30.0  # one answer; a run is bounded by updates x this at worst


@dataclass
class RunResult:
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    costs: Costs | None = None  # wizard runs: what the storage did during the run

    @property
    def count(self) -> int:
        return len(self.latencies_ms)


def _last_text(tg: Any, chat_id: int) -> str:
    messages = tg.state.chats[chat_id].messages
    for message in reversed(messages.values()):
        if message.from_bot and not message.deleted:
            return str(message.content)
    return ""


async def _step(
    tg: Any, chat_id: int, act: Callable[[], Any], answered: Callable[[], bool]
) -> float:
    """Enqueue one update (act, without waiting) and wait for its answer; latency in ms."""
    started = time.perf_counter()
    await act()
    await tg.wait_for(lambda: answered() or None, timeout=STEP_TIMEOUT, chat_id=chat_id)
    return (time.perf_counter() - started) * 1000


async def wizard_user(
    tg: Any, user_id: int, steps: int, out: list[float], reading_s: float = 0.0
) -> None:
    """``reading_s``: the player reads each answer for about that long (0.5–1.5×, seeded by
    the user id) before the next tap, and comes in at a random moment of the first such
    period; 0: all come in at once and tap again at once (a closed loop)."""
    user = tg.user(user_id, first_name="Коорд", language_code="ru")
    pace = random.Random(user_id)
    chat = user.chat_id
    marker_count = {"n": 0}

    def shows(marker: str) -> Callable[[], bool]:
        return lambda: marker in _last_text(tg, chat)

    def cancelled() -> bool:
        # "Отменено" stays visible from the last cycle: count its occurrences instead.
        seen = sum(
            1
            for m in tg.state.chats[chat].messages.values()
            if m.from_bot and CANCELLED in m.content
        )
        return seen > marker_count["n"]

    script: list[tuple[Callable[[], Any], Callable[[], bool]]] = [
        (lambda: user.send_command("start_callback", wait=False), shows(ASK_DOCTOR)),
        (lambda: user.press(DOCTOR, wait=False), shows(ASK_PHONE)),
        (lambda: user.send_text(PHONE, wait=False), shows(ASK_NAME)),
        (lambda: user.send_text(NAME, wait=False), shows(ASK_TIME)),
        (lambda: user.press(CANCEL, wait=False), cancelled),
    ]
    for k in range(steps):
        if reading_s:
            await asyncio.sleep(reading_s * (pace.uniform(0.5, 1.5) if k else pace.random()))
        act, answered = script[k % STEPS_PER_CYCLE]
        out.append(await _step(tg, chat, act, answered))
        if k % STEPS_PER_CYCLE == STEPS_PER_CYCLE - 1:
            marker_count["n"] += 1


async def echo_user(tg: Any, user_id: int, steps: int, out: list[float]) -> None:
    user = tg.user(user_id, first_name="Эхо", language_code="ru")
    chat = user.chat_id
    for k in range(steps):
        text = f"echo {user_id} {k}"
        out.append(
            await _step(
                tg,
                chat,
                lambda t=text: user.send_text(t, wait=False),
                lambda t=text: _last_text(tg, chat) == t,
            )
        )


def _split(total: int, users: int) -> list[int]:
    """Steps per user, multiples of a wizard cycle where possible, summing to total."""
    base, extra = divmod(total, users)
    return [base + (1 if i < extra else 0) for i in range(users)]


async def drive(tg: Any, users: int, total: int, player: Any) -> RunResult:
    result = RunResult(0.0)
    per_user = _split(total, users)
    started = time.perf_counter()
    await asyncio.gather(
        *(player(tg, FIRST_USER + i, n, result.latencies_ms) for i, n in enumerate(per_user))
    )
    result.seconds = time.perf_counter() - started
    return result


def requests_of(tg: Any) -> list[str]:
    """A fake's Bot API requests but polling and getMe, in order."""
    return [c.method for c in tg.calls() if c.method not in ("getUpdates", "getMe")]
