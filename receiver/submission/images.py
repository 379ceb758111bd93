"""First-frame images from a local file: checked by the provider's rules, staged in the bucket.

The provider fetches the first frame from a URL, so a local file is uploaded to our bucket
and handed over as a presigned URL. The file is read once and the checked bytes are the
uploaded bytes. Objects are named by their SHA-256, so a frame used by thirty jobs of a batch
is stored once and an upload repeated after a crash lands on the same object.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import ipaddress
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from receiver.errors import StorageError, ValidationError
from receiver.storage import ObjectExists, ObjectStore

#: Stands in for a local image's presigned URL while the request is checked; the image is
#: uploaded only when the job is really submitted (never for a dry run).
PENDING_IMAGE_URL = "https://first-frame.invalid/pending.png"

__all__ = [
    "MAX_IMAGE_BYTES",
    "PENDING_IMAGE_URL",
    "ImageFacts",
    "StagedImage",
    "check_image",
    "check_image_bytes",
    "check_reachable_store",
    "frame_aspect",
    "image_from_data_url",
    "stage_image",
    "staged_key",
]

#: The provider's "10 MB", read the stricter (decimal) way.
MAX_IMAGE_BYTES = 10 * 1000 * 1000
MIN_SIDE = 300
#: Longest side over shortest side: the provider accepts 1:2.5 to 2.5:1.
MAX_ELONGATION = 2.5
#: Pillow's format name -> (content type, file extension).
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
#: Formats that are one of the above to everyone but Pillow: a phone camera's JPEG with
#: Multi-Picture data (a depth map, a preview) opens as "MPO", yet is a JPEG file whose
#: first picture any JPEG decoder shows.
_SAME_AS = {"MPO": "JPEG"}
#: The aspect ratios the provider names (text-to-video's choices), as width / height.
_NAMED_RATIOS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}
#: A frame this close to a named ratio is called by its name (1000x562 is "16:9").
_NAMED_TOLERANCE = 0.01


@dataclass(frozen=True, kw_only=True)
class ImageFacts:
    """A local image that passed the provider's rules, with the bytes that were checked."""

    path: Path
    format: str
    width: int
    height: int
    sha256: str
    data: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        return _FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return _FORMATS[self.format][1]


