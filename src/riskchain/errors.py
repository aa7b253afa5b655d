"""Errors a user can cause.

Every error a user can provoke is a :class:`RiskchainError`. Errors that point
into a file carry :class:`Diagnostic` records with a 1-based line and column,
so the CLI can print them as ``path:line:col: error: message``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

# A message or hint longer than this is cut in its middle when printed: a file can
# make a message echo any text it holds (a 1 MB key), and what is printed must stay in
# proportion. Two of the longest paths a file system allows (4,096 bytes) still fit.
MESSAGE_LIMIT = 10_000
# Lists of names in messages (states, keys, parents) show at most this many.
LIST_LIMIT = 20


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a file.

    Attributes
    ----------
    path : str
        The file, as the user named it.
    line, col : int
        1-based position of the offending text (0 when unknown).
    message : str
        What is wrong, in one sentence.
    hint : str or None
        How to fix it, when there is something useful to say.
    """

    path: str
    line: int
    col: int
    message: str
    hint: str | None = None
    severity: str = "error"  # or "warning": accepted, but the user is told

    def format(self) -> str:
        """Render as ``path:line:col: error: message`` plus an indented hint line."""
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        text = f"{where}: {self.severity}: {clip(self.message)}"
        if self.hint:
            text += f"\n    hint: {clip(self.hint)}"
        return text


class RiskchainWarning(UserWarning):
    """Something the user should hear about that does not stop the command: a value in
    a file accepted but changed (a distribution that sums to 1 only within 1e-4 and was
    renormalized), an unsafe cache folder not used.

    The library issues these with :func:`warnings.warn` (it never prints); the CLI
    prints each one once, as ``path:line:col: warning: message`` or ``warning: message``.
    """


def warn(diagnostic: Diagnostic) -> None:
    """Issue ``diagnostic`` (a warning) as a :class:`RiskchainWarning`."""
    import warnings

    warnings.warn(diagnostic.format(), RiskchainWarning, stacklevel=3)


class RiskchainError(Exception):
    """Base class of every error a user can cause."""

    def lines(self) -> list[str]:
        """The message as the CLI prints it, one entry per line."""
        return [f"error: {self}"]


