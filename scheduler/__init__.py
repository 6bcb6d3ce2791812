"""APScheduler wiring and its jobs (plan, dispatch, sweep, reconcile), an entry point."""
