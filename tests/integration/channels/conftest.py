"""Channel tests use the shared peer fixtures of tests/peers/fixtures.py (see tests/conftest.py)."""
