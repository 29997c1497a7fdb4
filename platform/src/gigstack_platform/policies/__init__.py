"""The platform's CrossGuard rules as importable policies (no policy server starts on import).

`platform/policy/__main__.py` is the only place that builds the `PolicyPack`; tests call each policy's
`validate` directly with compliant and violating resource inputs.
"""

from gigstack_platform.policies.catalog import ALL_POLICIES

__all__ = ["ALL_POLICIES"]
