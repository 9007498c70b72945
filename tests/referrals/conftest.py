from tests.scheduling.conftest import frozen, session  # noqa: F401  (shared fixtures)
