"""Reading and writing a user's files (riskchain.io.files): only regular files are read,
never blocking and never past the size cap; writes are atomic and keep the file's
owner, group and mode; edits are locked; killed writes' temporary files are cleaned."""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import OTHER_UID, as_other_user, needs_root, run_cli
from riskchain.cli import main
from riskchain.errors import SpecError, UsageError
from riskchain.io import files
from riskchain.io.files import (
    FileError,
    atomic_write,
    clean_stale_temps,
    edit_file,
    file_problem,
    gunzip_input,
    lock_path,
    read_input,
)

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "korea_russia_2024.yaml"
SMALL = "riskchain: 1\nnodes:\n  a:\n    p: 0.3\n"
LONG = "x" * 300  # longer than a file name may be (255 bytes on Linux file systems)


# ----------------------------------------------------------------------------- reading


def test_a_regular_file_is_read(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_bytes(b"riskchain: 1\n")
    assert read_input(path) == b"riskchain: 1\n"


def test_missing_files_and_folders_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match=r"^nope: no such file$"):
        read_input(tmp_path / "nope", "nope")
    with pytest.raises(UsageError, match=r"^dir: is a folder, not a file$"):
        read_input(tmp_path, "dir")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    """Issue 12 item 8: a FIFO blocked forever (no writer ever comes)."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(FileError) as exc:
        read_input(fifo, "pipe.yaml")
    assert time.monotonic() - start < 5
    assert str(exc.value) == (
        "pipe.yaml: error: not a regular file: it is a FIFO (named pipe)\n"
        "    hint: riskchain reads ordinary files on disk, not pipes, devices or sockets"
    )


def test_dev_zero_is_refused_before_reading():
    """Issue 12 item 4: `validate /dev/zero` read until memory ran out."""
    with pytest.raises(FileError, match="not a regular file: it is a character device"):
        read_input("/dev/zero")


def test_a_file_above_the_cap_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:  # sparse: 65 MiB without writing them
        fh.truncate(65 * 2**20)
    with pytest.raises(FileError) as exc:
        read_input(path, "big.yaml")
    assert exc.value.message == (
        "the file is 65.0 MiB, above the limit of 64.0 MiB for an input file"
    )
    assert "RISKCHAIN_MAX_INPUT_MIB" in (exc.value.hint or "")
    monkeypatch.setenv("RISKCHAIN_MAX_INPUT_MIB", "66")
    assert len(read_input(path)) == 65 * 2**20
    monkeypatch.setenv("RISKCHAIN_MAX_INPUT_MIB", "lots")
    with pytest.raises(UsageError, match="RISKCHAIN_MAX_INPUT_MIB='lots' is not a positive"):
        read_input(path)


def test_the_cap_holds_for_a_file_that_grows_while_read(tmp_path, monkeypatch):
    """The size is checked before reading and the read stops one byte past the cap."""
    path = tmp_path / "m.yaml"
    path.write_bytes(b"a" * 100)
    real = os.fstat

    def shrunk(fd):  # the file looked small when checked
        st = real(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))

    monkeypatch.setattr(files.os, "fstat", shrunk)
    with pytest.raises(FileError, match="above the limit"):
        read_input(path, limit=50)


def test_a_gzip_bomb_is_refused_without_unpacking_it(tmp_path, capsys, monkeypatch):
    """A .bif.gz of 0.2 MiB that unpacks to 200 MiB: import refuses it at the input cap,
    having unpacked no more than the cap (it unpacked the whole file before)."""
    import gzip
    import tracemalloc

    path = tmp_path / "bomb.bif.gz"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b"network bomb {\n}\n")
        chunk = b" " * (1 << 20)
        for _ in range(200):
            fh.write(chunk)
    assert path.stat().st_size < 1 << 20
    monkeypatch.setenv("RISKCHAIN_MAX_INPUT_MIB", "4")
    tracemalloc.start()
    try:
        code = main(["import", str(path), "-o", str(tmp_path / "bomb.yaml")])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _, err = capsys.readouterr()
    assert code == 1
    assert err.splitlines()[0] == (
        f"{path}: error: the file unpacks to more than 4.0 MiB, the limit for an input file "
        "(it is 0.2 MiB compressed)"
    )
    assert "RISKCHAIN_MAX_INPUT_MIB" in err
    assert peak < 40 * 2**20  # the cap and its copies, never the 200 MiB
    assert not (tmp_path / "bomb.yaml").exists()


def test_gunzip_input_reads_below_the_cap_and_refuses_what_is_not_gzip():
    import gzip

    data = gzip.compress(b"x" * 1000)
    assert gunzip_input(data, "a.gz", limit=1000) == b"x" * 1000
    with pytest.raises(FileError, match="unpacks to more than"):
        gunzip_input(data, "a.gz", limit=999)
    with pytest.raises(FileError, match="not a readable gzip file"):
        gunzip_input(b"not gzip", "a.gz")


def test_a_name_too_long_is_an_error_not_a_traceback(tmp_path):
    with pytest.raises(FileError, match="cannot read the file: file name too long"):
        read_input(tmp_path / LONG)
    assert file_problem(tmp_path / LONG) == "file name too long"


def test_file_problem_says_what_a_path_is(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "m.yaml").write_text(SMALL)
    assert file_problem(tmp_path / "m.yaml") is None
    assert file_problem(tmp_path / "nope") == "no such file"
    assert file_problem(tmp_path) == "is a folder, not a file"
    assert file_problem(fifo) == "is a FIFO (named pipe), not a regular file"
    assert file_problem("/dev/null") == "is a character device, not a regular file"
    assert file_problem("a\0b") is not None


# ----------------------------------------------------------------------------- the commands


def _scenario(folder: Path, model: str) -> Path:
    path = folder / "s.yaml"
    path.write_text(f"riskchain: 1\nmodel: {model}\nscenarios:\n  a: {{}}\n")
    return path


@pytest.mark.parametrize("command", ["validate", "run", "table", "query"])
def test_a_model_path_too_long_is_one_positioned_error(capsys, tmp_path, command):
    """Issue 12 item 7: a scenario whose `model:` path is longer than the file system
    allows gave an OSError traceback in validate, run, table and query."""
    scen = _scenario(tmp_path, LONG + ".yaml")
    code, _, err = run_cli(capsys, command, str(scen))
    assert code == 1
    first = err.splitlines()[0]
    assert first == (
        f"{scen}:2:8: error: model file '{LONG}.yaml' cannot be read: file name too long "
        f"({tmp_path / (LONG + '.yaml')})"
    )
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["validate", "query", "show", "set"])
def test_a_file_name_too_long_on_the_command_line(capsys, tmp_path, command):
    args = ["a", "0.3"] if command == "set" else []
    code, _, err = run_cli(capsys, command, str(tmp_path / LONG), *args)
    assert code == 1
    assert len(err.splitlines()) == 1 and "ile name too long" in err
    assert err.startswith(f"{tmp_path / LONG}: error: ")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
@pytest.mark.parametrize("command", ["validate", "query"])
def test_special_files_are_refused_by_the_commands(capsys, tmp_path, kind, command):
    """Issue 12 item 8: a FIFO blocked, /dev/zero exhausted memory; a model path that
    is a folder is named as one."""
    if kind == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)
        expected = f"{path}: error: not a regular file: it is a FIFO (named pipe)"
    elif kind == "dev-zero":
        path = Path("/dev/zero")
        expected = "/dev/zero: error: not a regular file: it is a character device"
    else:
        path = tmp_path / "scen"
        path.mkdir()
        scen = _scenario(path, "..")
        code, _, err = run_cli(capsys, command, str(scen))
        assert code == 1
        assert err.splitlines()[0] == (
            f"{scen}:2:8: error: model file '..' cannot be read: is a folder, not a file "
            f"({tmp_path})"
        )
        return
    code, _, err = run_cli(capsys, command, str(path))
    assert code == 1
    assert err.splitlines()[0] == expected


def test_a_fifo_as_a_scenarios_model(capsys, tmp_path):
    os.mkfifo(tmp_path / "m.yaml")
    scen = _scenario(tmp_path, "m.yaml")
    code, _, err = run_cli(capsys, "validate", str(scen))
    assert code == 1
    assert err.splitlines()[0] == (
        f"{scen}:2:8: error: model file 'm.yaml' cannot be read: is a FIFO (named pipe), "
        f"not a regular file ({tmp_path / 'm.yaml'})"
    )


@pytest.mark.parametrize("suffix", [".bif", ".xdsl"])
def test_import_refuses_a_fifo(capsys, tmp_path, suffix):
    fifo = tmp_path / f"net{suffix}"
    os.mkfifo(fifo)
    code, _, err = run_cli(capsys, "import", str(fifo), "-o", str(tmp_path / "m.yaml"))
    assert code == 1
    assert err.splitlines()[0] == f"{fifo}: error: not a regular file: it is a FIFO (named pipe)"


def test_a_fifo_does_not_hang_the_command(tmp_path):
    """The whole command, in its own process, with nobody writing to the FIFO."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "riskchain.cli", "validate", str(fifo)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    assert "not a regular file: it is a FIFO" in done.stderr


