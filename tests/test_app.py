"""The Gradio app: handlers called directly, then the same events over HTTP through gradio_client."""

from __future__ import annotations

import io
import os
import socket
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from gallery_helpers import (
    NUM_CAMERAS,
    NUM_PIDS,
    draw_person,
    make_gallery,
    market_name,
    save_tiny_checkpoint,
)
from PIL import Image

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import app as app_module  # noqa: E402
from hpl.engine import ReIDEngine  # noqa: E402

GALLERY_SIZE = NUM_PIDS * NUM_CAMERAS


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_tiny_checkpoint(
        tmp_path_factory.mktemp("ckpt") / "tiny.safetensors",
        training_data="synthetic persons (demo preset)",
        preset="demo",
        metrics={"T2I R1": 12.5},
    )


@pytest.fixture(scope="module")
def gallery(tmp_path_factory) -> Path:
    return make_gallery(tmp_path_factory.mktemp("app") / "gallery")


@pytest.fixture(scope="module")
def engine(checkpoint, gallery, tmp_path_factory) -> ReIDEngine:
    return ReIDEngine.from_checkpoint(
        checkpoint, gallery=gallery, cache_root=tmp_path_factory.mktemp("cache")
    )


@pytest.fixture()
def handlers(engine) -> app_module.AppHandlers:
    return app_module.AppHandlers(engine)


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    """Uploads that must get a message, not a crash: empty, text, truncated and oversized images."""
    folder = tmp_path_factory.mktemp("bad")
    files = {
        "empty": folder / "empty.jpg",
        "text": folder / "notes.jpg",
        "truncated": folder / "cut.jpg",
        "huge": folder / "huge.png",
    }
    files["empty"].write_bytes(b"")
    files["text"].write_text("not an image at all")
    buffer = io.BytesIO()
    draw_person(1, 0).save(buffer, format="JPEG")
    files["truncated"].write_bytes(buffer.getvalue()[:300])
    files["huge"].write_bytes(_png_header_only(20000, 20000))
    return files


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels but carries one tiny data chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


def _corner_colour(tile_path: str) -> tuple[int, int, int]:
    with Image.open(tile_path) as tile:
        return tile.convert("RGB").getpixel((1, tile.height // 2))


# Handlers called directly ------------------------------------------------------------------------


def test_text_search_returns_tiles(handlers):
    items, status = handlers.search_by_text("a man in a red jacket", 5, None)
    assert len(items) == 5
    assert items[0][1].startswith("#1 ")
    assert "pid" in items[0][1]
    assert "5 results" in status


def test_text_search_marks_known_pid(handlers):
    items, status = handlers.search_by_text("a man", GALLERY_SIZE, 2)
    verdicts = [caption.endswith(app_module.MATCH_MARK) for _, caption in items]
    assert sum(verdicts) == NUM_CAMERAS
    for tile, caption in items:
        expected = (
            app_module.MATCH_COLOUR if caption.endswith(app_module.MATCH_MARK) else app_module.MISMATCH_COLOUR
        )
        assert _corner_colour(tile) == expected
    assert f"Query pid 2: {NUM_CAMERAS} of {GALLERY_SIZE}" in status


def test_text_search_unknown_pid_unmarked(handlers):
    items, _ = handlers.search_by_text("a man", 3, None)
    for tile, caption in items:
        assert app_module.MATCH_MARK not in caption
        assert app_module.MISMATCH_MARK not in caption
        assert _corner_colour(tile) not in (app_module.MATCH_COLOUR, app_module.MISMATCH_COLOUR)


def test_empty_text_answers_message(handlers):
    for text in ("", "   ", None):
        items, status = handlers.search_by_text(text, 5, None)
        assert items == []
        assert "query text is empty" in status


def test_long_text_says_truncated(handlers):
    items, status = handlers.search_by_text("a tall person with a long grey coat " * 30, 4, None)
    assert len(items) == 4
    assert "truncated to 77 tokens" in status


def test_html_text_escaped(handlers):
    items, status = handlers.search_by_text("<img src=x onerror=alert(1)> 行人 🧥", 3, None)
    assert len(items) == 3
    assert "<img" not in status


def test_image_cache_writes_once(tmp_path):
    cache = app_module.ImageFileCache(tmp_path / "images")
    first = cache.store(draw_person(1, 0))
    second = cache.store(draw_person(1, 0))
    other = cache.store(draw_person(2, 0))
    assert first == second
    assert first != other
    assert sorted(p.suffix for p in (tmp_path / "images").iterdir()) == [".png", ".png"]


def test_escape_text_neutralises_markup():
    escaped = app_module.escape_text("<b>bold</b> *star* [link](x) $$x$$")
    assert "<b>" not in escaped
    assert "&lt;b&gt;" in escaped
    assert "\\*star\\*" in escaped
    assert "\\[link\\]" in escaped
    assert "\\$\\$x\\$\\$" in escaped


def test_k_larger_than_gallery_says_so(handlers):
    items, status = handlers.search_by_text("someone", 100, None)
    assert len(items) == GALLERY_SIZE
    assert "all of them are shown" in status


def test_image_search_marks_by_file_name(handlers, gallery):
    items, status = handlers.search_by_image(str(gallery / market_name(3, 0)), GALLERY_SIZE)
    assert len(items) == GALLERY_SIZE - 1  # the query file itself is left out
    matches = [caption for _, caption in items if caption.endswith(app_module.MATCH_MARK)]
    assert len(matches) == NUM_CAMERAS - 1
    assert all("pid 3 " in caption for caption in matches)
    assert "Query pid 3" in status
    assert "left out of the results" in status


def test_image_search_without_upload(handlers):
    items, status = handlers.search_by_image(None, 5)
    assert items == []
    assert "upload an image" in status


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "huge"])
def test_bad_upload_answers_message(handlers, bad_files, kind):
    path = bad_files[kind]
    items, status = handlers.search_by_image(str(path), 5)
    preview, preview_status = handlers.preview_image(str(path))
    assert items == []
    assert path.name.replace(".", "") in status.replace(".", "").replace("\\", "")
    assert preview is None
    assert "Failed to load image" in preview_status


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "I;16", "P"])
def test_unusual_modes_search(handlers, tmp_path, mode):
    person = draw_person(2, 1)
    if mode == "I;16":
        image = Image.fromarray(np.asarray(person.convert("L"), dtype=np.uint16) * 257)
        path = tmp_path / "query.png"
    else:
        image = person.convert(mode)
        path = tmp_path / ("query.tiff" if mode == "CMYK" else "query.png")
    image.save(path)
    items, _ = handlers.search_by_image(str(path), 3)
    preview, _ = handlers.preview_image(str(path))
    assert len(items) == 3
    assert preview.mode == "RGB"


