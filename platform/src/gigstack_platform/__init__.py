"""Gigstack platform: the Pulumi program for the eks and minikube stacks."""