@dataclass
class SpecError(RiskchainError):
    """A model or scenario file is invalid; carries every problem found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)

    def lines(self) -> list[str]:
        return [d.format() for d in self.diagnostics]


class FileKindError(SpecError):
    """A file of another kind than the one wanted: a model file where a scenario file
    is read, or the reverse (exit 1, one message located at the key that tells).

    Attributes
    ----------
    found, wanted : str
        The kinds: ``"model"`` or ``"scenarios"``.
    """

    def __init__(
        self,
        where: tuple[str, int, int],
        found: tuple[str, str, str],
        wanted: tuple[str, str, str],
        hint: str | None,
    ):
        # found and wanted: (kind, "a model file", "'nodes:'")
        self.where, self.hint = where, hint
        self.found, self._found = found[0], found[1:]
        self.wanted, self._wanted = wanted[0], wanted[1:]
        super().__init__([self._diagnostic(None)])

    def _diagnostic(self, command: str | None) -> Diagnostic:
        (noun, holds), (wnoun, wholds) = self._found, self._wanted
        wants = f"`riskchain {command}` reads {wnoun}" if command else f"{wnoun} is wanted here"
        return Diagnostic(
            *self.where, f"this is {noun} (it has {holds}), but {wants} (one with {wholds})", self.hint
        )

    def name_command(self, command: str) -> None:
        """Say which command wanted the other kind (the CLI knows; the library does not)."""
        self.diagnostics = [self._diagnostic(command)]
        self.args = (str(self),)


class UsageError(RiskchainError):
    """A bad argument: an unknown node or state named on the command line, etc."""


class ImpossibleEvidenceError(RiskchainError):
    """The findings have probability zero under the model.

    Attributes
    ----------
    findings : list of str
        The findings, written ``node=state`` (or ``node~(likelihoods)``), that
        cannot hold together: a minimal subset where one could be found.
    all_findings : list of str
        Every finding of the question.
    forced : list of str
        The interventions in force (``node=state``), which the findings were
        judged under.
    """

    def __init__(
        self,
        findings: Sequence[str],
        all_findings: Sequence[str] | None = None,
        forced: Sequence[str] = (),
        context: str = "",
    ):
        self.findings = list(findings)
        self.all_findings = list(all_findings or findings)
        self.forced = list(forced)
        where = f"{context}: " if context else ""
        if len(self.findings) == 1:
            msg = f"{where}the evidence is impossible under the model: {self.findings[0]} has probability 0"
        else:
            msg = (
                f"{where}the evidence is impossible under the model: "
                + ", ".join(self.findings)
                + " cannot all hold (probability 0)"
            )
        if self.forced:
            msg += (
                f" once {', '.join(self.forced)} {'is' if len(self.forced) == 1 else 'are'} forced"
            )
        super().__init__(msg)

    def lines(self) -> list[str]:
        out = [f"error: {self}"]
        if set(self.findings) != set(self.all_findings):
            out.append(f"    note: all findings: {', '.join(self.all_findings)}")
        out.append(
            "    hint: check the findings against the model's tables; a 0 in a CPT row rules a combination out"
        )
        return out


class TooLargeError(RiskchainError):
    """Exact inference would need more memory than the budget allows.

    Attributes
    ----------
    needed_bytes : float
        Estimated working memory of the plan (at least twice its largest table).
    budget_bytes : float
        The budget (``--max-table``).
    largest_bytes : float
        The largest single table.
    nvars : int
        Variables in that table.
    """

    def __init__(self, needed_bytes: float, budget_bytes: float, largest_bytes: float, nvars: int):
        self.needed_bytes = needed_bytes
        self.budget_bytes = budget_bytes
        self.largest_bytes = largest_bytes
        self.nvars = nvars
        super().__init__(
            f"exact inference would need about {format_bytes(needed_bytes)} of tables "
            f"(the largest: {format_bytes(largest_bytes)} over {nvars} variables), "
            f"above the budget of {format_bytes(budget_bytes)}; refused before computing"
        )

    def lines(self) -> list[str]:
        return [
            f"error: {self}",
            "    hint: ask for fewer targets (--target), add findings that cut the network, "
            "or raise the budget with --max-table (e.g. --max-table 4GiB) if the machine has the memory",
        ]


def format_bytes(n: float) -> str:
    """Human-readable byte count in binary units (``1.5 GiB``, ``3.2e+12 TiB``)."""
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if x < 1024:
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return f"{x:.1f} TiB" if x < 1024 else f"{x:.1e} TiB"


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """Return ``"did you mean 'x'?"`` for the closest choice, if any is close."""
    import difflib

    pool = list(choices)
    match = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            match = [lowered[word.lower()]]
    return f"did you mean '{match[0]}'?" if match else None


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to about ``limit`` characters in its middle (its start and end
    say the most: what is wrong, and the advice or count at the end)."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]} […{len(text) - head - tail:,} characters…] {text[-tail:]}"


def shorten(text: str, limit: int = 60) -> str:
    """A name or value written in a file, cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(items: Collection[str], limit: int = LIST_LIMIT) -> str:
    """``a, b, c`` for a message: at most ``limit`` items (each shortened), then
    ``and N more``, so naming the states of a 100,000-state node stays one line."""
    head = ", ".join(shorten(x) for x in itertools.islice(items, limit))
    more = len(items) - limit
    return f"{head} and {more:,} more" if more > 0 else head


def power_text(x: float) -> str:
    """A limit such as 1e9 or 1e-6 as it would be written in a file (``1e9``, not ``1e+09``)."""
    mantissa, _, exp = f"{x:.0e}".partition("e")
    return f"{mantissa}e{int(exp)}"