def test_memory_error_is_one_line(capsys, monkeypatch):
    import riskchain.validate

    def exhausted(*args):
        raise MemoryError

    monkeypatch.setattr(riskchain.validate, "validate_paths", exhausted)
    code, out, err = run_cli(capsys, "validate", str(MODEL))
    assert (code, out) == (1, "")
    assert err == "error: not enough memory for this input or question\n"


def _warm_reads(capsys, scen: Path) -> None:
    """Import everything these commands need (the other user may not read the Python install)."""
    for command in ("validate", "query"):
        run_cli(capsys, command, str(MODEL))
        run_cli(capsys, command, str(scen))


@needs_root
def test_a_folder_without_permission_on_the_models_path(capsys, shared_dir):
    """Issue 12 item 8: a folder without permission on a model's path gave a
    PermissionError traceback."""
    top = shared_dir(0o755)
    secret = top / "secret"
    secret.mkdir()
    (secret / "m.yaml").write_bytes(MODEL.read_bytes())
    secret.chmod(0o700)  # root's: the other user may not enter it
    scen = _scenario(top, "secret/m.yaml")
    _warm_reads(capsys, scen)

    def attempt():
        return [
            run_cli(capsys, command, str(path))
            for path in (scen, secret / "m.yaml")
            for command in ("validate", "query")
        ]

    v_scen, q_scen, v_model, q_model = as_other_user(attempt)
    positioned = (
        f"{scen}:2:8: error: model file 'secret/m.yaml' cannot be read: permission denied "
        f"({secret / 'm.yaml'})"
    )
    assert v_scen[0] == q_scen[0] == 1
    assert v_scen[2].splitlines()[0] == q_scen[2].splitlines()[0] == positioned
    assert (v_model[0], v_model[2]) == (1, f"{secret / 'm.yaml'}: error: Permission denied\n")
    assert (q_model[0], q_model[2]) == (
        1,
        f"{secret / 'm.yaml'}: error: cannot read the file: permission denied\n",
    )


