"""With REDIS_URL: one wizard update reads the conversation state in one round trip, writes
it in one (a MULTI/EXEC), and commits the database at most once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.update_costs import Costs, DbCosts, RedisCosts
from tests.wizard.conftest import COORDINATOR_ID, Env
from tests.wizard.helpers import text
from tests.wizard.test_update_costs import STEPS


@pytest.fixture
def costs(engine: AsyncEngine) -> Iterator[tuple[DbCosts, RedisCosts]]:
    db, redis = DbCosts(engine), RedisCosts()
    with redis.installed():
        yield db, redis
    db.close()


async def test_each_wizard_update_is_one_read_and_one_write(
    env: Env, redis: Redis, costs: tuple[DbCosts, RedisCosts]
) -> None:
    db, rds = costs
    u = env.user()
    seen: list[tuple[str, Costs]] = []
    for name, act, answer in STEPS:
        before = db.snapshot() + rds.snapshot()
        await act(u)
        spent = db.snapshot() + rds.snapshot() - before
        assert answer in text(u), (name, text(u))
        seen.append((name, spent))

    report = "\n".join(f"{n}: {c}" for n, c in seen)
    for name, spent in seen:
        assert spent.state_reads == 1, f"{name}: state read {spent.state_reads}x\n{report}"
        assert spent.state_writes == 1, f"{name}: state written {spent.state_writes}x\n{report}"
        assert spent.commits <= 1, f"{name}: {spent.commits} commits\n{report}"
        assert spent.user_reads == 1, f"{name}: users read {spent.user_reads}x\n{report}"
    # Cancelled: nothing left of the wizard in Redis (the TTL would only hide it later).
    assert not [k for k in await redis.keys("fsm:*") if f":{COORDINATOR_ID}:aiogd:" in k]
