"""What the API answers, as typed, frozen records read from its JSON.

Each record is read by ``from_json``: fields the API adds later are ignored (an older client
keeps working), and a field the record needs but the answer lacks is a
:class:`~receiver.client.ProtocolError`. ``tests/unit/test_client_surface.py`` holds the
fields against the API's OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from receiver.client._exceptions import ProtocolError

__all__ = [
    "Asset",
    "Budget",
    "CostGroup",
    "Costs",
    "Delivery",
    "Estimate",
    "Event",
    "Job",
    "JobError",
    "Notification",
    "ReplayResult",
    "ReplaySummary",
]

#: Events after which a job's video will never be stored unless someone acts.
FAILURE_EVENTS = frozenset(
    {"job.failed", "job.cancelled", "job.expired", "job.submit_failed", "archive.failed"}
)
#: Events that undo an earlier failure: the archive is being tried again.
REOPENING_EVENTS = frozenset({"archive.retried", "archive.requeued"})
#: The events that decide a wait: the video stored, or a failure.
DECIDING_EVENTS = FAILURE_EVENTS | {"asset.stored"}


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ProtocolError(f"not an ISO 8601 time: {value!r}") from None


def _required_time(value: Any) -> datetime:
    moment = _time(value)
    if moment is None:
        raise ProtocolError("a required time is missing")
    return moment


def _need(document: Mapping[str, Any], key: str) -> Any:
    try:
        return document[key]
    except (KeyError, TypeError):
        raise ProtocolError(f"the answer lacks {key!r}") from None


def _object(document: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise ProtocolError(f"expected {what} as a JSON object")
    return document


@dataclass(frozen=True, kw_only=True)
class Asset:
    """A stored file (a video, an image, an audio file): its S3 object, size, SHA-256 and
    what its content says; ``result_index`` is which result of the task it is."""

    uri: str
    bucket: str
    key: str
    size_bytes: int
    sha256: str
    content_type: str
    stored_at: datetime
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    codec: str | None = None
    result_index: int = 0

    @classmethod
    def from_json(cls, document: Any) -> Asset:
        doc = _object(document, "an asset")
        return cls(
            uri=_need(doc, "uri"),
            bucket=_need(doc, "bucket"),
            key=_need(doc, "key"),
            size_bytes=int(_need(doc, "size_bytes")),
            sha256=_need(doc, "sha256"),
            content_type=_need(doc, "content_type"),
            stored_at=_required_time(doc.get("stored_at")),
            duration_seconds=doc.get("duration_seconds"),
            width=doc.get("width"),
            height=doc.get("height"),
            codec=doc.get("codec"),
            result_index=int(doc.get("result_index") or 0),
        )


@dataclass(frozen=True, kw_only=True)
class Event:
    """One change of one job, as the event stream and a job's history tell it."""

    seq: int
    job_id: str
    type: str
    created_at: datetime
    #: What the event says beyond the four fields above (``provider_status``, ``bytes``, ...).
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_stream(cls, document: Any) -> Event:
        """An event of ``/v1/events``: its own fields and its data side by side."""
        doc = dict(_object(document, "an event"))
        return cls(
            seq=int(_need(doc, "seq")),
            job_id=str(_need(doc, "job_id")),
            type=str(_need(doc, "type")),
            created_at=_required_time(doc.get("created_at")),
            data={k: v for k, v in doc.items() if k not in {"seq", "job_id", "type", "created_at"}},
        )

    @classmethod
    def from_history(cls, document: Any, job_id: str) -> Event:
        """An event of a job's ``events`` list: its data nested under ``data``."""
        doc = _object(document, "an event")
        return cls(
            seq=int(_need(doc, "seq")),
            job_id=job_id,
            type=str(_need(doc, "type")),
            created_at=_required_time(doc.get("created_at")),
            data=dict(doc.get("data") or {}),
        )


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One request to a callback route, as the delivery log keeps it."""

    id: str
    source: str
    outcome: str
    received_at: datetime
    reason: str | None = None
    provider_status: str | None = None
    client_addr: str | None = None
    body_size: int = 0

    @classmethod
    def from_json(cls, document: Any) -> Delivery:
        doc = _object(document, "a delivery")
        return cls(
            id=_need(doc, "id"),
            source=_need(doc, "source"),
            outcome=_need(doc, "outcome"),
            reason=doc.get("reason"),
            provider_status=doc.get("provider_status"),
            client_addr=doc.get("client_addr"),
            body_size=int(doc.get("body_size") or 0),
            received_at=_required_time(doc.get("received_at")),
        )


@dataclass(frozen=True, kw_only=True)
class JobError:
    """Why the provider failed the job, in its words."""

    code: str | None
    message: str | None


@dataclass(frozen=True, kw_only=True)
class Job:
    """A job, its stored video (``asset``) if any, and (from ``get``/``wait``) its history.

    ``jobs()`` lists jobs without their history: there ``events`` and ``deliveries`` are
    empty.
    """

    id: str
    status: str
    created_at: datetime
    updated_at: datetime
    provider: str = "evolink"
    task_id: str | None = None
    provider_status: str | None = None
    model: str = ""
    prompt: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    progress: int | None = None
    error: JobError | None = None
    attention: str | None = None
    estimated_seconds: int | None = None
    credits_reserved: float | None = None
    #: Our estimate before submitting (None: the model has no price); counts until the
    #: provider says what it reserved.
    credits_estimated: float | None = None
    submitted_at: datetime | None = None
    finished_at: datetime | None = None
    stored_at: datetime | None = None
    asset: Asset | None = None
    #: Every stored file, in the order of the task's results (``asset`` is the first).
    assets: tuple[Asset, ...] = ()
    #: What the task returned that is no file (an element id, a persona); None if nothing.
    result_data: Mapping[str, Any] | None = None
    events: tuple[Event, ...] = ()
    deliveries: tuple[Delivery, ...] = ()

    @classmethod
    def from_json(cls, document: Any) -> Job:
        doc = _object(document, "a job")
        job_id = str(_need(doc, "id"))
        error = doc.get("error")
        asset = Asset.from_json(doc["asset"]) if doc.get("asset") is not None else None
        return cls(
            id=job_id,
            status=str(_need(doc, "status")),
            provider=doc.get("provider") or "evolink",
            task_id=doc.get("task_id"),
            provider_status=doc.get("provider_status"),
            model=doc.get("model") or "",
            prompt=doc.get("prompt") or "",
            params=dict(doc.get("params") or {}),
            progress=doc.get("progress"),
            error=JobError(code=error.get("code"), message=error.get("message"))
            if isinstance(error, Mapping)
            else None,
            attention=doc.get("attention"),
            estimated_seconds=doc.get("estimated_seconds"),
            credits_reserved=doc.get("credits_reserved"),
            credits_estimated=doc.get("credits_estimated"),
            created_at=_required_time(doc.get("created_at")),
            submitted_at=_time(doc.get("submitted_at")),
            finished_at=_time(doc.get("finished_at")),
            stored_at=_time(doc.get("stored_at")),
            updated_at=_required_time(doc.get("updated_at")),
            asset=asset,
            assets=tuple(Asset.from_json(a) for a in doc["assets"])
            if isinstance(doc.get("assets"), list)
            else ((asset,) if asset is not None else ()),
            result_data=doc["result_data"] if isinstance(doc.get("result_data"), Mapping) else None,
            events=tuple(Event.from_history(e, job_id) for e in doc.get("events") or ()),
            deliveries=tuple(Delivery.from_json(d) for d in doc.get("deliveries") or ()),
        )

    @property
    def stored(self) -> bool:
        """Whether the video is in the bucket."""
        return self.asset is not None

    @property
    def decided(self) -> bool:
        """Whether waiting is over: the video is stored, or it will not be unless someone acts
        (the provider failed it, or archiving failed: ``retry`` reopens it)."""
        return self.stored or self.failure is not None

    @property
    def failure(self) -> str | None:
        """The event that ended the job without a video, or None (stored, or still going).

        Judged from the history, newest first, so an archive retried after it failed is
        open again; a job read by ``jobs()`` has no history and is judged by its status.
        """
        if self.stored:
            return None
        for event in reversed(self.events):
            if event.type in FAILURE_EVENTS:
                return event.type
            if event.type in REOPENING_EVENTS:
                return None
        if not self.events and self.status in {"failed", "cancelled", "expired", "submit_failed"}:
            return f"job.{self.status}"
        return None

    @property
    def reason(self) -> str | None:
        """Why the video will not be stored, in one line; None when it is or may still be."""
        failure = self.failure
        if failure is None:
            return None
        why = (self.error.message if self.error else None) or self.attention or failure
        return f"{self.status}: {why}"


@dataclass(frozen=True, kw_only=True)
class Budget:
    """Today's spending limit (RECEIVER_MAX_CREDITS_PER_DAY) and where it stands."""

    limit: float
    spent_today: float
    remaining: float

    @classmethod
    def from_json(cls, document: Any) -> Budget | None:
        if document is None:
            return None
        doc = _object(document, "a budget")
        return cls(
            limit=float(_need(doc, "limit")),
            spent_today=float(_need(doc, "spent_today")),
            remaining=float(_need(doc, "remaining")),
        )


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """What a dry run answers: the job as it would be sent, its price, today's budget."""

    provider: str
    model: str
    prompt: str
    duration: int
    quality: str
    credits: float | None
    budget: Budget | None = None
    within_budget: bool = True
    dry_run: bool = True

    @classmethod
    def from_json(cls, document: Any) -> Estimate:
        doc = _object(document, "an estimate")
        return cls(
            provider=_need(doc, "provider"),
            model=_need(doc, "model"),
            prompt=_need(doc, "prompt"),
            duration=int(_need(doc, "duration")),
            quality=_need(doc, "quality"),
            credits=doc.get("credits"),
            budget=Budget.from_json(doc.get("budget")),
            within_budget=bool(doc.get("within_budget", True)),
        )


