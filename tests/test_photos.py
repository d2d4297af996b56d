"""Walk-around photos: upright, small, content-addressed, kept on the device, EXIF-free."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from kiosk.services.camera import Camera, FileImportCamera, camera
from kiosk.services.local_store import LocalStore
from kiosk.services.photos import (
    PhotoSettings,
    PhotoUnreadable,
    make_thumbnail,
    prepare_photo,
    store_photo,
    take_photo_into,
)
from shared.domain import ImageType
from shared.wire import problems

ORIENTATION = 0x0112


def camera_jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    """A picture as a camera stores it: red band on top, blue on the left, EXIF tag."""
    image = Image.new("RGB", (width, height), (240, 240, 240))
    image.paste((220, 20, 20), (0, 0, width, height // 5))  # a red band along the top
    image.paste((20, 20, 220), (0, 0, width // 6, height))  # a blue band down the left
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # a GPS position, as phones write
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=exif)
    image.close()
    return buffer.getvalue()


def colour_at(data: bytes, fx: float, fy: float) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        pixel = image.convert("RGB").getpixel(
            (int(fx * (image.width - 1)), int(fy * (image.height - 1)))
        )
    assert isinstance(pixel, tuple)
    return pixel[:3]


def is_red(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] > 150 and rgb[1] < 90 and rgb[2] < 90


def is_blue(rgb: tuple[int, int, int]) -> bool:
    return rgb[2] > 150 and rgb[0] < 90 and rgb[1] < 90


def test_a_large_photo_is_made_small_and_named_by_its_hash() -> None:
    photo = prepare_photo(camera_jpeg(4000, 3000))
    assert (photo.width, photo.height) == (1600, 1200)
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    ref = photo.photo_ref()
    assert ref.content_type == ImageType.jpeg and ref.size_bytes == len(photo.data)
    assert problems(ref) == []
    with Image.open(io.BytesIO(photo.data)) as kept:
        assert kept.format == "JPEG" and kept.size == (1600, 1200)
        assert not kept.getexif(), "no EXIF (and so no GPS position) leaves the device"
    with Image.open(io.BytesIO(photo.thumbnail)) as thumbnail:
        assert max(thumbnail.size) == 320


@pytest.mark.parametrize(
    ("orientation", "top_band_side", "left_band_side"),
    [
        # 6: the camera was turned clockwise; the picture is turned back 90° clockwise,
        # so the band that was on top is now on the right, the left band on top.
        (6, "right", "top"),
        # 8: the other way round.
        (8, "left", "bottom"),
    ],
)
def test_the_exif_orientation_is_applied(
    orientation: int, top_band_side: str, left_band_side: str
) -> None:
    photo = prepare_photo(camera_jpeg(4000, 3000, orientation))
    assert (photo.width, photo.height) == (1200, 1600)  # portrait now, long edge 1600
    spots = {"top": (0.5, 0.02), "bottom": (0.5, 0.98), "left": (0.02, 0.5), "right": (0.98, 0.5)}
    assert is_red(colour_at(photo.data, *spots[top_band_side]))
    assert is_blue(colour_at(photo.data, *spots[left_band_side]))


def test_a_small_photo_is_not_enlarged_and_settings_apply() -> None:
    photo = prepare_photo(camera_jpeg(800, 600))
    assert (photo.width, photo.height) == (800, 600)
    smaller = prepare_photo(camera_jpeg(4000, 3000), PhotoSettings(max_edge=1024, quality=70))
    assert max(smaller.width, smaller.height) == 1024


def test_a_png_with_transparency_becomes_a_jpeg_on_white(tmp_path: Path) -> None:
    path = tmp_path / "import.png"
    with Image.new("RGBA", (300, 200), (0, 0, 0, 0)) as image:
        image.save(path)
    photo = prepare_photo(path)
    assert colour_at(photo.data, 0.5, 0.5) > (240, 240, 240)


def test_not_a_picture_is_refused() -> None:
    with pytest.raises(PhotoUnreadable):
        prepare_photo(b"this is not a photo")
    with pytest.raises(PhotoUnreadable):
        prepare_photo(camera_jpeg(800, 600)[:2000])  # cut short


def test_the_photo_is_kept_in_the_device_store(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "device", "dev-1") as store:
        kept = store_photo(store, prepare_photo(camera_jpeg(2000, 1500)))
        assert store.blob_path(kept.ref.sha256).read_bytes()[:3] == b"\xff\xd8\xff"
        assert store.blob_info(kept.ref.sha256) is not None
        assert store.blob_info(kept.thumbnail_sha256) is not None
        # Nothing refers to it yet: nothing is waiting to be uploaded.
        assert store.pending_blobs() == []


def test_the_file_import_camera_hands_over_pictures_in_turn(tmp_path: Path) -> None:
    for name in ("b.jpg", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(camera_jpeg(64, 48) if name.endswith("jpg") else b"x")
    backend = camera("linux")
    assert isinstance(backend, FileImportCamera) and not backend.has_camera
    taken: list[Path | None] = []
    folder_camera = FileImportCamera(tmp_path)
    for _ in range(3):
        folder_camera.take_picture(taken.append)
    assert taken == [tmp_path / "a.jpg", tmp_path / "b.jpg", None]
    with LocalStore(tmp_path / "device", "dev-1") as store:
        stored = take_photo_into(store, tmp_path / "a.jpg")
        assert stored.ref.width == 64


def test_the_facade_calls_the_platform_method() -> None:
    class Recording(Camera):
        def _take_picture(self, on_picture):  # type: ignore[no-untyped-def]
            on_picture(Path("/tmp/x.jpg"))

    got: list[Path | None] = []
    Recording().take_picture(got.append)
    assert got == [Path("/tmp/x.jpg")]
    with pytest.raises(NotImplementedError):
        Camera().take_picture(got.append)


def test_a_thumbnail_is_small_upright_and_refuses_what_is_no_picture(tmp_path: Path) -> None:
    kept = prepare_photo(camera_jpeg(3000, 2000, orientation=6)).data  # kept upright
    path = tmp_path / "photo"  # blobs have no file name extension
    path.write_bytes(kept)
    thumbnail = make_thumbnail(path, 240)
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "JPEG" and max(image.size) == 240
        assert image.height > image.width  # the photo was turned upright before
    assert make_thumbnail(kept, 240) == thumbnail
    with pytest.raises(PhotoUnreadable):
        make_thumbnail(b"not a picture")
