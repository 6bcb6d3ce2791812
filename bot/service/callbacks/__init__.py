"""The human callback: open or join one per customer, the queue agents work, call outcomes.

`opening` (one open callback per customer, reasons joined, priority and SLA tightened),
`queue` (list, claim next atomically, release, expire stale claims), `outcomes` (what a
recorded call does), `errors` (one type per refusal, under `QueueError`).
May import `customers` and the shared service modules.
"""
