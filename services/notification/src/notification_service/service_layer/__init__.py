"""Use cases of the notification service: deliver one email event exactly once, pausing while SMTP is down.

Talks to the outside world only through the ports in ``ports.py``.
"""
