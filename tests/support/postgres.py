"""A throwaway PostgreSQL server for the test session.

Started from the distribution's binaries (Debian: /usr/lib/postgresql/N/bin),
never from a system cluster. The data directory lives in a fresh temp dir that
is deleted on stop. PostgreSQL refuses to run as root, so when the tests run
as root (CI) initdb/pg_ctl run as the ``postgres`` system user.

Settings: listens on 127.0.0.1 only (free port) plus a unix socket in the temp
dir, trust authentication, fsync/synchronous_commit/full_page_writes off.

The temp dir is in memory (/dev/shm) when that has room: every test copies the
initialised template database (``CREATE DATABASE … TEMPLATE``), a few hundred
files, and on ext4, after many such databases were dropped, creating those files
cost about 0.35 s of CPU a test (ext4's search of recently deleted inodes); on
tmpfs about 10 ms.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresUnavailable(RuntimeError):
    """The server binaries (or a way to run them) are missing."""


class PostgresStartError(RuntimeError):
    """The binaries exist but the server did not come up."""


# --------------------------------------------------------------------------
# Locating binaries
# --------------------------------------------------------------------------


def _version_of(bindir: Path) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [str(bindir / "pg_ctl"), "--version"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    m = re.search(r"(\d+(?:\.\d+)*)", out)
    return tuple(int(p) for p in m.group(1).split(".")) if m else ()


def find_bindir() -> Path | None:
    """Directory holding initdb, pg_ctl and postgres; highest version wins."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates.extend(Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin"))
    usable = {
        c for c in candidates
        if all(os.access(c / b, os.X_OK) and (c / b).is_file() for b in SERVER_BINARIES)
    }
    best: tuple[tuple[int, ...], Path] | None = None
    for c in sorted(usable):
        v = _version_of(c)
        if v and (best is None or v > best[0]):
            best = (v, c)
    return best[1] if best else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data_parent(run_as: str | None) -> Path:
    """Where the server's temp dir goes: memory when there is room, else the temp dir (see the module's doc).

    Under /dev/shm itself, not the suite's TMPDIR there (tests/support/memory.py), which is its owner's
    alone: the ``postgres`` user must reach its data directory.
    """
    from tests.support.memory import MEMORY, has_room

    if has_room(MEMORY, 1 << 30) and (not run_as or _traversable_by_all(MEMORY)):
        return MEMORY
    parent = Path(tempfile.gettempdir())
    if run_as and not _traversable_by_all(parent):
        parent = Path("/tmp")
    return parent


def _traversable_by_all(path: Path) -> bool:
    for p in [path, *path.parents]:
        if not p.stat().st_mode & stat.S_IXOTH:
            return False
    return True


# --------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------


@dataclass
class PostgresServer:
    """A running throwaway server. Use :meth:`start` / :meth:`stop`."""

    bindir: Path
    base: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"
    run_as: str | None = None  # system user running the server (when we are root)

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "sock"

    @property
    def logfile(self) -> Path:
        return self.base / "server.log"

    # -- lifecycle -----------------------------------------------------------

    @classmethod
    def start(cls, bindir: Path | None = None, attempts: int = 3) -> PostgresServer:
        bindir = bindir or find_bindir()
        if bindir is None:
            raise PostgresUnavailable("PostgreSQL server binaries not installed")
        run_as = None
        if os.geteuid() == 0:
            run_as = "postgres"
            try:
                pwd.getpwnam(run_as)
            except KeyError:
                raise PostgresUnavailable(
                    "running as root but there is no 'postgres' system user to run PostgreSQL"
                ) from None

        base = Path(tempfile.mkdtemp(prefix="qoltanba-pg-", dir=_data_parent(run_as)))
        server = cls(bindir=bindir, base=base, port=0, run_as=run_as)
        try:
            if run_as:
                pw = pwd.getpwnam(run_as)
                os.chown(base, pw.pw_uid, pw.pw_gid)
            os.chmod(base, 0o700)
            server._initdb()
            last_error: Exception | None = None
            for _ in range(attempts):  # retry if someone grabs the port meanwhile
                server.port = _free_port()
                try:
                    server._pg_ctl_start()
                    break
                except PostgresStartError as exc:
                    last_error = exc
            else:
                assert last_error is not None
                raise last_error
        except BaseException:
            server._remove_base()
            raise
        atexit.register(server.stop)
        return server

    def stop(self) -> None:
        """Stop immediately and delete the data directory. Idempotent."""
        if not self.base.exists():
            return
        if (self.datadir / "postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop"],
                      check=False)
        self._remove_base()

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -----------------------------------------------------------

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for psycopg."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver)."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        _check_db_name(name)
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def create_database_from(self, name: str, template: str) -> str:
        """Create database ``name`` as a copy of ``template`` (no one may be connected to it)."""
        import psycopg
        from psycopg import sql

        _check_db_name(name)
        _check_db_name(template)
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                          sql.Identifier(template)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, terminating open connections to it."""
        import psycopg
        from psycopg import sql

        _check_db_name(name)
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def create_unique_database(self, prefix: str = "test") -> tuple[str, str]:
        """Create a database with a fresh unique name; return (name, url)."""
        name = self.unique_name(prefix)
        return name, self.create_database(name)

    def unique_name(self, prefix: str = "test") -> str:
        """A fresh database name made from ``prefix`` (nothing is created)."""
        stem = re.sub(r"[^a-z0-9_]+", "_", prefix.lower()).strip("_")[:40] or "test"
        if not re.match(r"[a-z_]", stem):
            stem = f"t_{stem}"
        return f"{stem}_{uuid.uuid4().hex[:12]}"

    # -- internals -----------------------------------------------------------

    def _cmd(self, argv: list[str]) -> list[str]:
        argv = [str(self.bindir / argv[0]), *argv[1:]]
        if self.run_as is None:
            return argv
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        if runuser:
            return [runuser, "-u", self.run_as, "--", *argv]
        su = shutil.which("su") or "/bin/su"
        return [su, self.run_as, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        proc = subprocess.run(
            self._cmd(argv),
            cwd=self.base,  # the server user may not be able to read our cwd
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise PostgresStartError(
                f"{argv[0]} failed with exit code {proc.returncode}:\n"
                f"{proc.stdout}{proc.stderr}{self._log_tail()}"
            )
        return proc

    def _initdb(self) -> None:
        self._run([
            "initdb", "-D", str(self.datadir), "-U", self.user, "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        ])

    def _pg_ctl_start(self) -> None:
        options = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        if self.run_as:
            self._run_mkdir(self.socket_dir)
        else:
            self.socket_dir.mkdir(exist_ok=True)
        # pg_ctl hands -o to /bin/sh, hence the quoting.
        opts = " ".join(f"-c {k}={shlex.quote(v)}" for k, v in options.items())
        self._run(["pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile),
                   "-w", "-t", "60", "-o", opts, "start"])

    def _run_mkdir(self, path: Path) -> None:
        path.mkdir(mode=0o700, exist_ok=True)
        pw = pwd.getpwnam(self.run_as)  # type: ignore[arg-type]
        os.chown(path, pw.pw_uid, pw.pw_gid)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return ""
        return "\n--- server log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    def _remove_base(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def _check_db_name(name: str) -> None:
    if not _DB_NAME.fullmatch(name):
        raise ValueError(f"database name must match {_DB_NAME.pattern}: {name!r}")
