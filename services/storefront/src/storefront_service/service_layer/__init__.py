"""No use cases of its own: pages call the gateway's operations directly (docs/adr/0025)."""
