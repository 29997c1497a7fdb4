"""Email delivery domain: what an email request is, which templates exist and what may go wrong.

Pure Python: no I/O, no frameworks. Adapters (SMTP, Redis, Jinja2) and the bus sit outside.
"""
