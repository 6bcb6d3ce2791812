"""Replies from every channel: store once, match the sender (`matching`), decide what the reply
leads to (`acting`: Telegram links, keywords, the classifier via `understanding`), answer
(`texts`, sent through `dispatch.direct`), and keep Twilio requests on disk while the
database is down (`spool`).

May import every other service package; nothing imports it but the entry points.
"""
