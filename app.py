"""Gradio app: search a pedestrian gallery by text or by photo and compare the two class tokens.

Run `python app.py` for the demo model and gallery shipped in `assets/`, or point it at your own
with `--checkpoint` and `--gallery` (or the HPL_CHECKPOINT and HPL_GALLERY environment variables,
which is how a Hugging Face Space is configured). `build_app(engine)` builds the interface without
launching it, for tests and for embedding in another server.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from PIL import Image, ImageDraw, ImageOps  # noqa: E402

from hpl.data.images import ImageLoadError, load_image  # noqa: E402
from hpl.engine import GalleryStats, ReIDEngine, SearchResponse, parse_pid_camid  # noqa: E402
from hpl.index import is_identity_pid  # noqa: E402

logger = logging.getLogger("app")

REPO_ROOT = Path(__file__).resolve().parent
DEFAULT_CHECKPOINT = REPO_ROOT / "assets" / "models" / "hpl-tiny-synthetic.safetensors"
DEFAULT_GALLERY = REPO_ROOT / "assets" / "gallery"
MAX_FILE_SIZE = "20mb"  # uploads above this are rejected by Gradio before any handler runs
MODEL_CONCURRENCY_ID = "model"  # every event that runs the model queues on this one id
MODEL_CONCURRENCY_LIMIT = 1  # one model call at a time: the Grad-CAM hooks sit on the shared model
DEFAULT_K = 10
MAX_K = 100
THUMBNAIL_SIZE = (96, 192)  # (width, height) of a result tile
BORDER_WIDTH = 6
MATCH_COLOUR = (22, 163, 74)
MISMATCH_COLOUR = (220, 38, 38)
MATCH_MARK = "✓"  # caption suffix of a result with the query's pid
MISMATCH_MARK = "✗"
NUM_EXAMPLE_IMAGES = 3

EXAMPLE_TEXTS = (
    "A man in a red jacket and black trousers carrying a backpack.",
    "A woman with long hair wearing a white shirt and a blue skirt, holding a phone.",
    "A person seen from the back in a grey hoodie and jeans.",
)

DEMO_NOTE = (
    "The demo model was trained on synthetic pedestrians drawn by the project's generator, not on "
    "photos of real people. It knows synthetic people only, so its results on real photos are weak."
)

# Characters that start inline Markdown formatting (emphasis, code, links, tables, LaTeX) in gr.Markdown.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")


# Text safety ---------------------------------------------------------------------------------------


def escape_text(text: str) -> str:
    """Escape user-controlled text for Markdown and toasts, so it is shown as typed, never rendered."""
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=False)


def format_messages(messages: Sequence[str]) -> str:
    """Render engine messages as an escaped Markdown list."""
    return "\n".join(f"- {escape_text(message)}" for message in messages)


# Result tiles --------------------------------------------------------------------------------------


class ImageFileCache:
    """PNG files named by their content hash, each written once through a temporary file and a rename.

    Handlers return these paths instead of PIL images. Gradio 6.31 saves a returned PIL image by
    rewriting a file named by the image's hash on every request, so two concurrent requests with the
    same result could serve a half-written file. Gradio copies a returned path atomically instead.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="hpl-app-images-"))
        self.folder.mkdir(parents=True, exist_ok=True)

    def store(self, image: Image.Image) -> str:
        """Write `image` as PNG unless an identical file exists, and return its path."""
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = buffer.getvalue()
        path = self.folder / f"{hashlib.sha256(data).hexdigest()[:32]}.png"
        if not path.exists():
            descriptor, staging = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            os.replace(staging, path)
        return str(path)


def draw_result_tile(path: str, match: bool | None) -> Image.Image:
    """Load a gallery image as a thumbnail, framed green (match), red (wrong) or not at all (None)."""
    try:
        image = load_image(path)
    except ImageLoadError as err:
        logger.warning("gallery image no longer readable: %s", err)
        image = Image.new("RGB", THUMBNAIL_SIZE, (200, 200, 200))
    tile = ImageOps.pad(image, THUMBNAIL_SIZE, color=(255, 255, 255))
    if match is not None:
        colour = MATCH_COLOUR if match else MISMATCH_COLOUR
        ImageDraw.Draw(tile).rectangle(
            (0, 0, tile.width - 1, tile.height - 1), outline=colour, width=BORDER_WIDTH
        )
    return tile


