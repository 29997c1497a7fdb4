"""MongoDB adapters: conversations, messages, unread notices, the directory replica and the unit of work."""
