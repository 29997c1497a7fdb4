"""The order use cases: commands, their handlers and the unit-of-work port they depend on."""