def caption_result(rank: int, score: float, pid: int, match: bool | None) -> str:
    """Caption of a result tile: rank, score, pid and the verdict when the query's pid is known."""
    pid_text = str(pid) if pid >= 0 else "?"
    verdict = ""
    if match is not None:
        verdict = f" {MATCH_MARK}" if match else f" {MISMATCH_MARK}"
    return f"#{rank} {score:.3f} pid {pid_text}{verdict}"


def render_results(response: SearchResponse, query_pid: int | None) -> list[tuple[Image.Image, str]]:
    """Turn a search response into (tile, caption) items. A `query_pid` of None, 0 or below is unknown."""
    known = query_pid is not None and is_identity_pid(query_pid)
    items = []
    for result in response.results:
        match = (result.pid == query_pid) if known and result.pid >= 0 else None
        if known and result.pid < 0:
            match = False
        items.append(
            (
                draw_result_tile(result.path, match),
                caption_result(result.rank, result.score, result.pid, match),
            )
        )
    return items


def summarise_response(response: SearchResponse, query_pid: int | None) -> str:
    """Status Markdown of a search: hit counts when labels are known, and the engine's notes."""
    lines = [f"**{len(response.results)} results**"]
    if query_pid is not None and is_identity_pid(query_pid) and response.results:
        hits = sum(result.pid == query_pid for result in response.results)
        first = next((r.rank for r in response.results if r.pid == query_pid), None)
        lines.append(
            f"Query pid {query_pid}: {hits} of {len(response.results)} shown results share it"
            + (f", first at rank {first}." if first else ".")
        )
    if response.messages:
        lines.append(format_messages(response.messages))
    return "\n\n".join(lines)


def describe_stats(stats: GalleryStats) -> str:
    """Markdown of the gallery counts."""
    source = "loaded from the cache" if stats.loaded_from_cache else "embedded now"
    lines = [
        f"**{stats.num_images} images** of {stats.num_identities} identities ({source}).",
        f"Folder: `{escape_text(stats.folder or '(uploads only)')}`",
        f"Skipped files: {stats.num_skipped}",
    ]
    lines += [f"- {escape_text(line)}" for line in stats.skipped[:20]]
    if stats.num_skipped > 20:
        lines.append(f"- and {stats.num_skipped - 20} more")
    return "\n\n".join(lines)


def describe_model(engine: ReIDEngine) -> str:
    """Markdown of the model card: checkpoint, backbone, mode, training data and metrics."""
    info = engine.model_info()
    tokens = f"class tokens: {info['num_class_tokens']}"
    if info["flip_test"]:
        tokens += "; each image also seen mirrored"
    lines = [
        f"**Mode:** {escape_text(info['mode'])}",
        f"**Checkpoint:** `{escape_text(str(info['checkpoint']))}`",
        f"**Backbone:** {escape_text(str(info['backbone']))} at {info['image_size'][0]}x{info['image_size'][1]} "
        f"({tokens})",
    ]
    metadata = info.get("metadata") or {}
    for key in ("training_data", "dataset", "preset", "stage"):
        if key in metadata:
            lines.append(
                f"**{escape_text(key.replace('_', ' ').capitalize())}:** {escape_text(str(metadata[key]))}"
            )
    metrics = metadata.get("metrics")
    if isinstance(metrics, dict) and metrics:
        lines.append(format_metrics(metrics))
    if metadata.get("preset") == "demo":
        lines.append(f"*{DEMO_NOTE}*")
    return "\n\n".join(lines)


RANKING_METRICS = (("r1", "R1"), ("r5", "R5"), ("r10", "R10"), ("map", "mAP"), ("minp", "mINP"))
OTHER_METRIC_LABELS = {"token_cosine": "I2I vs T2I class-token cosine (gallery mean)"}


