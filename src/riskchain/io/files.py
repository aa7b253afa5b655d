"""Reading and writing a user's files safely.

Three promises, each kept in one place here (see docs/security.md):

Reading (:func:`read_input`)
    Only regular files are read: a folder, a FIFO, a device such as
    ``/dev/zero`` or a socket is refused with one clear error, without
    blocking (the file is opened with ``O_NONBLOCK`` and checked with
    ``fstat`` before anything is read). A file larger than
    :func:`max_input_bytes` (64 MiB unless ``RISKCHAIN_MAX_INPUT_MIB`` says
    otherwise) is refused before it is read, and a gzip file that unpacks to
    more (:func:`gunzip_input`) is refused as it is unpacked.

Writing (:func:`atomic_write`)
    A file is written through a temporary file in the same folder, flushed,
    fsync'ed and renamed over the old one, so an interrupted write leaves the
    old file or the new one, never a mixture. An existing file keeps its mode,
    and its owner and group where the writer may set them. A temporary file
    left by a killed riskchain (``.NAME.<pid>.<random>.tmp``) is removed the
    next time that file is written.

Editing (:func:`edit_file`)
    Every command that changes a file the user owns goes through
    :func:`edit_file`: it refuses a file that is read-only, has several hard
    links or belongs to another user, takes an exclusive lock on a sidecar
    file (``.NAME.lock`` next to the file), reads the file under the lock and
    lets the caller write the new content, atomically, before the lock is
    released. Two commands editing one file at once therefore run one after
    the other, and each sees the other's change::

        from riskchain.io.files import edit_file

        with edit_file(path) as f:        # locked; f.data is the file's bytes now
            new = change(f.data)          # compute, validate: raise to write nothing
            f.write(new)                  # atomic replace, while still locked
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from riskchain.errors import Diagnostic, SpecError, UsageError

__all__ = [
    "DEFAULT_MAX_INPUT_MIB",
    "LOCK_TIMEOUT",
    "FileEdit",
    "FileError",
    "atomic_write",
    "edit_file",
    "file_problem",
    "gunzip_input",
    "lock_path",
    "max_input_bytes",
    "read_input",
]

#: Input files larger than this many MiB are refused before reading
#: (``RISKCHAIN_MAX_INPUT_MIB`` overrides it). The largest shipped or imported
#: model used in the tests (pathfinder) is 3.2 MB of YAML.
DEFAULT_MAX_INPUT_MIB = 64
#: Seconds :func:`edit_file` waits for another command's lock on the same file.
LOCK_TIMEOUT = 60.0
#: A temporary file whose writer cannot be checked (another host) is stale after this.
STALE_TMP_SECONDS = 3600.0


class FileError(SpecError):
    """A file that cannot be read or edited: not a regular file, too large, not
    writable, locked, ... (exit 1). Printed as ``path: error: message`` with a hint.

    Attributes
    ----------
    path : str
        The file, as the user named it.
    message : str
        What is wrong.
    hint : str or None
        What to do about it.
    """

    def __init__(self, path: str, message: str, hint: str | None = None):
        self.path, self.message, self.hint = path, message, hint
        super().__init__([Diagnostic(path, 0, 0, message, hint)])


# ----------------------------------------------------------------------------- reading


def max_input_bytes() -> int:
    """The largest input file read, in bytes: ``RISKCHAIN_MAX_INPUT_MIB`` MiB, else 64 MiB.

    Raises
    ------
    UsageError
        When ``RISKCHAIN_MAX_INPUT_MIB`` is not a positive whole number.
    """
    raw = os.environ.get("RISKCHAIN_MAX_INPUT_MIB", "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_MIB * 2**20
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(
            f"RISKCHAIN_MAX_INPUT_MIB='{raw}' is not a positive whole number of MiB (e.g. 256)"
        )
    return int(raw) * 2**20


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_regular(name: str, mode: int) -> FileError:
    return FileError(
        name,
        f"not a regular file: it is {_kind(mode)}",
        "riskchain reads ordinary files on disk, not pipes, devices or sockets",
    )


def _size(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def _too_large(name: str, size: int, limit: int) -> FileError:
    return FileError(
        name,
        f"the file is {_size(size)}, above the limit of {_size(limit)} for an input file",
        "check that this is the file you meant; to read larger files set "
        "RISKCHAIN_MAX_INPUT_MIB (e.g. RISKCHAIN_MAX_INPUT_MIB=256)",
    )


def file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an input file, in a few words, or None.

    ``"no such file"`` when it does not exist; otherwise what it is (a folder,
    a FIFO ...) or the system's reason (a name too long, a folder that may not
    be entered). Never raises and never blocks.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        return _reason(exc)
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        return f"is {_kind(st.st_mode)}, not a regular file"
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc)


def read_input(path: str | Path, name: str | None = None, limit: int | None = None) -> bytes:
    """Read a user's input file: a regular file of at most ``limit`` bytes.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    name : str, optional
        The name used in messages (default ``str(path)``).
    limit : int, optional
        The largest size read (default :func:`max_input_bytes`).

    Returns
    -------
    bytes

    Raises
    ------
    UsageError
        When the path does not exist or is a folder.
    FileError
        When it is not a regular file (FIFO, device, socket), is larger than
        ``limit``, or cannot be read (permissions, a name too long, ...).
    """
    name = str(path) if name is None else name
    limit = max_input_bytes() if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a folder, not a file") from None
    except (OSError, ValueError) as exc:
        raise FileError(name, f"cannot read the file: {_reason(exc)}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{name}: is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(name, st.st_mode)
        if st.st_size > limit:
            raise _too_large(name, st.st_size, limit)
        chunks = []
        left = limit + 1  # one byte more tells a file that grew past the limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise FileError(name, f"cannot read the file: {_reason(exc)}") from None
    except MemoryError:
        raise FileError(name, "not enough memory to read the file") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise _too_large(name, len(data), limit)
    return data


def gunzip_input(data: bytes, name: str, limit: int | None = None) -> bytes:
    """Decompress a user's gzip file, refusing it once it unpacks to more than ``limit``
    bytes (default :func:`max_input_bytes`, the cap on any input): a small file that
    unpacks to gigabytes (a gzip bomb) is refused without unpacking it all.

    Raises
    ------
    FileError
        When the data unpacks to more than ``limit`` bytes, or is not gzip data.
    """
    import gzip

    limit = max_input_bytes() if limit is None else limit
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(limit + 1)  # one byte more tells a file above the limit
    except (OSError, EOFError, zlib.error) as exc:
        raise FileError(name, f"not a readable gzip file ({exc})") from None
    if len(out) > limit:
        raise FileError(
            name,
            f"the file unpacks to more than {_size(limit)}, the limit for an input file "
            f"(it is {_size(len(data))} compressed)",
            "check that this is the file you meant; to read larger files set "
            "RISKCHAIN_MAX_INPUT_MIB (e.g. RISKCHAIN_MAX_INPUT_MIB=256)",
        )
    return out


# ----------------------------------------------------------------------------- writing

# Our temporary files: ``.NAME.<pid>.<mkstemp's random part>.tmp``; the older form
# without the pid (``.NAME.<random>.tmp``) is recognized too but only removed by age.
_TMP = r"^\.{name}\.(?:(?P<pid>\d+)\.)?[A-Za-z0-9_]{{8}}\.tmp$"


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: rely on age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process, or cannot tell: keep the file
    return True


def clean_stale_temps(target: str | Path, now: float | None = None) -> list[Path]:
    """Remove temporary files :func:`atomic_write` left next to ``target`` when it
    was killed before renaming: those whose process is gone, or older than an hour.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    target = Path(target)
    folder = target.parent
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        names = os.listdir(folder if str(folder) else ".")
    except OSError:
        return removed
    ours = re.compile(_TMP.format(name=re.escape(target.name)))
    for entry in names:
        m = ours.match(entry)
        if m is None:
            continue
        f = folder / entry
        try:
            st = os.lstat(f)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        pid = m.group("pid")
        old = now - st.st_mtime > STALE_TMP_SECONDS
        dead = pid is not None and int(pid) != os.getpid() and not _pid_alive(int(pid))
        if old or dead:
            with contextlib.suppress(OSError):
                f.unlink()
                removed.append(f)
    return removed