@dataclass(frozen=True, kw_only=True)
class CostGroup:
    """The credits of one model, or one UTC day (``key``)."""

    key: str
    jobs: int
    #: None when none of the group's jobs has a price.
    credits: float | None
    estimated_jobs: int
    unpriced_jobs: int


@dataclass(frozen=True, kw_only=True)
class Costs:
    """Credits spent since a moment, by model or by day, and today's budget."""

    by: str
    groups: tuple[CostGroup, ...]
    total_credits: float
    unpriced_jobs: int
    budget: Budget | None

    @classmethod
    def from_json(cls, document: Any) -> Costs:
        doc = _object(document, "costs")
        by = str(_need(doc, "by"))
        return cls(
            by=by,
            groups=tuple(
                CostGroup(
                    key=str(_need(group, by)),
                    jobs=int(_need(group, "jobs")),
                    credits=group.get("credits"),
                    estimated_jobs=int(group.get("estimated_jobs") or 0),
                    unpriced_jobs=int(group.get("unpriced_jobs") or 0),
                )
                for group in (_object(g, "a cost group") for g in doc.get("groups") or ())
            ),
            total_credits=float(_need(doc, "total_credits")),
            unpriced_jobs=int(doc.get("unpriced_jobs") or 0),
            budget=Budget.from_json(doc.get("budget")),
        )


