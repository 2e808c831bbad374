"""users.telegram_language: recorded only when it changes (it is looked at on every update)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.enums import Role
from storage.repositories import UserRepository


async def test_record_telegram_language_writes_only_changes(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    updates: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE USERS"):
            updates.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    async with session_factory() as session:
        user = await UserRepository(session).upsert(7, Role.DOCTOR, doctor_id=101)
        await session.commit()
    assert user.telegram_language is None

    seen: list[bool] = []
    for code in ("en", "en", None, "", "EN", "en", "pt-br-with-a-very-long-tag"):
        async with session_factory() as session:
            repo = UserRepository(session)
            row = await repo.get(7)
            assert row is not None
            seen.append(await repo.record_telegram_language(row, code))
            await session.commit()
    # None / "" (Telegram did not say) keep the last known code; repeats write nothing.
    assert seen == [True, False, False, False, True, True, True]
    assert len(updates) == 4
    async with session_factory() as session:
        row = await UserRepository(session).get(7)
        assert row is not None
        assert row.telegram_language == "pt-br-with-a-ver"  # cut to the column width
        assert row.language is None  # the /language choice is a separate column
