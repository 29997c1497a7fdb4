"""Pulumi entry point (`main: platform/` in Pulumi.yaml): build the stack's resources."""

from gigstack_platform.program import main

main()
