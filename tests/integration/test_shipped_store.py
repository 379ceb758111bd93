"""SeaweedFS as infra/ ships it: only the S3 gateway answers without SeaweedFS's own secrets.

``weed`` is started with the flags read from the shipped files: ``ExecStart=`` (with its
``Environment=``, ``EnvironmentFile=`` and ``LoadCredential=``) of
``infra/systemd/seaweedfs.service``, and the ``command:`` and ``env_file:`` of the seaweedfs
service of ``infra/docker-compose.yml``. Only paths and ports change (temporary directories,
free loopback ports); the secrets are made by ``infra/seaweedfs/make-secrets.sh`` and the S3
identity is ``infra/s3-identities.example.json`` with its keys filled in, as docs/deploy.md
says. Telemetry stays off.

In the compose case, the container's network address (``-s3.ip.bind=0.0.0.0``) is played by
127.0.0.2 and the container's own loopback by 127.0.0.1: what answers on 127.0.0.2 is what the
other containers reach. In the systemd case everything is on 127.0.0.1, which every user of the
VM reaches: there, the ports must refuse whoever lacks the secrets.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from receiver.config import Settings
from receiver.devtools.seaweed import find_weed, free_ports
from receiver.storage import ObjectExists, ObjectStore, asset_key
from tests.conftest import make_env

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "infra" / "systemd" / "seaweedfs.service"
COMPOSE = ROOT / "infra" / "docker-compose.yml"
IDENTITIES = ROOT / "infra" / "s3-identities.example.json"
MAKE_SECRETS = ROOT / "infra" / "seaweedfs" / "make-secrets.sh"

BUCKET = "receiver-videos"  # the bucket the example identity is limited to
INSIDE = "127.0.0.1"  # the VM's loopback (systemd), the container's own loopback (compose)
OUTSIDE = "127.0.0.2"  # stands for the container's network address (compose)
TELEMETRY_OFF = "-master.telemetry=false"
MiB = 1024 * 1024

#: The ports the test picks, and the flags that set them (all default to fixed ports).
PORT_FLAGS = {
    "master": "-master.port",
    "master_grpc": "-master.port.grpc",
    "volume": "-volume.port",
    "volume_grpc": "-volume.port.grpc",
    "filer": "-filer.port",
    "filer_grpc": "-filer.port.grpc",
    "s3": "-s3.port",
    "s3_grpc": "-s3.port.grpc",
}


# ── reading the shipped files ────────────────────────────────────────────────────────────


def unit_directives(text: str) -> list[tuple[str, str]]:
    """``(key, value)`` of every directive of a systemd unit, continuation lines joined."""
    directives: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith(("#", ";", "["))):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        key, _, value = line.partition("=")
        directives.append((key.strip(), value.strip()))
    return directives


def compose_services(text: str) -> dict[str, list[str]]:
    """The lines of each service under ``services:`` (enough YAML for this one file)."""
    services: dict[str, list[str]] = {}
    current: list[str] | None = None
    inside = False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            inside = line.startswith("services:")
            current = None
            continue
        if not inside:
            continue
        name = re.fullmatch(r"  ([\w-]+):\s*", line)
        if name:
            current = services.setdefault(name.group(1), [])
        elif current is not None:
            current.append(line)
    return services


def yaml_list(lines: list[str], key: str) -> list[str]:
    """The items of the block list ``key:`` among a service's lines."""
    items: list[str] = []
    for index, line in enumerate(lines):
        if line.strip() == f"{key}:":
            for item in lines[index + 1 :]:
                found = re.fullmatch(r"\s+- (.+?)\s*", item)
                if not found:
                    break
                items.append(found.group(1).strip("\"'"))
            return items
    raise AssertionError(f"no {key}: list in the service")


