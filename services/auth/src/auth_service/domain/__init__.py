"""Pure auth domain: accounts, the credentials policy, OTP challenges, single-use tokens, events, errors.

Nothing here performs I/O; hashing and randomness are reached through the service layer's ports.
"""
