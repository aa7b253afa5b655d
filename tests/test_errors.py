"""Helpers that keep messages true and short: byte counts, clipped text, lists of names."""

from __future__ import annotations

import pytest

from riskchain.errors import (
    MESSAGE_LIMIT,
    Diagnostic,
    clip,
    format_bytes,
    listing,
    power_text,
    shorten,
)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (512, "512 B"),
        (1536, "1.5 KiB"),
        (2**30, "1.0 GiB"),
        (2**40, "1.0 TiB"),
        (3 * 2**44, "48.0 TiB"),  # was "0.0 TiB": one division by 1024 too many
        (2**60, "1.0e+06 TiB"),
    ],
)
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_clip_keeps_start_and_end_and_says_how_much_is_left_out():
    text = "a" * 1000 + "b" * 1000 + "c" * 1000
    out = clip(text, 600)
    assert out == "a" * 400 + " […2,400 characters…] " + "c" * 200
    assert clip("short", 600) == "short"


def test_a_diagnostic_prints_at_most_one_clipped_line_each():
    """A message echoing a 1 MB key prints about MESSAGE_LIMIT characters, hint likewise."""
    d = Diagnostic("f.yaml", 3, 4, "unknown key '" + "k" * 1_000_000 + "'", "x" * 100_000)
    message, hint = d.format().split("\n")
    assert message.startswith("f.yaml:3:4: error: unknown key 'kkk") and message.endswith("k'")
    assert "[…990,014 characters…]" in message
    assert len(message) < MESSAGE_LIMIT + 100 and len(hint) < MESSAGE_LIMIT + 100


def test_listing_names_twenty_then_counts_the_rest():
    assert listing(["a", "b"]) == "a, b"
    names = [f"s{i}" for i in range(100_000)]
    assert listing(names) == ", ".join(names[:20]) + " and 99,980 more"
    assert listing(["x" * 100]) == "x" * 59 + "…"


def test_shorten_and_power_text():
    assert shorten("abc") == "abc"
    assert shorten("a" * 61) == "a" * 59 + "…"
    assert [power_text(x) for x in (1e9, 1e-6, 1e15, 1e6)] == ["1e9", "1e-6", "1e15", "1e6"]
