"""Real protocol peers on 127.0.0.1 for integration tests: Twilio, Telegram, SMTP.

Each peer is started inside the test's event loop on port 0 and stopped by its
fixture; none of them ever talks to anything but loopback.
"""
