"""Faults of a start: a crash mid-call (``starting`` left behind), a lost answer or a 500
(``unknown``). Settled at start-up at once; the bounds are settings; the coordinator is told
by when the outcome will be known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from api_client.models import Phone
from bot.app.runtime import DEFAULT_STEPS, settle_interrupted_starts, start_outbox
from bot.i18n import I18n
from bot.notifications.reconcile import Reconciler
from bot.rendering.card import CardView, card_text
from bot.settings import Settings
from storage.enums import ConsultationState
from storage.hashing import new_secret
from storage.repositories import ConsultationRepository
from tests.notifications.harness import COORDINATOR, DOCTOR_ID, PATIENT, PHONE, Harness

DEFAULTS = Settings(bot_token="1:x")  # type: ignore[call-arg]


def _reconciler(harness: Harness, now: datetime) -> Reconciler:
    """As the application builds it (bot/notifications/runtime.py), from the settings."""
    return Reconciler(
        session_factory=harness.session_factory,
        api=harness.api,
        processor=harness.processor(),
        unknown_bound=timedelta(seconds=DEFAULTS.start_unknown_bound_seconds),
        starting_stale_after=timedelta(seconds=DEFAULTS.start_stale_after_seconds),
        settle_within=DEFAULTS.start_settle_within,
        now=lambda: now,
    )


async def _starting(harness: Harness, at: datetime, state: ConsultationState) -> int:
    async with harness.session_factory() as session:
        repo = ConsultationRepository(session)
        row = await repo.create_starting(
            new_secret(), coordinator_id=COORDINATOR, doctor_id=DOCTOR_ID,
            patient_name=PATIENT, patient_phone=PHONE, now=at,
        )
        if state is not ConsultationState.STARTING:
            await repo.set_state(row.id, state, now=at)
        await session.commit()
        return row.id


def test_the_settle_runs_at_start_up_once_the_outbox_runs() -> None:
    steps = list(DEFAULT_STEPS)
    assert steps.index(start_outbox) < steps.index(settle_interrupted_starts)


async def test_a_start_cut_off_by_a_crash_is_bound_at_start_up(harness: Harness) -> None:
    await harness.add_users()
    attempted = datetime.now(UTC)
    local_id = await _starting(harness, attempted, ConsultationState.STARTING)
    # The call had reached the partner before the process died.
    await harness.api.start_callback(DOCTOR_ID, Phone.from_e164(PHONE), PATIENT)
    # The restart two minutes later (a start call cannot take that long): looked at now, not
    # after 3 minutes and the first reconcile tick.
    counts = await _reconciler(harness, attempted + timedelta(seconds=121)).settle_starts()
    assert counts.bound == 1
    assert (await harness.consultation(local_id)).state is ConsultationState.ACTIVE
    keys = [r.dedupe_key for r in await harness.outbox()]
    assert f"cons:{local_id}:start-settled:to:{COORDINATOR}" in keys
    assert len(harness.sandbox.requests_for("start")) == 1


async def test_a_start_cut_off_and_not_found_tells_the_coordinator_by_when(
    harness: Harness,
) -> None:
    await harness.add_users()
    attempted = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 12:00 МСК
    local_id = await _starting(harness, attempted, ConsultationState.STARTING)
    counts = await _reconciler(harness, attempted + timedelta(seconds=121)).settle_starts()
    assert counts.pending == 1
    assert (await harness.consultation(local_id)).state is ConsultationState.UNKNOWN
    [told] = await harness.outbox()
    assert told.chat_id == COORDINATOR
    assert told.dedupe_key == f"cons:{local_id}:start-interrupted:to:{COORDINATOR}"
    # 300 s bound + one 180 s reconcile tick: known by 12:08 МСК.
    assert "12:08" in (told.text or "") and PHONE not in (told.text or "")
    # Told once, however many looks before it settles.
    await _reconciler(harness, attempted + timedelta(seconds=200)).settle_starts()
    assert len(await harness.outbox()) == 1


async def test_unknown_gives_up_after_the_configured_bound(harness: Harness) -> None:
    await harness.add_users()
    attempted = datetime.now(UTC)
    local_id = await _starting(harness, attempted, ConsultationState.UNKNOWN)
    early = await _reconciler(harness, attempted + timedelta(seconds=299)).settle_starts()
    assert early.pending == 1
    late = await _reconciler(harness, attempted + timedelta(seconds=300)).settle_starts()
    assert late.gave_up == 1  # was 10 minutes, fixed in code
    assert (await harness.consultation(local_id)).state is ConsultationState.FAILED


async def test_the_checking_card_says_by_when(harness: Harness, i18n: I18n) -> None:
    attempted = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    local_id = await _starting(harness, attempted, ConsultationState.UNKNOWN)
    record = await harness.consultation(local_id)
    view = CardView.of(record, settle_within=DEFAULTS.start_settle_within)
    text = card_text(view, i18n.translator("ru"), ZoneInfo("Europe/Moscow"), now=attempted)
    assert "проверяем, запущена ли консультация" in text
    assert "не позже 12:08" in text
