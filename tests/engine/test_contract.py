"""The three contraction paths (direct einsum, opt_einsum, in-place product) agree with numpy.einsum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskchain.engine.exact as E


@st.composite
def problems(draw):
    """Random factors over up to 5 variables, some with a batch axis, and an output set."""
    nvars = draw(st.integers(1, 5))
    cards = [draw(st.integers(1, 4)) for _ in range(nvars)]
    batch = draw(st.integers(2, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ops = []
    for _ in range(draw(st.integers(1, 4))):
        vs = sorted(rng.choice(nvars, size=rng.integers(0, nvars + 1), replace=False).tolist())
        rng.shuffle(vs)
        shape = [cards[v] for v in vs]
        if draw(st.booleans()):
            shape = [batch, *shape]
        ops.append((rng.random(shape), tuple(vs)))
    present = sorted({v for _, vs in ops for v in vs})
    out = [v for v in present if draw(st.booleans())]
    rng.shuffle(out)
    return ops, tuple(out)


def reference(ops, out):
    letters = "bcdefgh"
    batched = any(a.ndim == len(vs) + 1 for a, vs in ops)
    terms = [
        ("a" if a.ndim == len(vs) + 1 else "") + "".join(letters[v] for v in vs) for a, vs in ops
    ]
    eq = ",".join(terms) + "->" + ("a" if batched else "") + "".join(letters[v] for v in out)
    return np.einsum(eq, *[a for a, _ in ops])


@pytest.mark.parametrize("path", ["direct", "opt_einsum", "in_place"])
@settings(max_examples=60, deadline=None)
@given(problem=problems())
def test_paths_agree_with_einsum(path, problem):
    ops, out = problem
    direct, in_place = {"direct": (10**12, 10**12), "opt_einsum": (0, 10**12), "in_place": (0, 0)}[
        path
    ]
    saved = E._DIRECT_EINSUM, E._IN_PLACE
    E._DIRECT_EINSUM, E._IN_PLACE = direct, in_place
    try:
        got = E.contract(ops, out)
    finally:
        E._DIRECT_EINSUM, E._IN_PLACE = saved
    want = reference(ops, out)
    assert got.shape == want.shape
    assert np.allclose(got, want, rtol=1e-12, atol=1e-14)
