"""app_state: key-value facts kept across restarts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.repositories import AppStateRepository, chat_migrated_key


async def test_get_set_replace_and_migrated_chat(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory() as session:
        repo = AppStateRepository(session)
        assert await repo.get("nothing") is None
        assert await repo.migrated_chat(-500) == -500  # nothing stored: as configured
        await repo.set(chat_migrated_key(-500), "-100500")
        await repo.set("other", "a")
        await repo.set("other", "b")  # replaced, not a second row
        await session.commit()
    async with session_factory() as session:  # a new session (a restart) reads it back
        repo = AppStateRepository(session)
        assert await repo.get("other") == "b"
        assert await repo.migrated_chat(-500) == -100500
        assert await repo.migrated_chat(-100500) == -100500
        # A loop (never made by Telegram, but stored data is not trusted) ends.
        await repo.set(chat_migrated_key(-100500), "-500")
        assert await repo.migrated_chat(-500) in (-500, -100500)
