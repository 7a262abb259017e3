"""The e2e fixtures (a sandbox per test, wired to the test's store), shared with this suite."""

from tests.e2e.conftest import make_slice

__all__ = ["make_slice"]
