"""The compiled-model cache: hits equal fresh reads, damage is a miss, errors come from files,
entries cannot run code, and a folder others can write is not used."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

import riskchain.cache as cache
import riskchain.spec.yamlsrc as yamlsrc
from conftest import OTHER_UID, needs_root, run_cli
from riskchain.compile import compile_spec
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
    return sorted(folder.glob("*.entry")) if folder.exists() else []


def header(entry: Path) -> dict:
    """An entry's header line (see the layout in riskchain/cache.py)."""
    raw = entry.read_bytes()
    assert raw.startswith(b"riskchain-cache\n")
    return json.loads(raw.split(b"\n", 2)[1])


def split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(magic + header line, JSON part, arrays part) of an entry's bytes."""
    cut = raw.index(b"\n", raw.index(b"\n") + 1) + 1
    meta = json.loads(raw[raw.index(b"\n") + 1 : cut])["meta"]
    return raw[:cut], raw[cut : cut + meta], raw[cut + meta :]


def pickle_running(command: str) -> bytes:
    """The attack of issue 12: a protocol-4 pickle naming module 'riskchain.cache' and
    the dotted name 'os.system' (which pickle follows), called with ``command``."""

    def text(s: str) -> bytes:
        b = s.encode()
        return b"\x8c" + bytes([len(b)]) + b  # SHORT_BINUNICODE

    # PROTO 4, module, name, STACK_GLOBAL, argument, TUPLE1, REDUCE, STOP
    return b"\x80\x04" + text("riskchain.cache") + text("os.system") + b"\x93" + text(
        command
    ) + b"\x85R."


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


def other_key(b: bytes) -> bytes:
    """A whole, well-formed entry of another file (its digest is right)."""
    spec = load_model_spec_text(SMALL.replace("0.3", "0.4"))
    return cache._entry_bytes("0" * 64, spec, compile_spec(spec))


def load_model_spec_text(text: str):
    from riskchain.spec.model import parse_model_text

    return parse_model_text(text, "m.yaml")


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b"not an entry at all",
        lambda b: b"",
        other_key,
        lambda b: pickle.dumps(os.system),  # never unpickled
        lambda b: b.replace(b'"format": 2', b'"format": 1'),
    ],
    ids=["truncated", "garbage", "empty", "wrong-key", "pickle", "old-format"],
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
    assert header(entry)["key"] == entry.stem
    assert entry.read_bytes() == cache._entry_bytes(entry.stem, *good)


def test_an_entry_whose_arrays_do_not_fit_is_a_miss(folder, tmp_path):
    """Well formed, digest right, but one table has the wrong shape: a miss."""
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    (entry,) = entries(folder)
    spec, m = good
    short = type(m)(m.id, m.names, m.states, m.parents, m.cpts)
    short.cpts = (m.cpts[0][:1], m.cpts[1])
    entry.write_bytes(cache._entry_bytes(entry.stem, spec, short))
    same_model(good, cache.load_model_cached(path))


# ----------------------------------------------------------------------------- tampering (issue 12)


def test_an_entry_is_held_to_the_budget_it_is_read_under(folder, tmp_path):
    """An entry built under a large --max-table is not used under a smaller one that the
    file's tables exceed: the read fails as an uncached read does, with the same
    positioned error; under a budget the tables fit, the entry is used."""
    parents = [f"p{i}" for i in range(10)]
    text = "riskchain: 1\nid: wide\nnodes:\n" + "".join(f"  {p}:\n    p: 0.5\n" for p in parents)
    text += f"  top:\n    parents: [{', '.join(parents)}]\n    logic: or\n"
    path = tmp_path / "wide.yaml"
    path.write_text(text)
    # top's table: 2**11 entries of 8 bytes, built with about 3 copies: 48 KiB
    cache.load_model_cached(path, max_table=1 << 20)
    (entry,) = entries(folder)
    small = 32 * 1024
    with pytest.raises(SpecError) as cached:
        cache.load_model_cached(path, max_table=small)
    with pytest.raises(SpecError) as fresh:
        load_model_spec(path, max_table=small)
    assert [d.format() for d in cached.value.diagnostics] == [
        d.format() for d in fresh.value.diagnostics
    ]
    assert "above the budget of 32.0 KiB" in cached.value.diagnostics[0].message
    assert cached.value.diagnostics[0].line == 25  # top's parents:
    spec, _ = cache.load_model_cached(path, max_table=64 * 1024)  # fits: the entry serves
    assert entries(folder) == [entry] and list(spec.nodes)[-1] == "top"


