"""The shared networks are converted once and kept (tests/conftest.py): what is kept
must be what the code under test computes now."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import conftest
import riskchain.io.bif as bif

TESTS = Path(__file__).resolve().parent


def _same(a: bif.Imported, b: bif.Imported) -> None:
    assert list(a.model.names) == list(b.model.names)
    assert [list(s) for s in a.model.states] == [list(s) for s in b.model.states]
    assert [list(p) for p in a.model.parents] == [list(p) for p in b.model.parents]
    for x, y in zip(a.model.cpts, b.model.cpts):
        assert np.array_equal(x, y)
    assert a.raw.keys() == b.raw.keys()
    assert all(np.array_equal(a.raw[k], b.raw[k]) for k in a.raw)
    assert (a.source, a.fmt, a.labels, a.notes) == (b.source, b.fmt, b.labels, b.notes)


@pytest.mark.parametrize("net", ["asia", "child"])
def test_kept_conversion_equals_a_fresh_one(net, tmp_path, monkeypatch):
    """Kept, then taken back from the file: equal to a fresh read and round trip."""
    monkeypatch.setenv("RISKCHAIN_TEST_NETWORK_CACHE", str(tmp_path))
    fresh = bif.read_bif(conftest.network_path(net))
    conftest._keep(net, "read", fresh)
    _same(conftest._cached(net, "read"), fresh)
    text, model = conftest.import_with(fresh, conftest.network_path(net))
    conftest._keep(net, "import", (text, model))
    kept_text, kept_model = conftest._cached(net, "import")
    assert kept_text == text == bif.import_network(conftest.network_path(net))[0]
    assert all(np.array_equal(x, y) for x, y in zip(kept_model.cpts, model.cpts))
    # one file per network and result; a torn file is converted again, not trusted
    assert len(list(tmp_path.glob(f"{net}.read.*.pickle"))) == 1
    conftest._cache_file(net, "read").write_bytes(b"\x80torn")
    assert conftest._cached(net, "read") is None


def test_a_new_digest_names_a_new_file_and_drops_the_old(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKCHAIN_TEST_NETWORK_CACHE", str(tmp_path))
    imp = bif.read_bif(conftest.network_path("cancer"))
    conftest._keep("cancer", "read", imp)
    before = conftest._cache_file("cancer", "read")
    monkeypatch.setattr(conftest, "CONVERTER_DIGEST", "changed source")
    conftest._network_digest.cache_clear()
    try:
        after = conftest._cache_file("cancer", "read")
        assert after != before
        assert conftest._cached("cancer", "read") is None  # not taken from the old file
        conftest._keep("cancer", "read", imp)
        assert [p.name for p in tmp_path.glob("cancer.read.*")] == [after.name]
    finally:
        conftest._network_digest.cache_clear()


def test_the_digest_covers_every_module_a_conversion_runs(tmp_path):
    """In a fresh process: the riskchain modules loaded when the digest is taken are all
    those a read and an import round trip use (so editing any of them converts again)."""
    script = f"""
import json, sys
sys.path.insert(0, {str(TESTS)!r})
import conftest
before = {{m for m in sys.modules if m.split(".")[0] == "riskchain"}}
path = conftest.network_path("child")
conftest.import_with(conftest.bif.read_bif(path), path)
after = {{m for m in sys.modules if m.split(".")[0] == "riskchain"}}
print(json.dumps(sorted(after - before)))
"""
    env = {**os.environ, "RISKCHAIN_TEST_NETWORK_CACHE": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(out.stdout) == []
