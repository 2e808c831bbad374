from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from api_client.models import RequestStatus
from bot.callback_data import ConclusionCallback, StartAgainCallback
from bot.i18n import I18n
from bot.notifications.messages import ConsultationView, render, split_message
from bot.services.audience import Notice, NoticeKind, Recipient, RecipientRole

S = RequestStatus
K = NoticeKind
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
VIEW = ConsultationView(
    id=42,
    partner_id="3f2a9c1e-0000-4000-8000-000000000001",
    doctor_name="Иванов Иван Иванович",
    coordinator_name="Coord <Anna>",
    patient_name="Петров Пётр",
    begin_at=datetime(2025, 3, 1, 12, 30, tzinfo=UTC),
    duration_min=30,
)
PATIENT_PHONE = "+79099708593"


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(strict=True)


def test_team_line_has_no_patient_data(i18n: I18n) -> None:
    for lang in ("ru", "en"):
        team = Recipient(chat_id=-100, role=RecipientRole.TEAM, lang=lang)
        out = render(Notice(K.TEAM, team, S.PROCESSING), VIEW, i18n.translator(lang), MSK)
        assert "3f2a9c1e" in out.text
        assert "Иванов" in out.text and "Coord &lt;Anna&gt;" in out.text
        assert "Петров" not in out.text and PATIENT_PHONE not in out.text
        assert out.reply_markup is None


def test_doctor_booked_carries_time_with_zone_and_duration(i18n: I18n) -> None:
    doc = Recipient(chat_id=2, role=RecipientRole.DOCTOR)
    out = render(Notice(K.BOOKED, doc, S.REGISTERED), VIEW, i18n.translator("ru"), MSK, now=NOW)
    assert "15:30 МСК" in out.text
    assert "до 30 мин" in out.text
    en = render(
        Notice(K.BOOKED, doc, S.REGISTERED),
        VIEW,
        i18n.translator("en"),
        ZoneInfo("Asia/Novosibirsk"),
        now=NOW,
    )
    assert "19:30 UTC+7" in en.text and "up to 30 min" in en.text


def test_finished_has_the_conclusion_button_and_no_conclusion_text(i18n: I18n) -> None:
    out = render(
        Notice(K.FINISHED, Recipient(1, RecipientRole.COORDINATOR), S.PROCESSED),
        VIEW,
        i18n.translator("en"),
        MSK,
    )
    assert out.reply_markup is not None
    button = out.reply_markup.inline_keyboard[0][0]
    assert ConclusionCallback.unpack(button.callback_data or "").cid == 42
    assert "conclusion is ready" in out.text


def test_failed_offers_start_again_to_the_coordinator_only(i18n: I18n) -> None:
    t = i18n.translator("ru")
    coord = render(
        Notice(K.FAILED, Recipient(1, RecipientRole.COORDINATOR), S.UNSUCCESSFUL), VIEW, t, MSK
    )
    assert coord.reply_markup is not None
    data = coord.reply_markup.inline_keyboard[0][0].callback_data or ""
    assert StartAgainCallback.unpack(data).cid == 42
    doctor = render(
        Notice(K.FAILED, Recipient(2, RecipientRole.DOCTOR), S.UNSUCCESSFUL), VIEW, t, MSK
    )
    assert doctor.reply_markup is None
    assert "не состоялась" in doctor.text


def test_every_status_has_a_name_in_both_languages(i18n: I18n) -> None:
    for lang in ("ru", "en"):
        for status in S:
            assert i18n.has(lang, f"notify-status-{status.value}")
    assert i18n.keys("ru") >= {k for k in i18n.keys("en") if k.startswith("notify-")}
    assert i18n.keys("en") >= {k for k in i18n.keys("ru") if k.startswith("notify-")}


def test_patient_name_is_escaped(i18n: I18n) -> None:
    view = ConsultationView(id=1, partner_id=None, patient_name="<b>x</b>")
    out = render(
        Notice(K.STARTED, Recipient(1, RecipientRole.COORDINATOR), S.PROCESSING),
        view,
        i18n.translator("en"),
        MSK,
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in out.text and "#1" in out.text


def test_split_prefers_paragraphs_then_lines() -> None:
    para = "a" * 3000
    text = f"{para}\n\n{para}\nline two\n\nend"
    parts = split_message(text, limit=4096)
    assert parts[0] == para
    assert all(len(p) <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_split_lines_and_hard_cut() -> None:
    lines = "\n".join(f"line {i:04d}" for i in range(1000))  # ~10k chars, no paragraphs
    parts = split_message(lines, limit=4096)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert all(p.startswith("line ") and p.split("\n")[-1].startswith("line ") for p in parts)
    word = "x" * 9000
    assert [len(p) for p in split_message(word, limit=4096)] == [4096, 4096, 808]
    assert split_message("short") == ["short"]


@pytest.mark.parametrize("status", [S.REGISTERED, S.DELAYED])
def test_coordinator_in_all_mode_gets_their_own_wording_not_the_doctors(
    i18n: I18n, status: RequestStatus
) -> None:
    """Registered/Delayed in "all" mode: the coordinator is told of a status change, not
    "a consultation is booked with you" / "postponed" as if they were the doctor."""
    kind = K.BOOKED if status is S.REGISTERED else K.DELAYED
    coordinator = Recipient(1, RecipientRole.COORDINATOR)
    doctor = Recipient(2, RecipientRole.DOCTOR)
    for lang in ("ru", "en"):
        t = i18n.translator(lang)
        theirs = render(Notice(kind, coordinator, status), VIEW, t, MSK, now=NOW).text
        doctors = render(Notice(kind, doctor, status), VIEW, t, MSK, now=NOW).text
        assert theirs != doctors
        assert "Вам назначена" not in theirs and "booked with you" not in theirs
        assert "перенесена" not in theirs and "is postponed" not in theirs
        assert "3f2a9c1e" in theirs and "Иванов" in theirs and "Петров" in theirs
        assert "15:30 МСК" in theirs or "15:30 MSK" in theirs
        assert t(f"notify-status-{status.value}").lower() in theirs.lower()
