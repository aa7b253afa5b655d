"""The compiled-model cache: hits equal fresh reads, damage is a miss, errors come from files."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import riskchain.cache as cache
import riskchain.spec.yamlsrc as yamlsrc
from riskchain.errors import SpecError, UsageError
from riskchain.model import Model
from riskchain.spec.model import load_model_spec
from riskchain.spec.yamlsrc import Document

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "models" / "korea_russia_2024.yaml"

SMALL = """riskchain: 1
id: tiny
nodes:
  rain:
    p: 0.3
  wet:
    parents: [rain]
    cpt:
      rain=yes: 0.9
      rain=no: 0.1
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder, every file size cached."""
    monkeypatch.setenv("RISKCHAIN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RISKCHAIN_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    return tmp_path / "cache" / "models"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle")) if folder.exists() else []


def same_model(a, b) -> None:
    (spec_a, m_a), (spec_b, m_b) = a, b
    assert spec_a == spec_b
    assert (m_a.id, m_a.names, m_a.states, m_a.parents) == (
        m_b.id,
        m_b.names,
        m_b.states,
        m_b.parents,
    )
    for x, y in zip(m_a.cpts, m_b.cpts, strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)


def forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("the file was parsed: not a cache hit")

    monkeypatch.setattr(yamlsrc, "parse_yaml", fail)


def test_miss_then_hit_gives_the_same_model(folder, tmp_path, monkeypatch):
    path = tmp_path / "korea.yaml"
    path.write_bytes(BUNDLED.read_bytes())
    first = cache.load_model_cached(path)
    assert len(entries(folder)) == 1
    fresh = load_model_spec(path)
    assert first[0] == fresh
    forbid_parsing(monkeypatch)
    second = cache.load_model_cached(path)
    same_model(first, second)
    # the cached model answers exactly as the file does
    ours = Model(*second).query(given={"nis_satellite_photos": "yes"})
    theirs = Model(fresh).query(given={"nis_satellite_photos": "yes"})
    assert ours.posteriors == theirs.posteriors


def test_an_edited_file_is_read_again(folder, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    _, m = cache.load_model_cached(path)
    assert m.cpts[0].tolist() == pytest.approx([0.7, 0.3])
    path.write_text(SMALL.replace("p: 0.3", "p: 0.4"))
    _, m = cache.load_model_cached(path)
    assert m.cpts[0].tolist() == pytest.approx([0.6, 0.4])
    assert len(entries(folder)) == 2


def test_errors_come_from_the_file_and_are_not_cached(folder, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(SMALL.replace("rain=no: 0.1\n", ""))
    with pytest.raises(SpecError) as fresh:
        load_model_spec(path)
    for _ in range(2):
        with pytest.raises(SpecError) as ours:
            cache.load_model_cached(path)
        assert str(ours.value) == str(fresh.value)
    assert entries(folder) == []
    with pytest.raises(UsageError, match="no such file"):
        cache.load_model_cached(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b"not a pickle at all",
        lambda b: b"",
        lambda b: pickle.dumps({"format": cache.CACHE_FORMAT, "key": "other"}),
        lambda b: pickle.dumps(os.system),  # refused by the unpickler, never called
    ],
    ids=["truncated", "garbage", "empty", "wrong-key", "foreign-class"],
)
def test_a_damaged_entry_is_a_miss_and_is_rebuilt(folder, tmp_path, damage):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    (entry,) = entries(folder)
    entry.write_bytes(damage(entry.read_bytes()))
    again = cache.load_model_cached(path)
    same_model(good, again)
    # rebuilt: the entry is whole again and is a hit
    assert pickle.loads(entry.read_bytes())["key"] == entry.stem


def test_an_entry_whose_arrays_do_not_fit_is_a_miss(folder, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    (entry,) = entries(folder)
    record = pickle.loads(entry.read_bytes())
    cid, names, states, parents, cpts = record["compiled"]
    record["compiled"] = (cid, names, states, parents, (cpts[0][:1], cpts[1]))
    entry.write_bytes(pickle.dumps(record))
    same_model(good, cache.load_model_cached(path))


def test_no_cache_setting_and_small_files(folder, tmp_path, monkeypatch):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    monkeypatch.setenv("RISKCHAIN_NO_CACHE", "1")
    assert cache.cache_dir() is None
    cache.load_model_cached(path)
    assert entries(folder) == []
    monkeypatch.setenv("RISKCHAIN_NO_CACHE", "0")
    monkeypatch.setattr(cache, "MIN_BYTES", len(SMALL) + 1)
    cache.load_model_cached(path)
    assert entries(folder) == []  # below the size worth caching
    monkeypatch.setattr(cache, "MIN_BYTES", len(SMALL))
    cache.load_model_cached(path)
    assert len(entries(folder)) == 1


def test_where_the_cache_lives(monkeypatch, tmp_path):
    for var in ("RISKCHAIN_NO_CACHE", "RISKCHAIN_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "riskchain" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "riskchain" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "riskchain" / "models"
    monkeypatch.setenv("RISKCHAIN_CACHE_DIR", str(tmp_path / "own"))
    assert cache.cache_dir() == tmp_path / "own" / "models"


def test_an_unwritable_cache_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("RISKCHAIN_CACHE_DIR", str(blocker))
    monkeypatch.delenv("RISKCHAIN_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    spec, m = cache.load_model_cached(path)
    assert spec.id == "tiny" and m.names == ("rain", "wet")


def test_the_name_and_default_id_are_part_of_the_key(folder, tmp_path):
    text = SMALL.replace("id: tiny\n", "")
    a, b = tmp_path / "first.yaml", tmp_path / "second.yaml"
    a.write_text(text)
    b.write_text(text)
    spec_a, m_a = cache.load_model_cached(a)
    spec_b, m_b = cache.load_model_cached(b)
    assert (spec_a.id, m_a.id, spec_a.path) == ("first", "first", str(a))
    assert (spec_b.id, m_b.id, spec_b.path) == ("second", "second", str(b))
    assert cache.load_model_cached(a, display="shown.yaml")[0].path == "shown.yaml"


def test_scenario_files_are_parsed_not_cached(folder, tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(SMALL)
    scen = tmp_path / "s.yaml"
    scen.write_text("riskchain: 1\nmodel: m.yaml\nscenarios:\n  base: {}\n")
    loaded = cache.load_file_cached(scen)
    assert isinstance(loaded, Document)
    assert entries(folder) == []
    loaded = cache.load_file_cached(model)
    assert not isinstance(loaded, Document) and loaded[0].id == "tiny"
    assert len(entries(folder)) == 1


def test_prune_removes_the_least_recently_used(tmp_path):
    for i in range(5):
        f = tmp_path / f"{i}.pickle"
        f.write_bytes(b"x" * 100)
        os.utime(f, (1000 + i, 1000 + i))
    stale = tmp_path / ".abc.pickle.123.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (1000, 1000))
    cache.prune(tmp_path, max_bytes=300, keep=tmp_path / "0.pickle")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.pickle", "3.pickle", "4.pickle"]
