"""What every test shares: a cache directory of its own (icorules.rule_cache writes the
compiled bundled rules there), so the suite never reads or writes the user's cache; and
hypothesis drawing the same examples on every run, so a red run is a change, not luck.

`HYPOTHESIS_PROFILE=explore pytest -m slow` searches afresh, new examples each run: what it finds
goes into the tests as an `@example`."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True, scope="session")
def _own_cache_directory() -> Iterator[None]:
    saved = os.environ.get("XDG_CACHE_HOME")
    with tempfile.TemporaryDirectory(prefix="icorules-test-cache-") as cache:
        os.environ["XDG_CACHE_HOME"] = cache  # child processes the tests start inherit it
        try:
            yield
        finally:
            if saved is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = saved
