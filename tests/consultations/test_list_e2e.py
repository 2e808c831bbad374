"""/list and /find through the fake Telegram, the real dispatcher and the seeded sandbox."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from tests.consultations.conftest import DOCTOR_EXTRA, DOCTOR_ID, PHONE, SEEDED, World
from tests.fake_telegram import FakeUser

POSITION = re.compile(r"Page (\d+) of (\d+) · (\d+) in total")


def position(user: FakeUser) -> tuple[int, int, int]:
    found = POSITION.search(user.last_bot_message().content)
    assert found, user.last_bot_message().content
    page, pages, total = (int(g) for g in found.groups())
    return page, pages, total


def query_of(record: object) -> dict[str, list[str]]:
    return parse_qs(urlsplit(record.path_qs).query)  # type: ignore[attr-defined]


def row_lines(user: FakeUser) -> list[str]:
    return [ln for ln in user.last_bot_message().content.splitlines() if re.match(r"^\d+\. ", ln)]


async def test_paging_to_the_last_page_and_back_one_request_per_page(world: World) -> None:
    user = world.coordinator
    await user.send_command("list")
    message_id = user.last_bot_message().message_id
    page, pages, total = position(user)
    active = sum(1 for r in world.sb.callbacks.values() if not r.is_final)
    assert (page, total) == (1, active) and pages == -(-active // 8) and pages > 2
    assert "+7 ••• ••• " in user.last_bot_message().content
    for expected in range(2, pages + 1):
        await user.press("▶️")
        assert position(user)[0] == expected
    assert len(row_lines(user)) == active - 8 * (pages - 1)
    assert row_lines(user)[0].startswith(f"{8 * (pages - 1) + 1}. ")
    for expected in range(pages - 1, 0, -1):
        await user.press("◀️")
        assert position(user)[0] == expected
    # One message, edited in place all along.
    assert [m.message_id for m in user.bot_messages()] == [message_id]
    views = 1 + 2 * (pages - 1)
    requests = world.api_requests()
    assert [r.route for r in requests] == ["get_all"] * views  # never one per row
    offsets = [int(query_of(r)["offset"][0]) for r in requests]
    assert offsets == [8 * i for i in range(pages)] + [8 * i for i in range(pages - 2, -1, -1)]
    assert all(query_of(r)["limit"] == ["8"] for r in requests)
    assert not world.tg.unanswered_queries()


async def test_each_filter_goes_back_to_page_one(world: World) -> None:
    user = world.coordinator
    await user.send_command("list")
    await user.press("▶️")
    assert position(user)[0] == 2
    expect = {
        "Finished": ({"✅", "❌"}, ["Processed", "Unsuccessful"]),
        "Scheduled": ({"🗓"}, ["Delayed"]),
    }
    for button, (marks, statuses) in expect.items():
        world.sb.clear_requests()
        await user.press(button)
        page, _, total = position(user)
        assert page == 1
        assert total == sum(1 for r in world.sb.callbacks.values() if r.status in statuses)
        assert {line.split()[1] for line in row_lines(user)} <= marks
        (request,) = world.api_requests()
        assert query_of(request)["statuses"] == statuses
        assert f"• {button}" in user.buttons()
    await user.press("All")
    assert position(user)[2] == SEEDED + DOCTOR_EXTRA
    assert "Consultations: all" in user.last_bot_message().content


async def test_sort_by_status_both_ways_and_created_ascending(world: World) -> None:
    user = world.coordinator
    await user.send_command("list")
    await user.press("All")
    world.sb.clear_requests()
    await user.press("Status")
    (request,) = world.api_requests()
    assert query_of(request)["order"] == ["Status"] and query_of(request)["asc"] == ["false"]
    assert row_lines(user)[0].split()[1] == "❌"  # Unsuccessful is the highest number
    assert "Status ↓" in user.buttons()
    await user.press("Status ↓")
    assert query_of(world.api_requests()[-1])["asc"] == ["true"]
    assert row_lines(user)[0].split()[1] == "🟡"  # Registered first
    await user.press("Created")
    await user.press("Created ↓")
    last = query_of(world.api_requests()[-1])
    assert last["order"] == ["Created"] and last["asc"] == ["true"]
    assert position(user)[0] == 1


async def test_mine_lists_only_the_coordinators_own(world: World) -> None:
    ids = list(world.sb.callbacks)[:3]
    for partner_id in ids:
        await world.adopt(partner_id)
    other = list(world.sb.callbacks)[5]
    await world.adopt(other, coordinator_id=9999)
    user = world.coordinator
    await user.send_command("list")
    await user.press("Mine")
    page, pages, total = position(user)
    assert (page, pages, total) == (1, 1, 3)
    text = user.last_bot_message().content
    assert "started elsewhere" not in text
    names = {world.sb.callbacks[i].patient_name for i in ids}
    assert all(name in text for name in names)
    # Local page, then its ids in one get-all.
    (request,) = [r for r in world.api_requests() if "ids" in query_of(r)]
    assert set(query_of(request)["ids"]) == set(ids)


async def test_doctor_sees_only_own_over_several_pages(world: World) -> None:
    await world.mirror_all()
    doctor = world.doctor
    await doctor.send_command("list")
    assert "Mine" not in doctor.buttons()
    own_active = [
        r for r in world.sb.callbacks.values() if r.doctor_id == DOCTOR_ID and not r.is_final
    ]
    _, pages, total = position(doctor)
    assert total == len(own_active) and pages >= 2
    seen: set[str] = set()
    world.sb.clear_requests()
    for _ in range(pages - 1):
        await doctor.press("▶️")
    assert position(doctor)[0] == pages
    await doctor.press("All")
    total_all = sum(1 for r in world.sb.callbacks.values() if r.doctor_id == DOCTOR_ID)
    assert position(doctor)[2] == total_all
    for line in row_lines(doctor):
        seen.add(line)
        assert "Иванова Мария" in line
    # Each page: exactly one get-all with that page's ids, nothing else.
    requests = world.api_requests()
    assert len(requests) == pages and all(r.route == "get_all" for r in requests)
    assert all(1 <= len(query_of(r)["ids"]) <= 8 for r in requests)
    own = {r.id for r in world.sb.callbacks.values() if r.doctor_id == DOCTOR_ID}
    assert all(set(query_of(r)["ids"]) <= own for r in requests)


async def test_doctor_without_local_copies_sees_empty_list_without_start(world: World) -> None:
    await world.doctor.send_command("list")
    text = world.doctor.last_bot_message().content
    assert "Nothing here." in text
    assert "Start a consultation" not in " ".join(world.doctor.buttons())


async def test_empty_result_offers_to_start(world: World) -> None:
    user = world.coordinator
    await user.send_command("list")
    await user.press("Mine")
    assert "Nothing here." in user.last_bot_message().content
    assert "/start_callback" in user.last_bot_message().content
    assert "➕ Start a consultation" in user.buttons()


async def test_find_by_phone_forms_and_surname(world: World) -> None:
    await world.mirror_all()
    with_phone = {r.id for r in world.sb.callbacks.values() if "+" + "".join(r.phone) == PHONE}
    assert len(with_phone) >= 2
    user = world.coordinator
    for form in ("+7 909 970 85 93", "89099708593", "8 (909) 970-85-93", "9708593"):
        await user.send_command("find", form)
        page, _, total = position(user)
        assert (page, total) == (1, len(with_phone)), form
        assert all("+7 ••• ••• 85 93" in line for line in row_lines(user))
    target = next(r for r in world.sb.callbacks.values() if r.doctor_id != DOCTOR_ID)
    surname = target.patient_name.split()[0]
    expected = sum(
        1 for r in world.sb.callbacks.values()
        if any(w.lower().replace("ё", "е").startswith(surname.lower().replace("ё", "е"))
               for w in r.patient_name.split())
    )
    await user.send_command("find", surname.lower())
    assert position(user)[2] == expected
    assert target.patient_name in user.last_bot_message().content
    # Cyrillic upper case finds the same.
    await user.send_command("find", surname.upper())
    assert position(user)[2] == expected
    await user.send_command("find")
    assert "/find" in user.last_bot_message().content


async def test_doctor_finds_only_own(world: World) -> None:
    await world.mirror_all()
    await world.doctor.send_command("find", "Докторов")
    assert position(world.doctor)[2] == DOCTOR_EXTRA
    foreign = next(r for r in world.sb.callbacks.values() if r.doctor_id != DOCTOR_ID)
    await world.doctor.send_command("find", "".join(foreign.phone))
    text = world.doctor.last_bot_message().content
    assert foreign.patient_name not in text


async def test_list_says_so_when_the_service_is_down(world: World) -> None:
    world.sb.inject_fault("get_all", "503", count=10)
    await world.coordinator.send_command("list")
    text = world.coordinator.last_bot_message().content
    assert "did not answer" in text
    assert not world.tg.unanswered_queries()


async def test_list_in_a_group_points_to_private_chat(world: World) -> None:
    group = world.tg.group(-100500)
    await group.send_command(world.coordinator, "list")
    text = group.last_bot_message().content
    assert "privately" in text
    assert "+7 ••• ••• " not in text  # no patient data in a group
    assert world.coordinator.bot_messages() == []