def atomic_write(
    path: str | Path, data: str | bytes, *, mode: int | None = None, strict_owner: bool = False
) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    The temporary file is flushed and fsync'ed, then renamed over ``path``, so
    an interrupted write leaves either the old file or the new one, never a
    mixture. The temporary file is removed if anything fails, and temporary
    files an earlier, killed write of the same file left are removed first.

    Parameters
    ----------
    path : str or pathlib.Path
        The file (a symbolic link is replaced, not followed; see :func:`edit_file`).
    data : str or bytes
        The content (text is written as UTF-8).
    mode : int, optional
        The new file's permissions (default: an existing file's, else 0666 less the umask).
    strict_owner : bool
        Raise ``PermissionError`` rather than change an existing file's owner or
        group when they cannot be kept (only root may give a file to another user).

    Raises
    ------
    OSError
        When the folder cannot be written, the disk is full, ...
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    clean_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            if old is not None:
                _keep_owner(fh.fileno(), old, strict_owner)
            if mode is None:
                if old is not None:
                    mode = old.st_mode & 0o7777
                else:
                    umask = os.umask(0)
                    os.umask(umask)
                    mode = 0o666 & ~umask
            os.chmod(tmp, mode)  # after chown, which clears set-id bits
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_folder(folder)


def _keep_owner(fd: int, old: os.stat_result, strict: bool) -> None:
    """Give the new file the old one's owner and group where that is allowed."""
    st = os.fstat(fd)
    if (st.st_uid, st.st_gid) == (old.st_uid, old.st_gid) or not hasattr(os, "fchown"):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:
        if strict:
            raise
        with contextlib.suppress(PermissionError):
            os.fchown(fd, -1, old.st_gid)  # a group of ours: keep at least that


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX: fsync the folder); best effort."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# ----------------------------------------------------------------------------- editing


