"""Where things are, for tests at any depth of tests/: the repository, the package, the tests."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
PACKAGE = REPO / "reconciler"
