"""The only aiogram code outside the handlers."""
