"""The ops jobs join the schedule; admin alerts are queued once per incident."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import scheduler as ops_scheduler
from bot.app.runtime import Runtime
from bot.i18n import I18n
from bot.jobs.token_refresh import TokenRefresher
from bot.scheduler import add_interval_job, new_scheduler
from bot.services.alerts import alert_insufficient_funds
from bot.settings import Settings
from storage.enums import Role
from storage.models import OutboxMessage
from storage.repositories import UserRepository
from tests.ops.conftest import ADMIN_ID, NOW, MakeSettings

Factory = async_sessionmaker[AsyncSession]


def _runtime(
    settings: Settings, session_factory: Factory, i18n: I18n, **started: Any
) -> Runtime:
    """What run_bot has started when its start_scheduler step runs (no outbox, no HTTP)."""
    return Runtime(
        settings=settings, stack=AsyncExitStack(), i18n=i18n, session_factory=session_factory,
        **started,
    )


async def test_jobs_on_the_scheduler_in_sandbox_mode(
    make_settings: MakeSettings, session_factory: Factory, i18n: I18n
) -> None:
    rt = _runtime(make_settings(), session_factory, i18n)
    scheduler = new_scheduler()
    async with rt.stack:
        jobs = await ops_scheduler.start(rt, scheduler)
        # No token refresh in sandbox mode.
        assert set(jobs) == {"reminders", "digest", "retention"}
        assert jobs["reminders"].lead == timedelta(minutes=15)  # type: ignore[union-attr]
        assert jobs["retention"].retention == timedelta(days=30)  # type: ignore[union-attr]
        assert scheduler.running
    assert not scheduler.running  # stopped through rt.stack


async def test_jobs_join_the_one_scheduler_with_the_bots_refresher(
    make_settings: MakeSettings, session_factory: Factory, i18n: I18n
) -> None:
    settings = make_settings(
        tmapi_base_url="http://127.0.0.1:9", tmapi_auth_url="http://127.0.0.1:9/token",
        reminder_lead_minutes="0",
    )
    async with httpx.AsyncClient() as http:
        refresher = TokenRefresher(session_factory, http, settings, i18n)
        rt = _runtime(settings, session_factory, i18n, token_refresher=refresher)
        shared = new_scheduler()
        async with rt.stack:
            # The notifications step registers its job before the scheduler starts.
            add_interval_job(
                shared, _noop, "reconcile", timedelta(minutes=3), timedelta(seconds=5)
            )
            jobs = await ops_scheduler.start(rt, shared)
            assert {job.id for job in shared.get_jobs()} == {
                "reconcile", "digest", "retention", "token_refresh"
            }
            assert shared.running
            assert jobs["token_refresh"].refresher is refresher  # type: ignore[union-attr]


async def _noop() -> None:
    return None


async def test_insufficient_funds_alert_once_a_day(
    make_settings: MakeSettings, session_factory: Factory, i18n: I18n
) -> None:
    settings = make_settings(admin_ids=f"{ADMIN_ID},2")
    async with session_factory() as session:
        await UserRepository(session).upsert(2, Role.ADMIN)
        await UserRepository(session).set_language(2, "en")
        await UserRepository(session).upsert(3, Role.ADMIN)
        await UserRepository(session).deactivate(3)  # blocked the bot
        await session.commit()
    for minutes in (0, 5, 60):
        async with session_factory() as session:
            await alert_insufficient_funds(
                session, settings, i18n=i18n, now=NOW + timedelta(minutes=minutes)
            )
            await session.commit()
    async with session_factory() as session:
        await alert_insufficient_funds(session, settings, i18n=i18n, now=NOW + timedelta(days=1))
        await session.commit()
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.chat_id for r in rows] == [ADMIN_ID, 2, ADMIN_ID, 2]  # once per day each
    assert "недостаточно средств" in (rows[0].text or "")
    assert "insufficient funds" in (rows[1].text or "")
