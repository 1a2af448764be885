"""The command line: `python -m devstack.paysandbox --host ... --port ...` serves the sandbox."""

from __future__ import annotations

import argparse

from werkzeug.serving import make_server

import devstack.paysandbox
from devstack.paysandbox.app import create_sandbox_app
from devstack.paysandbox.captures import AUTHORIZATION_SECONDS

# --help has always described the sandbox as a whole, which the package docstring does.
DESCRIPTION = devstack.paysandbox.__doc__


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devstack.paysandbox", description=DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    for flag in ("--latency", "--failure-rate", "--timeout-after-charge-rate"):
        parser.add_argument(flag, type=float, default=0.0)
    parser.add_argument("--stall-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=None)
    # How long a manual-capture authorisation holds before its intent is cancelled.
    parser.add_argument("--authorization-seconds", type=float, default=AUTHORIZATION_SECONDS)
    args = vars(parser.parse_args(argv))
    host, port = args.pop("host"), args.pop("port")
    server = make_server(host, port, create_sandbox_app(**args), threaded=True)
    print(f"payment sandbox listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
