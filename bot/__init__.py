"""Infozona: the Telegram bot of the district IMC's innovation outreach project."""
