"""Pure parsers for what a coordinator types in the /start_callback wizard.

Each parser returns a value or raises ``InputError`` carrying a Fluent key (the reason)
and its arguments, so the dialog can say what is expected without knowing the rules.
"""

from bot.input_parsing.errors import InputError

__all__ = ["InputError"]
