"""Secrets (invite codes, notification tokens) are stored only as sha256 hex digests."""

from __future__ import annotations

import hashlib
import secrets


def hash_secret(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def new_secret(nbytes: int = 24) -> str:
    """A URL-safe random secret; 24 bytes = 192 bits (the issue asks for at least 128)."""
    return secrets.token_urlsafe(nbytes)
