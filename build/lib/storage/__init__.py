"""The bot's database: models, engine, repositories and migrations.

Knows nothing of Telegram or HTTP (the aiogram FSM storage over its table is `bot.fsm_storage`).
"""

from storage.db import UtcDateTime, create_engine, create_session_factory, utcnow
from storage.enums import ConsultationState, EventSource, NotifyMode, Origin, Role
from storage.models import (
    AppState,
    AuditEntry,
    Base,
    Consultation,
    DirectoryDoctor,
    FsmRecord,
    Invite,
    OutboxMessage,
    PartnerToken,
    StatusEvent,
    User,
)
from storage.repositories import (
    AppStateRepository,
    AuditRepository,
    ConsultationRepository,
    ConsumeResult,
    ConsumeStatus,
    DoctorDirectoryRepository,
    FsmRepository,
    InviteRepository,
    OutboxRepository,
    PurgeCounts,
    StatusEventRepository,
    TokenPairLike,
    TokenRepository,
    UserRepository,
)

__all__ = [
    "AppState",
    "AppStateRepository",
    "AuditEntry",
    "AuditRepository",
    "Base",
    "Consultation",
    "ConsultationRepository",
    "ConsultationState",
    "ConsumeResult",
    "ConsumeStatus",
    "DirectoryDoctor",
    "DoctorDirectoryRepository",
    "EventSource",
    "FsmRecord",
    "FsmRepository",
    "Invite",
    "InviteRepository",
    "NotifyMode",
    "Origin",
    "OutboxMessage",
    "OutboxRepository",
    "PartnerToken",
    "PurgeCounts",
    "Role",
    "StatusEvent",
    "StatusEventRepository",
    "TokenPairLike",
    "TokenRepository",
    "User",
    "UserRepository",
    "UtcDateTime",
    "create_engine",
    "create_session_factory",
    "utcnow",
]
