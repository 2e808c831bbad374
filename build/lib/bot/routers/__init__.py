"""One router per flow; composed in one written order by bot/app (create_dispatcher)."""
