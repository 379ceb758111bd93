"""A junk flood, run as its own process: ``python -m bench.junk PORT SECONDS RESULT.json``.

``--senders`` connections each send, one after the other for ``SECONDS``, requests that no
valid token backs, in two shapes taken in turn:

- *huge head*: 100 headers of 1 KiB and a 64 KiB body (what the issue measured; past the
  receiver's head limits, so it is refused before the app sees it);
- *within limits*: 24 headers of 1 KiB and a 64 KiB body, to a callback path with a forged
  token (the app reads it, judges it and may write a row about it).

The result counts answers by shape and status code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SHAPES", "main"]

_BODY = b'{"junk": "' + b"j" * (64 * 1024 - 12) + b'"}'


def _request(port: int, headers: int, number: int) -> bytes:
    head = [
        f"POST /callbacks/evolink/forged-token-{number} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(_BODY)}",
        *(f"X-Junk-{n:03}: {'j' * 1024}" for n in range(headers)),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + _BODY


#: Shape name and how many 1 KiB headers it carries.
SHAPES = (("huge head", 100), ("within limits", 24))


async def _sender(port: int, until: float, answers: Counter[str], number: int) -> None:
    loop = asyncio.get_running_loop()
    requests = [(name, _request(port, headers, number)) for name, headers in SHAPES]
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    turn = 0
    while loop.time() < until:
        name, request = requests[turn % len(requests)]
        turn += 1
        try:
            if writer is None or reader is None or reader.at_eof():
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status = head.split(b" ", 2)[1].decode()
            length = 0
            close = False
            for line in head.split(b"\r\n")[1:]:
                key, _, value = line.partition(b":")
                if key.strip().lower() == b"content-length":
                    length = int(value)
                elif key.strip().lower() == b"connection":
                    close = value.strip().lower() == b"close"
            if length:
                await reader.readexactly(length)
            answers[f"{name}: {status}"] += 1
            if close:
                writer.close()
                writer = reader = None
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            answers[f"{name}: {type(exc).__name__}"] += 1
            if writer is not None:
                writer.close()
            writer = reader = None


async def _run(port: int, seconds: float, senders: int) -> Counter[str]:
    answers: Counter[str] = Counter()
    until = asyncio.get_running_loop().time() + seconds
    await asyncio.gather(*(_sender(port, until, answers, n) for n in range(senders)))
    return answers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.junk", description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("result", type=Path)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args(argv)
    answers = asyncio.run(_run(args.port, args.seconds, args.senders))
    args.result.write_text(json.dumps(dict(answers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