def format_metrics(metrics: dict[str, Any]) -> str:
    """Render checkpoint metrics as Markdown: a task x metric table (percent) for `TASK_metric` keys."""
    ranking_keys = {key for key, _ in RANKING_METRICS}
    tasks = sorted(
        {name.split("_", 1)[0] for name in metrics if "_" in name and name.split("_", 1)[1] in ranking_keys}
    )
    table_keys = {f"{task}_{key}" for task in tasks for key, _ in RANKING_METRICS}
    rows = []
    if tasks and table_keys & set(metrics):
        rows += [
            "| task | " + " | ".join(label for _, label in RANKING_METRICS) + " |",
            "|---|" + "---:|" * 5,
        ]
        for task in tasks:
            cells = [_format_value(metrics.get(f"{task}_{key}")) for key, _ in RANKING_METRICS]
            rows.append(f"| {escape_text(task)} | " + " | ".join(cells) + " |")
        rows.append("")
        rows.append("Percent, on the test split of the checkpoint's training data.")
    others = {name: value for name, value in metrics.items() if name not in table_keys}
    if others:
        rows += ["", "| metric | value |", "|---|---|"]
        rows += [
            f"| {escape_text(OTHER_METRIC_LABELS.get(name, str(name)))} | {escape_text(str(value))} |"
            for name, value in sorted(others.items())
        ]
    return "\n".join(rows).strip()


