"""A TCP proxy in its own process, in front of PostgreSQL or RabbitMQ, that the suite
steers with one-word commands on its stdin: the network faults of the suite.

    cut    reset every open connection (RST); new connections are accepted
    down   reset every open connection and refuse new ones (the port is closed)
    up     listen again on the same port
    hole   a black hole: nothing passes on any connection, open or new, and nothing
           is closed; the bytes wait, as TCP retransmits a dropped packet
    flow   end the black hole: what waited is delivered
    count  how many connections are open

It answers each command with one line ``ok <command> <open connections>``. Its own
process, so that the suite's load generators cannot slow the proxied traffic down;
``tests/tcp_proxy.py`` (in-process, dropping bytes while stalled) serves the tests.

Run: ``python -m chaos.proxy TARGET_PORT [--target-host H] [--port P]``; the first
line on stdout is ``listening <port>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import sys

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, not FIN


class FaultProxy:
    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.port = port
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()  # both ends of every connection
        self._clients: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.cut()

    def cut(self) -> None:
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()
        self._clients.clear()

    def connections(self) -> int:
        """Client connections open."""
        return len(self._clients)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        self._clients.add(writer)
        await self.flowing.wait()  # a connection made in a black hole hangs
        if writer.is_closing():
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            self._open.discard(writer)
            self._clients.discard(writer)
            return
        self._open.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                await self.flowing.wait()  # held, not dropped: TCP would retransmit it
                if writer.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        writer.close()
        self._open.discard(writer)
        self._clients.discard(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    writer.transport.abort()


async def obey(proxy: FaultProxy) -> None:
    """Read commands from stdin until it closes; answer each on stdout."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := (await stdin.readline()).decode().strip():
        match line:
            case "cut":
                proxy.cut()
            case "down":
                await proxy.down()
            case "up":
                await proxy.up()
            case "hole":
                proxy.flowing.clear()
            case "flow":
                proxy.flowing.set()
            case "count":
                pass
            case _:
                print(f"error unknown command {line!r}", flush=True)
                continue
        print(f"ok {line} {proxy.connections()}", flush=True)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos.proxy", description=__doc__)
    parser.add_argument("target_port", type=int)
    parser.add_argument("--target-host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    proxy = FaultProxy((args.target_host, args.target_port), args.port)
    await proxy.up()
    print(f"listening {proxy.port}", flush=True)
    await obey(proxy)
    await proxy.down()


if __name__ == "__main__":
    import uvloop  # a dependency of the service: the proxy costs less CPU on it

    uvloop.run(main())
