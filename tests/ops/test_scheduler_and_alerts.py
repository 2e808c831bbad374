"""The ops jobs join the schedule; admin alerts are queued once per incident."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta
from types import SimpleNamespace

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import scheduler as ops_scheduler
from bot.alerts import alert_insufficient_funds
from bot.i18n import I18n
from bot.jobs.token_refresh import TokenRefresher
from storage.enums import Role
from storage.models import OutboxMessage
from storage.repositories import UserRepository
from tests.ops.conftest import ADMIN_ID, NOW, MakeSettings

Factory = async_sessionmaker[AsyncSession]


def _runtime(settings: object, session_factory: Factory, i18n: I18n, **extra: object) -> object:
    def require(name: str) -> object:
        value = getattr(rt, name)
        assert value is not None
        return value

    rt = SimpleNamespace(
        settings=settings, session_factory=session_factory, i18n=i18n, outbox=None,
        http=None, workflow_data=dict(extra), stack=AsyncExitStack(), require=require,
    )
    return rt


async def test_jobs_on_the_scheduler_in_sandbox_mode(
    make_settings: MakeSettings, session_factory: Factory, i18n: I18n
) -> None:
    rt = _runtime(make_settings(), session_factory, i18n)
    async with rt.stack:  # type: ignore[attr-defined]
        ops_scheduler.configure(rt)
        await ops_scheduler.start(rt)
        jobs = rt.workflow_data[ops_scheduler.KEY]  # type: ignore[attr-defined]
        assert set(jobs) == {"reminders", "retention"}  # no token refresh in sandbox mode
        assert jobs["reminders"].lead == timedelta(minutes=15)
        assert jobs["retention"].retention == timedelta(days=30)
        scheduler = ops_scheduler.scheduler_of(rt)
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
        async with rt.stack:  # type: ignore[attr-defined]
            ops_scheduler.configure(rt)
            shared = ops_scheduler.scheduler_of(rt)
            # Another component (notifications) registers its job before the start.
            ops_scheduler.add_interval_job(
                shared, _noop, "reconcile", timedelta(minutes=3), timedelta(seconds=5)
            )
            await ops_scheduler.start(rt)
            assert ops_scheduler.scheduler_of(rt) is shared
            assert {job.id for job in shared.get_jobs()} == {
                "reconcile", "retention", "token_refresh"
            }
            assert shared.running
            jobs = rt.workflow_data[ops_scheduler.KEY]  # type: ignore[attr-defined]
            assert jobs["token_refresh"].refresher is refresher


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
