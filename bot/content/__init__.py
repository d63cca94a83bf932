"""Domain logic without Telegram: models, digests, feeds, plan import, date phrases."""
