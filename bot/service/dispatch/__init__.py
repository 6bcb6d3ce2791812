"""Sending: claim due bundles, compose, rate-limit, send, record; retries, the circuit
breaker, delivery reports (provider status and bounces), reconciliation of interrupted sends,
and `direct` (the one place sends outside the planned flow leave from).

May import `admin` (pause flags, approved templates), `callbacks`, `customers`, the shared
service modules and `message_templates`; never `inbound`.
"""