@dataclass(frozen=True, kw_only=True)
class StagedImage:
    """A first frame in our bucket: its key, and the URL the provider fetches it from."""

    bucket: str
    key: str
    url: str = field(repr=False)  # carries a signature: never logged, never recorded
    #: The frame's size in pixels: the video takes its aspect ratio from it.
    width: int | None = None
    height: int | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def check_image(path: Path) -> ImageFacts:
    """Read ``path`` and check it: jpg/png, at most 10 MB, sides >= 300 px, aspect 1:2.5-2.5:1.

    Raises :class:`ValidationError` (field ``image``) naming the rule that failed.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValidationError("image", f"cannot read {path}: {exc.strerror}") from None
    except ValueError:  # a NUL character: no file can have that name
        raise ValidationError("image", f"{str(path)!r} is not a usable file name") from None
    if not path.is_file():
        raise ValidationError("image", f"{path} is not a file")
    if size > MAX_IMAGE_BYTES:
        raise ValidationError(
            "image", f"{path} is {size / 1e6:.1f} MB; the provider accepts at most 10 MB"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError("image", f"cannot read {path}: {exc.strerror}") from None
    return check_image_bytes(data, path)


def check_image_bytes(data: bytes, path: Path, *, field: str = "image") -> ImageFacts:
    """:func:`check_image` for bytes at hand; ``path`` names them in messages."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError(
            field, f"{path} is {len(data) / 1e6:.1f} MB; the provider accepts at most 10 MB"
        )
    image_format, width, height = _decode(path, data)
    if min(width, height) < MIN_SIDE:
        raise ValidationError(
            field,
            f"{path} is {width}x{height} px; both sides must be at least {MIN_SIDE} px",
        )
    # Whole numbers, so the limit itself (e.g. 750x300) passes exactly.
    if max(width, height) * 2 > min(width, height) * 5:
        limit = MAX_ELONGATION if width > height else 1 / MAX_ELONGATION
        raise ValidationError(
            field,
            f"{path} is {width}x{height} px, aspect {_beside(width / height, limit)}:1; "
            "the provider accepts 1:2.5 (0.4:1) to 2.5:1",
        )
    return ImageFacts(
        path=path,
        format=image_format,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


def image_from_data_url(url: str) -> ImageFacts:
    """A first frame sent inside a request as ``data:image/png|jpeg;base64,...``, checked.

    How the API takes a local file from a client (``receiver.client`` sends one so): the
    bytes are staged in our bucket like a file from the command line.
    """
    head, comma, payload = url.partition(",")
    if not comma or head.lower() not in {"data:image/png;base64", "data:image/jpeg;base64"}:
        raise ValidationError(
            "image_url", "a data URL must be data:image/png;base64,... or data:image/jpeg;..."
        )
    # Base64 takes 4 characters for 3 bytes: refuse a larger one before decoding it.
    if len(payload) > (MAX_IMAGE_BYTES + 2) // 3 * 4:
        raise ValidationError("image_url", "the image is over 10 MB; the provider's limit")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("image_url", "the data URL is not valid base64") from None
    digest = hashlib.sha256(data).hexdigest()
    return check_image_bytes(data, Path(f"uploaded-image-{digest[:16]}"), field="image_url")


def frame_aspect(width: int, height: int) -> str:
    """The aspect ratio of a ``width`` x ``height`` frame: the provider's name for it when it
    is within 1% of one (720x1280 is "9:16"), else the exact ratio in lowest terms ("10:7")."""
    ratio = width / height
    for name, named in _NAMED_RATIOS.items():
        if abs(ratio - named) <= named * _NAMED_TOLERANCE:
            return name
    common = math.gcd(width, height)
    return f"{width // common}:{height // common}"


def _beside(ratio: float, limit: float) -> str:
    """``ratio`` with the decimals it takes to differ from ``limit`` (751x300 is 2.503, not
    the 2.50 that reads like the limit itself)."""
    for decimals in range(2, 10):
        text = f"{ratio:.{decimals}f}"
        if text != f"{limit:.{decimals}f}":
            return text
    return repr(ratio)


def _decode(path: Path, data: bytes) -> tuple[str, int, int]:
    """The format and size of an image, decoded in full so a truncated file is caught here."""
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = _SAME_AS.get(image.format or "", image.format or "")
                if image_format not in _FORMATS:
                    raise ValidationError(
                        "image",
                        f"{path} is a {image_format or 'unknown'} image; the provider accepts "
                        "jpg and png only",
                    )
                width, height = image.size
                image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationError("image", f"{path} has too many pixels to be a video frame") from None
    except UnidentifiedImageError:
        raise ValidationError(
            "image", f"{path} is not an image the provider accepts (jpg or png)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports broken data as OSError ("image file is truncated") or SyntaxError.
        raise ValidationError("image", f"{path} is damaged: {exc}") from None
    return image_format, width, height


def check_reachable_store(endpoint_url: str | None, *, insecure: bool) -> None:
    """Refuse to hand the provider a URL on a loopback or private address it cannot reach."""
    if endpoint_url is None or insecure:
        return
    host = urlsplit(endpoint_url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        private = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    else:
        private = not address.is_global
    if private:
        raise ValidationError(
            "image",
            f"local images are handed to the provider as presigned URLs of the S3 store, and "
            f"RECEIVER_S3_ENDPOINT_URL ({host}) is not reachable from the internet; give the "
            "image as a public URL instead",
        )


def staged_key(image: ImageFacts, prefix: str) -> str:
    """Where ``image`` is staged: named by its content."""
    return f"{prefix}{image.sha256}.{image.extension}"


def stage_image(
    store: ObjectStore, image: ImageFacts, *, prefix: str, expires_in: int
) -> StagedImage:
    """Upload ``image`` (unless an identical one is there) and presign it for the provider."""
    key = staged_key(image, prefix)
    if store.head(key) is None:
        # One part of any size is a valid multipart upload; IfNoneMatch makes it create-only.
        upload_id = store.start_upload(key, content_type=image.content_type)
        try:
            part = store.upload_part(key, upload_id, 1, image.data)
            store.complete_upload(key, upload_id, [part])
        except ObjectExists:
            store.abort_upload(key, upload_id)  # same name, same bytes: someone was faster
        except StorageError:
            store.abort_upload(key, upload_id)
            raise
    return StagedImage(
        bucket=store.bucket,
        key=key,
        url=store.presigned_url(key, expires_in=expires_in),
        width=image.width,
        height=image.height,
    )
