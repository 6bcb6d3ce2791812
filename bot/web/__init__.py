"""The HTTP entry point (FastAPI): provider webhooks, unsubscribe and Telegram links, health,
metrics and the JSON API."""
