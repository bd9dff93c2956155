"""The app in headless Chromium: text search, photo search and Grad-CAM render real images.

Screenshots go to tests/artifacts/ (not tracked) for a person to look at.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from gallery_helpers import make_gallery, market_name, save_tiny_checkpoint

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import app as app_module  # noqa: E402
from hpl.engine import ReIDEngine  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 60_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.is_file():
    pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gallery(tmp_path_factory) -> Path:
    return make_gallery(tmp_path_factory.mktemp("browser") / "gallery")


@pytest.fixture(scope="module")
def server_url(gallery, tmp_path_factory):
    checkpoint = save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")
    engine = ReIDEngine.from_checkpoint(
        checkpoint, gallery=gallery, cache_root=tmp_path_factory.mktemp("cache")
    )
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
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def page(server_url):
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def _open_tab(page, url: str, name: str) -> None:
    """Load the app afresh, so no upload of an earlier test remains, and switch to a tab."""
    page.goto(url)
    tab = page.get_by_role("tab", name=name)
    tab.wait_for()
    tab.click()


def _rendered_images(page, container) -> list[dict]:
    """Return the natural and displayed sizes of the loaded images inside `container`."""
    return container.locator("img").evaluate_all(
        "images => images.filter(i => i.complete).map(i => ({"
        "natural: i.naturalWidth, width: i.getBoundingClientRect().width,"
        "height: i.getBoundingClientRect().height}))"
    )


def _wait_for_images(page, container, count: int) -> list[dict]:
    # Wait until at least `count` images exist and every one has decoded, so screenshots show them all.
    page.wait_for_function(
        "([element, count]) => { const images = [...element.querySelectorAll('img')];"
        " return images.length >= count && images.every(i => i.complete && i.naturalWidth > 0); }",
        arg=[container.element_handle(), count],
        timeout=TIMEOUT_MS,
    )
    return _rendered_images(page, container)


def _assert_visible(images: list[dict], count: int) -> None:
    shown = [image for image in images if image["natural"] > 0 and image["width"] > 0 and image["height"] > 0]
    assert len(shown) >= count, f"expected {count} rendered images, got {images}"


def test_text_search_renders_results(page, server_url):
    _open_tab(page, server_url, "Text -> Image")
    page.get_by_label("Description").fill("A man in a red jacket <b>and</b> 🧥")
    page.get_by_role("button", name="Search").locator("visible=true").first.click()

    results = page.locator("#results-text")
    images = _wait_for_images(page, results, 5)
    page.screenshot(path=str(ARTIFACTS / "text-search.png"), full_page=True)

    _assert_visible(images, 5)
    assert "#1" in results.inner_text()


def test_image_search_renders_results(page, server_url, gallery):
    _open_tab(page, server_url, "Image -> Image")
    page.locator("#query-photo input[type=file]").set_input_files(str(gallery / market_name(2, 1)))
    preview = page.locator("#query-preview")
    _wait_for_images(page, preview, 1)
    page.locator("#search-image-button").click()

    results = page.locator("#results-image")
    images = _wait_for_images(page, results, 5)
    page.screenshot(path=str(ARTIFACTS / "image-search.png"), full_page=True)

    _assert_visible(images, 5)
    assert app_module.MATCH_MARK in results.inner_text()


def test_grad_cam_renders_maps(page, server_url, gallery):
    _open_tab(page, server_url, "Grad-CAM")
    page.locator("#explain-image input[type=file]").set_input_files(str(gallery / market_name(1, 0)))
    page.locator("#explain-text textarea").fill("a person in a red top")
    page.locator("#explain-button").click()

    panel = page.locator("#explain-panel")
    images = _wait_for_images(page, panel, 1)
    page.screenshot(path=str(ARTIFACTS / "grad-cam.png"), full_page=True)

    _assert_visible(images, 1)
    assert max(image["natural"] for image in images) == 4 * 2 * 64


def test_bad_upload_shows_message(page, server_url, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_text("not an image")
    _open_tab(page, server_url, "Image -> Image")
    page.locator("#query-photo input[type=file]").set_input_files(str(broken))
    message = page.get_by_text("Failed to load image broken.jpg").first
    message.wait_for()
    page.screenshot(path=str(ARTIFACTS / "bad-upload.png"), full_page=True)
    assert message.is_visible()
