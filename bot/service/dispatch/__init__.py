"""Dispatch: claim due bundles, compose, rate-limit, send, record; retries and reconciliation."""
