"""Local first-frame images checked by the provider's rules, on real files made here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from receiver.errors import ValidationError
from receiver.submission.images import MAX_IMAGE_BYTES, check_image, check_reachable_store


def make_image(path: Path, size: tuple[int, int], fmt: str = "PNG", **options: object) -> Path:
    Image.new("RGB", size, (200, 80, 40)).save(path, fmt, **options)
    return path


def test_a_png_and_a_jpeg_pass(tmp_path: Path) -> None:
    png = check_image(make_image(tmp_path / "frame.png", (1280, 720)))
    assert (png.format, png.width, png.height) == ("PNG", 1280, 720)
    assert (png.content_type, png.extension) == ("image/png", "png")
    assert png.data == (tmp_path / "frame.png").read_bytes()
    jpeg = check_image(make_image(tmp_path / "frame.jpg", (300, 300), "JPEG"))
    assert (jpeg.content_type, jpeg.extension) == ("image/jpeg", "jpg")


def test_the_format_is_read_from_the_data_not_the_name(tmp_path: Path) -> None:
    facts = check_image(make_image(tmp_path / "actually-a-jpeg.png", (640, 480), "JPEG"))
    assert facts.format == "JPEG"


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        ((300, 300), None),
        ((299, 600), "is 299x600 px; both sides must be at least 300 px"),
        ((600, 299), "is 600x299 px; both sides must be at least 300 px"),
        ((750, 300), None),  # 2.5:1 exactly
        # As many decimals as it takes not to read like the limit itself ("2.50:1").
        ((751, 300), "is 751x300 px, aspect 2.503:1; the provider accepts 1:2.5"),
        ((300, 750), None),  # 1:2.5 exactly
        ((300, 751), "is 300x751 px, aspect 0.399:1; the provider accepts 1:2.5"),
        ((1000, 300), "is 1000x300 px, aspect 3.33:1; the provider accepts 1:2.5"),
    ],
)
def test_sides_and_aspect(tmp_path: Path, size: tuple[int, int], problem: str | None) -> None:
    path = make_image(tmp_path / "frame.png", size)
    if problem is None:
        assert (check_image(path).width, check_image(path).height) == size
    else:
        with pytest.raises(ValidationError) as caught:
            check_image(path)
        assert caught.value.field == "image"
        assert problem in caught.value.message


def test_a_phone_cameras_multi_picture_jpeg_is_a_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "phone.jpg"
    first, preview = Image.new("RGB", (1200, 900), (90, 90, 20)), Image.new("RGB", (320, 240))
    first.save(path, "MPO", save_all=True, append_images=[preview])
    with Image.open(path) as opened:
        assert opened.format == "MPO"  # what Pillow calls it: the case under test
    facts = check_image(path)
    assert (facts.format, facts.width, facts.height) == ("JPEG", 1200, 900)
    assert (facts.content_type, facts.extension) == ("image/jpeg", "jpg")
    assert facts.data == path.read_bytes()


def test_other_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GIF image; the provider accepts jpg and png"):
        check_image(make_image(tmp_path / "frame.gif", (400, 400), "GIF"))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValidationError, match="not an image the provider accepts"):
        check_image(text)


def test_a_truncated_image_is_caught_before_upload(tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(path, "PNG")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValidationError, match="damaged"):
        check_image(path)


def test_more_than_ten_megabytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    # Noise does not compress: 1900 x 1900 x 3 bytes is about 10.8 MB.
    Image.frombytes("RGB", (1900, 1900), os.urandom(1900 * 1900 * 3)).save(
        path, "PNG", compress_level=0
    )
    assert path.stat().st_size > MAX_IMAGE_BYTES
    with pytest.raises(ValidationError, match="at most 10 MB"):
        check_image(path)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        check_image(tmp_path / "nope.png")
    with pytest.raises(ValidationError, match="is not a file"):
        check_image(tmp_path)
    # A NUL in a batch row's path: os.stat raises ValueError, not OSError.
    with pytest.raises(ValidationError, match="not a usable file name"):
        check_image(tmp_path / "frame\x00.png")


def test_a_private_store_cannot_serve_the_provider() -> None:
    check_reachable_store(None, insecure=False)  # AWS itself
    check_reachable_store("https://s3.example.com", insecure=False)
    check_reachable_store("http://127.0.0.1:8333", insecure=True)  # development
    for private in ("http://127.0.0.1:8333", "http://10.1.2.3", "http://localhost:9000"):
        with pytest.raises(ValidationError, match="not reachable from the internet"):
            check_reachable_store(private, insecure=False)
