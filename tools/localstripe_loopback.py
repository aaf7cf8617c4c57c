"""localstripe on 127.0.0.1 only, with its store kept in memory.

    python tools/localstripe_loopback.py --port PORT

localstripe's own `start()` binds [::] (every interface, no option to change it) and pickles its
store to the fixed path /tmp/localstripe.pickle after every change, a file that concurrent runs
would share. The tests want neither: this serves the same aiohttp application on the loopback
address, every run from scratch, nothing written to disk."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from localstripe import resources
from localstripe.server import app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    resources.Store.dump_to_disk = lambda self: None  # a run starts from scratch: nothing to keep
    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=logger, print=None)


if __name__ == "__main__":
    main()
