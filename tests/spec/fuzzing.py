"""Hostile variants of riskchain's own files, for ``test_fuzz.py`` and ``bench/bench_fuzz.py``.

A *file kind* is a bundled file and the way riskchain reads that kind of file
(:data:`KINDS`: a list of :class:`FileKind`). Each document is the bundled
file with one to three *mutations* (:data:`MUTATIONS`) applied: byte flips,
deleted and duplicated lines, swapped tokens, huge, negative, NaN and infinite
numbers, deep nesting, tags such as ``!!python/object/apply``, merge keys,
duplicate keys, aliases, control characters, truncation.

:func:`check` reads one document and says what happened: ``valid`` (it reads
as a valid file), ``refused`` (a :class:`~riskchain.errors.SpecError` whose
every diagnostic has a line and a column), or a *failure*: any other
exception, a diagnostic without a position, a numeric warning (overflow,
invalid value: a number silently gone wrong), or code run by a tag.

To fuzz a new kind of file (a ledger, an analyst's file), add a
:class:`FileKind` to :data:`KINDS` with a function that reads it the way the
commands do; the test and the bench pick it up.
"""

from __future__ import annotations

import random
import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from riskchain.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
#: A file that a tag running code would create (checked after every document).
MARKER = "riskchain-fuzz-marker"


# ----------------------------------------------------------------------------- file kinds


def read_model(path: Path) -> None:
    """Read, validate and compile a model file, then ask for every node's posterior."""
    from riskchain.model import Model
    from riskchain.spec.model import load_model_spec

    model = Model(load_model_spec(path))
    model.query(targets=list(model.nodes))


def read_scenarios(path: Path) -> None:
    """Validate a scenario file and its scenarios (as ``riskchain validate``), then run them."""
    from riskchain.analysis.scenarios import run_scenarios
    from riskchain.validate import validate_file

    report = validate_file(path)
    if not report.ok:
        raise SpecError(report.diagnostics)
    run_scenarios(path)


@dataclass(frozen=True)
class FileKind:
    """A kind of file: the bundled file that is mutated and how riskchain reads one.

    ``read(path)`` reads the file at ``path`` the way the commands do and raises a
    :class:`~riskchain.errors.RiskchainError` for a bad one. ``place`` is where the
    file is written, relative to a scratch folder; ``needs`` are the files it
    refers to (copied into the scratch folder at the same relative place).
    """

    name: str
    source: str
    read: Callable[[Path], None]
    place: str
    needs: tuple[str, ...] = ()

    def text(self) -> str:
        return (ROOT / self.source).read_text(encoding="utf-8")

    def prepare(self, folder: Path) -> Path:
        """Copy what the file needs into ``folder``; return where to write the file."""
        for rel in self.needs:
            dest = folder / rel
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / rel, dest)
        target = folder / self.place
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


KINDS: list[FileKind] = [
    FileKind("model", "models/korea_russia_2024.yaml", read_model, "models/fuzzed.yaml"),
    FileKind(
        "scenarios",
        "scenarios/korea_russia_2024.yaml",
        read_scenarios,
        "scenarios/fuzzed.yaml",
        ("models/korea_russia_2024.yaml",),
    ),
]


# ----------------------------------------------------------------------------- mutations

_NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?(?![\w.])")
_TOKEN = re.compile(r"[A-Za-z0-9_.%=|*-]+")
_VALUE = re.compile(r"(?m)^( *)(-\s+|[^\s#:][^:#\n]*:\s+)(\S.*)$")
_KEY_LINE = re.compile(r"(?m)^( +)([A-Za-z_][\w.-]*):(.*)$")