def lock_path(path: str | Path) -> Path:
    """The sidecar lock file of ``path``: ``.NAME.lock`` in the same folder.

    It is an empty file, left in place after an edit (removing a lock file
    others may be waiting on would let two commands hold "the" lock at once);
    it may be deleted whenever no riskchain command is running.
    """
    p = Path(path)
    return p.with_name(f".{p.name}.lock")


@dataclass
class FileEdit:
    """A file opened for editing by :func:`edit_file`.

    Attributes
    ----------
    path : pathlib.Path
        The file written (a symbolic link resolved).
    name : str
        The file as the user named it (for messages).
    data : bytes
        Its content, read under the lock.
    written : bool
        Whether :meth:`write` replaced it.
    """

    path: Path
    name: str
    data: bytes
    written: bool = False

    def write(self, data: str | bytes) -> None:
        """Replace the file atomically with ``data``, keeping its owner, group and mode.

        Raises
        ------
        FileError
            When the file cannot be written (its folder, a full disk, ...).
        """
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            atomic_write(self.path, raw, strict_owner=True)
        except OSError as exc:
            raise _write_error(self.name, self.path, exc) from None
        self.data = raw
        self.written = True


def _write_error(name: str, path: Path, exc: OSError) -> FileError:
    folder = path.parent
    # mkstemp failed: the folder, not the file, refuses
    if isinstance(exc, PermissionError) and folder in (
        Path(exc.filename or "").parent,
        Path(exc.filename or ""),
    ):
        return _folder_error(name, folder)
    return FileError(name, f"cannot write the file: {exc.strerror or exc}")


def _folder_error(name: str, folder: Path) -> FileError:
    return FileError(
        name,
        f"cannot write in the folder '{folder}': permission denied",
        "riskchain replaces a file through a temporary file and a lock file in its folder; "
        "the folder must be writable",
    )


def _not_writable(path: Path, st: os.stat_result) -> tuple[str, str] | None:
    """Why we may not write the file (message, hint), or None. ``os.access`` answers
    for the user, but root passes every access check: a file with no write bit at
    all is read-only for root too."""
    mode = stat.S_IMODE(st.st_mode)
    if not st.st_mode & 0o222:
        return (
            f"the file is read-only (mode {mode:04o})",
            "make it writable first (chmod u+w) if you mean to change it",
        )
    with contextlib.suppress(OSError, AttributeError):
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "the file is on a read-only file system", "edit a copy elsewhere"
    if not os.access(path, os.W_OK):
        return (
            f"the file is not writable for you (mode {mode:04o}, owner uid {st.st_uid})",
            "ask its owner to make the change, or edit a copy",
        )
    return None


