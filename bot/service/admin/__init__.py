"""Running the product: branches, festivals, staff and tokens, templates and their approval,
the calendar import, pause flags, and the demo data.

May import `planning`, `callbacks`, `customers` and the shared service modules (the demo
imports customers and plans its first day); never `dispatch` or `inbound`.
"""