def yaml_value(lines: list[str], key: str) -> str:
    for line in lines:
        found = re.fullmatch(rf"\s+{re.escape(key)}:\s*(.+?)\s*", line)
        if found:
            return found.group(1).strip("\"'")
    raise AssertionError(f"no {key}: in the service")


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def with_flag(argv: list[str], flag: str, value: str) -> list[str]:
    """``argv`` with ``flag=value``: replacing the shipped one, or added."""
    kept = [arg for arg in argv if arg != flag and not arg.startswith(flag + "=")]
    return [*kept, f"{flag}={value}"]


# ── running it ───────────────────────────────────────────────────────────────────────────


@dataclass
class Store:
    """A running ``weed server`` started from a shipped configuration."""

    kind: str
    root: Path  # its temporary directory: data, secrets (etc/seaweedfs), log
    s3_host: str
    ports: dict[str, int]
    access_key: str
    secret_key: str
    weed_env: dict[str, str]  # the environment the service gets (its secrets)
    shell_env: dict[str, str]  # what the operator's `weed shell` is given (docs/deploy.md)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.s3_host}:{self.ports['s3']}"

    def shell(self, command: str) -> str:
        master = f"{INSIDE}:{self.ports['master']}.{self.ports['master_grpc']}"
        done = subprocess.run(
            [find_weed(), "shell", f"-master={master}"],
            input=command + "\n",
            capture_output=True,
            text=True,
            timeout=15,
            env=self.shell_env,
            check=False,
        )
        return done.stdout + done.stderr

    @property
    def log(self) -> Path:
        return self.root / "weed.log"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def base_env(home: Path) -> dict[str, str]:
    """This process's environment without WEED_* settings, and a HOME of our own (weed reads
    ~/.seaweedfs/security.toml otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEED_")}
    env["HOME"] = str(home)
    return env


def identities(etc: Path) -> tuple[str, str]:
    """The example identity file with keys filled in, as docs/deploy.md does it."""
    access_key = "receiver" + secrets.token_hex(6)
    secret_key = secrets.token_hex(24)
    text = (
        IDENTITIES.read_text()
        .replace("CHANGE_ME_SAME_AS_AWS_ACCESS_KEY_ID", access_key)
        .replace("CHANGE_ME_SAME_AS_AWS_SECRET_ACCESS_KEY", secret_key)
    )
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "s3.json").write_text(text)
    (etc / "s3.json").chmod(0o600)
    return access_key, secret_key


def make_secrets(env_file: Path, grpc_dir: Path | None = None) -> None:
    args = [str(env_file)] if grpc_dir is None else [str(env_file), str(grpc_dir)]
    subprocess.run(["sh", str(MAKE_SECRETS), *args], check=True, timeout=60)


def systemd_store(root: Path, ports: dict[str, int]) -> tuple[Store, list[str]]:
    directives = unit_directives(UNIT.read_text())
    etc, credentials = root / "etc" / "seaweedfs", root / "credentials"
    credentials.mkdir(parents=True)
    access_key, secret_key = identities(etc)
    make_secrets(etc / "seaweedfs.env", etc / "grpc")

    def local(path: str) -> Path:  # /etc/seaweedfs/... -> our copy
        assert path.startswith("/etc/seaweedfs/"), path
        return etc / path.removeprefix("/etc/seaweedfs/")

    env = base_env(root)
    exec_start = ""
    for key, value in directives:
        if key == "LoadCredential":
            name, _, source = value.partition(":")
            shutil.copyfile(local(source), credentials / name)
            (credentials / name).chmod(0o400)
        elif key == "EnvironmentFile":
            env.update(read_env_file(local(value.removeprefix("-"))))
        elif key == "Environment":
            for item in shlex.split(value):
                name, _, setting = item.partition("=")
                env[name] = setting.replace("%d", str(credentials))
        elif key == "ExecStart":
            exec_start = value.replace("%d", str(credentials))
    argv = shlex.split(exec_start)
    assert argv[1:2] == ["server"], exec_start
    assert TELEMETRY_OFF in argv, "the unit must keep SeaweedFS's telemetry off"
    argv = with_flag(argv[1:], "-dir", str(root / "data"))
    # The operator's weed shell gets the gRPC client certificate, if the service has one.
    client = ("WEED_GRPC_CA", "WEED_GRPC_CLIENT_CERT", "WEED_GRPC_CLIENT_KEY")
    shell_env = base_env(root) | {name: env[name] for name in client if name in env}
    store = Store("systemd", root, INSIDE, ports, access_key, secret_key, env, shell_env)
    return store, argv


def compose_store(root: Path, ports: dict[str, int]) -> tuple[Store, list[str]]:
    service = compose_services(COMPOSE.read_text())["seaweedfs"]
    command = yaml_list(service, "command")
    assert command[:1] == ["server"], command
    assert TELEMETRY_OFF in command, "compose must keep SeaweedFS's telemetry off"
    assert "-s3.ip.bind=0.0.0.0" in command, "compose must publish the S3 gateway to the network"
    etc = root / "etc" / "seaweedfs"
    access_key, secret_key = identities(etc)
    # env_file: the keys make-secrets.sh writes (into infra/seaweedfs/ in a real deployment).
    assert yaml_value(service, "env_file") == "seaweedfs/seaweedfs.env"
    make_secrets(root / "seaweedfs.env")
    env = base_env(root) | read_env_file(root / "seaweedfs.env")
    # volumes: ./s3-identities.json is mounted at /etc/seaweedfs/s3.json.
    assert "./s3-identities.json:/etc/seaweedfs/s3.json:ro" in yaml_list(service, "volumes")
    argv = [
        arg.replace("-s3.ip.bind=0.0.0.0", f"-s3.ip.bind={OUTSIDE}").replace(
            "/etc/seaweedfs/s3.json", str(etc / "s3.json")
        )
        for arg in command
    ]
    # The image's entrypoint adds -dir=/data.
    argv = with_flag(argv, "-dir", str(root / "data"))
    store = Store("compose", root, OUTSIDE, ports, access_key, secret_key, env, env)
    return store, argv


def launch(store: Store, argv: list[str]) -> None:
    for name, flag in PORT_FLAGS.items():
        argv = with_flag(argv, flag, str(store.ports[name]))
    # Quick to stop (the default waits 10 s for a cluster we do not have); no other change.
    argv = with_flag(argv, "-volume.preStopSeconds", "1")
    if TELEMETRY_OFF not in argv:  # never report to the outside, whatever the files say
        argv.append(TELEMETRY_OFF)
    (store.root / "data").mkdir(parents=True, exist_ok=True)
    with store.log.open("ab") as log:
        store.process = subprocess.Popen(
            [find_weed(), *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=store.root,  # weed would read a security.toml here
            env=store.weed_env,
            start_new_session=True,
        )


def wait_ready(store: Store) -> None:
    """Up, and the bucket made the way docs/deploy.md makes it (weed shell)."""
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert store.process is not None
        if store.process.poll() is not None:
            raise AssertionError(f"{store.kind}: weed exited: {store.tail()}")
        try:
            httpx.get(store.endpoint, timeout=1.0)  # any answer: the gateway is up
            status = httpx.get(f"http://{INSIDE}:{store.ports['master']}/cluster/status", timeout=1)
            if status.status_code == 200 and re.search(
                r"created bucket|already exists", store.shell(f"s3.bucket.create -name {BUCKET}")
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{store.kind}: SeaweedFS or its bucket not ready: {store.tail()}")


def signal_group(process: subprocess.Popen[bytes], number: signal.Signals) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # gone meanwhile
            os.killpg(process.pid, number)


def stop(stores: list[Store]) -> None:
    """Interrupt, then kill: weed can hang in its graceful shutdown, and nothing here is kept."""
    running = [store.process for store in stores if store.process is not None]
    for process in running:
        signal_group(process, signal.SIGINT)
    deadline = time.monotonic() + 2
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait()
    for store in stores:
        store.process = None
        # weed's Unix sockets, named after our ports, outlive it in /tmp.
        for port in store.ports.values():
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Store]]:
    """Both shipped configurations, started side by side."""
    made: dict[str, Store] = {}
    try:
        for kind, build in (("systemd", systemd_store), ("compose", compose_store)):
            root = tmp_path_factory.mktemp(kind)
            store, argv = build(root, dict(zip(PORT_FLAGS, free_ports(8), strict=True)))
            made[kind] = store
            launch(store, argv)
        for store in made.values():
            wait_ready(store)
        yield made
    finally:
        stop(list(made.values()))


@pytest.fixture
def systemd(stores: dict[str, Store]) -> Store:
    return stores["systemd"]


@pytest.fixture
def compose(stores: dict[str, Store]) -> Store:
    return stores["compose"]


@pytest.fixture(params=["systemd", "compose"])
def store(request: pytest.FixtureRequest, stores: dict[str, Store]) -> Store:
    return stores[request.param]


# ── helpers for the checks ───────────────────────────────────────────────────────────────


def s3_client(store: Store, access_key: str, secret_key: str) -> S3Client:
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=store.endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"mode": "standard", "max_attempts": 1},
        ),
    )
    return client


def receiver_store(store: Store, tmp_path: Path) -> ObjectStore:
    """receiver's own S3 client, with the example identity's keys."""
    env = make_env(
        tmp_path,
        RECEIVER_S3_BUCKET=BUCKET,
        RECEIVER_S3_ENDPOINT_URL=store.endpoint,
        AWS_ACCESS_KEY_ID=store.access_key,
        AWS_SECRET_ACCESS_KEY=store.secret_key,
        AWS_REGION="us-east-1",
    )
    return ObjectStore(Settings.from_env(env))


def put(store: Store, key: str, data: bytes) -> None:
    s3_client(store, store.access_key, store.secret_key).put_object(
        Bucket=BUCKET, Key=key, Body=data
    )


def s3_read(store: Store, key: str) -> bytes:
    client = s3_client(store, store.access_key, store.secret_key)
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def fid_of(store: Store, key: str) -> str:
    """The volume file id of an object's first chunk, from the filer (operator's weed shell)."""
    found = re.search(r'"fileId":\s*"([^"]+)"', store.shell(f"fs.meta.cat /buckets/{BUCKET}/{key}"))
    assert found, f"no chunk for {key}"
    return found.group(1)


def refused(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def token(key: str, **claims: str) -> str:
    return jwt.encode({"exp": int(time.time()) + 60, **claims}, key, algorithm="HS256")


def field_bytes(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    size, length = len(payload), bytearray()
    while True:
        length.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            break
    return bytes([(number << 3) | 2]) + bytes(length) + payload


def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    header = struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream)
    return header + payload


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def grpc_call(host: str, port: int, path: str, message: bytes, bearer: str | None) -> None:
    """One unary gRPC call over cleartext HTTP/2, the answer read to its end and ignored (its
    effect is what the caller checks). Literal HPACK headers, no library needed."""

    def string(text: str) -> bytes:  # an HPACK string literal, not Huffman-coded
        data, size = text.encode(), len(text.encode())
        if size < 0x7F:
            return bytes([size]) + data
        prefix, size = bytearray([0x7F]), size - 0x7F
        while size >= 0x80:
            prefix.append((size & 0x7F) | 0x80)
            size >>= 7
        return bytes(prefix) + bytes([size]) + data

    def literal(name: str, value: str) -> bytes:  # literal header field, without indexing
        return b"\x00" + string(name) + string(value)

    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", f"{host}:{port}"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    if bearer:
        headers.append(("authorization", f"Bearer {bearer}"))
    block = b"".join(literal(name, value) for name, value in headers)
    body = b"\x00" + struct.pack(">I", len(message)) + message
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            H2_PREFACE
            + frame(4, 0, 0, b"")  # SETTINGS
            + frame(1, 0x4, 1, block)  # HEADERS, END_HEADERS
            + frame(0, 0x1, 1, body)  # DATA, END_STREAM
        )
        received = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            while len(received) >= 9:
                size = int.from_bytes(received[:3], "big")
                if len(received) < 9 + size:
                    break
                kind, flags = received[3], received[4]
                stream = int.from_bytes(received[5:9], "big") & 0x7FFFFFFF
                received = received[9 + size :]
                if kind == 4 and not flags & 0x1:
                    sock.sendall(frame(4, 0x1, 0, b""))  # SETTINGS ACK
                if kind == 7 or (kind in (0, 1) and stream == 1 and flags & 0x1):
                    return  # GOAWAY, or the end of our call's answer
            chunk = sock.recv(65536)
            if not chunk:
                return
            received += chunk


def put_identity(store: Store, access_key: str, secret_key: str, bearer: str | None) -> None:
    """Ask the S3 gateway's gRPC port (SeaweedS3IamCache) to add an Admin identity."""
    credential = field_bytes(1, access_key.encode()) + field_bytes(2, secret_key.encode())
    identity = field_bytes(1, b"intruder") + field_bytes(2, credential) + field_bytes(3, b"Admin")
    grpc_call(
        store.s3_host,
        store.ports["s3_grpc"],
        "/messaging_pb.SeaweedS3IamCache/PutIdentity",
        field_bytes(1, identity),
        bearer,
    )


