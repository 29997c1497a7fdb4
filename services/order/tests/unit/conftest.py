"""Unit tests of the order service: the domain (money, state machine) with no servers."""
