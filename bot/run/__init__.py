"""The long-running process, an entry point beside `bot.web` and `bot.commands`: `runner`
(`outreach run`: scheduler, web server, SMTP receiver) and `receivers` (SMTP and Telegram
updates). May import anything; nothing but entry points imports it."""
