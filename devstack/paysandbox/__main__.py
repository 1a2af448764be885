"""The command line: `python -m devstack.paysandbox --host ... --port ...` serves the sandbox."""

from __future__ import annotations

import argparse

from waitress.server import TcpWSGIServer, create_server

import devstack.paysandbox
from devstack.paysandbox.app import create_sandbox_app
from devstack.paysandbox.captures import AUTHORIZATION_SECONDS

# --help has always described the sandbox as a whole, which the package docstring does.
DESCRIPTION = devstack.paysandbox.__doc__
# Requests served at once: a stalled one (the timeout faults) holds its thread for its stall.
THREADS = 32
# Clients kept connected at once (every worker thread of every process keeps one).
CONNECTIONS = 1000


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
    # Served with keep-alive, as a gateway serves its clients: werkzeug's development server
    # closes every connection, which cost each call a TCP handshake and a server thread.
    server = create_server(
        create_sandbox_app(**args),
        host=host,
        port=port,
        threads=THREADS,
        connection_limit=CONNECTIONS,
        ident="paysandbox",
    )
    # One host and one port: one TCP listener.
    if not isinstance(server, TcpWSGIServer) or server.socket is None:
        raise SystemExit(f"cannot serve on {host}:{port}")
    print(
        f"payment sandbox listening on http://{host}:{server.socket.getsockname()[1]}", flush=True
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
