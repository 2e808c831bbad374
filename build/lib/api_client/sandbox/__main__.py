"""`python -m api_client.sandbox --port N [--pace S] [--no-doctor-routes]`: run standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from .config import SandboxConfig
from .server import SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m api_client.sandbox", description="Run the partner API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--pace", type=float, default=5.0, help="seconds per status step (0 = manual only)"
    )
    parser.add_argument("--unsuccessful-share", type=float, default=0.2)
    parser.add_argument("--doctor-routes", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--token", default=None, help="accept only this bearer token")
    parser.add_argument("--seed-callbacks", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    config = SandboxConfig(
        pace=args.pace if args.pace > 0 else None,
        unsuccessful_share=args.unsuccessful_share,
        doctor_routes=args.doctor_routes,
        required_token=args.token,
        seed=args.seed,
    )
    async with SandboxServer(config, host=args.host, port=args.port) as server:
        server.sandbox.seed_callbacks(args.seed_callbacks)
        logging.getLogger("api_client.sandbox").info("sandbox listening on %s", server.url)
        await asyncio.Event().wait()  # until interrupted


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
