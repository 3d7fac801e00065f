"""The repository root, so tests import the project's packages."""
