"""A cache of validated, compiled model files, so a large model is read once.

Reading a model file means parsing the YAML, validating every row and
expanding the tables; for an imported network of a few megabytes that takes
seconds, far longer than answering a question. The first time a model file is
read, its validated spec and compiled arrays are stored here; later reads of
the same bytes load them back in a fraction of the time.

What is cached, and when
    Only files that validated: every error message still comes from reading
    the real file. Only model files of at least :data:`MIN_BYTES` (small
    files are read in milliseconds, and an entry per edit of a hand-written
    model would only clutter the folder). Scenario files are never cached.

The key
    The SHA-256 of the file's bytes, together with riskchain's version, a
    fingerprint of riskchain's own source files (their sizes and modification
    times, so a changed validator or table class never meets an entry written
    by the old one), the numpy and Python versions, and the file name and
    default model id the spec was built with.
    An entry is valid for exactly one file content: an edited file gets a new
    entry; old ones are evicted oldest first once the folder holds more than
    :data:`MAX_TOTAL_BYTES`.

Where
    ``$RISKCHAIN_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/riskchain``, else
    ``~/.cache/riskchain``; entries go in its ``models`` folder. Set
    ``RISKCHAIN_NO_CACHE=1`` to neither read nor write it.

Safety
    An entry cannot run code: it holds JSON (the spec, rebuilt only from
    riskchain's own spec dataclasses, looked up in a fixed table, never by a
    name read from the file) and one array of numbers read by numpy with
    ``allow_pickle=False``. Its header holds the SHA-256 of the rest, checked
    on every load, and the key, which must be the one the file's bytes give:
    a damaged, truncated, edited or misplaced entry is ignored and rebuilt,
    never an error and never used. The folder is created private to the user
    (0700); a folder (or the one above it) owned by someone else or writable
    by group or others is not used at all -- a :class:`RiskchainWarning` says
    so once per folder and the model is read from its file. Entries are
    written atomically (temporary file, then rename), 0600; a cache folder
    that cannot be written only means no caching.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import stat
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskchain.errors import RiskchainWarning

if TYPE_CHECKING:
    from riskchain.compile import CompiledModel
    from riskchain.spec.model import ModelSpec
    from riskchain.spec.yamlsrc import Document

#: Bump when the layout of an entry changes.
CACHE_FORMAT = 2
#: Files smaller than this are not cached: they are read in a few milliseconds
#: (a 30 KB model takes about 30 ms to read and 3 ms to load from the cache).
MIN_BYTES = 8 * 1024
#: Above this total size, the least recently used entries are removed.
MAX_TOTAL_BYTES = 512 * 1024 * 1024

_SUFFIX = ".entry"
_OLD_SUFFIXES = (".pickle",)  # entries of earlier layouts: never read, removed by prune
_MAGIC = b"riskchain-cache\n"
_MAX_HEADER = 4096
_STALE_TMP_SECONDS = 3600.0
_code_fingerprint: str | None = None


class CacheWarning(RiskchainWarning):
    """The cache folder is not safe to use (another user's, or writable by others);
    the model was read from its file."""


def cache_dir() -> Path | None:
    """The folder holding cached models, or None when caching is turned off.

    Returns
    -------
    pathlib.Path or None
        ``$RISKCHAIN_CACHE_DIR/models``, else ``$XDG_CACHE_HOME/riskchain/models``,
        else ``~/.cache/riskchain/models``; None when ``RISKCHAIN_NO_CACHE`` is set
        (to anything but ``0``, ``false``, ``no`` or nothing) or no home folder is known.
    """
    if os.environ.get("RISKCHAIN_NO_CACHE", "").strip().lower() not in ("", "0", "false", "no"):
        return None
    root = os.environ.get("RISKCHAIN_CACHE_DIR", "").strip()
    if root:
        return Path(root).expanduser() / "models"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):  # the XDG spec says relative paths are to be ignored
        return Path(xdg) / "riskchain" / "models"
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no HOME and no password entry
        return None
    return home / ".cache" / "riskchain" / "models"


def load_model_cached(
    path: str | Path,
    display: str | None = None,
    default_id: str | None = None,
    max_table: float = 1 << 30,
) -> tuple[ModelSpec, CompiledModel]:
    """Read, validate and compile a model file, through the cache.

    The same as :func:`riskchain.spec.model.load_model_spec` followed by
    :func:`riskchain.compile.compile_spec`, with the same errors.

    Parameters
    ----------
    path : str or pathlib.Path
        The model file.
    display : str, optional
        The name used in messages and kept as ``spec.path`` (default ``str(path)``).
    default_id : str, optional
        The model id when the file sets none (default: the file name without extension).
    max_table : float, optional
        The memory budget, in bytes, the model's tables are sized against before
        they are built (see :func:`riskchain.spec.model.build_model`).

    Returns
    -------
    (ModelSpec, CompiledModel)

    Raises
    ------
    SpecError
        With every problem in the file (never read from the cache).
    UsageError
        When the path does not exist or is a folder.
    """
    loaded = _load(path, display, default_id, models_only=True, max_table=max_table)
    assert isinstance(loaded, tuple)
    return loaded


def load_file_cached(
    path: str | Path,
    display: str | None = None,
    default_id: str | None = None,
    max_table: float = 1 << 30,
) -> tuple[ModelSpec, CompiledModel] | Document:
    """Read a file that may be a model file or a scenario file.

    A model file is read as :func:`load_model_cached` reads it. Any other
    document (a scenario file) is returned parsed and is not cached, so the
    caller need not parse it again.

    Parameters
    ----------
    path, display, default_id, max_table
        As :func:`load_model_cached`.

    Returns
    -------
    (ModelSpec, CompiledModel) or Document
        The model, or the parsed document when the file is a scenario file
        (as told by :func:`riskchain.spec.scenario.is_scenario_document`).

    Raises
    ------
    SpecError
        When the file is not YAML, or is a model file with problems.
    UsageError
        When the path does not exist or is a folder.
    """
    return _load(path, display, default_id, models_only=False, max_table=max_table)


# ----------------------------------------------------------------------------- internals


def _load(
    path: str | Path,
    display: str | None,
    default_id: str | None,
    models_only: bool,
    max_table: float = 1 << 30,
) -> tuple[ModelSpec, CompiledModel] | Document:
    from riskchain.spec.yamlsrc import decode_text, read_bytes

    name = display if display is not None else str(path)
    model_id = default_id if default_id is not None else Path(path).stem
    data = read_bytes(path, name)
    folder = cache_dir() if len(data) >= MIN_BYTES else None
    if folder is not None and not _safe_folder(folder):
        folder = None
    entry = None
    key = ""
    if folder is not None:
        key = entry_key(data, name, model_id)
        entry = folder / f"{key}{_SUFFIX}"
        hit = _read_entry(entry, key)
        # an entry built under a larger --max-table is not used under a smaller one: the
        # file is read again, and refused there with the validator's positioned error
        if hit is not None and _within_budget(hit[0], max_table):
            return hit
    from riskchain.compile import compile_spec
    from riskchain.spec.model import build_model
    from riskchain.spec.yamlsrc import gc_paused, parse_yaml

    doc = parse_yaml(decode_text(data, name), name)
    if not models_only:
        from riskchain.spec.scenario import is_scenario_document

        if is_scenario_document(doc):
            return doc
    # validation and expansion create many long-lived objects too (see gc_paused)
    with gc_paused():
        spec = build_model(doc, default_id=model_id, max_table=max_table)
        compiled = compile_spec(spec)
    if entry is not None:
        _write_entry(entry, key, spec, compiled)
    return spec, compiled


def _within_budget(spec: ModelSpec, max_table: float) -> bool:
    """Whether the spec's tables pass the budget :func:`riskchain.spec.model.build_model`
    holds a file to, in file order: building a table takes BUILD_COPIES times its
    size, alone and with the tables kept before it (a root's only its list of states)."""
    from riskchain.compile import BUILD_COPIES, TableSize

    kept = 0.0
    for node in spec.nodes.values():
        size = TableSize.of(len(node.states), (len(spec.nodes[p].states) for p in node.parents))
        need = BUILD_COPIES * size.bytes
        if node.parents and (need > max_table or kept + need > max_table):
            return False
        kept += size.bytes
    return True


def entry_key(data: bytes, display: str, default_id: str) -> str:
    """The cache key of a file's bytes read under ``display`` with ``default_id``.

    Parameters
    ----------
    data : bytes
        The file's content.
    display : str
        The file name used in messages (it is kept in the spec).
    default_id : str
        The model id used when the file sets none.

    Returns
    -------
    str
        A SHA-256 hex digest.
    """
    import numpy as np

    from riskchain._version import __version__

    h = hashlib.sha256()
    for part in (
        f"riskchain-cache {CACHE_FORMAT}",
        __version__,
        _source_fingerprint(),
        f"numpy {np.__version__}",
        f"python {sys.version_info[0]}.{sys.version_info[1]}",
        display,
        default_id,
    ):
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\x00")
    h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def _source_fingerprint() -> str:
    """A digest of the path, size and modification time of riskchain's own ``.py``
    files: an edited validator or table class (an editable install keeps its
    version number) must not read entries written by the old code."""
    global _code_fingerprint
    if _code_fingerprint is None:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for f in sorted(root.rglob("*.py")):
            try:
                st = f.stat()
            except OSError:
                continue
            h.update(f"{f.relative_to(root).as_posix()} {st.st_size} {st.st_mtime_ns}\n".encode())
        _code_fingerprint = h.hexdigest()
    return _code_fingerprint


# ----------------------------------------------------------------------------- the folder


def _unsafe(path: Path) -> str | None:
    """Why a cache folder must not be used (another user's, or writable by group or
    others), or None when it is safe or absent (absent folders are made private)."""
    try:
        st = os.stat(path)
    except OSError:
        return None  # absent, or unusable: then nothing is read or written there
    if not stat.S_ISDIR(st.st_mode):
        return None
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return f"it belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"it is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def _safe_folder(folder: Path) -> bool:
    """May entries be read from and written to ``folder``? Another user who can write
    the folder, or the one above it (which could replace it), could plant entries."""
    for d in (folder.parent, folder):
        why = _unsafe(d)
        if why is not None:
            warnings.warn(
                f"not using the model cache in {d}: {why}; make it yours and private "
                f"(chmod 700), or set RISKCHAIN_CACHE_DIR to another folder",
                CacheWarning,
                stacklevel=4,
            )
            return False
    return True


def _make_folder(folder: Path) -> None:
    """Create the cache folder and the one above it, private to the user."""
    folder.parent.parent.mkdir(parents=True, exist_ok=True)
    for d in (folder.parent, folder):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=0o700)


# ----------------------------------------------------------------------------- the entry
#
# An entry is one file:
#   riskchain-cache\n
#   {"format": 2, "key": KEY, "sha256": DIGEST, "meta": M, "arrays": A}\n   (the header)
#   M bytes of JSON: {"spec": <the spec, encoded>, "compiled": [id, names, states, parents]}
#   A bytes of .npy: every CPT, flattened and joined, float64 (read with allow_pickle=False)
# DIGEST is the SHA-256 of the M + A bytes after the header.


def _spec_classes() -> dict[str, type]:
    """The classes a spec is built from: every dataclass defined in riskchain's spec
    modules, by name. Decoding looks names up here and nowhere else."""
    from riskchain.spec import impact, model, parametric, probability, tables

    found: dict[str, type] = {}
    clash: set[str] = set()
    for module in (model, tables, parametric, probability, impact):
        for name, cls in vars(module).items():
            if (
                isinstance(cls, type)
                and dataclasses.is_dataclass(cls)
                and cls.__module__ == module.__name__
            ):
                if name in found and found[name] is not cls:
                    clash.add(name)
                found[name] = cls
    return {n: c for n, c in found.items() if n not in clash}


def _init_fields(cls: type) -> tuple[str, ...]:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    if any(f.kw_only for f in fields):
        raise TypeError(f"{cls.__name__} has keyword-only fields")
    return tuple(f.name for f in fields)


def encode_spec(obj: Any) -> Any:
    """A spec as JSON data: every container a list whose first item says what it is
    (``"t"`` tuple, ``"l"`` list, ``"d"`` dict as keys and values in turn, else a
    spec class's name followed by its fields in order); scalars as they are.

    Raises
    ------
    TypeError
        For anything else (the entry is then not written).
    """
    classes = _spec_classes()
    fields = {cls: _init_fields(cls) for cls in classes.values()}

    def enc(o: Any) -> Any:
        t = type(o)
        if o is None or t in (str, int, float, bool):
            return o
        if t is tuple:
            return ["t", *map(enc, o)]
        if t is list:
            return ["l", *map(enc, o)]
        if t is dict:
            out: list = ["d"]
            for k, v in o.items():
                out += (enc(k), enc(v))
            return out
        names = fields.get(t)
        if names is None or classes.get(t.__name__) is not t:
            raise TypeError(f"cannot store {t.__module__}.{t.__qualname__} in the cache")
        return [t.__name__, *(enc(getattr(o, n)) for n in names)]

    return enc(obj)


def decode_spec(data: Any) -> Any:
    """The inverse of :func:`encode_spec`. Only riskchain's spec dataclasses are made,
    from a fixed table; an unknown name or a wrong field count raises."""
    classes = _spec_classes()
    makers: dict[str, Any] = {}

    # scalars are tested inline rather than through dec(): a large model holds
    # hundreds of thousands of numbers, and the calls would double the time
    def dec(o: Any) -> Any:
        if type(o) is not list:
            return o
        return makers[o[0]](o)

    makers["t"] = lambda o: tuple([x if type(x) is not list else dec(x) for x in o[1:]])
    makers["l"] = lambda o: [x if type(x) is not list else dec(x) for x in o[1:]]

    def dict_(o: list) -> dict:
        it = iter(o[1:])
        return {dec(k): dec(v) for k, v in zip(it, it, strict=True)}

    makers["d"] = dict_

    def maker(cls: type, n: int):
        def make(o: list) -> Any:
            if len(o) != n + 1:
                raise ValueError(f"{cls.__name__}: {len(o) - 1} fields, expected {n}")
            return cls(*[x if type(x) is not list else dec(x) for x in o[1:]])

        return make

    for name, cls in classes.items():
        makers[name] = maker(cls, len(_init_fields(cls)))
    return dec(data)


def _shapes(compiled: list) -> list[tuple[int, ...]]:
    _, _, states, parents = compiled
    cards = [len(s) for s in states]
    return [(*(cards[p] for p in ps), cards[i]) for i, ps in enumerate(parents)]


def _read_entry(entry: Path, key: str) -> tuple[ModelSpec, CompiledModel] | None:
    """The cached model, or None when there is no usable entry (never raises)."""
    try:
        raw = _read_own_file(entry)
    except OSError:
        return None
    if raw is None:
        return None
    try:
        import numpy as np

        from riskchain.compile import CompiledModel
        from riskchain.spec.model import ModelSpec
        from riskchain.spec.yamlsrc import gc_paused

        if not raw.startswith(_MAGIC):
            return None
        end = raw.find(b"\n", len(_MAGIC), len(_MAGIC) + _MAX_HEADER)
        if end < 0:
            return None
        header = json.loads(raw[len(_MAGIC) : end])
        body = memoryview(raw)[end + 1 :]
        if not (
            isinstance(header, dict)
            and header.get("format") == CACHE_FORMAT
            and header.get("key") == key
            and header.get("meta", -1) + header.get("arrays", -1) == len(body)
            and hashlib.sha256(body).hexdigest() == header.get("sha256")
        ):
            return None
        cut = header["meta"]
        with gc_paused():
            meta = json.loads(bytes(body[:cut]))
            spec = decode_spec(meta["spec"])
        flat = np.load(io.BytesIO(body[cut:]), allow_pickle=False)
        shapes = _shapes(meta["compiled"])
        sizes = [int(np.prod(shape)) for shape in shapes]
        if flat.dtype != np.float64 or flat.ndim != 1 or flat.size != sum(sizes):
            return None
        offsets = np.cumsum([0, *sizes])
        cpts = tuple(
            flat[offsets[i] : offsets[i + 1]].reshape(shape) for i, shape in enumerate(shapes)
        )
        cid, names, states, parents = meta["compiled"]
        compiled = CompiledModel(
            cid,
            tuple(names),
            tuple(tuple(s) for s in states),
            tuple(tuple(p) for p in parents),
            cpts,
        )
        if not isinstance(spec, ModelSpec) or not _consistent(spec, compiled):
            return None
    except Exception:  # a damaged or foreign entry is a miss, never an error
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used: evicted last
    return spec, compiled


def _read_own_file(entry: Path) -> bytes | None:
    """An entry's bytes, if it is a regular file of ours that no one else may write."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(entry, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o022 or st.st_size > MAX_TOTAL_BYTES:
            return None
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read()
    finally:
        os.close(fd)


def _consistent(spec: ModelSpec, m: CompiledModel) -> bool:
    """Cheap checks that an entry's arrays fit its spec (the digest catches damage)."""
    import numpy as np

    if list(spec.nodes) != list(m.names) or m.id != spec.id:
        return False
    for i, arr in enumerate(m.cpts):
        shape = (*(m.cards[p] for p in m.parents[i]), m.cards[i])
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.shape != shape:
            return False
    return True


def _entry_bytes(key: str, spec: ModelSpec, m: CompiledModel) -> bytes:
    """An entry's content (see the layout above)."""
    import numpy as np

    from riskchain.spec.yamlsrc import gc_paused

    with gc_paused():
        meta = json.dumps(
            {
                "spec": encode_spec(spec),
                # the constructor's fields only: plans cached on the model are not stored
                "compiled": [m.id, m.names, m.states, m.parents],
            },
            separators=(",", ":"),
        ).encode("ascii")
    flat = np.concatenate([np.asarray(a, dtype=np.float64).ravel() for a in m.cpts] or [[]])
    buf = io.BytesIO()
    np.save(buf, flat.astype("<f8", copy=False), allow_pickle=False)
    arrays = buf.getvalue()
    body = meta + arrays
    header = {
        "format": CACHE_FORMAT,
        "key": key,
        "sha256": hashlib.sha256(body).hexdigest(),
        "meta": len(meta),
        "arrays": len(arrays),
    }
    return _MAGIC + json.dumps(header).encode("ascii") + b"\n" + body


def _write_entry(entry: Path, key: str, spec: ModelSpec, m: CompiledModel) -> None:
    """Store a model; any failure (a spec the format cannot hold, a read-only folder)
    means no entry."""
    from riskchain.io.files import atomic_write

    try:
        data = _entry_bytes(key, spec, m)
    except (TypeError, ValueError):
        return
    try:
        _make_folder(entry.parent)
        if not _safe_folder(entry.parent):
            return
        atomic_write(entry, data, mode=0o600)
        prune(entry.parent, keep=entry)
    except OSError:
        return


def prune(folder: Path, max_bytes: int = MAX_TOTAL_BYTES, keep: Path | None = None) -> None:
    """Remove the least recently used entries until ``folder`` holds at most ``max_bytes``,
    and temporary files left by interrupted writes.

    Parameters
    ----------
    folder : pathlib.Path
        The cache folder (see :func:`cache_dir`).
    max_bytes : int
        Total size allowed for the entries.
    keep : pathlib.Path, optional
        An entry never removed (the one just written).
    """
    entries = []
    now = time.time()
    for f in folder.iterdir():
        try:
            st = f.stat()
        except OSError:
            continue
        if f.name.endswith(".tmp") and now - st.st_mtime > _STALE_TMP_SECONDS:
            with contextlib.suppress(OSError):
                f.unlink()
        elif f.name.endswith(_SUFFIX):
            entries.append((st.st_mtime, st.st_size, f))
        elif f.name.endswith(_OLD_SUFFIXES):  # an earlier layout: never read again
            with contextlib.suppress(OSError):
                f.unlink()
    total = sum(size for _, size, _ in entries)
    for _, size, f in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        if keep is not None and f == keep:
            continue
        with contextlib.suppress(OSError):
            f.unlink()
            total -= size