def _format_value(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "-"


# Handlers ------------------------------------------------------------------------------------------


class AppHandlers:
    """Event handlers of the app, bound to one engine. Each returns the values of its outputs."""

    def __init__(
        self,
        engine: ReIDEngine,
        image_cache: ImageFileCache | None = None,
        folder_roots: Sequence[str | Path] = (),
    ) -> None:
        self.engine = engine
        self.image_cache = image_cache if image_cache is not None else ImageFileCache()
        # Server folders that visitors may index. With none, indexing by path is disabled, because
        # on a public server any readable folder would otherwise become browsable.
        self.folder_roots = tuple(Path(root).resolve() for root in folder_roots)

    def _gallery_items(self, response: SearchResponse, query_pid: int | None) -> list[tuple[str, str]]:
        return [
            (self.image_cache.store(tile), caption) for tile, caption in render_results(response, query_pid)
        ]

    def search_by_text(
        self, text: str | None, k: float, pid: float | None
    ) -> tuple[list[tuple[str, str]], str]:
        """Rank the gallery for a description. A known `pid` (1 or more) marks results right or wrong."""
        query_pid = _optional_pid(pid)
        try:
            response = self.engine.search_text(text or "", k=int(k))
        except ValueError as err:
            return self._reject(err)
        self._show_notes(response)
        return self._gallery_items(response, query_pid), summarise_response(response, query_pid)

    def search_by_image(self, image_file: str | None, k: float) -> tuple[list[tuple[str, str]], str]:
        """Rank the gallery for a photo, marking results by the pid in a Market-style file name."""
        if not image_file:
            return self._reject(ValueError("no query photo: upload an image first"))
        try:
            response = self.engine.search_image(image_file, k=int(k))
        except ValueError as err:
            return self._reject(err)
        query_pid = parse_pid_camid(_original_name(image_file))[0]
        self._show_notes(response)
        return self._gallery_items(response, query_pid), summarise_response(response, query_pid)

    def preview_image(self, image_file: str | None) -> tuple[Image.Image | None, str]:
        """Show an upload as the loader converts it (upright RGB, full size), or the reason it cannot be read."""
        if not image_file:
            return None, ""
        try:
            image = load_image(image_file, name=_original_name(image_file))
        except ImageLoadError as err:
            gr.Warning(escape_text(str(err)))
            return None, escape_text(str(err))
        return image, f"{image.width}x{image.height} RGB"

    def explain_image(
        self, image_file: str | None, text: str | None, query_file: str | None
    ) -> tuple[str | None, str]:
        """Compute the I2I and T2I token maps of an image for a text and/or photo query."""
        if not image_file:
            gr.Warning("No image to explain: upload a gallery image first.")
            return None, "No image to explain: upload a gallery image first."
        try:
            explanation = self.engine.explain(
                image_file, text=text or None, reference_image=query_file or None
            )
        except ValueError as err:
            gr.Warning(escape_text(str(err)))
            return None, escape_text(str(err))
        maps = explanation.maps
        lines = [
            f"I2I cosine to its reference: {maps.i2i_score:.3f}. T2I cosine to its reference: {maps.t2i_score:.3f}.",
            "Red in the difference map: the I2I token looks there more; blue: the T2I token does.",
        ]
        if explanation.messages:
            lines.append(format_messages(explanation.messages))
        return self.image_cache.store(explanation.panel), "\n\n".join(lines)

    def index_gallery_folder(self, folder: str | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        """Embed every image of a server-side folder and make it the gallery."""
        if not folder or not folder.strip():
            gr.Warning("No folder given: type the path of an image folder on the server.")
            return "No folder given."
        refusal = self._check_folder_allowed(folder.strip())
        if refusal:
            gr.Warning(escape_text(refusal))
            return escape_text(refusal)
        try:
            stats = self.engine.index_folder(folder.strip(), progress=_progress_reporter(progress))
        except (ValueError, FileNotFoundError, NotADirectoryError) as err:
            gr.Warning(escape_text(str(err)))
            return escape_text(str(err))
        return describe_stats(stats)

    def _check_folder_allowed(self, folder: str) -> str | None:
        """Return why `folder` may not be indexed, or None when it lies under an allowed root."""
        if not self.folder_roots:
            return (
                "Indexing server folders is disabled. Start the app with --index-root DIR "
                "(or HPL_INDEX_ROOTS) to allow folders under DIR, or upload images below."
            )
        resolved = Path(folder).expanduser().resolve()
        if not any(resolved == root or root in resolved.parents for root in self.folder_roots):
            allowed = ", ".join(str(root) for root in self.folder_roots)
            return f"Folder {folder} is outside the folders this server allows to index ({allowed})."
        return None

    def add_gallery_images(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        """Embed uploaded images and add them to the current gallery."""
        if not files:
            gr.Warning("No images uploaded.")
            return describe_stats(self.engine.stats())
        stats = self.engine.add_images(files, progress=_progress_reporter(progress))
        if stats.num_skipped:
            gr.Warning(f"{stats.num_skipped} files could not be read; see the list below.")
        return describe_stats(stats)

    def show_stats(self) -> str:
        """Return the current gallery counts."""
        return describe_stats(self.engine.stats())

    def _reject(self, err: Exception) -> tuple[list, str]:
        message = escape_text(str(err))
        logger.info("rejected request: %s", err)
        gr.Warning(message)
        return [], message

    def _show_notes(self, response: SearchResponse) -> None:
        for message in response.messages:
            gr.Info(escape_text(message))


def _optional_pid(pid: float | None) -> int | None:
    return None if pid is None or not is_identity_pid(int(pid)) else int(pid)


def _original_name(path: str) -> str:
    return Path(path).name


def _progress_reporter(progress: gr.Progress) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        progress((done, total), desc="Embedding images", unit="images")

    return report


# Layout --------------------------------------------------------------------------------------------


def example_images(engine: ReIDEngine, count: int = NUM_EXAMPLE_IMAGES) -> list[str]:
    """Pick a few gallery images of different identities as example queries."""
    chosen, seen = [], set()
    for path in engine.gallery_paths():
        pid = parse_pid_camid(Path(path).name)[0]
        if pid not in seen:
            chosen.append(path)
            seen.add(pid)
        if len(chosen) == count:
            break
    return chosen


def build_app(engine: ReIDEngine, folder_roots: Sequence[str | Path] = ()) -> gr.Blocks:
    """Build the Gradio interface around a ready engine (nothing is loaded or launched here).

    `folder_roots` lists the server folders under which the Gallery tab may index a folder by path;
    with none, only uploads can extend the gallery.
    """
    handlers = AppHandlers(engine, folder_roots=folder_roots)
    model_events: dict[str, Any] = {
        "concurrency_id": MODEL_CONCURRENCY_ID,
        "concurrency_limit": MODEL_CONCURRENCY_LIMIT,
    }
    examples = example_images(engine)

    with gr.Blocks(title="HPL person search") as app:
        gr.Markdown(
            "# Person search by text or photo\nOne model, two class tokens: I2I for photos, T2I for text."
        )
        with gr.Tab("Text -> Image"):
            _build_text_tab(handlers, model_events)
        with gr.Tab("Image -> Image"):
            _build_image_tab(handlers, model_events, examples)
        with gr.Tab("Grad-CAM"):
            _build_explain_tab(handlers, model_events, examples)
        with gr.Tab("Gallery"):
            _build_gallery_tab(handlers, model_events)
        with gr.Tab("Model"):
            gr.Markdown(describe_model(engine))
    return app


def _results_gallery(elem_id: str) -> gr.Gallery:
    return gr.Gallery(
        label="Results", columns=6, height="auto", object_fit="contain", format="png", elem_id=elem_id
    )


def _build_text_tab(handlers: AppHandlers, model_events: dict[str, Any]) -> None:
    with gr.Row():
        text_query = gr.Textbox(
            label="Description", placeholder="A woman in a red coat carrying a bag", scale=4
        )
        k_slider = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Results (k)", scale=1)
        pid_box = gr.Number(label="Known pid (-1: unknown)", value=-1, precision=0, minimum=-1, scale=1)
    search_button = gr.Button("Search", variant="primary")
    gr.Examples(examples=[[text] for text in EXAMPLE_TEXTS], inputs=[text_query])
    status = gr.Markdown()
    results = _results_gallery("results-text")
    for trigger in (search_button.click, text_query.submit):
        trigger(
            handlers.search_by_text,
            inputs=[text_query, k_slider, pid_box],
            outputs=[results, status],
            api_name="search_text" if trigger == search_button.click else False,
            **model_events,
        )


def _build_image_tab(handlers: AppHandlers, model_events: dict[str, Any], examples: list[str]) -> None:
    with gr.Row():
        query_file = gr.File(
            label="Query photo", file_types=["image"], type="filepath", elem_id="query-photo"
        )
        preview = gr.Image(
            label="As the model reads it", interactive=False, height=256, elem_id="query-preview"
        )
        k_slider = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Results (k)")
    search_button = gr.Button("Search", variant="primary", elem_id="search-image-button")
    if examples:
        gr.Examples(examples=[[path] for path in examples], inputs=[query_file], label="Gallery photos")
    status = gr.Markdown()
    results = _results_gallery("results-image")
    query_file.change(
        handlers.preview_image, inputs=[query_file], outputs=[preview, status], api_name="preview_image"
    )
    search_button.click(
        handlers.search_by_image,
        inputs=[query_file, k_slider],
        outputs=[results, status],
        api_name="search_image",
        **model_events,
    )


def _build_explain_tab(handlers: AppHandlers, model_events: dict[str, Any], examples: list[str]) -> None:
    gr.Markdown(
        "Where each class token looks in one image: the I2I token against a query photo (or the image "
        "itself), the T2I token against a description (or the image itself)."
    )
    with gr.Row():
        image_file = gr.File(
            label="Image to explain", file_types=["image"], type="filepath", elem_id="explain-image"
        )
        query_file = gr.File(label="Query photo (optional)", file_types=["image"], type="filepath")
        text_query = gr.Textbox(label="Description (optional)", lines=2, elem_id="explain-text")
    explain_button = gr.Button("Explain", variant="primary", elem_id="explain-button")
    if examples:
        gr.Examples(examples=[[path] for path in examples], inputs=[image_file], label="Gallery photos")
    panel = gr.Image(
        label="input | I2I token | T2I token | I2I - T2I",
        interactive=False,
        format="png",
        elem_id="explain-panel",
    )
    status = gr.Markdown()
    explain_button.click(
        handlers.explain_image,
        inputs=[image_file, text_query, query_file],
        outputs=[panel, status],
        api_name="explain",
        **model_events,
    )


def _build_gallery_tab(handlers: AppHandlers, model_events: dict[str, Any]) -> None:
    stats = gr.Markdown(handlers.show_stats())
    with gr.Row():
        folder_box = gr.Textbox(label="Image folder on the server", scale=4)
        index_button = gr.Button("Index folder", scale=1)
    with gr.Row():
        upload = gr.File(label="Images to add", file_count="multiple", file_types=["image"], type="filepath")
        add_button = gr.Button("Add images")
    index_button.click(
        handlers.index_gallery_folder,
        inputs=[folder_box],
        outputs=[stats],
        api_name="index_folder",
        **model_events,
    )
    add_button.click(
        handlers.add_gallery_images, inputs=[upload], outputs=[stats], api_name="add_images", **model_events
    )


# Command line ---------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line, with environment variables as the defaults."""
    parser = argparse.ArgumentParser(description="Serve the HPL person search app.")
    parser.add_argument(
        "--checkpoint",
        default=os.environ.get("HPL_CHECKPOINT"),
        help="HPL .safetensors checkpoint: a path or hf-hub:owner/repo/file (env HPL_CHECKPOINT, "
        f"default {DEFAULT_CHECKPOINT})",
    )
    parser.add_argument(
        "--gallery",
        default=os.environ.get("HPL_GALLERY"),
        help=f"folder of gallery images (env HPL_GALLERY, default {DEFAULT_GALLERY})",
    )
    parser.add_argument("--backbone", help="open_clip model name for zero-shot mode instead of a checkpoint")
    parser.add_argument("--pretrained", help="open_clip tag or local weights file for --backbone")
    parser.add_argument(
        "--image-size", type=int, nargs=2, default=(256, 128), metavar=("H", "W"), help="zero-shot input size"
    )
    parser.add_argument(
        "--index-dir", help="where the gallery index is cached (default: next to the gallery)"
    )
    parser.add_argument(
        "--index-root",
        action="append",
        default=[root for root in os.environ.get("HPL_INDEX_ROOTS", "").split(os.pathsep) if root],
        metavar="DIR",
        help="allow the Gallery tab to index folders under DIR (repeatable; env HPL_INDEX_ROOTS, "
        "separated by the path separator); by default no server folder can be indexed from the UI",
    )
    parser.add_argument(
        "--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="address to listen on"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        help="port to listen on",
    )
    return parser.parse_args(argv)


def load_engine(args: argparse.Namespace) -> ReIDEngine:
    """Load the engine the arguments describe; a missing default asset fails with its remedy."""
    gallery = Path(args.gallery) if args.gallery else DEFAULT_GALLERY
    if args.backbone:
        return ReIDEngine.from_backbone(
            args.backbone,
            args.pretrained,
            image_size=tuple(args.image_size),
            gallery=gallery,
            index_dir=args.index_dir,
        )
    if not args.checkpoint and not DEFAULT_CHECKPOINT.is_file():
        raise SystemExit(
            f"The demo checkpoint {DEFAULT_CHECKPOINT} is missing. Produce it with the synthetic training "
            "run, or pass --checkpoint PATH (or set HPL_CHECKPOINT, for example to hf-hub:owner/repo/file)."
        )
    if not gallery.is_dir():
        raise SystemExit(
            f"The gallery folder {gallery} does not exist. Pass --gallery DIR (or set HPL_GALLERY) to a folder of images."
        )
    return ReIDEngine.from_checkpoint(
        args.checkpoint or DEFAULT_CHECKPOINT, gallery=gallery, index_dir=args.index_dir
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Load the model and gallery, then serve the app until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    engine = load_engine(args)
    app = build_app(engine, folder_roots=args.index_root)
    app.queue(default_concurrency_limit=MODEL_CONCURRENCY_LIMIT)
    app.launch(server_name=args.host, server_port=args.port, max_file_size=MAX_FILE_SIZE, show_error=False)


if __name__ == "__main__":
    sys.exit(main())
