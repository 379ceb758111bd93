"""Server-Sent Events, without I/O: the line decoder and the reconnecting cursor.

The decoder follows the HTML standard's parsing rules (``event``, ``data``, ``id``,
``retry``, comments, one optional space after the colon). The cursor holds what a
reconnection needs: the last event id (sent back as ``Last-Event-ID``, so the server
resumes right after it: nothing missed, nothing repeated), the delay the server asked for
(``retry:``), and how long the stream has been failing, so a receiver that stays away ends
the wait with an error instead of a silent loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from receiver.client._exceptions import ProtocolError, Unreachable
from receiver.client._models import Event

__all__ = ["EventCursor", "SSEDecoder", "ServerSentEvent"]

#: The first pause before reconnecting, unless the server said otherwise (``retry:``).
_FIRST_DELAY = 0.5
#: Pauses double while the receiver stays away, up to this.
_MAX_DELAY = 5.0


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None
    retry: int | None


class SSEDecoder:
    """Feed it lines (without their ending); it answers an event at each blank line."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._last_id: str | None = None
        self._retry: int | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = ServerSentEvent(
                event=self._event or "message",
                data="\n".join(self._data),
                id=self._last_id,
                retry=self._retry,
            )
            self._event, self._data, self._retry = "", [], None
            return event
        if line.startswith(":"):  # a comment: the server's keep-alive
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


class EventCursor:
    """Where a stream of ``/v1/events`` is, and when to try again after it broke."""

    def __init__(
        self, *, job: str | None, after: int | None, reconnect_limit: float | None
    ) -> None:
        self.job = job
        self.last_id: str | None = str(after) if after is not None else None
        self._reconnect_limit = reconnect_limit
        self._delay = _FIRST_DELAY
        self._server_delay: float | None = None
        self._failing_since: float | None = None
        self._decoder = SSEDecoder()

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        return headers

    def params(self) -> dict[str, str]:
        return {"job": self.job} if self.job else {}

    def connected(self) -> None:
        """The stream answered 200: a new decoder, and the failure clock stops."""
        self._decoder = SSEDecoder()
        self._failing_since = None
        self._delay = _FIRST_DELAY

    def feed(self, line: str) -> Event | None:
        sse = self._decoder.decode(line)
        if sse is None:
            return None
        if sse.retry is not None:
            self._server_delay = sse.retry / 1000
        if sse.id is not None:
            self.last_id = sse.id
        try:
            return Event.from_stream(json.loads(sse.data))
        except ValueError as exc:
            raise ProtocolError(f"an event that is not JSON: {sse.data[:200]!r}") from exc

    def broke(self, problem: str, now: float) -> float:
        """The stream broke (or never opened): how long to pause before trying again.

        Raises :class:`Unreachable` once it has failed for longer than the limit.
        """
        if self._failing_since is None:
            self._failing_since = now
        elif (
            self._reconnect_limit is not None and now - self._failing_since > self._reconnect_limit
        ):
            raise Unreachable(
                f"the event stream has been failing for {now - self._failing_since:.0f} s: "
                f"{problem}"
            )
        if self._server_delay is not None:
            return self._server_delay
        delay = self._delay
        self._delay = min(_MAX_DELAY, self._delay * 2)
        return delay
