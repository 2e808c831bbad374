"""What a digest says, end to end: consultations started through the sandbox partner API
(on the injected clock), their statuses mirrored by the real reconcile and a terminate by
the real service, then the digest job and the outbox delivering to the fake Bot API.

Yesterday (31 May 2026, Moscow): one call took place, one did not (never started again),
one was terminated by its coordinator. Today (1 June): two scheduled callbacks with doctor
101 and one with doctor 102, one tomorrow; a start whose answer was lost (``unknown``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from api_client.models import Phone
from bot.notifications.reconcile import Reconciler
from bot.notifications.runtime import status_processor
from bot.services.access import Actor
from bot.services.consultation_actions import TerminateOutcome, terminate
from bot.services.status_changes import StatusProcessor
from storage.enums import ConsultationState, EventSource, Role
from storage.hashing import new_secret
from storage.models import OutboxMessage
from storage.repositories import ConsultationRepository, StatusEventRepository
from tests.digest.conftest import NSK, World, msk

COORDINATOR = 9001  # Novosibirsk, Russian
DOCTOR_ACCOUNT = 9002  # doctor 101's account, English, opted in at 09:00 Moscow
OTHER_DOCTOR_ACCOUNT = 9003  # doctor 102's, opted in too
MOSCOW_COORDINATOR = 9004  # the default 09:00, in the same pass as the doctors
DOCTOR_NAMES = {101: "Иванова Мария", 102: "Соколов Павел"}


async def _start(
    world: World,
    doctor_id: int,
    patient: str,
    phone: str,
    begin_at: datetime | None = None,
) -> tuple[int, str]:
    """A start as the wizard makes it: the local record first, then start-callback, then
    the partner id bound and the Registered event stored."""
    now = world.clock()
    async with world.session_factory() as session:
        row = await ConsultationRepository(session).create_starting(
            new_secret(),
            coordinator_id=COORDINATOR,
            doctor_id=doctor_id,
            doctor_name=DOCTOR_NAMES[doctor_id],
            patient_name=patient,
            patient_phone=phone,
            begin_at=begin_at,
            now=now,
        )
        await session.commit()
        local_id = row.id
    callback = await world.api.start_callback(
        doctor_id, Phone.from_e164(phone), patient, begin_at=begin_at
    )
    async with world.session_factory() as session:
        await ConsultationRepository(session).bind_partner_id(local_id, callback.id, now=now)
        for entry in callback.statuses:
            if entry.status is not None and entry.created_at_utc is not None:
                await StatusEventRepository(session).record(
                    local_id, entry.status.id.value, entry.created_at_utc, EventSource.START
                )
        await session.commit()
    return local_id, callback.id


def _processor(world: World) -> StatusProcessor:
    processor = status_processor(world.i18n, admin_ids=world.settings.admin_ids, cards=False)
    processor.now = world.clock
    return processor


async def _seed(world: World) -> dict[str, str]:
    """The month's last day and the first's morning; the partner ids' short forms by name."""
    today = world.clock()
    sandbox = world.sandbox.sandbox
    world.at(msk(today, -24 + 10))  # yesterday 10:00
    _, took_place = await _start(world, 101, "Орлов Олег", "+79161234567")
    _, failed = await _start(world, 102, "Белова Вера", "+79031112233")
    local_terminated, _ = await _start(world, 101, "Зайцев Захар", "+79265554433")
    world.at(msk(today, -24 + 10, 5))
    await sandbox.set_status(took_place, "Processing", "Processed", notify=False)
    world.at(msk(today, -24 + 11))
    await sandbox.set_status(failed, "Unsuccessful", notify=False)
    world.at(msk(today, -24 + 12))
    async with world.session_factory() as session:
        consultation = await ConsultationRepository(session).get(local_terminated)
        assert consultation is not None
        actor = Actor(COORDINATOR, Role.COORDINATOR)
        done = await terminate(
            session, world.api, _processor(world), actor, consultation, card_drawn=True
        )
        assert done.outcome is TerminateOutcome.DONE

    # Booked yesterday evening for today (10:30 and 15:00 Moscow, and 12:00) and tomorrow.
    world.at(msk(today, -24 + 18))
    _, first = await _start(world, 101, "Смирнова Ольга", "+79857776655", msk(today, 10, 30))
    _, second = await _start(world, 101, "Кузнецов Илья", "+79998887766", msk(today, 15))
    _, other = await _start(world, 102, "Козлов Игорь", "+79091234567", msk(today, 12))
    await _start(world, 101, "Завтрашний Пациент", "+79051234567", msk(today, 24 + 9, 30))

    world.at(msk(today, -24 + 20))  # the evening's reconcile mirrors the partner's statuses
    reconciler = Reconciler(
        session_factory=world.session_factory,
        api=world.api,
        processor=_processor(world),
        now=world.clock,
    )
    counts = await reconciler.run()
    assert counts.succeeded and counts.failed_batches == 0

    world.at(msk(today, 8, 40))  # a start this morning whose answer was lost
    async with world.session_factory() as session:
        repo = ConsultationRepository(session)
        lost = await repo.create_starting(
            new_secret(),
            coordinator_id=COORDINATOR,
            doctor_id=101,
            doctor_name=DOCTOR_NAMES[101],
            patient_name="Потерянный Пётр",
            patient_phone="+79161112233",
            now=world.clock(),
        )
        await repo.set_state(lost.id, ConsultationState.UNKNOWN)
        # The seeding's own notices (booked, failed…) are not this test's subject, and were
        # queued at the wall clock's time, not the injected one: they would hold the chats.
        await session.execute(delete(OutboxMessage))
        await session.commit()
    short = {
        "first": first,
        "second": second,
        "other": other,
        "failed": failed,
        "lost": f"#{lost.id}",
    }
    return {k: v.split("-", 1)[0][:8] for k, v in short.items()}


