"""Likelihoods of any finite scale: only their ratios move beliefs, and their scale is
carried in log P(evidence) (values near 1e308 used to overflow into 'impossible
evidence', values near 1e-300 to underflow). Checked against closed forms on two
independent roots and a child, where every number is a short sum by hand."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from riskchain.cli import main
from riskchain.engine.exact import infer, probability_of
from riskchain.model import Model
from riskchain.spec.model import parse_model_text

MODEL = """\
riskchain: 1
id: lk
nodes:
  a:
    p: 0.3
  b:
    p: 0.6
  c:
    parents: [a, b]
    cpt:
      a=yes, b=yes: 0.9
      default: 0.2
"""


@pytest.fixture
def model() -> Model:
    return Model(parse_model_text(textwrap.dedent(MODEL)))


def closed_form(la, lb, lc):
    """(log P(evidence), P(a=yes | e), P(b=yes | e)) by summing the joint by hand."""
    total = ya = yb = 0.0
    for a, b, c in np.ndindex(2, 2, 2):
        pa = 0.3 if a else 0.7
        pb = 0.6 if b else 0.4
        pc_yes = 0.9 if a and b else 0.2
        pc = pc_yes if c else 1 - pc_yes
        # each likelihood scaled by its own largest value, the scales multiplied back in log
        w = pa * pb * pc * (la[a] / max(la)) * (lb[b] / max(lb)) * (lc[c] / max(lc))
        total += w
        ya += w * a
        yb += w * b
    log_scale = math.log(max(la)) + math.log(max(lb)) + math.log(max(lc))
    return math.log(total) + log_scale, ya / total, yb / total


CASES = {
    "near the largest float": ((0.5e308, 1.5e308), (1e308, 1e308), (1, 1)),
    "near the smallest normal float": ((1e-300, 3e-300), (1e-300, 3e-300), (1e-300, 1e-300)),
    "both at once": ((1e-300, 3e-300), (1.7e308, 0.2e308), (2e-300, 1e-300)),
}


@pytest.mark.parametrize("case", CASES)
def test_query_matches_the_closed_form(case, model):
    la, lb, lc = CASES[case]
    want_log, want_a, want_b = closed_form(la, lb, lc)
    res = model.query(
        likelihood={"a": list(la), "b": list(lb), "c": list(lc)}, targets=["a", "b"]
    )
    assert res.posteriors["a"]["yes"] == pytest.approx(want_a, abs=1e-12)
    assert res.posteriors["b"]["yes"] == pytest.approx(want_b, abs=1e-12)
    assert res.log_evidence == pytest.approx(want_log, rel=1e-12)
    assert res.evidence_probability == probability_of(want_log)


def test_the_engine_scales_each_batch_element_on_its_own(model):
    """A batch of likelihoods of very different scales: each element as if alone."""
    m = model.compiled
    lik = np.array([[1e-300, 3e-300], [0.5e308, 1.5e308], [1.0, 3.0]])
    res = infer(m, [m.node("a")], likelihood={m.node("a"): lik})
    post = res.marginals[m.node("a")][:, 1]
    np.testing.assert_allclose(post, 0.9 / (0.9 + 0.7), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        res.log_evidence, np.log([1.6e-300, 0.8e308, 1.6]), rtol=1e-12, atol=0
    )


def test_the_command_line_shows_p_evidence_beyond_a_float(capsys, tmp_path):
    """Two likelihoods of 1e308 are not impossible evidence; P(evidence) is printed from
    its log (0.8e308 x 1e308)."""
    path = tmp_path / "m.yaml"
    path.write_text(MODEL)
    code = main(
        ["query", str(path), "-l", "a=yes:1.5e308,no:0.5e308", "-l", "b=yes:1e308,no:1e308",
         "-t", "a"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "P(evidence) = 8.000e+615" in out
    assert "56.2%" in out  # 0.3 x 1.5 / (0.3 x 1.5 + 0.7 x 0.5)
    code = main(
        ["query", str(path), "-l", "a=yes:3e-300,no:1e-300", "-l", "b=yes:3e-300,no:1e-300",
         "-l", "c=yes:1e-300,no:1e-300", "-t", "a", "-n", "20", "--seed", "1"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    # 1.6e-300 x 2.2e-300 x 1e-300, and no draw taken for impossible
    assert "P(evidence) = 3.520e-900 [3.520e-900–3.520e-900]" in out
    assert "impossible" not in out + err
