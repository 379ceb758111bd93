"""parse_notification, held to the standardwebhooks reference library's verdicts.

What the library signs, we accept; what it refuses for its signature, we refuse; and every
refusal is one exception type, malformed headers included (where the library itself lets
a ValueError or a binascii.Error escape).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from receiver.client import NotificationError, parse_notification

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

PAYLOAD = {
    "type": "asset.stored",
    "timestamp": "2026-01-01T00:00:00Z",
    "data": {
        "event_seq": 42,
        "job": {
            "id": "job_1",
            "status": "stored",
            "provider": "evolink",
            "model": "m",
            "prompt": "p",
            "params": {},
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:01Z",
        },
        "asset": {
            "uri": "s3://b/k.mp4",
            "bucket": "b",
            "key": "k.mp4",
            "size_bytes": 10,
            "sha256": "ab" * 32,
            "content_type": "video/mp4",
            "stored_at": "2026-01-01T00:00:01Z",
        },
        "bucket": "b",
    },
}


def _signed(body: str, *, at: float | None = None, msg_id: str = "msg_1") -> dict[str, str]:
    moment = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(SECRET).sign(msg_id, moment, body),
        "Content-Type": "application/json",
    }


def test_a_signed_notification_is_parsed_into_its_record() -> None:
    body = json.dumps(PAYLOAD)
    notification = parse_notification(_signed(body), body.encode(), SECRET)
    assert notification.id == "msg_1"
    assert notification.type == "asset.stored"
    assert notification.event_seq == 42
    assert notification.job_id == "job_1"
    assert notification.job is not None
    assert notification.job.stored
    assert notification.asset is not None
    assert notification.asset.sha256 == "ab" * 32
    assert notification.data == {"bucket": "b"}
    # Header names in any case, the body as text or bytes.
    upper = {name.upper(): value for name, value in _signed(body).items()}
    assert parse_notification(upper, body, SECRET).id == "msg_1"


def test_a_job_deleted_before_its_notification_leaves_its_id() -> None:
    payload = {**PAYLOAD, "data": {"event_seq": 1, "job": {"id": "job_9"}, "asset": None}}
    body = json.dumps(payload)
    notification = parse_notification(_signed(body), body, SECRET)
    assert notification.job is None
    assert notification.job_id == "job_9"


def _refused(headers: dict[str, str], body: str | bytes, secret: str = SECRET) -> str:
    with pytest.raises(NotificationError) as caught:
        parse_notification(headers, body, secret)
    return caught.value.message


def test_every_kind_of_bad_notification_is_refused_with_one_error() -> None:
    body = json.dumps(PAYLOAD)
    good = _signed(body)
    assert "no valid signature" in _refused(good, body.replace("job_1", "job_2"))
    assert "no valid signature" in _refused({**good, "webhook-id": "msg_2"}, body)
    assert "no valid signature" in _refused(
        good, body, "whsec_" + base64.b64encode(b"k" * 32).decode()
    )
    assert "no valid signature" in _refused({**good, "webhook-signature": "v1"}, body)
    assert "no valid signature" in _refused({**good, "webhook-signature": "v1,@@@"}, body)
    assert "no valid signature" in _refused(
        {**good, "webhook-signature": good["webhook-signature"].replace("v1,", "v2,")}, body
    )
    assert "missing" in _refused({k: v for k, v in good.items() if k != "webhook-id"}, body)
    assert "not a number" in _refused({**good, "webhook-timestamp": "soon"}, body)
    assert "not a Standard Webhooks secret" in _refused(good, body, "whsec_!!!")
    # Older than five minutes: a replay. Further than five minutes ahead: refused too.
    old = _signed(body, at=time.time() - 301)
    assert "too old" in _refused(old, body)
    ahead = _signed(body, at=time.time() + 301)
    assert "future" in _refused(ahead, body)
    # Signed, fresh, and not a notification.
    junk = json.dumps({"hello": "world"})
    assert "not a notification" in _refused(_signed(junk), junk)


def test_several_signatures_pass_when_one_is_right() -> None:
    body = json.dumps(PAYLOAD)
    headers = _signed(body)
    headers["webhook-signature"] = "v1,Zm9v " + headers["webhook-signature"]
    assert parse_notification(headers, body, SECRET).id == "msg_1"


@given(
    body=st.text(max_size=200),
    msg_id=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1),
    skew=st.integers(min_value=-400, max_value=400),
    tamper=st.booleans(),
)
def test_the_verdict_is_the_reference_librarys(
    body: str, msg_id: str, skew: int, tamper: bool
) -> None:
    headers = _signed(body, at=time.time() + skew, msg_id=msg_id)
    sent = body + "x" if tamper else body
    try:
        Webhook(SECRET).verify(sent, dict(headers), json_parse=False)
        reference_ok = True
    except WebhookVerificationError:
        reference_ok = False
    ours_ok: bool
    try:
        parse_notification(headers, sent, SECRET)
        ours_ok = True
    except NotificationError as exc:
        # Ours also refuses a signed body that is not a notification.
        ours_ok = "not a notification" in exc.message
    # Near the five-minute edge the two clocks may disagree by the test's own second.
    if abs(skew) not in range(298, 303):
        assert ours_ok == reference_ok
