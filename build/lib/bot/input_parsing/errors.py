from __future__ import annotations


class InputError(ValueError):
    """A typed answer does not fit; ``reason`` is a Fluent key, ``args`` its arguments.

    A ``ValueError`` so aiogram-dialog's ``TextInput`` routes it to ``on_error``.
    """

    def __init__(self, reason: str, **args: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.args_ = args

    def __repr__(self) -> str:
        return f"InputError({self.reason!r}, {self.args_!r})"
