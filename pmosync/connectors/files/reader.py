"""Read .mpp, MSPDI .xml, .xer and PMXML schedule files through MPXJ, in one worker process.

MPXJ is a Java library. The JVM runs in a spawned worker rather than in the caller because a
JVM cannot be restarted in a process once shut down, it keeps its heap for the life of the
process, and a crash in native code must not take the CLI (or a sync run) down with it. One call
starts one worker, starts the JVM there once (about half a second) and feeds it the files one by
one; a file that hangs or kills the worker costs only that file, and a fresh worker serves the
rest.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from pmosync.connectors.files import _worker
from pmosync.connectors.files.model import FileErrorKind, ScheduleFile, ScheduleFileError
from pmosync.errors import ConfigError

__all__ = [
    "DEFAULT_FILE_TIMEOUT_S",
    "INSTALL_JAVA_HINT",
    "java_available",
    "read_schedule_files",
]

# Generous: a 2,000-task MSPDI file takes about 1 s warm and 3 s as the first file of a
# worker (MPXJ parse plus extraction), so only a wedged reader or a pathological file gets
# anywhere near this.
DEFAULT_FILE_TIMEOUT_S = 300.0
JVM_START_TIMEOUT_S = 120.0
_SHUTDOWN_GRACE_S = 5.0

log = logging.getLogger(__name__)

INSTALL_JAVA_HINT = (
    "Install a Java runtime, version 11 or newer (17 recommended): "
    "`apt-get install default-jre-headless` on Debian/Ubuntu, "
    "`dnf install java-17-openjdk-headless` on Fedora/RHEL, `brew install openjdk` on macOS; "
    "or point JAVA_HOME at an installed JDK/JRE."
)
_INSTALL_MPP_HINT = "Install them with: pip install 'pmo-sync[mpp]'"


def java_available() -> bool:
    """True when a Java runtime that JPype can load is installed (JAVA_HOME, PATH, /usr/lib/jvm)."""
    try:
        import jpype
    except ImportError:
        # Without JPype nothing can load a JVM anyway; still answer the question asked.
        return shutil.which("java") is not None
    try:
        jpype.getDefaultJVMPath()
    except (jpype.JVMNotFoundException, jpype.JVMNotSupportedException):
        return False
    return True


def read_schedule_files(
    paths: Sequence[Path],
    on_progress: Callable[[Path], None] | None = None,
    *,
    timeout_per_file: float = DEFAULT_FILE_TIMEOUT_S,
) -> list[ScheduleFile]:
    """Read each file with MPXJ's UniversalProjectReader, in order, in one worker process.

    Returns one ``ScheduleFile`` per project: one per file, except multi-project files (XER)
    which give one per project, in file order. A file that is missing, unreadable or not a
    schedule gives a ``ScheduleFile`` whose ``error`` names the file; the other files still
    import. ``on_progress`` is called with each path once it is done, failed or not.

    Raises:
        ConfigError: mpxj/JPype1 are not installed, no Java runtime is found, or the JVM
            does not start.
    """
    if not paths:
        return []
    _require_mpxj()
    results: list[ScheduleFile] = []
    worker: _Worker | None = None
    try:
        for path in paths:
            path = Path(path)
            if worker is not None and not worker.alive():
                # It died between files (OOM killer, someone's kill): no file is to blame.
                worker.close(kill=True)
                worker = None
            if worker is None:
                worker = _Worker()
            files, worker_ok = worker.read(path, timeout_per_file)
            results.extend(files)
            if not worker_ok:  # it crashed or hung on this file; the next file gets a new one
                worker.close(kill=True)
                worker = None
            if on_progress is not None:
                on_progress(path)
    except BaseException:
        # Ctrl-C or a failing callback: the worker may be mid-file, so do not wait for it.
        if worker is not None:
            worker.close(kill=True)
            worker = None
        raise
    finally:
        if worker is not None:
            worker.close()
    return results


def _require_mpxj() -> None:
    missing = [name for name in ("jpype", "mpxj") if importlib.util.find_spec(name) is None]
    if missing:
        packages = {"jpype": "JPype1", "mpxj": "mpxj"}
        raise ConfigError(
            "reading .mpp/.xml/.xer schedule files needs the Python packages mpxj and JPype1 "
            f"(missing: {', '.join(packages[m] for m in missing)}). {_INSTALL_MPP_HINT}"
        )
    if not java_available():
        java_home = os.environ.get("JAVA_HOME")
        where = f"JAVA_HOME={java_home} holds no usable JVM" if java_home else "JAVA_HOME is unset"
        raise ConfigError(
            f"reading .mpp/.xml/.xer schedule files needs Java, and none was found ({where}, "
            f"no `java` usable on PATH). {INSTALL_JAVA_HINT}"
        )


class _Worker:
    """One spawned process holding one JVM, fed one path at a time over a pipe."""

    def __init__(self) -> None:
        # spawn, never fork: a forked child would inherit the parent's threads and locks, and a
        # JVM started in the parent (say, by a test) could not run in the child at all.
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process: BaseProcess = context.Process(
            target=_worker.serve, args=(child_conn,), name="pmosync-mpxj", daemon=True
        )
        self._process.start()
        child_conn.close()  # so that a dead worker shows up as EOF here instead of a hang
        reply = self._receive(JVM_START_TIMEOUT_S)
        if not reply or reply[0] != "ready":
            self.close(kill=True)
            detail = reply[1] if reply else "the worker process exited or did not answer"
            raise ConfigError(
                f"Java is installed but MPXJ's JVM did not start: {detail}. {INSTALL_JAVA_HINT}"
            )
        _, self.pid, self.jvm_start_seconds, self.versions = reply
        log.debug(
            "MPXJ worker %d ready in %.2f s (Java %s, MPXJ %s)",
            self.pid,
            self.jvm_start_seconds,
            self.versions.get("java"),
            self.versions.get("mpxj"),
        )

    def read(self, path: Path, timeout: float) -> tuple[list[ScheduleFile], bool]:
        """The file's results, and whether this worker can serve another file."""
        try:
            self._conn.send(str(path))
        except OSError:
            return [self._failed(path, "worker_crashed", "the MPXJ worker process died")], False
        reply = self._receive(timeout)
        if reply is None:
            if self._process.is_alive():
                return [
                    self._failed(path, "timeout", f"MPXJ did not finish within {timeout:g} s")
                ], False
            reason = f"the MPXJ worker process died reading it (exit code {self._process.exitcode})"
            if _worker.crash_log(self.pid).exists():
                reason += f"; the JVM's crash report is {_worker.crash_log(self.pid)}"
            return [self._failed(path, "worker_crashed", reason)], False
        return list(reply[1]), True

    def alive(self) -> bool:
        return self._process.is_alive()

    def close(self, *, kill: bool = False) -> None:
        """Stop the worker: politely, or at once when it is hung or already dead."""
        if not kill:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._process.join(_SHUTDOWN_GRACE_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()

    def _receive(self, timeout: float) -> Any:
        """The worker's next message, or None if it died or stayed silent for ``timeout``."""
        try:
            if not self._conn.poll(timeout):
                return None
            return self._conn.recv()
        except (EOFError, OSError):
            return None

    def _failed(self, path: Path, kind: FileErrorKind, reason: str) -> ScheduleFile:
        return ScheduleFile(
            path=path,
            error=ScheduleFileError(kind=kind, message=f"{path}: {reason}"),
            worker_pid=self.pid,
        )