def tls_first_frame(port: int, ca: Path, cert: tuple[Path, Path] | None) -> bytes:
    """The first bytes a gRPC port sends after our HTTP/2 preface over TLS."""
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = False
    context.set_alpn_protocols(["h2"])
    if cert is not None:
        context.load_cert_chain(str(cert[0]), str(cert[1]))
    with (
        socket.create_connection((INSIDE, port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        tls.sendall(H2_PREFACE + frame(4, 0, 0, b""))
        return tls.recv(9)


# ── the checks ───────────────────────────────────────────────────────────────────────────


def test_receiver_can_do_its_work_with_the_example_identity(store: Store, tmp_path: Path) -> None:
    """Every S3 call receiver makes, through receiver's own client: no more is granted."""
    objects = receiver_store(store, tmp_path)
    objects.ensure_bucket()  # HeadBucket only: the bucket exists (docs/deploy.md makes it)
    objects.ping()
    data = secrets.token_bytes(5 * MiB + 1000)
    key = asset_key("videos/", f"job_{store.kind}_{secrets.token_hex(4)}", datetime.now(UTC))
    upload_id = objects.start_upload(key, content_type="video/mp4")
    first = objects.upload_part(key, upload_id, 1, data[: 5 * MiB])
    second = objects.upload_part(key, upload_id, 2, data[5 * MiB :])
    assert objects.uploaded_parts(key, upload_id) == {1: first.etag, 2: second.etag}
    assert [upload["Key"] for upload in objects.open_uploads(prefix=key)] == [key]
    objects.complete_upload(key, upload_id, [first, second])
    head = objects.head(key)
    assert head is not None
    assert head["ContentLength"] == len(data)
    assert b"".join(objects.read(key)) == data
    assert objects.read_range(key, 10, 19) == data[10:20]
    assert httpx.get(objects.presigned_url(key, expires_in=60)).content == data
    # A second upload to the same key is refused, then aborted.
    again = objects.start_upload(key, content_type="video/mp4")
    with pytest.raises(ObjectExists):
        objects.complete_upload(key, again, [])
    objects.abort_upload(key, again)
    # First-frame images go under inputs/.
    image = f"inputs/{secrets.token_hex(8)}.png"
    put(store, image, b"\x89PNG")
    assert s3_read(store, image) == b"\x89PNG"


def test_the_example_identity_is_refused_what_receiver_does_not_do(store: Store) -> None:
    client = s3_client(store, store.access_key, store.secret_key)
    refusals: dict[str, Callable[[], object]] = {
        "write outside its prefixes": lambda: client.put_object(
            Bucket=BUCKET, Key="elsewhere/x.bin", Body=b"x"
        ),
        "create a bucket": lambda: client.create_bucket(Bucket=f"other-{store.kind}"),
        "delete its bucket": lambda: client.delete_bucket(Bucket=BUCKET),
        "set a bucket policy": lambda: client.put_bucket_policy(
            Bucket=BUCKET, Policy='{"Version":"2012-10-17","Statement":[]}'
        ),
        "tag its bucket": lambda: client.put_bucket_tagging(
            Bucket=BUCKET, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}
        ),
    }
    for what, call in refusals.items():
        with pytest.raises(ClientError) as refused_call:
            call()
        code = refused_call.value.response.get("Error", {}).get("Code")
        assert code == "AccessDenied", f"{store.kind}: may {what} ({code})"


def test_filer_and_master_http_apis_refuse_unauthenticated_requests(store: Store) -> None:
    key = f"videos/{store.kind}-{secrets.token_hex(4)}.mp4"
    data = b"a stored video " + secrets.token_bytes(64)
    put(store, key, data)
    filer = f"http://{INSIDE}:{store.ports['filer']}/buckets/{BUCKET}/{key}"
    read = httpx.get(filer)
    assert read.status_code in (401, 403, 404), read.status_code
    assert data not in read.content
    written = httpx.put(f"http://{INSIDE}:{store.ports['filer']}/buckets/{BUCKET}/videos/x.mp4")
    assert written.status_code in (401, 403, 404), written.status_code
    assert httpx.delete(filer).status_code in (401, 403, 404)
    listing = httpx.get(f"http://{INSIDE}:{store.ports['filer']}/buckets/{BUCKET}/videos/")
    assert key.rsplit("/", 1)[1].encode() not in listing.content
    master = f"http://{INSIDE}:{store.ports['master']}"
    # /col/delete would drop every volume of the bucket: its videos with it.
    assert httpx.get(f"{master}/col/delete?collection={BUCKET}").status_code in (401, 403, 404)
    assert httpx.get(f"{master}/dir/assign").status_code in (401, 403, 404)
    assert s3_read(store, key) == data
    client = s3_client(store, store.access_key, store.secret_key)
    with pytest.raises(ClientError):
        client.head_object(Bucket=BUCKET, Key="videos/x.mp4")


def test_volume_server_wants_a_jwt_for_a_stored_chunk(store: Store) -> None:
    key = f"videos/{store.kind}-{secrets.token_hex(4)}.mp4"
    data = b"chunk " + secrets.token_bytes(64)
    put(store, key, data)
    fid = fid_of(store, key)
    chunk = f"http://{INSIDE}:{store.ports['volume']}/{fid}"
    assert httpx.get(chunk).status_code == 401
    assert httpx.delete(chunk).status_code == 401
    assert httpx.post(chunk, files={"file": ("x", b"overwritten")}).status_code == 401
    # The same request signed with the service's read key is served: the fid is right, and
    # it is the key that was missing.
    signed = token(store.weed_env["WEED_JWT_SIGNING_READ_KEY"], fid=fid)
    answer = httpx.get(chunk, headers={"Authorization": f"Bearer {signed}"})
    assert (answer.status_code, answer.content) == (200, data)
    assert s3_read(store, key) == data


def test_compose_shows_other_containers_only_the_s3_gateway(compose: Store) -> None:
    hidden = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc")
    for name in hidden:
        assert refused(OUTSIDE, compose.ports[name]), f"{name} answers other containers"
    # Nor the S3 gateway's Iceberg and Lance ports (on by default at 8181 and 9101).
    assert refused(OUTSIDE, 8181)
    assert refused(OUTSIDE, 9101)
    assert not refused(OUTSIDE, compose.ports["s3"])


def test_compose_s3_grpc_port_takes_no_identity_from_strangers(compose: Store) -> None:
    """The S3 gateway's gRPC port follows -s3.ip.bind: other containers reach it."""

    def stranger() -> tuple[str, str]:
        return "intruder" + secrets.token_hex(4), secrets.token_hex(16)

    def code(access_key: str, secret_key: str) -> str:
        try:
            s3_client(compose, access_key, secret_key).list_buckets()
        except ClientError as exc:
            return str(exc.response.get("Error", {}).get("Code"))
        return "OK"

    unsigned, badly_signed, signed = stranger(), stranger(), stranger()
    put_identity(compose, *unsigned, bearer=None)
    put_identity(compose, *badly_signed, bearer=token("x" * 64))
    # Signed with the filer key of seaweedfs.env, the same call is obeyed: it was the key that
    # kept the others out, not a call gone wrong.
    put_identity(compose, *signed, bearer=token(compose.weed_env["WEED_JWT_FILER_SIGNING_KEY"]))
    deadline = time.monotonic() + 5
    while code(*signed) != "OK" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert code(*signed) == "OK"
    # Asked before it, the unsigned calls had their turn too: refused.
    assert code(*unsigned) == "InvalidAccessKeyId"
    assert code(*badly_signed) == "InvalidAccessKeyId"


def test_systemd_listens_on_127_0_0_1_only(systemd: Store) -> None:
    for name, port in systemd.ports.items():
        assert refused(OUTSIDE, port), f"{name} answers on {OUTSIDE}"
    assert not refused(INSIDE, systemd.ports["s3"])


def test_systemd_grpc_ports_want_a_client_certificate(systemd: Store) -> None:
    """Other users of the VM reach 127.0.0.1: the gRPC ports answer only with mutual TLS."""
    grpc = systemd.root / "etc" / "seaweedfs" / "grpc"  # what make-secrets.sh made
    ca, cert = grpc / "ca.crt", (grpc / "seaweedfs.crt", grpc / "seaweedfs.key")
    for name in ("master_grpc", "volume_grpc", "filer_grpc", "s3_grpc"):
        port = systemd.ports[name]
        # With the certificate: the server's SETTINGS frame (type 4).
        assert tls_first_frame(port, ca, cert)[3:4] == b"\x04", name
        try:
            answer = tls_first_frame(port, ca, None)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            answer = b""
        assert answer == b"", f"{name} talks to a client without a certificate"
        with socket.create_connection((INSIDE, port), timeout=5) as plain:
            plain.sendall(H2_PREFACE + frame(4, 0, 0, b""))
            try:
                reply = plain.recv(9)
            except ConnectionResetError:
                reply = b""
            assert reply[3:4] != b"\x04", f"{name} speaks cleartext HTTP/2"


def test_example_identity_is_least_privilege() -> None:
    (identity,) = json.loads(IDENTITIES.read_text())["identities"]
    actions = identity["actions"]
    assert not [a for a in actions if a.split(":")[0] in ("Admin", "Tagging")], actions
    for action in actions:
        verb, _, scope = action.partition(":")
        assert scope == BUCKET or scope.startswith(f"{BUCKET}/"), f"{action}: not its bucket"
        if verb == "Write":
            # Writes only below receiver's prefixes (RECEIVER_S3_PREFIX, _INPUT_PREFIX).
            assert scope in (f"{BUCKET}/videos/*", f"{BUCKET}/inputs/*"), action


def test_compose_rotates_the_log_of_every_service() -> None:
    text = COMPOSE.read_text()
    anchor = re.search(r"^x-logging: &logging\n((?:  .*\n)+)", text, re.MULTILINE)
    assert anchor, "no x-logging anchor"
    assert "driver: json-file" in anchor.group(1)
    assert re.search(r'max-size: "\d+m"', anchor.group(1))
    assert re.search(r'max-file: "\d+"', anchor.group(1))
    services = compose_services(text)
    assert {"caddy", "receiver", "worker", "migrate", "postgres", "seaweedfs"} <= set(services)
    for name, lines in services.items():
        assert "    logging: *logging" in lines, f"{name} keeps its log forever"
