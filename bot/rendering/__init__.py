"""Pure texts and Inline keyboards of the access flows.: nothing here talks to Telegram or the database."""
