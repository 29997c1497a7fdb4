"""The storefront owns no business rules: the marketplace's live in the services behind the gateway. The
layer exists so the import contracts (.importlinter) read the same for every service."""
