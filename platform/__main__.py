"""Pulumi entry point (`main: platform/` in Pulumi.yaml): build the stack's resources."""

from gigstack_platform.entrypoint import main

main()