HOSTILE_NUMBERS = (
    "1e308",
    "-1e308",
    "1e400",
    "-1e400",
    "1e-320",
    "5e-324",
    ".nan",
    ".NaN",
    ".inf",
    "-.inf",
    "-0.5",
    "-0",
    "-1",
    "0",
    "1",
    "2",
    "3",
    "6",
    "100",
    "101%",
    "-5%",
    "1e9",
    "9" * 400,
    "0x" + "f" * 300,
    "0o777",
    "0.000000001",
    "beta(1e308, 1e308)",
    "beta(0, 1)",
    "beta(1e-320, 1)",
    "beta(2e9, 3)",
    "[0.9, 0.1]",
    "[1e308, 1e308]",
    "'1e400%'",
)
HOSTILE_VALUES = (
    "!!python/object/apply:os.system ['touch " + MARKER + "']",
    "!!python/object/new:os.system ['touch " + MARKER + "']",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2024-10-18",
    "!custom 3",
    "!!str 0.5",
    "!!int 1",
    "!!float .5",
    "{}",
    "[]",
    "~",
    "null",
    "true",
    "yes",
    "''",
    "'yes'",
    "|\n  text",
    ">",
    "&a [1, 2]",
    "*undefined",
    "{a: 1, a: 2}",
    "[a, [b, [c, [d]]]]",
    "x" * 100_000,
    "'\\u0000'",
    '"\\x1b]0;title\\x07"',
    '"\\r\\n"',
    "\t1",
    "{<<: {p: 0.5}}",
    "{<<: 3}",
)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four bytes replaced by random ones (a bit flipped, or any byte)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            break
        i = rng.randrange(len(out))
        out[i] = out[i] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)
    return bytes(out)


def _lines(text: str) -> list[str]:
    return text.split("\n")