# ----------------------------------------------------------------------------- writing


def test_atomic_write_keeps_the_mode(tmp_path):
    path = tmp_path / "out.md"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    atomic_write(tmp_path / "fresh.md", b"x", mode=0o600)
    assert stat.S_IMODE((tmp_path / "fresh.md").stat().st_mode) == 0o600


@needs_root
def test_atomic_write_keeps_owner_and_group(tmp_path):
    path = tmp_path / "out.md"
    path.write_text("old")
    os.chown(path, OTHER_UID, OTHER_UID)
    atomic_write(path, "new")
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (OTHER_UID, OTHER_UID)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_are_removed_and_live_ones_kept(tmp_path):
    target = tmp_path / "m.yaml"
    target.write_text(SMALL)
    dead = tmp_path / f".m.yaml.{_dead_pid()}.abcd1234.tmp"  # a killed riskchain's
    live = tmp_path / f".m.yaml.{os.getppid()}.abcd1234.tmp"  # a running process's
    old = tmp_path / ".m.yaml.abcd1234.tmp"  # the form before the pid, an hour old
    fresh_old_form = tmp_path / ".m.yaml.efgh5678.tmp"
    other = tmp_path / ".n.yaml.1.abcd1234.tmp"  # another file's
    unrelated = tmp_path / ".m.yaml.notes.tmp"
    for f in (dead, live, old, fresh_old_form, other, unrelated):
        f.write_text("half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    removed = clean_stale_temps(target)
    assert sorted(removed) == sorted([dead, old])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (target, live, fresh_old_form, other, unrelated)
    )