def _check_editable(path: Path, name: str) -> os.stat_result:
    """The file's status, once checked to be a regular file we may replace.

    Raises
    ------
    UsageError
        When the file does not exist or is a folder.
    FileError
        When it is not a regular file, is read-only, has several hard links,
        belongs to another user or lies in a folder we may not write.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except (OSError, ValueError) as exc:
        raise FileError(name, f"cannot read the file: {_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{name}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(name, st.st_mode)
    refused = _not_writable(path, st)
    if refused is not None:
        raise FileError(name, f"{refused[0]}; nothing was written", refused[1])
    if st.st_nlink > 1:
        # Replacing by rename would split the links (the other names keep the old
        # text); writing in place would lose the all-or-nothing write. Refuse.
        raise FileError(
            name,
            f"the file has {st.st_nlink} hard links; replacing it would leave the other "
            "names with the old text, so nothing was written",
            "edit a copy, or break the link first: cp FILE FILE.new && mv FILE.new FILE",
        )
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid not in (None, 0) and (
        st.st_uid != euid or (st.st_gid != os.getegid() and st.st_gid not in os.getgroups())
    ):
        # a replaced file is owned by whoever writes it; only root can give it back
        raise FileError(
            name,
            f"the file belongs to another user or group (uid {st.st_uid}, gid {st.st_gid}); "
            "replacing it would make it yours, so nothing was written",
            "ask the file's owner to make the change, or edit a copy",
        )
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _folder_error(name, folder)
    return st


@contextlib.contextmanager
def edit_file(
    path: str | Path, name: str | None = None, *, timeout: float = LOCK_TIMEOUT
) -> Iterator[FileEdit]:
    """Edit a user's file under an exclusive lock; see the module docstring.

    The file is checked (a regular file, writable, one hard link, ours), its
    sidecar lock (:func:`lock_path`) is taken, temporary files of killed
    earlier writes are removed, and the file is read under the lock. The
    caller computes and validates the new content and calls
    :meth:`FileEdit.write`; the lock is released when the block ends. A
    symbolic link is followed: the file it points to is locked and replaced,
    and the link stays a link.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to edit.
    name : str, optional
        The name used in messages (default ``str(path)``).
    timeout : float
        Seconds to wait for another command editing the same file.

    Yields
    ------
    FileEdit

    Raises
    ------
    UsageError
        When the file does not exist or is a folder.
    FileError
        When it cannot be edited (see above), or another command holds the
        lock for longer than ``timeout``.
    """
    from filelock import FileLock, Timeout

    name = str(path) if name is None else name
    try:
        target = Path(os.path.realpath(path))
    except (OSError, ValueError) as exc:
        raise FileError(name, f"cannot read the file: {_reason(exc)}") from None
    st = _check_editable(target, name)
    # the lock file gets the file's read/write bits: whoever may edit the file may lock it
    lock = FileLock(str(lock_path(target)), timeout=timeout, mode=st.st_mode & 0o666)
    try:
        lock.acquire()
    except Timeout:
        raise FileError(
            name,
            f"another command has been editing the file for {timeout:g} s "
            f"(lock file {lock_path(target)}); nothing was written",
            "try again once it is done",
        ) from None
    except PermissionError:
        if not os.access(target.parent, os.W_OK):
            raise _folder_error(name, target.parent) from None
        raise FileError(
            name,
            f"cannot open the lock file {lock_path(target)}: permission denied",
            "another user's lock file: ask them to remove it, or remove it once no "
            "riskchain command is running",
        ) from None
    except OSError as exc:
        raise FileError(name, f"cannot lock the file: {exc.strerror or exc}") from None
    try:
        _check_editable(target, name)  # again: it may have changed while we waited
        clean_stale_temps(target)
        yield FileEdit(target, name, read_input(target, name))
    finally:
        lock.release()
