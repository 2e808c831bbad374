"""Pure texts and keyboards: nothing here talks to Telegram or the database."""