def test_atomic_write_cleans_up_after_a_killed_write(tmp_path):
    target = tmp_path / "m.yaml"
    target.write_text(SMALL)
    stale = tmp_path / f".m.yaml.{_dead_pid()}.abcd1234.tmp"
    stale.write_text("half")
    atomic_write(target, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.yaml"]


# ----------------------------------------------------------------------------- editing


def test_edit_file_reads_under_the_lock_and_writes(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    with edit_file(path) as f:
        assert f.data == SMALL.encode()
        assert lock_path(path).exists()
        f.write(SMALL.replace("0.3", "0.4"))
    assert path.read_text() == SMALL.replace("0.3", "0.4")
    assert f.written


def test_an_error_in_the_block_writes_nothing(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    with pytest.raises(RuntimeError), edit_file(path):
        raise RuntimeError("validation failed")
    assert path.read_text() == SMALL
    with edit_file(path, timeout=1) as f:  # and the lock was released
        assert f.data == SMALL.encode()


def _hold_lock(path: str, ready, release) -> None:
    with edit_file(path):
        ready.set()
        release.wait(30)


def test_a_second_editor_waits_for_the_lock(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(FileError) as exc, edit_file(path, "m.yaml", timeout=0.3):
            pass
        assert exc.value.message.startswith("another command has been editing the file for 0.3 s")
    finally:
        release.set()
        holder.join(30)
    with edit_file(path, timeout=5) as f:
        assert f.data == SMALL.encode()


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text(SMALL)
    link = tmp_path / "link.yaml"
    link.symlink_to(real.name)
    with edit_file(link) as f:
        f.write("changed")
    assert link.is_symlink() and real.read_text() == "changed"
    assert lock_path(real).exists() and not lock_path(link).exists()


def test_edit_file_refuses_what_it_must_not_replace(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(SMALL)
    path.chmod(0o444)
    with pytest.raises(FileError, match=r"read-only \(mode 0444\)"), edit_file(path):
        pass
    path.chmod(0o644)
    os.link(path, tmp_path / "twin.yaml")
    with pytest.raises(FileError, match="2 hard links"), edit_file(path):
        pass
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileError, match="FIFO"), edit_file(fifo):
        pass
    with pytest.raises(UsageError, match="no such file"), edit_file(tmp_path / "nope"):
        pass
    with pytest.raises(UsageError, match="is a folder"), edit_file(tmp_path):
        pass


def test_file_errors_are_spec_errors_with_the_path(tmp_path):
    """validate reports them as a file's problems; the CLI prints `path: error: ...`."""
    err = FileError("m.yaml", "not a regular file", "a hint")
    assert isinstance(err, SpecError)
    assert err.lines() == ["m.yaml: error: not a regular file\n    hint: a hint"]


@needs_root
def test_a_lock_file_of_another_user_is_named(capsys, tmp_path, shared_dir):
    folder = shared_dir(0o777)
    path = folder / "m.yaml"
    path.write_text(SMALL)
    os.chown(path, OTHER_UID, OTHER_UID)
    lock = lock_path(path)
    lock.write_text("")
    lock.chmod(0o600)  # root's: the other user cannot open it

    def attempt():
        try:
            with edit_file(path, "m.yaml", timeout=1):
                return "locked"
        except FileError as exc:
            return exc.message

    warm = tmp_path / "warm.yaml"
    warm.write_text("")
    with edit_file(warm):
        pass  # imports filelock's parts as root
    assert as_other_user(attempt) == f"cannot open the lock file {lock}: permission denied"
