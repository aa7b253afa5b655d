"""Text from a model or scenario file, made safe for each format riskchain writes.

Labels, notes, state names, scenario ids, descriptions and source URLs are written
by whoever wrote the file, and files are shared. Every renderer passes such text
through one of these functions before it reaches a terminal, a text file or a
document, so that a file cannot:

- change the terminal it is printed to (escape sequences set window titles,
  clear the screen, rewrite what was printed before): :func:`terminal_text`;
- run a formula in the spreadsheet a CSV is opened in: :func:`csv_cell`;
- put HTML or a link into Markdown, or break a Markdown table: :func:`md_text`,
  :func:`md_code`;
- put markup into HTML, or make SVG or DOT ill-formed: :func:`html_text`,
  :func:`xml_text`, :func:`xml_attr`;
- make a link that runs script: :func:`safe_url`.

JSON is data: it is not escaped beyond JSON's own rules (see
:func:`riskchain.report.text.json_text`), so every value reads back exactly.
docs/security.md lists these promises and the tests that check them.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# Escape sequences, 7-bit (ESC ...) and 8-bit (a C1 introducer), removed whole: what an
# OSC sequence carries (a window title) must not be left behind as text either.
#   string commands: OSC, DCS, SOS, PM, APC ... up to BEL or ST (unterminated, only the
#     introducer goes; what follows it stays as text). The payload stops at the next
#     ESC or introducer, so no character is scanned twice: linear in the text.
#   CSI: parameters, intermediates, one final byte
#   any other ESC: intermediates, one final byte
_ESCAPES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90\x98\x9c-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
# Control characters (C0 but line breaks and tab, DEL, C1), lone surrogates (they
# cannot be encoded, so printing or saving them fails) and the two non-characters
# XML forbids.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_SPACES = re.compile(r"[\t\n]")


def terminal_text(text: str, *, newlines: bool = True) -> str:
    """``text`` with nothing a terminal would act on: escape sequences (with what they
    carry) and control characters removed.

    Parameters
    ----------
    text : str
        Text to print or to write to a text file.
    newlines : bool
        Keep line breaks (``\\r\\n`` and a lone ``\\r`` become ``\\n``, so a carriage
        return cannot overwrite what was printed); when False, as for a label in one
        cell of a table, every line break and tab becomes a space.

    Returns
    -------
    str
        The text; a tab becomes a space in either case (it would move the cursor
        to the next tab stop and misalign a table).
    """
    text = _ESCAPES.sub("", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROLS.sub("", text)
    return text.replace("\t", " ") if newlines else _SPACES.sub(" ", text)


def one_line(text: str) -> str:
    """:func:`terminal_text` on one line: line breaks and tabs become spaces."""
    return terminal_text(text, newlines=False)


# ----------------------------------------------------------------------------- CSV

# what a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"); tab and
# carriage return, also on OWASP's list, never reach a cell's start (see csv_cell)
_FORMULA_START = ("=", "+", "-", "@")
# a plain number, as riskchain writes them (-0.032, 1e-05): a spreadsheet reads it as a
# number, never as a formula, so it keeps its sign and stays a number
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def csv_cell(value: object) -> object:
    """One CSV cell that a spreadsheet will not run as a formula.

    A text that starts with ``=``, ``+``, ``-`` or ``@`` (after any leading spaces)
    gets a leading ``'``, as OWASP advises — unless the whole cell is a plain number
    (``-0.032``, ``+5``, ``1e-05``), which a spreadsheet reads as a number. Control
    characters and escape sequences are removed (a tab becomes a space), and a
    carriage return becomes a line break, which the :mod:`csv` writer quotes, so a
    cell never splits its row. Values that are not text (numbers) are kept.
    """
    if not isinstance(value, str):
        return value
    text = terminal_text(value)
    if text.lstrip(" \n").startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


# ----------------------------------------------------------------------------- Markdown

# what a backslash escapes inside a line: \ ` | (table cells), < before what starts a tag,
# comment, instruction or autolink (or at the end), & before an entity, ] before (
_MD_INLINE = re.compile(r"[\\`|]|<(?=[A-Za-z/!?]|$)|&(?=#?\w+;)|\](?=\()")
# what would start a block at the start of a line: heading, quote, list item, rule,
# setext underline; an ordered-list number (12. or 12))
_MD_BLOCK = re.compile(r"^(?:[#>*+=-]|\d+(?=[.)]))")


def md_cell(text: str) -> str:
    """Text for a cell of a Markdown (GitHub-flavoured) table, shown as written.

    On one line, stripped, control characters removed; backslash-escaped: ``\\``,
    backticks (no code span opens), ``|`` (a cell ends only where riskchain ends it),
    ``<`` before a letter, ``/``, ``!``, ``?`` or at the end (no HTML tag, comment,
    instruction or autolink can start; ``<0.1`` and ``>25%`` stay as they are: there
    is no HTML without such a ``<``), ``&`` before what reads as an entity (``&lt;``
    stays those four characters) and ``]`` before ``(`` (no inline link or image:
    ``[x](javascript:...)`` stays text; so a template must not put ``(`` right after
    escaped text). Emphasis characters (``*``, ``_``) are left alone: they change no
    more than the look of the text.
    """
    return _MD_INLINE.sub(lambda m: "\\" + m.group(0), one_line(text).strip())


def md_text(text: str) -> str:
    """:func:`md_cell`, and a first character that would start a block (``#``, ``>``,
    ``-``, ``+``, ``*``, ``=``, or the ``.``/``)`` after a number) escaped too: the
    text cannot begin a heading, a quote, a list or a rule wherever a template puts it
    (a table cell cannot begin a block: there ``-0.5`` stays as it is)."""
    text = md_cell(text)
    m = _MD_BLOCK.match(text)
    if m is None:
        return text
    k = m.end() if text[:1].isdigit() else 0
    return text[:k] + "\\" + text[k:]


def md_code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds (the fence is one
    backtick longer than its longest run of them); on one line."""
    text = one_line(text)
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# ----------------------------------------------------------------------------- HTML, XML


def html_text(text: str, quote: bool = True) -> str:
    """Text for HTML content or a double-quoted attribute: ``& < > " '`` escaped
    (``"`` and ``'`` only with ``quote``), control characters removed."""
    return html.escape(terminal_text(text), quote=quote)


def xml_text(text: str) -> str:
    """Text for XML content or a double-quoted attribute (SVG ``<text>`` and
    ``<title>``, Graphviz HTML labels): ``& < > "`` escaped, and every character XML
    1.0 does not allow removed first, with the escape sequences and other control
    characters (line breaks stay, as ``\\n``)."""
    text = terminal_text(text).replace("&", "&amp;")
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def xml_attr(text: str) -> str:
    """An XML attribute value with its quotes (``"..."``), made as :func:`xml_text`."""
    return f'"{xml_text(text)}"'


# ----------------------------------------------------------------------------- links

SAFE_SCHEMES = ("http", "https", "mailto")


def safe_url(url: str | None) -> str | None:
    """The URL if a link to it is safe to make, else None (show it as text, unlinked).

    Only ``http``, ``https`` (with a host) and ``mailto`` links are made: not
    ``javascript:``, ``data:``, ``vbscript:``, ``file:`` or a relative path, in any
    case and with any spaces or control characters around or inside the scheme.
    """
    if not url:
        return None
    text = terminal_text(url, newlines=False).strip()
    if any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed [ in the host
        return None
    scheme = parts.scheme.lower()
    if scheme not in SAFE_SCHEMES or (scheme != "mailto" and not parts.netloc):
        return None
    return text
