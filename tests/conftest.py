"""Shared test helpers: the repository networks (read once per session) and random networks.

Networks
--------
``network(name)`` returns the :class:`~riskchain.io.bif.Imported` of
``tests/data/networks/<name>.bif.gz``, read with :func:`riskchain.io.bif.read_bif`
once per test session and kept in the module-level dict ``NETWORK_CACHE``.
``network_import(name)`` is :func:`riskchain.io.bif.import_network` run on that
same read (``read_bif`` is handed the cached one), kept in ``IMPORT_CACHE``.

pgmpy's BIF reader is slow (about 115 s of CPU for all 24 networks) and so is
the YAML round trip of ``import_network`` on the big ones, so both are done
once and kept: each result is pickled under ``.cache/test-networks/`` (or the
folder ``RISKCHAIN_TEST_NETWORK_CACHE`` names; ``0`` turns the cache off), in a
file named after the network and a digest of the network file, the riskchain
modules the conversion runs (``io/bif.py``, ``compile.py``, ``spec/``, ...) and
the pgmpy and numpy versions. Any change to one of those converts again, so a
cached result is what the code under test would compute now.

Networks not yet converted (a parameter named ``net`` or a
``@pytest.mark.networks(...)`` marker; ``@pytest.mark.network_import`` for the
round trip) are read at once in worker processes, longest first, and each round
trip follows its read; ``network(name)`` then waits for that one. Set
``RISKCHAIN_TEST_READERS=0`` to do everything in the test process.

Random networks
---------------
``random_network(rng, n)`` and the hypothesis strategy ``networks()`` build
small random DAGs with random CPTs (zeros included); ``forward_sample`` draws
a full joint state, interventions applied.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import pickle
import sys
import warnings
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

import riskchain.io.bif as bif
import riskchain.io.files
import riskchain.spec.model  # noqa: F401 - the import round trip's reader, for the digest
from riskchain.compile import CompiledModel
from riskchain.io.bif import Imported

NETWORK_DIR = Path(__file__).resolve().parent / "data" / "networks"

#: Every shared network, smallest file first (the order tests parametrize them in).
NETWORKS: tuple[str, ...] = tuple(
    p.name.removesuffix(".bif.gz")
    for p in sorted(NETWORK_DIR.glob("*.bif.gz"), key=lambda p: (p.stat().st_size, p.name))
)

#: Networks compared with pgmpy's VariableElimination (tests/engine/test_exact_vs_pgmpy.py):
#: all of them. Measured: with findings on a random subset of nodes pgmpy prunes every
#: network (barren nodes, d-separation) to a small problem; the slowest query_pgmpy call
#: (diabetes, munin3/4) takes 1-4 s. Questions whose exact plan would be large are drawn
#: again in that file rather than handed to pgmpy, which has no memory guard.
PGMPY_TRACTABLE: tuple[str, ...] = NETWORKS
#: Networks whose pgmpy questions are drawn among nodes with at most ``ANCESTOR_LIMIT``
#: ancestors ("targets near the findings"): munin1, the network whose plan for all
#: nodes is over the default budget.
PGMPY_FEW_ANCESTORS: frozenset[str] = frozenset({"munin1"})
ANCESTOR_LIMIT = 40

NETWORK_CACHE: dict[str, Imported] = {}
IMPORT_CACHE: dict[str, tuple[str, CompiledModel]] = {}
_PENDING: dict[str, Future] = {}  # reads under way
_IMPORT_PENDING: dict[str, Future] = {}  # import round trips under way
_WANT_IMPORT: set[str] = set()
_POOL: ProcessPoolExecutor | None = None


def network_path(name: str) -> Path:
    """Path of a shared network file."""
    return NETWORK_DIR / f"{name}.bif.gz"


# ----------------------------------------------------------------------------- converted once


def _converter_digest() -> str:
    """Digest of what a conversion depends on: the source of every riskchain module
    loaded by now (the reader, the compiler, the model-file loader and what they
    import) and the versions of pgmpy, numpy and Python."""
    from importlib.metadata import version

    h = hashlib.sha256()
    for mod_name in sorted(m for m in sys.modules if m.split(".")[0] == "riskchain"):
        source = getattr(sys.modules[mod_name], "__file__", None)
        if source:
            h.update(mod_name.encode() + b"\0" + Path(source).read_bytes())
    h.update(f"pgmpy {version('pgmpy')} numpy {np.__version__} {sys.version}".encode())
    return h.hexdigest()


CONVERTER_DIGEST = _converter_digest()  # taken before the tests import anything else


def _cache_dir() -> Path | None:
    where = os.environ.get("RISKCHAIN_TEST_NETWORK_CACHE", "")
    if where == "0":
        return None
    return Path(where) if where else Path(__file__).resolve().parents[1] / ".cache" / "test-networks"


@functools.cache
def _network_digest(name: str) -> str:
    h = hashlib.sha256(CONVERTER_DIGEST.encode())
    h.update(network_path(name).read_bytes())
    return h.hexdigest()[:20]


def _cache_file(name: str, what: str) -> Path | None:
    """Where the result ``what`` (``read`` or ``import``) of network ``name`` is kept."""
    folder = _cache_dir()
    if folder is None:
        return None
    return folder / f"{name}.{what}.{_network_digest(name)}.pickle"


def _is_kept(name: str, what: str) -> bool:
    path = _cache_file(name, what)
    return path is not None and path.is_file()


def _cached(name: str, what: str):
    """The kept result, or None when there is none for the current digest."""
    path = _cache_file(name, what)
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # a torn or foreign file: convert again
        return None


def _keep(name: str, what: str, value) -> None:
    """Write a result atomically; results kept under an older digest are removed."""
    path = _cache_file(name, what)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    for old in path.parent.glob(f"{name}.{what}.*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)


def import_with(imp: Imported, path: Path) -> tuple[str, CompiledModel]:
    """``bif.import_network(path)`` with ``read_bif`` handing over ``imp`` (no second parse)."""
    original = bif.read_bif

    def cached_read(p):
        assert str(p) == str(path), (p, path)
        return imp

    bif.read_bif = cached_read
    try:
        return bif.import_network(path)
    finally:
        bif.read_bif = original


def _import_job(imp: Imported, path: Path):
    """Worker job: the import round trip on a read made earlier; errors go to the test."""
    try:
        return import_with(imp, path), None
    except Exception as exc:
        return None, exc


def _store(name: str, imp: Imported) -> None:
    NETWORK_CACHE[name] = imp
    _keep(name, "read", imp)
    if name in _WANT_IMPORT and _POOL is not None and name not in IMPORT_CACHE:
        _IMPORT_PENDING[name] = _POOL.submit(_import_job, imp, network_path(name))


def _pump() -> None:
    """Take in the reads that are done and hand their import round trips to the workers."""
    for name, fut in list(_PENDING.items()):
        if fut.done():
            del _PENDING[name]
            _store(name, fut.result())


def network(name: str) -> Imported:
    """The network ``name`` as read by ``read_bif``; read once (see the module's notes)."""
    _pump()
    if name not in NETWORK_CACHE and name not in _PENDING:
        kept = _cached(name, "read")
        if kept is not None:
            NETWORK_CACHE[name] = kept
    if name not in NETWORK_CACHE:
        fut = _PENDING.pop(name, None)
        if fut is not None and fut.cancel():
            fut = None  # still queued behind longer reads: reading it here is quicker
        _store(name, fut.result() if fut is not None else bif.read_bif(network_path(name)))
    return NETWORK_CACHE[name]


def network_import(name: str) -> tuple[str, CompiledModel]:
    """``import_network`` of the shared network ``name``, on the session's single read."""
    if name not in IMPORT_CACHE and name not in _IMPORT_PENDING:
        kept = _cached(name, "import")
        if kept is not None:
            IMPORT_CACHE[name] = kept
            return kept
    imp = network(name)
    if name not in IMPORT_CACHE:
        fut = _IMPORT_PENDING.pop(name, None)
        if fut is None:
            IMPORT_CACHE[name] = import_with(imp, network_path(name))
        else:
            result, error = fut.result()
            if error is not None:
                raise error
            IMPORT_CACHE[name] = result
        _keep(name, "import", IMPORT_CACHE[name])
    return IMPORT_CACHE[name]


def compiled(name: str) -> CompiledModel:
    """The compiled model of network ``name`` (see :func:`network`)."""
    return network(name).model


def pytest_configure(config: pytest.Config) -> None:
    # the compiled-model cache goes to a fresh folder per run, not the user's ~/.cache
    import tempfile

    os.environ["RISKCHAIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="riskchain-cache-")
    config.addinivalue_line(
        "markers", "networks(*names): shared networks the test reads (read ahead of time)"
    )
    config.addinivalue_line(
        "markers", "network_import: the test calls network_import(net) (run ahead of time)"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    folder = os.environ.get("RISKCHAIN_CACHE_DIR", "")
    if "riskchain-cache-" in folder:
        shutil.rmtree(folder, ignore_errors=True)


def _wanted_networks(items: list[pytest.Item]) -> dict[str, bool]:
    """Networks the items need, in order of first need -> whether the import is needed."""
    wanted: dict[str, bool] = {}
    for item in items:
        names: list[str] = []
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("net"), str):
            names.append(callspec.params["net"])
        for mark in item.iter_markers("networks"):
            names.extend(mark.args)
        imports = item.get_closest_marker("network_import") is not None
        for n in names:
            wanted[n] = wanted.get(n, False) or imports
    out = {}
    for n, with_import in wanted.items():
        if n not in NETWORKS or n in NETWORK_CACHE:
            continue
        if _is_kept(n, "read") and (not with_import or _is_kept(n, "import")):
            continue  # converted by an earlier run
        out[n] = with_import
    return out


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start reading the networks the collected tests need and no earlier run has
    converted, in worker processes.

    Reads are queued first, longest first; each import round trip is queued as
    soon as the test process takes in the read it works on.
    """
    global _POOL
    wanted = _wanted_networks(session.items)
    workers = int(os.environ.get("RISKCHAIN_TEST_READERS", min(2, os.cpu_count() or 1)))
    if len(wanted) < 2 or workers < 1:
        return
    with warnings.catch_warnings():
        # imported once here so forked readers do not each pay for it
        warnings.simplefilter("ignore")
        import pgmpy.readwrite  # noqa: F401
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    _WANT_IMPORT.update(n for n, with_import in wanted.items() if with_import)
    # longest first (the BIF text size is a fair proxy for pgmpy's parsing time), so
    # that no long read is left for the end with one worker idle
    for name in sorted(wanted, key=_text_size, reverse=True):
        _PENDING[name] = _POOL.submit(bif.read_bif, network_path(name))


def _text_size(name: str) -> int:
    """Uncompressed size of a network file (the gzip trailer's ISIZE field)."""
    with open(network_path(name), "rb") as fh:
        fh.seek(-4, os.SEEK_END)
        return int.from_bytes(fh.read(4), "little")


def pytest_runtest_setup(item: pytest.Item) -> None:
    _pump()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)


# ----------------------------------------------------------------------------- random networks


def random_network(
    rng: np.random.Generator,
    n: int,
    max_card: int = 4,
    max_parents: int = 3,
    zero_rate: float = 0.2,
) -> CompiledModel:
    """A random DAG over ``n`` nodes (file order shuffled) with random CPTs.

    About ``zero_rate`` of the CPT entries are 0 (every row keeps a positive
    entry), and some rows are deterministic.
    """
    topo = rng.permutation(n)  # topo[k] is the k-th node in a topological order
    cards = [int(rng.integers(2, max_card + 1)) for _ in range(n)]
    parents: dict[str, list[str]] = {}
    tables: dict[str, np.ndarray] = {}
    names = [f"v{i}" for i in range(n)]
    for k, v in enumerate(topo):
        earlier = topo[:k]
        npar = int(rng.integers(0, min(max_parents, k) + 1))
        ps = [int(p) for p in rng.choice(earlier, size=npar, replace=False)] if npar else []
        parents[names[v]] = [names[p] for p in ps]
        shape = (*(cards[p] for p in ps), cards[v])
        arr = rng.dirichlet(np.full(cards[v], 0.7), size=shape[:-1] or None).reshape(shape)
        arr = np.where(rng.random(shape) < zero_rate, 0.0, arr)
        rows = arr.reshape(-1, cards[v])
        for r in range(rows.shape[0]):
            if rng.random() < 0.1:  # deterministic row
                rows[r] = 0.0
                rows[r, rng.integers(cards[v])] = 1.0
            elif rows[r].sum() == 0:
                rows[r, rng.integers(cards[v])] = 1.0
        tables[names[v]] = (rows / rows.sum(axis=1, keepdims=True)).reshape(shape)
    states = [[f"s{j}" for j in range(c)] for c in cards]
    return CompiledModel.from_tables("random", names, states, parents, tables)


@st.composite
def networks(draw, min_nodes: int = 2, max_nodes: int = 7, max_card: int = 4, max_parents: int = 3):
    """Hypothesis strategy: ``(model, rng)`` for a random network and a generator for the query."""
    n = draw(st.integers(min_nodes, max_nodes))
    seed = draw(st.integers(0, 2**32 - 1))
    zero_rate = draw(st.sampled_from([0.0, 0.2, 0.4]))
    rng = np.random.default_rng(seed)
    model = random_network(rng, n, max_card=max_card, max_parents=max_parents, zero_rate=zero_rate)
    return model, rng


def forward_sample(
    model: CompiledModel, rng: np.random.Generator, do: Mapping[int, int] | None = None
) -> list[int]:
    """One full joint state drawn from the model with interventions ``do`` applied."""
    do = dict(do or {})
    x = [0] * len(model)
    for v in model.topological_order():
        if v in do:
            x[v] = do[v]
            continue
        p = model.cpts[v][tuple(x[q] for q in model.parents[v])]
        x[v] = int(rng.choice(len(p), p=p))
    return x


def ancestors(
    model: CompiledModel, v: int, cut: frozenset[int] | set[int] = frozenset()
) -> set[int]:
    """Strict ancestors of ``v`` (nodes in ``cut`` have lost their parents)."""
    seen: set[int] = set()
    stack = [] if v in cut else list(model.parents[v])
    while stack:
        u = stack.pop()
        if u not in seen:
            seen.add(u)
            if u not in cut:
                stack.extend(model.parents[u])
    return seen


def descendants(model: CompiledModel, v: int) -> set[int]:
    """Strict descendants of ``v``."""
    seen: set[int] = set()
    stack = list(model.children[v])
    while stack:
        u = stack.pop()
        if u not in seen:
            seen.add(u)
            stack.extend(model.children[u])
    return seen


# ----------------------------------------------------------------------------- CLI helpers


def run_cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    """Run ``riskchain ARGS`` in process: (exit code, stdout, stderr). Paths are passed
    as text. Every CLI test calls the command line through this one function."""
    from riskchain.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def check_golden(path: Path, text: str) -> None:
    """``text`` must equal the golden file; ``RISKCHAIN_UPDATE_GOLDEN=1`` rewrites it."""
    if os.environ.get("RISKCHAIN_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


#: The repository root: golden cases are run from there so the paths printed are relative.
REPO_ROOT = Path(__file__).resolve().parents[1]


def golden_cases(folder: Path, suffixes: tuple[str, ...] = (".yaml",)) -> list[Path]:
    """The input files of a folder of validation cases (``<case>.yaml`` beside ``<case>.txt``)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in suffixes)


def check_validate_case(capsys, case: Path) -> None:
    """``riskchain validate CASE`` run from the repository root: stdout then stderr equal
    ``<case>.txt``, and the exit code is 0 for cases named ``ok_*``, else 1."""
    code, out, err = run_cli(capsys, "validate", case.relative_to(REPO_ROOT).as_posix())
    check_golden(case.with_suffix(".txt"), out + err)
    assert code == (0 if case.stem.startswith("ok_") else 1)


def orphan_goldens(folder: Path, cases: list[Path]) -> list[str]:
    """Expected-output files in ``folder`` with no input file (stale goldens)."""
    stems = {p.stem for p in cases}
    return [p.name for p in folder.glob("*.txt") if p.stem not in stems]


# ----------------------------------------------------------------------------- another user

#: Tests that drop privileges run as this user (``nobody`` on Debian).
OTHER_UID = 65534

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="drops privileges to another user (or chowns a file): needs root",
)


def as_other_user(fn, uid: int = OTHER_UID):
    """Run ``fn()`` in a forked child that has given up root for ``uid`` (groups
    dropped), and return what it returned (it must pickle). Root passes every
    permission check, so refusals that rest on permissions are tested this way.

    Modules the child needs must be imported first (the child may not be able
    to read the Python installation): run the same call once as root.
    """
    import pickle

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            result = ("ok", fn())
        except BaseException as exc:  # report it to the parent
            result = ("raised", f"{type(exc).__name__}: {exc}")
        with os.fdopen(write, "wb") as fh:
            pickle.dump(result, fh)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    status, value = pickle.loads(data)
    if status != "ok":
        raise AssertionError(f"as uid {uid}: {value}")
    return value


@pytest.fixture
def shared_dir():
    """Make folders under /tmp that another user can reach (pytest's tmp_path is private
    to root): ``shared_dir(mode=0o777, owner=None)``; removed after the test."""
    import shutil
    import tempfile

    made: list[Path] = []

    def make(mode: int = 0o777, owner: int | None = None) -> Path:
        folder = Path(tempfile.mkdtemp(prefix="riskchain-shared-"))
        made.append(folder)
        if owner is not None:
            os.chown(folder, owner, owner)
        folder.chmod(mode)
        return folder

    yield make
    for folder in made:
        folder.chmod(0o700)
        shutil.rmtree(folder, ignore_errors=True)