def test_exif_rotated_preview_upright(handlers, tmp_path):
    person = draw_person(1, 0)  # 64 wide, 128 high
    stored = person.transpose(Image.Transpose.ROTATE_90)  # stored on its side, 128 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    stored.save(path, exif=exif)
    preview, status = handlers.preview_image(str(path))
    assert preview.size == (64, 128)
    assert status == "64x128 RGB"


def test_explain_returns_panel(handlers, gallery):
    panel, status = handlers.explain_image(
        str(gallery / market_name(1, 0)), "a man", str(gallery / market_name(1, 1))
    )
    with Image.open(panel) as image:
        assert image.width == 4 * 2 * 64
    assert "I2I cosine" in status


def test_explain_without_image(handlers):
    panel, status = handlers.explain_image(None, "a man", None)
    assert panel is None
    assert "No image to explain" in status


def test_explain_bad_image(handlers, bad_files):
    panel, status = handlers.explain_image(str(bad_files["text"]), "a man", None)
    assert panel is None
    assert "Failed to load image" in status


def test_index_missing_folder(engine, tmp_path):
    handlers = app_module.AppHandlers(engine, folder_roots=[tmp_path])
    status = handlers.index_gallery_folder(str(tmp_path / "nowhere"))
    assert "not found" in status


def test_folder_indexing_disabled_by_default(handlers, tmp_path):
    before = handlers.engine.stats().num_images
    status = handlers.index_gallery_folder(str(tmp_path))
    assert "disabled" in status
    assert handlers.engine.stats().num_images == before


