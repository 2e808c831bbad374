"""Repositories: each takes an AsyncSession, flushes, and never commits."""

from storage.repositories.app_state import AppStateRepository, chat_migrated_key
from storage.repositories.audit import AuditRepository
from storage.repositories.consultations import (
    ConsultationRepository,
    PurgeCounts,
    SentCopy,
    name_search_key,
)
from storage.repositories.doctors import DoctorDirectoryRepository
from storage.repositories.fsm import FsmRepository
from storage.repositories.invites import ConsumeResult, ConsumeStatus, InviteRepository
from storage.repositories.job_leases import JobLeaseRepository
from storage.repositories.outbox import SCRUB_KEY_PREFIX, OutboxRepository, scrub_key
from storage.repositories.status_events import StatusEventRepository
from storage.repositories.tokens import TokenPairLike, TokenRepository
from storage.repositories.users import UserRepository

__all__ = [
    "SCRUB_KEY_PREFIX",
    "AppStateRepository",
    "AuditRepository",
    "ConsultationRepository",
    "ConsumeResult",
    "ConsumeStatus",
    "DoctorDirectoryRepository",
    "FsmRepository",
    "InviteRepository",
    "JobLeaseRepository",
    "OutboxRepository",
    "PurgeCounts",
    "SentCopy",
    "StatusEventRepository",
    "TokenPairLike",
    "TokenRepository",
    "UserRepository",
    "chat_migrated_key",
    "name_search_key",
    "scrub_key",
]
