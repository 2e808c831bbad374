"""One wizard update = one transaction: one commit, conversation state written at most once
(in that commit), the user row and the state each read once — through the real dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import FsmRecord
from tests.fake_telegram import FakeUser
from tests.update_costs import Costs, DbCosts, sqlite_calls
from tests.wizard.conftest import Env
from tests.wizard.helpers import (
    ASK_ATTACHMENT,
    ASK_DOCTOR,
    ASK_NAME,
    ASK_PHONE,
    ASK_TIME,
    BACK,
    CANCEL,
    DOCTOR_101,
    NAME,
    NOW_ONLY,
    PHONE,
    SUMMARY,
    text,
)


@pytest.fixture
def costs(engine: AsyncEngine) -> Iterator[DbCosts]:
    counted = DbCosts(engine)
    yield counted
    counted.close()


Step = tuple[str, Callable[[FakeUser], Awaitable[object]], str]

STEPS: list[Step] = [
    ("/start_callback", lambda u: u.send_command("start_callback"), ASK_DOCTOR),
    ("doctor (button)", lambda u: u.press(DOCTOR_101), ASK_PHONE),
    ("phone (text)", lambda u: u.send_text(PHONE), ASK_NAME),
    ("name (text)", lambda u: u.send_text(NAME), ASK_TIME),
    ("now (button)", lambda u: u.press(NOW_ONLY), SUMMARY),
    ("back (button)", lambda u: u.press(BACK), ASK_ATTACHMENT),
    ("cancel (button)", lambda u: u.press(CANCEL), "Отменено"),
]


async def _state_rows(env: Env) -> list[tuple[str, str | None, str]]:
    async with env.session_factory() as session:
        rows = await session.execute(
            select(FsmRecord.destiny, FsmRecord.state, FsmRecord.data).order_by(FsmRecord.destiny)
        )
        return [(r.destiny, r.state, r.data) for r in rows]


async def test_each_wizard_update_is_one_transaction(env: Env, costs: DbCosts) -> None:
    u = env.user()
    seen: list[tuple[str, Costs]] = []
    stored_before = await _state_rows(env)
    for name, act, answer in STEPS:
        before = costs.snapshot()
        await act(u)
        spent = costs.snapshot() - before
        assert answer in text(u), (name, text(u))
        seen.append((name, spent))
        # Durable when the update is done: the state the step wrote is committed (read here
        # through a connection of its own), not left for a later update to write.
        stored = await _state_rows(env)
        assert stored != stored_before, f"{name}: no conversation state committed"
        stored_before = stored

    report = "\n".join(f"{n}: {c}" for n, c in seen)
    for name, spent in seen:
        assert spent.commits == 1, f"{name}: {spent.commits} commits\n{report}"
        assert spent.state_writes == 1, f"{name}: state written {spent.state_writes}x\n{report}"
        assert spent.user_reads == 1, f"{name}: users read {spent.user_reads}x\n{report}"
        assert spent.state_reads <= 1, f"{name}: state read {spent.state_reads}x\n{report}"
    assert await _state_rows(env) == []  # cancelled: nothing left of the conversation


async def test_a_strangers_update_reads_the_users_table_once(env: Env, costs: DbCosts) -> None:
    """No row is an answer too: the access gate and the check after the handler (did an
    invite just make them a member?) do not read again what the first statement found."""
    stranger = env.user(user_id=4_040_404)
    before = costs.snapshot()
    await stranger.send_text("hello")
    spent = costs.snapshot() - before
    assert "4040404" in text(stranger)  # the no-access answer names their id
    assert spent.user_reads == 1, spent
    assert spent.state_writes == 0, spent


async def test_each_steps_state_write_carries_its_commit_on_sqlite(env: Env) -> None:
    """The write lock of SQLite is held for one statement per update: the state write and
    the COMMIT go together (storage/sqlite_async.py), no COMMIT after; and none of it is a
    trip to aiosqlite's database thread (statements run on the loop's)."""
    u = env.user()
    await STEPS[0][1](u)  # the first step opens the pool's connections
    with sqlite_calls() as calls:
        for name, act, answer in STEPS[1:]:
            calls.clear()
            await act(u)
            assert answer in text(u), (name, text(u))
            carried = [c for c in calls if c.endswith("_and_commit")]
            assert len(carried) == 1 and "commit" not in calls, (name, calls)
            assert "thread" not in calls, (name, calls)