def delete_lines(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    del lines[i : i + rng.choice((1, 1, 1, 2, 5))]
    return "\n".join(lines)


def duplicate_lines(text: str, rng: random.Random) -> str:
    """A line (often a key: a duplicate key) or a block of lines written twice."""
    lines = _lines(text)
    i = rng.randrange(len(lines))
    n = rng.choice((1, 1, 1, 3, 8))
    lines[i:i] = lines[i : i + n]
    return "\n".join(lines)


def duplicate_key(text: str, rng: random.Random) -> str:
    """A key renamed to the name of another key of the same indentation."""
    found = list(_KEY_LINE.finditer(text))
    if len(found) < 2:
        return text
    a, b = rng.sample(found, 2)
    return text[: a.start(2)] + b.group(2) + text[a.end(2) :]


def swap_tokens(text: str, rng: random.Random) -> str:
    tokens = list(_TOKEN.finditer(text))
    if len(tokens) < 2:
        return text
    a, b = sorted(rng.sample(tokens, 2), key=lambda m: m.start())
    return (
        text[: a.start()]
        + b.group()
        + text[a.end() : b.start()]
        + a.group()
        + text[b.end() :]
    )


def hostile_number(text: str, rng: random.Random) -> str:
    """A number (probability, weight, level, version) replaced by a hostile one."""
    found = list(_NUMBER.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    return text[: m.start()] + rng.choice(HOSTILE_NUMBERS) + text[m.end() :]


def hostile_value(text: str, rng: random.Random) -> str:
    """A value (after 'key: ' or '- ') replaced by a tag, a wrong type, an alias, ..."""
    found = list(_VALUE.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    value = rng.choice(HOSTILE_VALUES + HOSTILE_NUMBERS)
    return text[: m.start(3)] + value + text[m.end(3) :]


def deep_nesting(text: str, rng: random.Random) -> str:
    """A value replaced by lists or mappings nested up to 100,000 deep."""
    found = list(_VALUE.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    depth = rng.choice((5, 99, 100, 101, 1000, 100_000))
    if rng.random() < 0.5:
        value = "[" * depth + "1" + "]" * depth
    else:
        value = "{a: " * depth + "1" + "}" * depth
    if rng.random() < 0.2:
        value = value[: len(value) // 2]  # never closed
    return text[: m.start(3)] + value + text[m.end(3) :]


def merge_keys(text: str, rng: random.Random) -> str:
    """An anchor on one mapping value and a merge key (``<<: *m``) in another mapping."""
    found = [m for m in _KEY_LINE.finditer(text) if not m.group(3).strip()]
    if len(found) < 2:
        return text
    a, b = sorted(rng.sample(found, 2), key=lambda m: m.start())
    indent = b.group(1) + "  "
    merge = rng.choice(("<<: *m", "<<: [*m, *m]", "<<: *m\n" + indent + "<<: *m", "<<: 3"))
    first, second = (a, b) if rng.random() < 0.7 else (b, a)
    out = text[: second.end()] + "\n" + indent + merge + text[second.end() :]
    if first.start() < second.start():
        return out[: first.end()] + " &m" + out[first.end() :]
    pos = first.end() + len(out) - len(text)
    return out[:pos] + " &m" + out[pos:]


def alias_bomb(text: str, rng: random.Random) -> str:
    """A value replaced by an anchored list, and other values by aliases to it (nested)."""
    found = list(_VALUE.finditer(text))
    if len(found) < 3:
        return text
    picks = sorted(rng.sample(found, min(len(found), rng.randint(3, 12))), key=lambda m: m.start())
    width = rng.choice((2, 10, 100))
    parts = []
    last = 0
    for n, m in enumerate(picks):
        if n == 0:
            value = "&b0 [" + ", ".join(["x" * rng.choice((1, 1000))] * width) + "]"
        else:
            value = f"&b{n} [" + ", ".join([f"*b{n - 1}"] * width) + "]"
        parts.append(text[last : m.start(3)] + value)
        last = m.end(3)
    parts.append(text[last:])
    return "".join(parts)


def control_characters(text: str, rng: random.Random) -> str:
    """Control, bidirectional or BOM characters inserted anywhere."""
    i = rng.randrange(len(text) + 1)
    bad = rng.choice(("\x00", "\x1b[31m", "\x07", "\r", "\u202e", "\ufeff", "\x85", "\u2028", "\t"))
    return text[:i] + bad + text[i:]


def reindent(text: str, rng: random.Random) -> str:
    """A line indented more or less (or with a tab)."""
    lines = _lines(text)
    i = rng.randrange(len(lines))
    if rng.random() < 0.5 and lines[i].startswith(" "):
        lines[i] = lines[i][rng.randint(1, 4) :]
    else:
        lines[i] = rng.choice((" ", "  ", "\t", "    ")) + lines[i]
    return "\n".join(lines)


def truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


TextMutation = Callable[[str, random.Random], str]

#: Every mutation of the text (byte flips are applied to the encoded document).
MUTATIONS: dict[str, TextMutation] = {
    "delete_lines": delete_lines,
    "duplicate_lines": duplicate_lines,
    "duplicate_key": duplicate_key,
    "swap_tokens": swap_tokens,
    "hostile_number": hostile_number,
    "hostile_value": hostile_value,
    "deep_nesting": deep_nesting,
    "merge_keys": merge_keys,
    "alias_bomb": alias_bomb,
    "control_characters": control_characters,
    "reindent": reindent,
    "truncate": truncate,
}
NAMES = (*MUTATIONS, "flip_bytes")


def mutate(text: str, rng: random.Random, count: int) -> tuple[bytes, list[str]]:
    """``text`` with ``count`` mutations chosen by ``rng``: the bytes and their names."""
    applied: list[str] = []
    data: bytes | None = None
    for _ in range(count):
        name = rng.choice(NAMES)
        applied.append(name)
        if name == "flip_bytes":
            data = flip_bytes(data if data is not None else text.encode("utf-8"), rng)
        elif data is None:
            text = MUTATIONS[name](text, rng)
        else:
            # after a byte flip the text may not decode: mutate what does
            text = MUTATIONS[name](data.decode("utf-8", "replace"), rng)
            data = None
    return (data if data is not None else text.encode("utf-8", "surrogatepass")), applied


# ----------------------------------------------------------------------------- checking


@dataclass
class Outcome:
    """What reading one document gave."""

    kind: str  # "valid", "refused" or "failure"
    detail: str = ""


def check(kind: FileKind, data: bytes, path: Path) -> Outcome:
    """Write ``data`` at ``path`` and read it as ``kind``; classify what happened.

    A tag that ran code would leave :data:`MARKER` in the current folder.
    """
    path.write_bytes(data)
    outcome = _read(kind, path)
    marker = Path(MARKER)
    if marker.exists():
        marker.unlink()
        return Outcome("failure", "a tag ran code")
    return outcome


def _read(kind: FileKind, path: Path) -> Outcome:
    try:
        with warnings.catch_warnings():
            # an overflow or an invalid value in numpy is a number silently gone wrong
            warnings.simplefilter("error", RuntimeWarning)
            kind.read(path)
    except SpecError as exc:
        unplaced = [d for d in exc.diagnostics if d.line < 1 or d.col < 1 or not d.path]
        if not exc.diagnostics or unplaced:
            what = unplaced[0].format() if unplaced else "no diagnostics"
            return Outcome("failure", f"a diagnostic without a position: {what}")
        return Outcome("refused", exc.diagnostics[0].message)
    except Exception as exc:  # anything else is what the fuzzing looks for
        return Outcome("failure", f"{type(exc).__name__}: {exc}"[:2000])
    return Outcome("valid")
