"""What a simulated task makes: how many files, of which kind, where they go in the task.

One rule per output shape of EvoLink's catalogue (``shared/reference/evolink-catalogue.md``
§2, §3), chosen by the model's name and endpoint:

- a video or image model: ``n`` files (default 1; Midjourney always 4) in ``results``;
- a Suno song model: two songs in ``result_data.songs[]`` (``audio_url``, ``title``,
  ``result_id``), ``results`` absent, links valid 72 h;
- a model that makes no file (``kling-custom-element``, ``suno-persona``): only
  ``result_data`` (an ``element_id``, a ``persona_id``).

The files are tiny and valid: an MP4 (:class:`~receiver.devtools.simulator.video.VideoFile`),
a PNG drawn with Pillow, an MP3 encoded with PyAV, each different per task and per index.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import struct
from dataclasses import dataclass, field
from typing import Any

from receiver.providers.base import MediaKind
from receiver.providers.evolink_catalogue import CATALOGUE

__all__ = ["Output", "audio_bytes", "image_bytes", "output_for"]

#: Suno's links live 72 hours (§3.3).
SUNO_LINK_TTL = 72 * 3600.0
_SONGS = 2
_MIDJOURNEY_IMAGES = 4
_MAX_RESULTS = 15


@dataclass(frozen=True, kw_only=True)
class Output:
    kind: MediaKind = "video"
    #: How many files the task makes.
    count: int = 1
    #: The files are songs in ``result_data.songs[]`` rather than URLs in ``results``.
    songs: bool = False
    #: A task that makes no file: its whole ``result_data``.
    data: dict[str, Any] | None = field(default=None, hash=False)
    #: Seconds its links live, when the model's differ from the config's ``link_ttl``.
    link_ttl: float | None = None

    @property
    def extension(self) -> str:
        return {"video": "mp4", "image": "png", "audio": "mp3"}[self.kind]


def output_for(model: str, params: dict[str, Any], *, task_id: str) -> Output:
    """What a task of ``model`` asked with ``params`` (the body's fields) makes."""
    if model == "kling-custom-element":
        return Output(count=0, data={"element_id": f"element-{_short(task_id)}"})
    if model == "suno-persona":
        return Output(kind="audio", count=0, data={"persona_id": f"persona-{_short(task_id)}"})
    if model.startswith("suno-"):
        return Output(kind="audio", count=_SONGS, songs=True, link_ttl=SUNO_LINK_TTL)
    entry = CATALOGUE.get(model)
    endpoint = entry.endpoint if entry is not None else ""
    kind: MediaKind = (
        "image" if "images" in endpoint else "audio" if "audios" in endpoint else "video"
    )
    if model.startswith("mj-"):
        return Output(kind=kind, count=_MIDJOURNEY_IMAGES)
    n = params.get("n", 1)
    count = n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else 1
    return Output(kind=kind, count=min(count, _MAX_RESULTS))


def _short(task_id: str) -> str:
    return hashlib.sha256(task_id.encode()).hexdigest()[:12]


@functools.cache
def image_bytes(task_id: str, index: int) -> bytes:
    """A small PNG, its size and colour telling the task and the index apart."""
    from PIL import Image

    seed = hashlib.sha256(f"{task_id}/{index}".encode()).digest()
    image = Image.new("RGB", (16 + index, 8 + index), color=(seed[0], seed[1], seed[2]))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@functools.cache
def audio_bytes(index: int) -> bytes:
    """Half a second of a sine tone as an MP3, one pitch per index (encoded once each)."""
    import av

    rate, seconds, frame_samples = 22050, 0.5, 1152
    frequency = 440.0 * (1 + index / 4)
    total = int(rate * seconds)
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / rate)))
        for i in range(total)
    )
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream: Any = container.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        for offset in range(0, total, frame_samples):
            chunk = samples[offset * 2 : (offset + frame_samples) * 2]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
            plane = frame.planes[0]
            plane.update(chunk + b"\0" * (plane.buffer_size - len(chunk)))
            frame.sample_rate = rate
            frame.pts = offset
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()
