"""MongoDB adapters: the item repository and the unit of work (servicekit.mongo)."""