def test_an_entry_that_would_run_a_command_runs_nothing(folder, tmp_path):
    """Issue 12 item 3: an entry naming riskchain.cache + os.system ran a shell command
    when the model was queried. Entries are no longer pickles: nothing runs."""
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    marker = tmp_path / "marker"
    for entry in folder.iterdir():  # whatever the entry is called
        entry.write_bytes(pickle_running(f"touch {marker}"))
    again = cache.load_model_cached(path)
    assert not marker.exists()
    same_model(good, again)
    Model(*again).query()
    assert not marker.exists()


def test_a_flipped_bit_in_a_cached_number_is_detected(folder, tmp_path):
    """Issue 12 item 8: one flipped bit in a cached float gave a silently wrong answer."""
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    (entry,) = folder.iterdir()
    raw = entry.read_bytes()
    at = raw.index(struct.pack("<d", 0.9))  # P(wet=yes | rain=yes), as stored in the array
    flipped = bytearray(raw)
    flipped[at + 5] ^= 0x10  # a mantissa bit: 0.9 becomes another number in (0, 1)
    entry.write_bytes(bytes(flipped))
    again = cache.load_model_cached(path)
    same_model(good, again)
    assert again[1].cpts[1][1].tolist() == [pytest.approx(0.1), pytest.approx(0.9)]


def test_a_tampered_table_is_not_used(folder, tmp_path):
    """Issue 12 item 3: one table made uniform in a well-formed entry was trusted (33.3%
    each from 'query' while 'validate' passed). The digest in the header no longer fits."""
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    (entry,) = entries(folder)
    head, meta, _ = split(entry.read_bytes())
    spec, m = good
    uniform = type(m)(m.id, m.names, m.states, m.parents, (m.cpts[0], np.full((2, 2), 0.5)))
    _, _, arrays = split(cache._entry_bytes(entry.stem, spec, uniform))
    entry.write_bytes(head + meta + arrays)  # the header (and its digest) left as it was
    again = cache.load_model_cached(path)
    same_model(good, again)
    assert Model(*again).query(given={"rain": "yes"}).posteriors["wet"]["yes"] == pytest.approx(
        0.9
    )


