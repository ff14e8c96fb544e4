"""Helpers shared by test modules: each test module imports from here (or from conftest),
never from another test module, so any test file can move on its own."""
