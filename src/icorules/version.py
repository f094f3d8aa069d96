"""icorules' version, in a module of its own so that any module can read it without importing
the package's lazy exports (icorules/__init__.py) and what they name."""

VERSION = "0.1.0"
