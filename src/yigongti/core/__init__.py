"""Shared kernel: audit log, masking, policy parameters, errors, clock."""
