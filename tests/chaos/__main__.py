"""`python -m tests.chaos [--seed N] [--orders N] [--json PATH]`: a chaos run, its scorecard."""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from devstack.processes import REPO_ROOT
from tests.chaos.harness import Options, run, say
from tests.chaos.report import table, traffic, write_json

DEFAULT_JSON = REPO_ROOT / ".chaos" / "scorecard.json"
DEFAULT_LOGS = REPO_ROOT / ".chaos" / "logs"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, help="repeat a run's orders and faults (default: new)")
    parser.add_argument("--orders", type=int, default=300, help="orders to place (default 300)")
    parser.add_argument("--rate", type=float, default=4.0, help="orders per second (default 4)")
    parser.add_argument(
        "--recovery-deadline",
        type=float,
        default=180.0,
        help="seconds after the last fault to wait for rest before reporting (default 180)",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    parser.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="the processes' logs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """0: no violation; 1: violations; 2: the run itself failed; 130: interrupted."""
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    say(f"seed {seed} (python -m tests.chaos --seed {seed} repeats this run)")
    _stop_on_sigterm()
    began = time.monotonic()
    options = Options(seed, args.orders, args.rate, args.recovery_deadline, args.logs)
    try:
        outcome = run(options)
    except (RuntimeError, TimeoutError, OSError) as error:
        say(f"the run could not be carried out: {error}")
        return 2
    except KeyboardInterrupt:
        say("interrupted; every process this run started is stopped")
        return 130
    duration = time.monotonic() - began
    details = {"duration_seconds": round(duration, 1), "logs": str(args.logs), **outcome.details}
    print(traffic(details), flush=True)
    print(table(outcome.card), flush=True)
    write_json(args.json, outcome.card, details)
    say(f"{duration:.0f} s in all; scorecard written to {args.json}")
    return 1 if outcome.card.violations else 0


def _stop_on_sigterm() -> None:
    # A stopped CI job sends SIGTERM: unwinding stops every process this run started.
    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


if __name__ == "__main__":
    sys.exit(main())
