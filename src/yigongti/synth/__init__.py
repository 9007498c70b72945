"""Synthetic county generator: deterministic by seed, written through the domain services."""
