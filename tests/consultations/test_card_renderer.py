"""The one card renderer (bot/rendering/card.py): text, details and the buttons per viewer
and state — the same function the wizard, the list router and the notifications call."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api_client.models import Callback
from bot.callback_data import (
    CardAction,
    CardCallback,
    ConclusionCallback,
    ConsAction,
    ConsCallback,
    ListPosition,
)
from bot.i18n import I18n
from bot.rendering.card import CardCall, CardView, CardViewer, card_button_data, render_card
from storage.enums import ConsultationState, Origin

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MSK = ZoneInfo("Europe/Moscow")
T = I18n(strict=True).translator("en")
PID = "a8e87e28-1d96-4a4f-8a19-a80f0f2ef2f9"


def _view(**kw: Any) -> CardView:
    base: dict[str, Any] = {
        "id": 7,
        "partner_id": PID,
        "state": "active",
        "status": "Registered",
        "doctor_id": 101,
        "doctor_name": "Ivanova Maria",
        "patient_name": "Petrov <Petr>",
        "patient_phone": "+79099708593",
        "begin_at": None,
        "duration_min": 30,
    }
    base.update(kw)
    return CardView(**base)


def _texts(markup: Any) -> list[str]:
    return [b.text for row in markup.inline_keyboard for b in row]


def _data(markup: Any) -> list[str]:
    return [b.callback_data for row in markup.inline_keyboard for b in row]


COORD = CardViewer(role="coordinator")
ADMIN = CardViewer(role="admin")
DOCTOR = CardViewer(role="doctor")


@pytest.mark.parametrize(
    ("view", "viewer", "expected"),
    [
        (_view(), COORD, ["🔄 Refresh", "⛔ Terminate"]),
        (_view(), ADMIN, ["🔄 Refresh", "⛔ Terminate"]),
        (_view(), DOCTOR, ["🔄 Refresh", "🙅 I can't take it"]),
        (_view(status="Delayed"), COORD, ["🔄 Refresh", "⛔ Terminate", "🗓 Reschedule"]),
        (_view(status="Delayed"), DOCTOR, ["🔄 Refresh", "🙅 I can't take it"]),
        (
            _view(status="Processed", state="final"),
            COORD,
            ["🔄 Refresh", "🔁 Repeat", "📄 Conclusion"],
        ),
        (_view(status="Processed", state="final"), DOCTOR, ["🔄 Refresh", "📄 Conclusion"]),
        (_view(status="Unsuccessful", state="final"), COORD, ["🔄 Refresh", "🔁 Repeat"]),
        (_view(status="Unsuccessful", state="final"), DOCTOR, ["🔄 Refresh"]),
        # Not bound to the partner yet (outcome unknown): nothing to terminate.
        (_view(partner_id=None, state="unknown", status=None), COORD, ["🔄 Refresh"]),
    ],
)
def test_buttons_by_role_and_state(view: CardView, viewer: CardViewer, expected: list[str]) -> None:
    _, markup = render_card(view, T, MSK, viewer)
    assert _texts(markup) == expected


def test_back_only_when_opened_from_a_list_and_button_families() -> None:
    pos = ListPosition(p=2)
    _, from_list = render_card(_view(), T, MSK, dataclasses.replace(COORD, back=pos))
    assert _texts(from_list)[-1] == "⬅️ Back to the list"
    assert _data(from_list)[-1] == pos.pack()
    assert ConsCallback.unpack(_data(from_list)[1]) == ConsCallback.at(ConsAction.TERMINATE, 7, pos)

    _, elsewhere = render_card(_view(), T, MSK, COORD)
    assert "⬅️ Back to the list" not in _texts(elsewhere)
    assert _data(elsewhere) == ["card:refresh:7", "card:terminate:7"]
    # Every card action has a list-free button within Telegram's 64 bytes.
    for act in ConsAction:
        data = card_button_data(act, 2**31 - 1, None)
        assert len(data.encode()) <= 64
        assert CardCallback.unpack(data).action in CardAction
    _, processed = render_card(_view(status="Processed"), T, MSK, COORD)
    assert ConclusionCallback(cid=7).pack() in _data(processed)


def test_patient_data_only_in_private_chats() -> None:
    view = _view(attachment_name="scan.pdf")
    private, _ = render_card(view, T, MSK, COORD)
    assert "Petrov &lt;Petr&gt;" in private and "+7 909 970-85-93" in private
    assert "scan.pdf" in private
    group, markup = render_card(
        _view(attachment_names=("scan.pdf",), status="Processed"),
        T,
        MSK,
        dataclasses.replace(COORD, private=False),
    )
    assert "Petrov" not in group and "909" not in group and "scan.pdf" not in group
    assert "private chat" in group
    assert "📄 Conclusion" not in _texts(markup)


def test_details_text() -> None:
    view = _view(
        status="Processed",
        history=(("Registered", NOW), ("Processing", NOW)),
        calls=(CardCall("Patient", NOW, 125, True),),
        attachment_names=("scan <1>.pdf",),
        conclusion_ready=True,
        purged=True,
        offline=True,
    )
    text, _ = render_card(view, T, MSK, COORD, header="Consultation terminated.", now=NOW)
    assert text.splitlines()[0] == "Consultation terminated."
    assert "10.03 15:00 MSK — Registered" in text
    assert "2 min 5 s" in text and "successful" in text
    assert "scan &lt;1&gt;.pdf" in text
    assert "conclusion is ready" in text
    assert "removed after the retention period" in text
    assert "did not answer" in text


@pytest.mark.parametrize(
    ("viewer", "hinted"),
    [
        (COORD, True),
        (CardViewer(role="coordinator", reads_conclusion=False), False),  # someone else's
        (CardViewer(role="doctor", reads_conclusion=False), False),
        (CardViewer(role="admin", private=False), False),  # a group: no button there either
    ],
)
def test_the_conclusion_hint_goes_with_the_button(viewer: CardViewer, hinted: bool) -> None:
    # The line says "press the button": whoever is not offered the button must not read it;
    # they see the status (Completed) and nothing that points at a button they lack.
    view = _view(state="final", status="Processed", conclusion_ready=True)
    text, markup = render_card(view, T, MSK, viewer, now=NOW)
    assert "Status: Completed" in text  # Processed, as the status line names it
    assert ("conclusion is ready" in text) is hinted
    assert ("📄 Conclusion" in _texts(markup)) is hinted
    assert "conclusion" not in text.lower() or hinted


def _record(**kw: Any) -> Any:
    base: dict[str, Any] = {
        "id": 7,
        "partner_id": PID,
        "state": ConsultationState.ACTIVE,
        "last_status": "Registered",
        "doctor_id": 101,
        "doctor_name": "Local Name",
        "patient_name": "Local Patient",
        "patient_phone": "+79099708593",
        "begin_at": None,
        "duration_min": 15,
        "attachment_name": "sent.pdf",
        "purged_at": None,
        "origin": Origin.BOT,
    }
    base.update(kw)
    return SimpleNamespace(**base)


def test_view_merges_the_partners_answer() -> None:
    callback = Callback.model_validate(
        {
            "id": PID,
            "status": {"id": "Processed"},
            "doctorFullName": "Partner Doctor",
            "patientFullName": "Partner Patient",
            "statuses": [
                {"status": {"id": "Registered"}, "createdAtUtc": "2026-03-10T09:00:00"},
                {"status": {"id": "Processed"}, "createdAtUtc": "2026-03-10T09:30:00"},
            ],
            "medicalReport": {"text": "All good."},
            "attachments": [{"name": "sent.pdf"}],
        }
    )
    view = CardView.of(_record(), callback)
    assert view.status == "Processed" and view.final and view.state == "final"
    assert view.doctor_name == "Partner Doctor" and view.patient_name == "Partner Patient"
    assert [s for s, _ in view.history] == ["Registered", "Processed"]
    assert view.conclusion_ready and view.attachment_names == ("sent.pdf",)
    assert view.attachment_name is None  # listed once, with the others
    # Without an answer: the local record as it is.
    local = CardView.of(_record())
    assert local.status == "Registered" and local.history == () and not local.final
    assert local.attachment_name == "sent.pdf"
    # A purged bot row stays purged even when the partner still has the name.
    purged = CardView.of(_record(purged_at=NOW, patient_name=None), callback)
    assert purged.purged and purged.patient_name is None
