"""Adapters of the storefront: its Redis (sessions.py) and the gateway (gateway_client.py) live at the
package root, where the brief of docs/adr/0025 places them; nothing else is adapted."""
