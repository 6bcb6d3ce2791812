"""Use cases, one package per capability; each package's docstring says what it may import.

From the bottom up (a package imports only those before it, never one after):

- shared modules here: `events` (the append-only record), `tokens` (random ids and link
  tokens), `calendar` (the working calendar and branch festivals as stored);
- `customers`: customer view, CSV import, consent, address usability;
- `callbacks`: open or join a human callback, the queue, call outcomes;
- `planning`: turn rules into touches and bundles, the sweep;
- `admin`: branches, festivals, staff, templates, calendar import, pause flags, the demo;
- `dispatch`: send due bundles, record results, delivery reports, reconciliation;
- `inbound`: store, match, understand and act on replies; the spool; Telegram links.

Everything here may import `bot.domain`, `bot.db`, `bot.settings` and `bot.app`; sending
and receiving go through `channels` shapes only. Nothing here imports `bot.web`,
`bot.run`, `bot.commands`, `bot.bootstrap` or `scheduler` (they are the callers).
"""
