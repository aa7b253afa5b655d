"""Fuzzing: every mutated model and scenario file is either valid or refused with positions.

The documents are the bundled files with one to three hostile mutations each
(``fuzzing.py``: byte flips, deleted and duplicated lines, swapped tokens, huge,
negative, NaN and infinite numbers, deep nesting, ``!!python/object/apply`` and
other tags, merge keys, duplicate keys, alias bombs, control characters). Each
is read the way the commands read it; anything but a valid file or a
:class:`~riskchain.errors.SpecError` whose every diagnostic has a line and a
column fails the test, as does a numpy overflow warning or a tag that runs
code. ``bench/bench_fuzz.py`` runs 100,000 such documents and counts outcomes.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from fuzzing import KINDS, MARKER, MUTATIONS, NAMES, FileKind, check, mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskchain.errors import Diagnostic, SpecError

#: Documents per file kind in the normal run (about 10 ms each).
EXAMPLES = 1500


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A folder holding each kind's file and what it refers to; the current folder
    while fuzzing, so a tag that ran ``touch`` would leave its marker there."""
    folder = tmp_path_factory.mktemp("fuzz")
    places = {kind.name: kind.prepare(folder) for kind in KINDS}
    old = Path.cwd()
    os.chdir(folder)
    yield places
    os.chdir(old)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rng=st.randoms(use_true_random=False), count=st.integers(1, 3))
def test_fuzzed_documents_are_valid_or_refused_with_positions(scratch, kind, rng, count):
    data, applied = mutate(kind.text(), rng, count)
    outcome = check(kind, data, scratch[kind.name])
    assert outcome.kind != "failure", f"{kind.name} after {applied}: {outcome.detail}"


# ----------------------------------------------------------------------------- the harness


def _kind(read) -> FileKind:
    return FileKind("test", "models/korea_russia_2024.yaml", read, "x.yaml")


def test_check_counts_every_way_of_failing(tmp_path, monkeypatch):
    """The harness itself: a traceback, an unplaced diagnostic, a numpy warning and a
    marker file are failures; a positioned SpecError is a refusal."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "x.yaml"

    def crash(_p):
        raise OverflowError("int too large")

    def unplaced(p):
        raise SpecError([Diagnostic(str(p), 0, 0, "somewhere")])

    def overflow(_p):
        import numpy as np

        np.float64(1e308) * 10

    def runs_code(_p):
        Path(MARKER).touch()

    def placed(p):
        raise SpecError([Diagnostic(str(p), 3, 5, "bad")])

    kinds = [crash, unplaced, overflow, runs_code]
    assert [check(_kind(f), b"x", path).kind for f in kinds] == ["failure"] * 4
    assert not Path(MARKER).exists()
    assert check(_kind(placed), b"x", path).kind == "refused"
    assert check(_kind(lambda p: None), b"x", path).kind == "valid"


def test_mutations_make_the_forms_they_promise():
    """Over a few hundred documents every mutation is used, and the hostile forms
    the issue lists appear in the documents."""
    text = KINDS[0].text()
    seen: set[str] = set()
    docs = []
    for i in range(600):
        rng = random.Random(i)
        data, applied = mutate(text, rng, 2)
        seen.update(applied)
        docs.append(data)
    assert seen == set(NAMES)
    blob = b"\n".join(docs)
    for form in (b"!!python/object/apply", b"<<: *m", b"[[[[[[", b".nan", b"1e308", b"*b1"):
        assert form in blob, form
    # each text mutation changes the text (or leaves it when it has nothing to work on)
    for name, fn in MUTATIONS.items():
        assert any(fn(text, random.Random(s)) != text for s in range(20)), name
