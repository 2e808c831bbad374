"""A consultation's life, from the partner's GETs to what each chat reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bot.callback_data import ConclusionCallback, StartAgainCallback
from bot.notifications.worker import StatusWorker
from storage.enums import Role
from storage.repositories import UserRepository
from tests.notifications.e2e.conftest import Live
from tests.notifications.harness import COORDINATOR, DOCTOR_ACCOUNT, TEAM_CHAT

# The sandbox's own order for a scheduled start: Registered → Delayed → PreProcessing → …
STEPS = ("Delayed", "PreProcessing", "Processing", "PostProcessing", "Processed")


def _body(text: str) -> str:
    """The message without the sandbox's demo mark."""
    return text.split("\n\n🧪", 1)[0]


async def _settle(live: Live) -> None:
    """Everything flagged is processed and everything queued is delivered."""
    await live.parts.worker.run_once()
    await live.running.outbox.drain(10)


async def _through_all_statuses(live: Live, report: str | None = None) -> tuple[int, str, int]:
    await live.harness.add_users()
    card_id = await live.card()
    begin = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    local_id, partner_id = await live.harness.start(begin_at=begin, card_message_id=card_id)
    if report is not None:
        live.sandbox.set_report(partner_id, report)
    for status in STEPS:
        await live.sandbox.set_status(partner_id, status)
    await live.tg.wait_for_messages(COORDINATOR, 3)
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, 1)
    await live.tg.wait_for_messages(TEAM_CHAT, 6)
    await _settle(live)
    return local_id, partner_id, card_id


async def test_whole_life_reaches_each_chat_once(live: Live) -> None:
    _, partner_id, card_id = await _through_all_statuses(live)
    sid = partner_id.split("-")[0]

    coordinator = [_body(t) for t in live.texts(COORDINATOR)]
    assert len(coordinator) == 3, coordinator
    card, started, finished = coordinator
    assert started.startswith(f"📞 Звонок начался: консультация {sid}")
    assert finished.startswith(f"✅ Консультация {sid} завершена")
    assert "Заключение готово" in finished
    # The conclusion itself is never pushed.
    report = live.sandbox.get_record(partner_id).report[0]
    assert all(
        report[:40] not in t
        for c in (COORDINATOR, DOCTOR_ACCOUNT, TEAM_CHAT)
        for t in live.texts(c)
    )

    # The card: the same message, edited in place, now showing the final status.
    card_message = live.tg.bot_messages(COORDINATOR)[0]
    assert card_message.message_id == card_id and card_message.history
    assert "Завершена" in card and "Петров Пётр Петрович" in card

    doctor = [_body(t) for t in live.texts(DOCTOR_ACCOUNT)]
    # Only "booked" (with time and duration): the Delayed that directly follows Registered
    # is how a scheduled booking looks, not a postponement.
    assert len(doctor) == 1, doctor
    assert doctor[0].startswith(f"🗓 A consultation is booked with you: {sid}")
    assert "UTC" in doctor[0] or "MSK" in doctor[0]  # the time carries its zone
    assert "up to 30 min" in doctor[0]

    team = [_body(t) for t in live.texts(TEAM_CHAT)]
    names = ["Зарегистрирована", "Отложена", "Подготовка", "Идёт звонок", "Завершение", "Завершена"]
    assert team == [
        f"{sid} · {n} · врач Иванова Мария Сергеевна · координатор Анна Координатор" for n in names
    ]
    assert not any("Петров" in t or "909" in t for t in team)

    # Late duplicates change nothing.
    await live.sandbox.notify(partner_id)
    await _settle(live)
    assert len(live.texts(COORDINATOR)) == 3 and len(live.texts(TEAM_CHAT)) == 6


async def test_conclusion_by_button_split_and_refused_to_others(live: Live) -> None:
    paragraph = "Жалобы и анамнез. " * 150  # ≈ 2.7k characters
    long_report = "\n\n".join(f"{i}. {paragraph.strip()}" for i in range(4))  # ≈ 11k
    local_id, _, _ = await _through_all_statuses(live, report=long_report)
    coordinator = live.tg.user(COORDINATOR)
    before = len(live.texts(COORDINATOR))

    await coordinator.press("📄 Заключение")
    messages = await live.tg.wait_for_messages(COORDINATOR, before + 1 + 4)
    shown = [m.content for m in messages[before:]]
    assert shown[0].startswith("📄 Заключение врача")
    parts = [_body(t) for t in shown[1:]]
    assert all(len(t) <= 4096 for t in shown)
    assert parts == [p.strip() for p in long_report.split("\n\n")]

    # Another coordinator and a stranger get a refusal, never the text.
    other = 5002
    async with live.harness.session_factory() as session:
        await UserRepository(session).upsert(other, role=Role.COORDINATOR, display_name="B")
        await session.commit()
    for user_id in (other, 7777):
        intruder = live.tg.user(user_id)
        await intruder.send_command("help")
        query = await intruder.press_data(ConclusionCallback(cid=local_id).pack())
        assert query.answered
        assert all("Жалобы" not in t for t in live.texts(user_id))
    assert live.sandbox.requests_for("get")  # fetched on demand by the button


