"""pytest entry point: fixtures are filled in by the test-infrastructure work."""
