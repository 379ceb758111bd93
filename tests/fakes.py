"""A scripted provider: the one part of the system tests may fake (the real one is remote)."""

from __future__ import annotations

from collections.abc import Callable

from receiver.providers import evolink_protocol
from receiver.providers.base import JobRequest, TaskSnapshot
from receiver.providers.models import ModelSpec


class ScriptedProvider:
    """Answers ``get_task`` from a script; records every question."""

    name = "evolink"
    has_credentials = True
    callback_url_limit = 2048

    def __init__(self, answer: Callable[[str], TaskSnapshot]) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def model_spec(self, model: str | None, *, image: bool) -> ModelSpec:
        return evolink_protocol.model_spec(model, image=image)

    def validate(self, request: JobRequest) -> JobRequest:
        return evolink_protocol.validate_request(request)

    def require_credentials(self) -> None:
        pass

    def create(self, request: JobRequest, *, callback_url: str, job_id: str) -> TaskSnapshot:
        raise NotImplementedError("the scripted provider only answers task queries")

    def get_task(self, task_id: str) -> TaskSnapshot:
        self.asked.append(task_id)
        return self.answer(task_id)

    def parse_callback(self, body: bytes) -> TaskSnapshot:
        return evolink_protocol.parse_task_json(body)

    def close(self) -> None:
        pass


def task(task_id: str, status: str, **extra: object) -> TaskSnapshot:
    data: dict[str, object] = {"id": task_id, "status": status, **extra}
    if status == "completed":
        data.setdefault("results", [f"https://cdn.example.com/{task_id}.mp4"])
    return evolink_protocol.parse_task(data)
