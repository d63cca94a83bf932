"""Use cases: what the bot does, free of any messenger."""
