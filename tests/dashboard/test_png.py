"""The screenshot check itself: a blank or near-blank image is called blank, a page is not.

Covers: decoding what :func:`png.encode` wrote (None and Up filters) back to the same
pixels; one colour, two colours, and a page whose content is a few pixels are blank; an
image with many colours over a large area is not; a box limits the check to a region
(a blank <main> under a busy header is caught); a file that is not a PNG is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard import png

WHITE, BLACK = b"\xff\xff\xff", b"\x00\x00\x00"


def _write(tmp_path: Path, rows: list[bytes], filter_type: int = 0) -> Path:
    path = tmp_path / "image.png"
    path.write_bytes(png.encode(rows, filter_type=filter_type))
    return path


def _busy(width: int, height: int) -> list[bytes]:
    return [bytes((x * 7 + y * 13 + c * 50) % 256 for x in range(width) for c in range(3))
            for y in range(height)]  # fmt: skip


@pytest.mark.parametrize("filter_type", [0, 2])
def test_decoding_gives_back_the_pixels(tmp_path: Path, filter_type: int) -> None:
    rows = _busy(5, 4)
    image = png.decode(_write(tmp_path, rows, filter_type).read_bytes())
    assert (image.width, image.height, image.rows) == (5, 4, rows)


@pytest.mark.parametrize(
    "rows",
    [
        [WHITE * 40] * 30,  # one colour
        [(WHITE if y % 2 else BLACK) * 40 for y in range(30)],  # two colours
        [WHITE * 40] * 299 + [_busy(40, 1)[0]],  # one row of content: 0.3 % of the image
    ],
    ids=["one-colour", "two-colours", "almost-empty"],
)
def test_blank_images_are_called_blank(tmp_path: Path, rows: list[bytes]) -> None:
    assert png.blankness(_write(tmp_path, rows)).looks_blank()


def test_a_busy_image_is_not_blank(tmp_path: Path) -> None:
    found = png.blankness(_write(tmp_path, _busy(40, 30)))
    assert not found.looks_blank()
    assert found.colours > 8


def test_a_box_checks_only_its_region(tmp_path: Path) -> None:
    rows = _busy(40, 10) + [WHITE * 40] * 30  # a busy header over an empty body
    path = _write(tmp_path, rows, filter_type=2)
    assert not png.blankness(path).looks_blank()
    assert png.blankness(path, (0, 10, 40, 30)).looks_blank()
    assert not png.blankness(path, (0, 0, 40, 10)).looks_blank()


def test_not_a_png(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match="not a PNG"):
        png.blankness(path)
