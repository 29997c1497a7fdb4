"""Kubernetes building blocks shared by both stacks: providers, in-cluster stores, monitoring, Argo CD."""
