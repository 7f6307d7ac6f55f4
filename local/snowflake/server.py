"""The local Snowflake stand-in: fakesnow plus local.snowflake.extensions, served over TLS.

    python -m local.snowflake.server --host 127.0.0.1 --port 18443 --certfile C --keyfile K

Every session shares one in-memory DuckDB database (fakesnow's ``shared_fs``); it is lost when
the server stops. A background thread refreshes dynamic tables whose lag has reached their
target lag; ``LOCAL_SNOWFLAKE_DT_SCHEDULER=off`` disables it, and the stand-in-only statement
``SELECT SYSTEM$LOCAL_DYNAMIC_TABLE_SCHEDULER('PAUSE'|'RESUME')`` pauses it at runtime (tests that
observe staleness).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys

logger = logging.getLogger("local.snowflake.server")


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    # like uvicorn: a restart must not wait for TIME_WAIT sockets of the previous run
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.snowflake.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18443)
    parser.add_argument("--certfile", required=True)
    parser.add_argument("--keyfile", required=True)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    # bind first, so a busy port is one clear line rather than uvicorn's traceback
    try:
        sock = _bind(args.host, args.port)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            sys.stderr.write(
                f"local snowflake: port {args.port} is already in use "
                "(is the stack already running? try: make local-down)\n"
            )
        else:
            sys.stderr.write(f"local snowflake: cannot listen on {args.host}:{args.port}: {e.strerror}\n")
        return 1

    import uvicorn

    from local.snowflake.dynamic_tables import Scheduler
    from local.snowflake.extensions import install

    import fakesnow.server

    install()
    # fakesnow.server logs every login and statement at INFO; follow our log level instead
    logging.getLogger("fakesnow").setLevel(args.log_level.upper())
    fakesnow.server.logger.setLevel(args.log_level.upper())

    scheduler = None
    if os.environ.get("LOCAL_SNOWFLAKE_DT_SCHEDULER", "on").lower() not in {"off", "0", "false", "no"}:
        scheduler = Scheduler(fakesnow.server.shared_fs.duck_conn)
        scheduler.start()

    config = uvicorn.Config(
        fakesnow.server.app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        log_level=args.log_level.lower(),
        # the connector keeps pooled connections open; without a bound, a stop waits for them forever
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        if scheduler:
            scheduler.stop()
        sock.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
