"""Files with patient data written to disk: checked targets, temporary files that never linger.

Every output (CSV export, backup, PDF report) is written to a temporary
file in the target's own directory and renamed over the target, so a reader
never sees half a file and a failure leaves the target as it was. Before
that, :func:`output_path` refuses a target that is not a regular file (a
symlink, a directory, a device node such as ``/dev/sda``, a FIFO) and a
missing directory: ``export --csv /dev/sda`` must not replace the device
node with a file of patient data, nor ``--out`` follow a symlink elsewhere.

Temporary names carry the writer's process id; :func:`remove_stale_temporaries`
deletes those of processes that no longer run (a writer killed with SIGKILL
cannot clean up after itself).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from assessment.errors import InputError

_PID_IN_NAME = re.compile(r"^\.stepback-[a-z]+-(\d+)-")


def output_path(path: str | os.PathLike, field: str = "out") -> Path:
    """``path`` as a checked output target.

    Parameters
    ----------
    path : path
        The file to write; it may exist (it is replaced) only as a regular file.
    field : str
        The option named in the error.

    Raises
    ------
    InputError
        Naming ``field``: the directory is missing, or the target exists and
        is a symlink, directory, device or anything but a regular file.
    """
    try:
        target = Path(path).expanduser()
        name = target.name
    except (TypeError, ValueError, RuntimeError):
        raise InputError(field, "allowed: a file path") from None
    if not name or name in (".", ".."):
        raise InputError(field, f"{str(path)[:200]} is not a file name; allowed: a file path")
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except (OSError, ValueError) as err:
        raise InputError(field, f"cannot use {str(target)[:200]}: {type(err).__name__}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = ("a symbolic link" if stat.S_ISLNK(info.st_mode) else "a directory" if stat.S_ISDIR(info.st_mode)
                else "a device or special file")
        raise InputError(field, f"{str(target)[:200]} is {kind}; allowed: a regular file (it is replaced) or a new file")
    parent = target.parent
    try:
        parent_info = os.stat(parent)
    except (OSError, ValueError):
        raise InputError(field, f"the directory {str(parent)[:200]} does not exist; allowed: a file in an existing directory") from None
    if not stat.S_ISDIR(parent_info.st_mode):
        raise InputError(field, f"{str(parent)[:200]} is not a directory; allowed: a file in an existing directory")
    return target


def input_file(path: str | os.PathLike, field: str) -> Path:
    """``path`` as a file to read: it must exist and be a regular file (a symlink to one is followed).

    A device (``/dev/zero`` never ends), a FIFO or a directory is refused
    before anything reads it.

    Raises
    ------
    InputError
        Naming ``field``: no such file, or not a regular file.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(field, f"{str(path)[:200]}: no such file") from None
    except (OSError, ValueError) as err:
        raise InputError(field, f"cannot read {str(path)[:200]}: {getattr(err, 'strerror', None) or type(err).__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device or special file"
        raise InputError(field, f"{str(path)[:200]} is {kind}; allowed: a regular file")
    return Path(path)


def temporary_prefix(kind: str) -> str:
    """The prefix of a temporary file of ``kind`` written by this process."""
    return f".stepback-{kind}-{os.getpid()}-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(directory: str | os.PathLike) -> int:
    """Delete StepBack temporary files in ``directory`` whose writer no longer runs; return how many."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        match = _PID_IN_NAME.match(entry.name)
        if match and entry.is_file(follow_symlinks=False) and not _running(int(match.group(1))):
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError:
                pass
    return removed


def write_atomically(path: str | os.PathLike, write: Callable[[Path], None], field: str = "out") -> Path:
    """Call ``write(temporary path)``, then rename the temporary file over the checked target (:func:`output_path`).

    For writers that take a path (pandas, Arrow). A failure removes the
    temporary file and leaves the target as it was. Returns the target.
    """
    target = output_path(path, field)
    remove_stale_temporaries(target.parent)
    handle, tmp = tempfile.mkstemp(prefix=temporary_prefix("out"), suffix=target.suffix, dir=target.parent)
    os.close(handle)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_bytes_atomically(path: str | os.PathLike, data: bytes, field: str = "out") -> Path:
    """Write ``data`` to a checked target (:func:`output_path`) through a temporary file and a rename.

    A failure (disk full ...) removes the temporary file and leaves the
    target as it was. Returns the target.
    """
    target = output_path(path, field)
    remove_stale_temporaries(target.parent)
    handle, tmp = tempfile.mkstemp(prefix=temporary_prefix("out"), suffix=target.suffix, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