async def test_duplicate_and_forged_gets_send_nothing(live: Live) -> None:
    await live.harness.add_users()
    _, partner_id = await live.harness.start()
    await live.sandbox.set_status(partner_id, "Processing")
    await live.tg.wait_for_messages(COORDINATOR, 1)
    await _settle(live)
    seen = {c: live.texts(c) for c in (COORDINATOR, DOCTOR_ACCOUNT, TEAM_CHAT)}

    await live.sandbox.notify(partner_id)
    url = live.sandbox.get_record(partner_id).notification_url
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).status_code == 200
        assert (await http.head(url)).status_code == 200
    await _settle(live)
    assert {c: live.texts(c) for c in seen} == seen


async def test_two_statuses_between_looks_both_recorded(live: Live) -> None:
    await live.harness.add_users()
    local_id, partner_id = await live.harness.start()
    await live.sandbox.set_status(partner_id, "PreProcessing", "Processing")
    await live.tg.wait_for_messages(TEAM_CHAT, 3)
    await _settle(live)
    assert [s for s, _ in await live.harness.events(local_id)] == [
        "Registered",
        "PreProcessing",
        "Processing",
    ]
    assert [_body(t).split(" · ")[1] for t in live.texts(TEAM_CHAT)] == [
        "Зарегистрирована",
        "Подготовка",
        "Идёт звонок",
    ]
    assert len(live.texts(COORDINATOR)) == 1


async def test_lost_web_hook_is_caught_by_reconcile(live: Live) -> None:
    await live.harness.add_users()
    _, partner_id = await live.harness.start()
    await live.sandbox.set_status(partner_id, "Processing", "Unsuccessful", notify=False)
    assert live.health.last_reconcile_at is None
    counts = await live.parts.reconciler.run()
    assert counts.recorded == 2
    started, message = await live.tg.wait_for_messages(COORDINATOR, 2)
    assert _body(started.content).startswith("📞 Звонок начался")
    assert _body(message.content).startswith("❌ Консультация")
    assert message.find_button("🔁 Запустить заново") is not None
    assert live.health.last_reconcile_at is not None
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, 2)  # booked, then did not take place
    assert "did not take place" in live.texts(DOCTOR_ACCOUNT)[-1]


async def test_refresh_pending_at_a_crash_is_caught_up_after_restart(live: Live) -> None:
    await live.harness.add_users()
    local_id, partner_id = await live.harness.start()
    await live.parts.worker.__aexit__(None, None, None)  # the bot is killed
    await live.sandbox.set_status(partner_id, "Processing")
    assert (await live.harness.consultation(local_id)).needs_refresh is True
    assert live.texts(COORDINATOR) == []

    restarted = StatusWorker(
        session_factory=live.harness.session_factory,
        api=live.harness.api,
        processor=live.parts.processor,
        outbox_wake=live.running.outbox.wake,
    )
    async with restarted:
        [message] = await live.tg.wait_for_messages(COORDINATOR, 1)
    assert _body(message.content).startswith("📞 Звонок начался")
    assert (await live.harness.consultation(local_id)).needs_refresh is False


async def test_unknown_token_and_rate_limit_on_the_listener(live: Live) -> None:
    await live.harness.add_users()
    _, partner_id = await live.harness.start()
    url = live.sandbox.get_record(partner_id).notification_url
    base = url.rsplit("/", 1)[0]
    statuses: list[int] = []
    async with httpx.AsyncClient() as http:
        for i in range(40):
            response = await http.get(f"{base}/guess{i:028d}")
            statuses.append(response.status_code)
            assert response.content in (b"", b"404: Not Found", b"429: Too Many Requests")
        # The flooding address is limited, but a valid token is still served.
        assert (await http.get(url)).status_code == 200
    assert statuses[0] == 404 and statuses[-1] == 429
    assert live.parts.receiver.stats.unknown == 40
    assert live.parts.receiver.stats.limited >= 15
    await live.tg.wait_for_messages(DOCTOR_ACCOUNT, 1)  # the valid hit was processed


async def test_start_again_opens_the_wizard_prefilled(live: Live) -> None:
    await live.harness.add_users()
    local_id, partner_id = await live.harness.start()
    await live.sandbox.set_status(partner_id, "Unsuccessful")
    [failed] = await live.tg.wait_for_messages(COORDINATOR, 1)
    assert "не состоялась" in failed.content
    coordinator = live.tg.user(COORDINATOR)
    await coordinator.press("🔁 Запустить заново")
    # The wizard asks for the start time of the same patient (doctor and phone kept).
    asked = await live.tg.wait_for_messages(COORDINATOR, 2)
    assert "Пациент: Петров Пётр Петрович" in asked[-1].content
    assert "не состоялась" in asked[0].content  # the notice stays readable
    # A stranger pressing the same data gets a refusal and no wizard.
    stranger = live.tg.user(7777)
    await stranger.send_command("help")
    query = await stranger.press_data(StartAgainCallback(cid=local_id).pack())
    assert query.answered
    assert all("Пациент:" not in t for t in live.texts(7777))
