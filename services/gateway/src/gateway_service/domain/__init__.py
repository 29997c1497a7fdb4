"""Gateway domain: session and refresh-token family rules, access-token claims and rate-limit policy.

Pure Python: no framework, store or network imports (checked by import-linter).
"""