def test_folder_outside_allowed_roots_rejected(engine, tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    handlers = app_module.AppHandlers(engine, folder_roots=[allowed])
    status = handlers.index_gallery_folder(str(allowed / ".." / ".."))
    assert "outside the folders" in status


def test_index_folder_and_add_images(checkpoint, tmp_path):
    engine = ReIDEngine.from_checkpoint(checkpoint, cache_root=tmp_path / "cache")
    handlers = app_module.AppHandlers(engine, folder_roots=[tmp_path])
    folder = make_gallery(tmp_path / "new", num_pids=2, num_cameras=2)
    (folder / "broken.jpg").write_bytes(b"junk")

    indexed = handlers.index_gallery_folder(str(folder))
    extra = tmp_path / "extra.jpg"
    draw_person(5, 0).save(extra)
    added = handlers.add_gallery_images([str(extra)])

    assert "**4 images** of 2 identities" in indexed
    assert "Skipped files: 1" in indexed
    assert "**5 images**" in added


def test_model_tab_text(engine):
    text = app_module.describe_model(engine)
    assert "HPL" in text
    assert "synthetic persons (demo preset)" in text
    assert "T2I R1" in text
    assert "results on real photos are weak" in text


def test_model_tab_note_only_for_demo(tmp_path):
    plain = save_tiny_checkpoint(tmp_path / "plain.safetensors", training_data="my own data")
    engine = ReIDEngine.from_checkpoint(plain, cache_root=tmp_path / "cache")
    text = app_module.describe_model(engine)
    assert "my own data" in text
    assert "results on real photos are weak" not in text
    assert "mirrored" not in text

    flipping = save_tiny_checkpoint(tmp_path / "flip.safetensors", options={"flip_test": True})
    engine = ReIDEngine.from_checkpoint(flipping, cache_root=tmp_path / "cache")
    assert "(class tokens: 2; each image also seen mirrored)" in app_module.describe_model(engine)


def test_distractor_query_gets_no_marks(engine):
    response = engine.search_text("a person", k=3)
    items = app_module.render_results(response, 0)
    assert all("✓" not in caption and "✗" not in caption for _, caption in items)
    assert "Query pid" not in app_module.summarise_response(response, 0)


def test_missing_default_checkpoint_message(monkeypatch, tmp_path):
    missing = tmp_path / "assets" / "models" / "hpl-tiny-synthetic.safetensors"
    monkeypatch.setattr(app_module, "DEFAULT_CHECKPOINT", missing)
    monkeypatch.delenv("HPL_CHECKPOINT", raising=False)
    with pytest.raises(SystemExit, match="hpl-tiny-synthetic.safetensors is missing") as error:
        app_module.load_engine(app_module.parse_args([]))
    assert "--checkpoint" in str(error.value)


def test_environment_configures_app(monkeypatch):
    monkeypatch.setenv("HPL_CHECKPOINT", "hf-hub:owner/repo/model.safetensors")
    monkeypatch.setenv("HPL_GALLERY", "/data/gallery")
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    args = app_module.parse_args([])
    assert args.checkpoint == "hf-hub:owner/repo/model.safetensors"
    assert args.gallery == "/data/gallery"
    assert args.host == "0.0.0.0"
    assert args.port == 7861


def test_real_market_photos_in_app(checkpoint, market_sample, tmp_path):
    engine = ReIDEngine.from_checkpoint(
        checkpoint, gallery=market_sample / "bounding_box_test", cache_root=tmp_path / "cache"
    )
    handlers = app_module.AppHandlers(engine)
    query = sorted((market_sample / "query").glob("*.jpg"))[0]
    query_pid = int(query.name.split("_")[0])

    items, status = handlers.search_by_image(str(query), 32)
    text_items, _ = handlers.search_by_text("a man in a white shirt", 5, None)

    gallery_pids = [int(p.name.split("_")[0]) for p in (market_sample / "bounding_box_test").glob("*.jpg")]
    assert len(items) == len(gallery_pids)
    assert sum(caption.endswith(app_module.MATCH_MARK) for _, caption in items) == gallery_pids.count(
        query_pid
    )
    assert f"Query pid {query_pid}" in status
    assert len(text_items) == 5


# Over HTTP ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def client(engine):
    from gradio_client import Client

    demo = app_module.build_app(engine)
    demo.queue()
    port = _free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        max_file_size=app_module.MAX_FILE_SIZE,
        quiet=True,
    )
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        demo.close()


def test_api_lists_named_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/search_text", "/search_image", "/explain", "/index_folder", "/add_images"} <= set(endpoints)


def test_api_text_search(client):
    items, status = client.predict("a woman with a <b>red</b> bag", 4, None, api_name="/search_text")
    assert len(items) == 4
    assert Path(items[0]["image"]).is_file()
    assert items[0]["caption"].startswith("#1 ")
    assert "<b>" not in status


def test_api_image_search_and_bad_upload(client, gallery, bad_files):
    from gradio_client import handle_file

    items, _ = client.predict(handle_file(str(gallery / market_name(2, 0))), 3, api_name="/search_image")
    bad_items, bad_status = client.predict(handle_file(str(bad_files["text"])), 3, api_name="/search_image")
    again, _ = client.predict(handle_file(str(gallery / market_name(2, 0))), 3, api_name="/search_image")

    assert items[0]["caption"].endswith(app_module.MATCH_MARK)
    assert bad_items == []
    assert "not a supported image" in bad_status
    assert len(again) == 3, "the server keeps serving after a bad upload"


def test_api_empty_text(client):
    items, status = client.predict("   ", 5, None, api_name="/search_text")
    assert items == []
    assert "query text is empty" in status


def test_api_explain(client, gallery):
    from gradio_client import handle_file

    panel, status = client.predict(
        handle_file(str(gallery / market_name(1, 0))), "a man", None, api_name="/explain"
    )
    with Image.open(panel) as image:
        assert image.size[0] == 4 * 2 * 64
    assert "T2I cosine" in status


def test_metrics_table_orders_ranks():
    text = app_module.format_metrics(
        {"I2I_r1": 10.07, "I2I_r10": 63.1, "I2I_r5": 45.0, "I2I_map": 21.4, "note": "x"}
    )
    header = next(line for line in text.splitlines() if line.startswith("| task"))
    assert header.index("R5") < header.index("R10")
    assert "| I2I | 10.07 | 45.00 | 63.10 | 21.40 | - |" in text
    assert "| note | x |" in text


def test_metrics_table_lists_token_cosine_apart():
    text = app_module.format_metrics({"I2I_r1": 90.0, "T2I_r1": 80.0, "token_cosine": 0.9671})
    tasks = [
        line.split("|")[1].strip()
        for line in text.splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    assert tasks[:3] == ["task", "I2I", "T2I"]
    assert "| I2I vs T2I class-token cosine (gallery mean) | 0.9671 |" in text
