"""The use cases: each takes repositories, the partner API client and a clock — never aiogram
types — and starts by asking the access policy (``bot.services.access.authorize``) whether
the actor, as the database shows them at that moment, may do it.

Routers and dialogs parse the input, call a service and render what it returns; a refusal
(``AccessDenied``) is rendered as one short sentence (``bot.rendering.access_denied``).
"""