def test_the_digest_covers_the_whole_entry(folder, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    cache.load_model_cached(path)
    (entry,) = entries(folder)
    head, meta, arrays = split(entry.read_bytes())
    assert header(entry)["sha256"] == hashlib.sha256(meta + arrays).hexdigest()
    assert (head + meta).isascii()  # JSON text, no pickle opcodes
    assert np.load(io.BytesIO(arrays), allow_pickle=False).dtype == np.float64


def plant(entry: Path) -> None:
    """Replace an entry by one that is well formed, with a right digest and key, but
    answers differently (P(rain) = 0.99): what another user with write access could do."""
    spec = load_model_spec_text(SMALL.replace("0.3", "0.99"))
    entry.write_bytes(cache._entry_bytes(entry.stem, spec, compile_spec(spec)))


@pytest.mark.parametrize("where", ["models", "parent"])
def test_a_folder_others_can_write_is_not_used(folder, tmp_path, where):
    """Issue 12 item 8: a cache folder pre-created 0777 by another account let that
    account's entry run as the user who queried. Such a folder is neither read nor written."""
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    (entry,) = entries(folder)
    plant(entry)
    (folder if where == "models" else folder.parent).chmod(0o777)
    with pytest.warns(cache.CacheWarning, match=r"writable by group or others \(mode 0777\)"):
        again = cache.load_model_cached(path)
    same_model(good, again)
    entry.unlink()
    with pytest.warns(cache.CacheWarning):
        cache.load_model_cached(path)
    assert entries(folder) == []  # nothing written there either


@needs_root
def test_a_folder_of_another_user_is_not_used(folder, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    plant(entries(folder)[0])
    os.chown(folder, OTHER_UID, OTHER_UID)
    with pytest.warns(cache.CacheWarning, match=rf"belongs to another user \(uid {OTHER_UID}\)"):
        again = cache.load_model_cached(path)
    same_model(good, again)


def test_an_entry_others_can_write_is_not_used(folder, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    good = cache.load_model_cached(path)
    (entry,) = entries(folder)
    plant(entry)
    entry.chmod(0o666)
    same_model(good, cache.load_model_cached(path))


def test_the_cli_warns_in_one_line_and_answers(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.setenv("RISKCHAIN_CACHE_DIR", str(folder))
    monkeypatch.delenv("RISKCHAIN_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    code, out, err = run_cli(capsys, "query", str(BUNDLED), "-t", "nk_troop_dispatch")
    assert code == 0 and "nk_troop_dispatch" in out
    assert err == (
        f"warning: not using the model cache in {folder}: it is writable by group or others "
        f"(mode 0777); make it yours and private (chmod 700), or set RISKCHAIN_CACHE_DIR "
        "to another folder\n"
    )
    assert not (folder / "models").exists()


def test_folders_and_entries_are_private(folder, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    cache.load_model_cached(path)
    (entry,) = entries(folder)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert folder.parent.stat().st_mode & 0o777 == 0o700


ALL_KINDS = """riskchain: 1
id: every-kind
title: Every kind of table
horizon: 12 months
description: A model using every way of writing numbers.
strength: 30
sources:
  s1: {title: A report, date: 2024-10-18, url: "https://example.org/r", publisher: Desk}
nodes:
  storm:
    label: Storm
    p: likely
    sources: [s1]
    note: Seasonal outlook.
    confidence: moderate
  cyber: {p: "5%"}
  grid: {states: [off, on], p: [0.2, 0.4]}
  threat:
    states: [low, elevated, severe]
    p: {low: 0.6, elevated: "beta(3, 7)"}
    impact: {elevated: 3, severe: 5}
  outage:
    parents: [storm, cyber, grid]
    noisy_or: {leak: 0.02, storm: 0.7, cyber: 0.4, grid: {state: on, p: 0.1}}
    impact: {value: 2.5, unit: bn USD}
  restoration:
    parents: [storm, cyber]
    noisy_and: {form: net, leak: 0.9, storm: 0.2, cyber: 0.5}
  emergency:
    parents: [outage, storm, cyber]
    logic: {at_least: 2}
  damage:
    states: [none, moderate, severe]
    parents: [outage, threat]
    noisy_max:
      leak: {none: 0.9, moderate: 0.08}
      outage:
        yes: {none: 0.3, moderate: 0.5}
      threat:
        elevated: {none: 0.7, moderate: 0.25}
        severe: {none: 0.4, moderate: 0.4}
  pressure:
    states: [low, medium, high]
    parents: [damage, threat]
    ranked: {function: wmax, weights: {damage: 2, threat: 1}, variance: 0.01}
  crisis:
    states: [low, elevated, severe]
    parents: [storm, threat]
    strength: 10
    cpt:
      storm=yes, threat=*:
        p: {low: 0.1, elevated: 0.5}
        note: Storms make it worse.
      storm=no, threat=low|elevated: {low: 0.6, elevated: unlikely}
      default: {low: 0.7, elevated: 0.2}
"""


def test_every_kind_of_spec_round_trips(folder, tmp_path, monkeypatch):
    """The JSON form holds every spec class: a hit equals a fresh read field by field."""
    path = tmp_path / "kinds.yaml"
    path.write_text(ALL_KINDS)
    first = cache.load_model_cached(path)
    kinds = {n.table.kind for n in first[0].nodes.values()}
    assert kinds == {"p", "cpt", "noisy_or", "noisy_and", "logic", "noisy_max", "ranked"}
    assert len(entries(folder)) == 1
    fresh = load_model_spec(path)
    forbid_parsing(monkeypatch)
    second = cache.load_model_cached(path)
    same_model(first, second)
    assert second[0] == fresh
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cache.load_model_cached(path)


def test_old_pickle_entries_are_removed(folder, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    folder.mkdir(parents=True, mode=0o700)
    folder.parent.chmod(0o700)
    old = folder / ("a" * 64 + ".pickle")
    old.write_bytes(pickle_running("true"))
    cache.load_model_cached(path)
    assert not old.exists() and len(entries(folder)) == 1


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
        f = tmp_path / f"{i}.entry"
        f.write_bytes(b"x" * 100)
        os.utime(f, (1000 + i, 1000 + i))
    stale = tmp_path / ".abc.entry.123.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (1000, 1000))
    cache.prune(tmp_path, max_bytes=300, keep=tmp_path / "0.entry")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.entry", "3.entry", "4.entry"]
