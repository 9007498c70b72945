"""Users, roles and data scope."""
