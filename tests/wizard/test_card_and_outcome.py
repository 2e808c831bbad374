from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from api_client.models import Callback
from bot.callback_data import CardAction, CardCallback
from bot.i18n import I18n
from bot.rendering.card import CardView, CardViewer, render_card
from bot.services.start_outcome import match_started

T_RU = I18n(strict=True).translator("ru")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
COORDINATOR = CardViewer(role="coordinator")


def _view(**kw: object) -> CardView:
    base: dict[str, object] = {
        "id": 7,
        "partner_id": "a8e87e28-1d96-4a4f-8a19-a80f0f2ef2f9",
        "state": "active",
        "status": "Registered",
        "doctor_id": 101,
        "doctor_name": "Иванова Мария",
        "patient_name": "O'Brien <Sean>",
        "patient_phone": "+79099708593",
        "begin_at": datetime(2026, 11, 28, 7, 0, tzinfo=UTC),
        "duration_min": 30,
        "attachment_name": "a.pdf",
    }
    base.update(kw)
    return CardView(**base)  # type: ignore[arg-type]


def test_card_text_and_buttons() -> None:
    text, markup = render_card(
        _view(), T_RU, ZoneInfo("Asia/Novosibirsk"), COORDINATOR, now=NOW
    )
    assert "Консультация a8e87e28" in text
    assert "Статус: Зарегистрирована" in text
    assert "O'Brien &lt;Sean&gt;" in text  # escaped for HTML
    assert "+7 909 970-85-93" in text
    assert "28.11 14:00 UTC+7" in text and "30 мин" in text and "a.pdf" in text
    buttons = [b for row in markup.inline_keyboard for b in row]
    assert [b.callback_data for b in buttons] == ["card:refresh:7", "card:terminate:7"]
    assert CardCallback.unpack("card:terminate:7").action is CardAction.TERMINATE


def test_card_unknown_outcome_and_final() -> None:
    text, _ = render_card(
        _view(state="unknown", partner_id=None, status=None, begin_at=None),
        T_RU,
        ZoneInfo("Europe/Moscow"),
        COORDINATOR,
        now=NOW,
    )
    assert "Консультация #7" in text and "№#7" not in text
    assert "проверяем" in text and "сейчас" in text
    _, markup = render_card(
        _view(status="Processed"), T_RU, ZoneInfo("Europe/Moscow"), COORDINATOR
    )
    assert [b.text for row in markup.inline_keyboard for b in row] == [
        "🔄 Обновить",
        "🔁 Повторить",
        "📄 Заключение",
    ]


def _cb(cid: str, doctor: int, phone: str, created: datetime) -> Callback:
    return Callback.model_validate(
        {
            "id": cid,
            "createdAtUtc": created.isoformat(),
            "doctor": {"id": doctor},
            "patientPhone": {"code": phone[1], "number": phone[2:]},
        }
    )


def test_match_started() -> None:
    phone = "+79099708593"
    items = [
        _cb("other-doctor", 102, phone, NOW),
        _cb("other-phone", 101, "+79161234567", NOW),
        _cb("too-old", 101, phone, NOW - timedelta(minutes=5)),
        _cb("ours", 101, phone, NOW + timedelta(seconds=2)),
        _cb("bound", 101, phone, NOW + timedelta(seconds=3)),
    ]
    found = match_started(
        items, doctor_id=101, phone_e164=phone, attempted_at=NOW, exclude_ids={"bound"}
    )
    assert found is not None and found.id == "ours"
    assert match_started(items[:3], doctor_id=101, phone_e164=phone, attempted_at=NOW) is None
