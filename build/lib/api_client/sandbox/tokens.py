"""Bearer tokens, SMS validation codes and the OAuth grants of the emulator."""

from __future__ import annotations

import secrets

from .records import TokenError, digits_of
from .seed import JSON

TOKEN_EXPIRES_IN = 1209599


class TokenBook:
    """Which bearer tokens are valid, and the token endpoint's grants.

    With `required_token` None any non-empty bearer is accepted (the embedded default);
    otherwise only that token and the tokens this book issued. An expired token is refused
    in both modes, so the client's refresh can be tested.
    """

    def __init__(self, required_token: str | None, sms_code: str) -> None:
        self.required_token = required_token
        self.sms_code = sms_code
        self.last_sms_code: str | None = None
        self._sms_codes: dict[str, str] = {}
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self._spent_refresh: set[str] = set()
        self._expired: set[str] = set()

    def valid(self, token: str | None) -> bool:
        if not token or token in self._expired:
            return False
        if token in self._access or self.required_token is None:
            return True
        return token == self.required_token

    def expire(self, token: str) -> None:
        self._access.discard(token)
        self._expired.add(token)

    def issue(self) -> JSON:
        access = secrets.token_urlsafe(24)
        refresh = secrets.token_urlsafe(24)
        self._access.add(access)
        self._refresh.add(refresh)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": TOKEN_EXPIRES_IN,
            "refresh_token": refresh,
        }

    def request_sms_code(self, phone: str) -> str:
        self._sms_codes[digits_of(phone)] = self.sms_code
        self.last_sms_code = self.sms_code
        return self.sms_code

    def grant_password(self, username: str | None, password: str | None) -> JSON:
        digits = digits_of(username or "")
        expected = self._sms_codes.get(digits) if digits else self.last_sms_code
        if expected is None or not password or password != expected:
            raise TokenError("invalid_grant", "The validation code is wrong or expired.")
        self._sms_codes.pop(digits, None)
        return self.issue()

    def grant_refresh(self, refresh_token: str | None) -> JSON:
        # Refresh tokens are single-use (rotated), so a client that refreshes twice with the
        # same one fails visibly. Unknown ones pass only in the lenient mode, so a bot started
        # with arbitrary sandbox credentials can still refresh.
        token = refresh_token or ""
        known = token in self._refresh
        lenient = self.required_token is None and token != ""
        if token in self._spent_refresh or not (known or lenient):
            raise TokenError("invalid_grant", "The refresh token is invalid or already used.")
        self._refresh.discard(token)
        self._spent_refresh.add(token)
        return self.issue()
