"""Typed declarative models. Times are `UtcDateTime` (aware UTC); enums are VARCHARs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.db import StrEnumType, UtcDateTime, utcnow
from storage.enums import ConsultationState, EventSource, NotifyMode, Origin, Role

# Deterministic constraint names: Alembic autogenerate and later ALTERs (batch mode on
# SQLite) depend on every constraint having the same name on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# FSM keys: aiogram's StorageKey has optional thread and business connection ids; a primary
# key column cannot be NULL, so "absent" is stored as these sentinels.
NO_THREAD = 0
NO_BUSINESS_CONNECTION = ""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    # Partner doctor id for doctor accounts; several accounts may share one.
    doctor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    display_name: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str | None] = mapped_column(String(8))  # None: follow Telegram
    # The Telegram client's last seen language_code (an IETF tag such as "en" or "pt-br"):
    # what messages that are not answers (notifications, reminders) follow while `language`
    # is None, since they are sent outside any update that would carry it.
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: DEFAULT_TIMEZONE
    notify_mode: Mapped[NotifyMode] = mapped_column(
        StrEnumType(NotifyMode), default=NotifyMode.ESSENTIALS
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The morning digest's local time "HH:MM", "off", or None: the role's default
    # (bot/services/digest_settings.py), so a doctor made a coordinator gets a coordinator's.
    digest_time: Mapped[str | None] = mapped_column(String(5))
    # The last local date (in the user's zone) whose digest is settled: queued, or passed
    # over because its time was chosen after it had gone by. The job's once-a-day mark.
    digest_last_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    doctor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DirectoryDoctor(Base):
    __tablename__ = "directory_doctors"

    doctor_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    display_name: Mapped[str] = mapped_column(String(256))
    specialties: Mapped[str] = mapped_column(Text, default="")
    # None: the API did not say (doctor routes not offered by the deployment).
    callback_available: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class Consultation(Base):
    __tablename__ = "consultations"
    __table_args__ = (
        Index("ix_consultations_state_id", "state", "id"),
        Index("ix_consultations_doctor_id_created_at", "doctor_id", "created_at"),
        # /report reads a period in pages by (created_at, id).
        Index("ix_consultations_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # sha256 of the notification token; None for consultations started elsewhere.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[ConsultationState] = mapped_column(StrEnumType(ConsultationState))
    origin: Mapped[Origin] = mapped_column(StrEnumType(Origin, 16), default=Origin.BOT)
    coordinator_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    doctor_id: Mapped[int | None] = mapped_column(BigInteger)
    doctor_name: Mapped[str | None] = mapped_column(String(256))
    patient_name: Mapped[str | None] = mapped_column(String(256))
    # casefold() of the name with ё→е: SQLite's lower() is ASCII-only, so Cyrillic
    # case-insensitive search needs a column prepared in Python.
    patient_name_search: Mapped[str | None] = mapped_column(String(256))
    patient_phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    begin_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    duration_min: Mapped[int | None] = mapped_column(Integer)
    attachment_name: Mapped[str | None] = mapped_column(String(256))
    last_status: Mapped[str | None] = mapped_column(String(32))
    last_status_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    needs_refresh: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    start_attempted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The wizard run (its draft id, kept in the conversation state) that made this start:
    # a second Confirm of the same run is refused while the first may have called.
    wizard_draft: Mapped[str | None] = mapped_column(String(32), index=True)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When the start (booking) was announced, at the first look after it: a later look with
    # no change must not announce it again to recipients who appeared since.
    announced_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What /report counts (issue 15), stored from every real look at the partner
    # (StatusProcessor.apply → store_figures). All None until a look carried the calls:
    # the report counts such a consultation as "data missing", never guesses.
    figures_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    calls_count: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)  # of the successful calls
    patient_reached: Mapped[bool | None] = mapped_column(Boolean)  # a successful call
    first_call_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The doctor's costPerMinute in hundredths of `cost_currency` (RUB, USD, EUR, Bonus…);
    # integers, so sums are exact on SQLite too. None: the look did not say.
    cost_per_minute_cents: Mapped[int | None] = mapped_column(BigInteger)
    cost_currency: Mapped[str | None] = mapped_column(String(16))
    # Ended by a terminate (ours, or the partner's timeline says so), not a missed call.
    terminated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:  # never shows patient data
        return f"Consultation(id={self.id}, partner_id={self.partner_id}, state={self.state})"


class StatusEvent(Base):
    __tablename__ = "status_events"
    __table_args__ = (UniqueConstraint("consultation_id", "status", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[EventSource] = mapped_column(StrEnumType(EventSource))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "sent_at", "dead", "next_attempt_at"),
        Index("ix_outbox_messages_chat_id_id", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str | None] = mapped_column(Text)  # None once purged
    reply_markup: Mapped[str | None] = mapped_column(Text)  # JSON
    edit_message_id: Mapped[int | None] = mapped_column(BigInteger)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="SET NULL"), index=True
    )
    # storage.enums.Audience, or None: whose right the sender re-checks before sending.
    # Plain text, not StrEnumType: an unknown stored value must not break the claim of a
    # batch (the sender refuses it), and enqueue validates what is written.
    audience: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims (a crash mid-send shows)
    # Failed sends (5xx, network): what the retry delay and the give-up count. A claim that
    # is handed back unsent (a chat's earlier row failed) is no failure.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The sender process holding the claim ("<INSTANCE_NAME>:<random>"), None when unclaimed.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    dead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class FsmRecord(Base):
    __tablename__ = "fsm_records"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    thread_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    business_connection_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    destiny: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(256))
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class PartnerToken(Base):
    __tablename__ = "partner_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:  # never shows the tokens
        return f"PartnerToken(expires_at={self.expires_at})"


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # None: the system
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128))  # ids only, never patient data
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class AppState(Base):
    """Small key-value facts the bot learns while running and must keep across restarts
    (e.g. a group's new id after its migration to a supergroup). Values are text."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class JobLease(Base):
    """Who runs a scheduled job's pass (issue 13: several replicas, one pass per tick).

    One row per job; a replica runs the pass only after taking the row: free (``expires_at``
    passed) or already its own. Rows are never deleted: the table always shows who ran each
    job last, and until when nobody else may."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))  # the replica's instance id
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
