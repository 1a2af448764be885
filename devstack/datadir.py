"""What `make run` keeps between runs: PostgreSQL's data and the mailbox, together or neither."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from devstack.postgres import plain_url
from devstack.processes import REPO_ROOT
from settings import Settings

SINCE_FORMAT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class DataDir:
    """The folder a developer's stack lives in, and what it holds."""

    root: Path

    @property
    def postgres(self) -> Path:
        """The embedded PostgreSQL's data directory."""
        return self.root / "postgres"

    @property
    def mail(self) -> Path:
        """The SMTP sink's Maildir."""
        return self.root / "mail"

    @property
    def webhooks(self) -> Path:
        """The webhook receiver's log: every event it verified, a JSON document a line."""
        return self.root / "webhooks.jsonl"

    @property
    def since(self) -> Path:
        """A file holding when this data was started afresh."""
        return self.root / "since"

    def shown(self) -> str:
        """The folder as a developer would type it: relative to the repository when inside."""
        try:
            return str(self.root.relative_to(REPO_ROOT))
        except ValueError:
            return str(self.root)


def data_dir(settings: Settings) -> DataDir:
    """DEVSTACK_DATA_DIR, a relative one taken from the repository root."""
    folder = Path(settings.devstack_data_dir).expanduser()
    return DataDir(folder if folder.is_absolute() else REPO_ROOT / folder)


def prepare(data: DataDir, fresh: bool) -> datetime | None:
    """Clear the data if asked to; when the data it keeps was started, or None for a fresh start."""
    if fresh:
        shutil.rmtree(data.postgres, ignore_errors=True)
        shutil.rmtree(data.mail, ignore_errors=True)
        data.webhooks.unlink(missing_ok=True)
        data.since.unlink(missing_ok=True)
    data.root.mkdir(parents=True, exist_ok=True)
    if (data.postgres / "PG_VERSION").exists() or count_mails(data.mail) > 0:
        return _read_since(data.since)
    data.since.write_text(datetime.now(UTC).strftime(SINCE_FORMAT) + "\n")
    return None


def _read_since(path: Path) -> datetime:
    try:
        return datetime.strptime(path.read_text().strip(), SINCE_FORMAT).replace(tzinfo=UTC)
    except (OSError, ValueError):
        # Data from before this file existed: its age is unknown, not its existence.
        return datetime.fromtimestamp(0, UTC)


def count_mails(maildir: Path) -> int:
    """How many messages the Maildir holds, read or not."""
    return sum(
        1 for sub in ("new", "cur") if (maildir / sub).is_dir() for _ in (maildir / sub).iterdir()
    )


def count_orders(database_url: str) -> int:
    """How many orders the database holds (after the migrations ran)."""
    with psycopg.connect(plain_url(database_url), connect_timeout=5) as connection:
        row = connection.execute('SELECT count(*) FROM "order"').fetchone()
    return 0 if row is None else int(row[0])


def restart_note(since: datetime | None, orders: int, mails: int, data: DataDir) -> str:
    """One line saying whether this run kept the last one's data, and how to change that."""
    if since is None:
        return (
            f"fresh start: no orders, no mails (kept in {data.shown()} across restarts;"
            " `make run FRESH=1` clears them)"
        )
    when = "an earlier run" if since.timestamp() == 0 else f"{since:{SINCE_FORMAT}}"
    return (
        f"data kept from {when}: {orders} orders, {mails} mails in {data.shown()}"
        " (`make run FRESH=1` starts empty)"
    )
