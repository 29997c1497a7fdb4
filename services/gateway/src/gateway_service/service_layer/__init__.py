"""Gateway use cases: SessionService (start, refresh, authenticate, end) and RequestThrottle.

They depend only on the domain and on the ports in ``ports``; adapters implement the ports.
"""
