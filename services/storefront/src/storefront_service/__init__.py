"""Gigstack's storefront: the marketplace in a browser, server-rendered over the gateway's public API."""
