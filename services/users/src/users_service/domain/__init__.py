"""The users domain: a profile per account (buyer side, optional seller side), job counters and rating
buckets, and the rules that keep them exact. Pure Python: no framework, store or broker here."""
