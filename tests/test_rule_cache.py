"""The compiled bundled rules kept between runs: the same rules as loading the files, read only
under a key that covers the files' bytes, and a damaged cache ignored and written again."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from icorules import rule_cache
from icorules.rules.loader import bundled_ruleset_dir, load_rulesets, ruleset_files


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "icorules" / rule_cache.FILE


def test_the_cached_bundle_is_the_loaded_one(cache: Path) -> None:
    first = rule_cache.bundled_rules()  # loads and writes the cache
    assert cache.exists()
    cached = rule_cache.bundled_rules()  # reads it
    loaded = load_rulesets()
    for bundle in (first, cached):
        assert bundle.checked
        assert bundle.rulesets == loaded.rulesets
        assert bundle.rules == loaded.rules
        assert [r.patterns for r in bundle.rules] == [r.patterns for r in loaded.rules]
        assert [rs.parameter_info for rs in bundle.rulesets] == [
            rs.parameter_info for rs in loaded.rulesets
        ]


def test_the_key_covers_every_ruleset_file_byte(tmp_path: Path) -> None:
    root = tmp_path / "bundled"
    shutil.copytree(bundled_ruleset_dir(), root)
    files = ruleset_files([root])
    before = rule_cache.cache_key(root, files)
    assert rule_cache.cache_key(root, files) == before
    files[0].write_bytes(files[0].read_bytes() + b"\n")
    assert rule_cache.cache_key(root, files) != before


def test_a_cache_under_another_key_is_not_read(cache: Path) -> None:
    rule_cache.bundled_rules()
    data = orjson.loads(cache.read_bytes())
    assert rule_cache.read_cache(cache, data["key"]) is not None
    assert rule_cache.read_cache(cache, "0" * 64) is None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b'{"format": "icorules/rule-cache/1"}',
        b'{"format": "icorules/rule-cache/1", "key": "KEY", "bundle": {"@class": "os:system"}}',
        b'{"format": "icorules/rule-cache/1", "key": "KEY", "bundle": {"@x": 1}}',
    ],
)
def test_a_damaged_cache_is_ignored_and_written_again(cache: Path, content: bytes) -> None:
    rule_cache.bundled_rules()
    key = orjson.loads(cache.read_bytes())["key"]
    cache.write_bytes(content.replace(b"KEY", key.encode()))
    assert rule_cache.read_cache(cache, key) is None
    assert rule_cache.bundled_rules().rules == load_rulesets().rules
    assert orjson.loads(cache.read_bytes())["key"] == key


def test_only_the_bundles_own_classes_are_built() -> None:
    with pytest.raises(rule_cache._Damaged):
        rule_cache.decode({"@class": "subprocess:Popen", "f": {}})
    with pytest.raises(rule_cache._Damaged):
        rule_cache.decode({"@model": "icorules.rules.loader:load_rulesets", "f": {}, "s": []})