async def test_coordinator_and_doctors_digests(world: World) -> None:
    today = world.clock()
    await world.person(COORDINATOR, Role.COORDINATOR, zone=NSK.key)
    await world.person(DOCTOR_ACCOUNT, Role.DOCTOR, doctor_id=101, lang="en", digest_time="09:00")
    await world.person(OTHER_DOCTOR_ACCOUNT, Role.DOCTOR, doctor_id=102, digest_time="09:00")
    await world.person(MOSCOW_COORDINATOR, Role.COORDINATOR)
    ids = await _seed(world)

    async with world.running() as app:
        assert (await app.tick(msk(today, 9 - 4, 0))).queued == 1  # 09:00 in Novosibirsk
        assert (await app.tick(msk(today, 9, 0))).queued == 3  # Moscow: doctors, coordinator

    (coordinator,) = world.digests(COORDINATOR)
    assert coordinator.splitlines() == [
        "☀️ <b>Сводка на понедельник, 1 июня 2026\u202fг.</b>",
        "",
        "<b>Сегодня</b> 3 запланированных звонка:",
        f"14:30 UTC+7 · Иванова Мария · <code>{ids['first']}</code> · Смирнова Ольга",
        f"16:00 UTC+7 · Соколов Павел · <code>{ids['other']}</code> · Козлов Игорь",
        f"19:00 UTC+7 · Иванова Мария · <code>{ids['second']}</code> · Кузнецов Илья",
        "",
        "<b>Вчера</b>: состоялось 1 · не состоялось 1 · прервано 1",
        "",
        "<b>Требует внимания</b>",
        "Запуски без подтверждения (ответ сервиса потерян): 1",
        f"12:40 UTC+7 · Иванова Мария · <code>{ids['lost']}</code> · Потерянный Пётр",
        "Не состоялись и не запущены повторно: 1",
        f"31.05 15:00 UTC+7 · Соколов Павел · <code>{ids['failed']}</code> · Белова Вера",
    ]

    # Doctor 101's account: only doctor 101's consultations, no needs-a-hand, in English.
    (doctor,) = world.digests(DOCTOR_ACCOUNT)
    assert doctor.splitlines() == [
        "☀️ <b>Your digest for Monday, June 1, 2026</b>",
        "",
        "<b>Today</b>, 2 scheduled callbacks:",
        f"10:30 MSK · Иванова Мария · <code>{ids['first']}</code> · Смирнова Ольга",
        f"15:00 MSK · Иванова Мария · <code>{ids['second']}</code> · Кузнецов Илья",
        "",
        "<b>Yesterday</b>: 1 took place · 0 did not take place · 1 terminated",
    ]
    # Built in the same pass as the doctors' (one pass builds each breadth once): whole.
    (moscow,) = world.digests(MOSCOW_COORDINATOR)
    assert "<b>Сегодня</b> 3 запланированных звонка:" in moscow.splitlines()
    assert "Козлов Игорь" in moscow and "Белова Вера" in moscow
    (other,) = world.digests(OTHER_DOCTOR_ACCOUNT)
    assert "Козлов Игорь" in other and "Белова" not in other  # a failure is no needs-a-hand
    assert "Смирнова" not in other and "Кузнецов" not in other
    assert "<b>Вчера</b>: состоялось 0 · не состоялось 1 · прервано 0" in other.splitlines()


async def test_a_repeat_takes_the_failure_off_the_list(world: World) -> None:
    today = world.clock()
    await world.person(COORDINATOR, Role.COORDINATOR, lang="en")
    ids = await _seed(world)
    world.at(msk(today, 8, 50))
    await _start(world, 101, "Белова Вера", "+79031112233", msk(today, 11))  # started again

    async with world.running() as app:
        await app.tick(msk(today, 9, 0))
    (digest,) = world.digests(COORDINATOR)
    assert "<b>Today</b>, 4 scheduled callbacks:" in digest
    assert ids["failed"] not in digest
    assert "Did not take place and not started again" not in digest
    assert "Starts not confirmed (the service's answer was lost): 1" in digest
