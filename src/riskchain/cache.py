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
    Entries are written atomically (temporary file, then rename). An entry that
    cannot be read, is truncated, corrupted or from another layout is ignored
    and rebuilt, never an error; a cache folder that cannot be written only
    means no caching. Entries are pickles read by an unpickler that accepts
    only riskchain's own classes and numpy arrays, and the folder is created
    private to the user.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from riskchain.compile import CompiledModel
    from riskchain.spec.model import ModelSpec
    from riskchain.spec.yamlsrc import Document

#: Bump when the layout of an entry changes.
CACHE_FORMAT = 1
#: Files smaller than this are not cached: they are read in a few milliseconds
#: (a 30 KB model takes about 30 ms to read and 3 ms to load from the cache).
MIN_BYTES = 8 * 1024
#: Above this total size, the least recently used entries are removed.
MAX_TOTAL_BYTES = 512 * 1024 * 1024

_SUFFIX = ".pickle"
_STALE_TMP_SECONDS = 3600.0
_code_fingerprint: str | None = None


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
    entry = None
    key = ""
    if folder is not None:
        key = entry_key(data, name, model_id)
        entry = folder / f"{key}{_SUFFIX}"
        hit = _read_entry(entry, key)
        if hit is not None:
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


# numpy's array reconstruction (numpy 1.x and 2.x module names) and harmless builtins.
_NUMPY_MODULES = {"numpy", "numpy.core.multiarray", "numpy._core.multiarray"}
_NUMPY_MODULES |= {"numpy.core.numeric", "numpy._core.numeric"}
_NUMPY_NAMES = {"dtype", "ndarray", "_reconstruct", "_frombuffer", "scalar"}
_BUILTINS = {"frozenset", "set", "slice", "complex", "range"}


class _Unpickler(pickle.Unpickler):
    """An unpickler that makes only riskchain's classes and numpy arrays."""

    def find_class(self, module: str, name: str):  # type: ignore[override]
        if (
            module.startswith("riskchain.")
            or (module in _NUMPY_MODULES and name in _NUMPY_NAMES)
            or (module == "builtins" and name in _BUILTINS)
        ):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"cache entry refers to {module}.{name}")


def _read_entry(entry: Path, key: str) -> tuple[ModelSpec, CompiledModel] | None:
    """The cached model, or None when there is no usable entry (never raises)."""
    try:
        fh = open(entry, "rb")  # noqa: SIM115 - closed below; open errors mean a miss
    except OSError:
        return None
    try:
        from riskchain.compile import CompiledModel
        from riskchain.spec.model import ModelSpec
        from riskchain.spec.yamlsrc import gc_paused

        with fh, gc_paused():
            obj = _Unpickler(fh).load()
        if not (
            isinstance(obj, dict) and obj.get("format") == CACHE_FORMAT and obj.get("key") == key
        ):
            return None
        spec = obj["spec"]
        compiled = CompiledModel(*obj["compiled"])
        if not isinstance(spec, ModelSpec) or not _consistent(spec, compiled):
            return None
    except Exception:  # a damaged or foreign entry is a miss, never an error
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used: evicted last
    return spec, compiled


def _consistent(spec: ModelSpec, m: CompiledModel) -> bool:
    """Cheap checks that an entry's arrays fit its spec (against damage, not malice)."""
    import numpy as np

    if list(spec.nodes) != list(m.names) or m.id != spec.id:
        return False
    for i, arr in enumerate(m.cpts):
        shape = (*(m.cards[p] for p in m.parents[i]), m.cards[i])
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.shape != shape:
            return False
    return True


def _write_entry(entry: Path, key: str, spec: ModelSpec, m: CompiledModel) -> None:
    """Store a model; any failure (unpicklable spec, read-only folder) means no entry."""
    from riskchain.io.files import atomic_write
    from riskchain.spec.yamlsrc import gc_paused

    record = {
        "format": CACHE_FORMAT,
        "key": key,
        "spec": spec,
        # the constructor's fields only: plans cached on the model are not stored
        "compiled": (m.id, m.names, m.states, m.parents, m.cpts),
    }
    try:
        with gc_paused():
            data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(entry, data)
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
    total = sum(size for _, size, _ in entries)
    for _, size, f in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        if keep is not None and f == keep:
            continue
        with contextlib.suppress(OSError):
            f.unlink()
            total -= size