@dataclass(frozen=True, kw_only=True)
class ReplayResult:
    """The verdict on one replayed delivery: replayed, already_done or still_failing."""

    delivery_id: str
    job_id: str | None
    verdict: str
    reason: str | None = None

    @classmethod
    def from_json(cls, document: Any) -> ReplayResult:
        doc = _object(document, "a replay result")
        return cls(
            delivery_id=_need(doc, "delivery_id"),
            job_id=doc.get("job_id"),
            verdict=_need(doc, "verdict"),
            reason=doc.get("reason"),
        )


@dataclass(frozen=True, kw_only=True)
class ReplaySummary:
    """What replaying the failed deliveries did (or, for a dry run, which it would replay)."""

    dry_run: bool
    #: The deliveries a dry run would replay (empty otherwise).
    deliveries: tuple[str, ...] = ()
    replayed: int = 0
    already_done: int = 0
    still_failing: tuple[ReplayResult, ...] = ()

    @classmethod
    def from_json(cls, document: Any) -> ReplaySummary:
        doc = _object(document, "a replay summary")
        if doc.get("dry_run"):
            return cls(dry_run=True, deliveries=tuple(doc.get("deliveries") or ()))
        return cls(
            dry_run=False,
            replayed=int(doc.get("replayed") or 0),
            already_done=int(doc.get("already_done") or 0),
            still_failing=tuple(ReplayResult.from_json(r) for r in doc.get("still_failing") or ()),
        )


@dataclass(frozen=True, kw_only=True)
class Notification:
    """A verified notification: a job reached its end (``asset.stored``, ``job.failed`` ...).

    ``id`` is the ``webhook-id`` every retry of the same notification repeats: keep the ids
    you handled and ignore one you see again.
    """

    id: str
    type: str
    timestamp: datetime
    event_seq: int
    job_id: str
    #: The job when the notification was made (no history); None if it was deleted since.
    job: Job | None
    asset: Asset | None
    #: Every stored file of the job, in the order of its task's results.
    assets: tuple[Asset, ...] = ()
    #: What the event says beyond the job and the asset.
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, webhook_id: str, document: Any) -> Notification:
        doc = _object(document, "a notification")
        data = dict(_object(doc.get("data"), "the notification's data"))
        asset = data.pop("asset", None)
        assets = data.pop("assets", None)
        listed = assets if isinstance(assets, list) else ([asset] if asset is not None else [])
        job = data.pop("job", None)
        seq = data.pop("event_seq", None)
        job_doc = _object(job, "the notification's job")
        # Only the id is left of a job deleted before its notification was made.
        whole = set(job_doc) > {"id"}
        return cls(
            id=webhook_id,
            type=str(_need(doc, "type")),
            timestamp=_required_time(doc.get("timestamp")),
            event_seq=int(seq) if seq is not None else 0,
            job_id=str(_need(job_doc, "id")),
            job=Job.from_json({**job_doc, "asset": asset, "assets": listed}) if whole else None,
            asset=Asset.from_json(asset) if asset is not None else None,
            assets=tuple(Asset.from_json(item) for item in listed),
            data=data,
        )
