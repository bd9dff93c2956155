"""A loaded model plus an indexed gallery: text and photo search, Grad-CAM, gallery (re)indexing.

`ReIDEngine` is what the app, the index CLI and notebooks use. It owns the model, the test transform
and one `GalleryIndex`, and caches the index on disk so that a restart does not re-embed the gallery.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from hpl.checkpoint import checkpoint_fingerprint, load_checkpoint
from hpl.data.images import ImageLoadError, ImageSource, load_image
from hpl.data.transforms import build_test_transform
from hpl.explain import TokenMaps, compute_token_maps, render_panel
from hpl.index import (
    GalleryEntry,
    GalleryIndex,
    IndexMismatchError,
    IndexParams,
    SearchResult,
    file_sha256,
    gallery_entries,
    is_identity_pid,
    listing_digest,
    parse_pid_camid,
    scan_gallery,
)
from hpl.models.hpl import HPLModel, create_model
from hpl.tokenizer import tokenize_with_report

logger = logging.getLogger(__name__)

# Called as progress(done, total) while images are embedded.
ProgressCallback = Callable[[int, int], None]

DEFAULT_BATCH_SIZE = 32
CACHE_ENV = "HPL_INDEX_CACHE"  # overrides the default index cache root


@dataclass(frozen=True)
class SearchResponse:
    """Ranked results of one query and the notes a user should read (truncation, k clipped, ...)."""

    results: tuple[SearchResult, ...]
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class GalleryStats:
    """Counts of the current gallery index and the files left out of it."""

    folder: str | None
    index_dir: str | None
    num_images: int
    num_identities: int  # distinct identity pids parsed from file names (distractors and junk excluded)
    num_skipped: int  # unreadable files and images with non-finite features
    skipped: tuple[str, ...] = ()  # one "path: reason" line per skipped file
    loaded_from_cache: bool = False


@dataclass(frozen=True)
class Explanation:
    """Grad-CAM of one image: the maps, the model-sized input and the side-by-side panel."""

    maps: TokenMaps
    image: np.ndarray  # (H, W, 3) uint8, the input resized to the model
    panel: Image.Image  # input | I2I overlay | T2I overlay | difference
    messages: tuple[str, ...] = ()


@dataclass
class EmbeddedImages:
    """L2-normalised features of the readable images of a file list, and the files left out."""

    paths: list[str]
    i2i: np.ndarray  # (N, E) float32
    t2i: np.ndarray  # (N, E) float32
    skipped: list[str] = field(default_factory=list)  # "path: reason"


class _ImageFiles(Dataset):
    """Gallery files through the test transform; an unreadable file yields None and the reason."""

    def __init__(self, paths: Sequence[str], transform: Callable[[Image.Image], torch.Tensor]) -> None:
        self.paths = list(paths)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[int, torch.Tensor | None, str | None]:
        try:
            return index, self.transform(load_image(self.paths[index])), None
        except ImageLoadError as err:
            return index, None, err.reason


def _collate_files(
    items: list[tuple[int, torch.Tensor | None, str | None]],
) -> tuple[list[int], torch.Tensor | None, list[tuple[int, str]]]:
    kept = [(index, tensor) for index, tensor, _ in items if tensor is not None]
    failed = [(index, reason) for index, tensor, reason in items if tensor is None]
    images = torch.stack([tensor for _, tensor in kept]) if kept else None
    return [index for index, _ in kept], images, failed


def default_cache_root(gallery: Path) -> Path:
    """Return where indexes of `gallery` are cached: $HPL_INDEX_CACHE, else `index-cache` beside it.

    A gallery whose parent folder is not writable falls back to ~/.cache/hpl/index.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    parent = gallery.resolve().parent
    if os.access(parent, os.W_OK):
        return parent / "index-cache"
    return Path.home() / ".cache" / "hpl" / "index"


def default_index_dir(gallery: Path, fingerprint: str, cache_root: Path | None = None) -> Path:
    """Return the cache folder of one (gallery folder, model) pair.

    The folder name carries the gallery's name, a hash of its absolute path and the start of the model
    fingerprint. A changed gallery listing reuses the folder and is detected by the manifest.
    """
    resolved = gallery.resolve()
    path_hash = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    root = cache_root if cache_root is not None else default_cache_root(gallery)
    return root / f"{resolved.name}-{path_hash}-{fingerprint[:12]}"


class ReIDEngine:
    """One model and one gallery index: search by text or photo, explain, (re)index.

    Model calls and index changes hold one lock, so the engine can serve several threads. Build it
    with `from_checkpoint` (a trained HPL model) or `from_backbone` (zero-shot CLIP retrieval).
    """

    def __init__(
        self,
        model: HPLModel,
        fingerprint: str,
        source: str,
        mode: str,
        device: str | torch.device = "cpu",
        batch_size: int = DEFAULT_BATCH_SIZE,
        num_workers: int = 0,
        cache_root: str | os.PathLike[str] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model.to(device).eval()
        self.fingerprint = fingerprint
        self.source = source
        self.mode = mode
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.cache_root = Path(cache_root) if cache_root is not None else None
        self.transform = build_test_transform(model.image_size, model.image_mean, model.image_std)
        self.encode_calls = 0  # forward passes of the image tower, counted for cache tests
        self._lock = threading.RLock()
        self._index: GalleryIndex | None = None
        self._folder: Path | None = None
        self._index_dir: Path | None = None
        self._skipped: list[str] = []
        self._loaded_from_cache = False

    # Construction ---------------------------------------------------------------------------------

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | os.PathLike[str],
        gallery: str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = DEFAULT_BATCH_SIZE,
        cache_root: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> ReIDEngine:
        """Load an HPL checkpoint (a path or `hf-hub:owner/repo/file`) and index `gallery` if given.

        The index is read from `index_dir` (default: a cache folder beside the gallery, see
        `default_index_dir`) when its manifest matches this checkpoint and the gallery listing, and
        rebuilt there otherwise.
        """
        model = load_checkpoint(checkpoint, device=device)
        engine = cls(
            model,
            fingerprint=checkpoint_fingerprint(checkpoint),
            source=str(checkpoint),
            mode="HPL",
            device=device,
            batch_size=batch_size,
            cache_root=cache_root,
        )
        if gallery is not None:
            engine.index_folder(gallery, index_dir=index_dir, progress=progress)
        return engine

    @classmethod
    def from_backbone(
        cls,
        backbone: str,
        pretrained: str | None,
        image_size: tuple[int, int] = (256, 128),
        gallery: str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = DEFAULT_BATCH_SIZE,
        cache_root: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> ReIDEngine:
        """Build a zero-shot engine: plain CLIP retrieval with an open_clip backbone, no HPL training.

        Both class tokens start from CLIP's class token, so I2I and T2I search use the same image
        feature. `pretrained` is an open_clip tag or a local weights file; None gives random weights.
        """
        model = create_model(backbone, pretrained=pretrained, num_labels=0, image_size=tuple(image_size))
        engine = cls(
            model,
            fingerprint=_backbone_fingerprint(backbone, pretrained, model.image_size),
            source=f"{backbone} ({pretrained or 'random init'})",
            mode="zero-shot",
            device=device,
            batch_size=batch_size,
            cache_root=cache_root,
        )
        if gallery is not None:
            engine.index_folder(gallery, index_dir=index_dir, progress=progress)
        return engine

    def model_info(self) -> dict[str, Any]:
        """Describe the model: source, mode, backbone, input size, class tokens, flip test and metadata."""
        config = self.model.config
        return {
            "checkpoint": self.source,
            "mode": self.mode,
            "backbone": config.backbone,
            "image_size": tuple(self.model.image_size),
            "num_class_tokens": self.model.visual.num_class_tokens,
            "flip_test": config.flip_test,
            "num_labels": config.num_labels,
            "fingerprint": self.fingerprint,
            "metadata": dict(getattr(self.model, "checkpoint_metadata", {}) or {}),
        }

    # Embedding ------------------------------------------------------------------------------------

    @torch.no_grad()
    def embed_files(self, paths: Sequence[str], progress: ProgressCallback | None = None) -> EmbeddedImages:
        """Embed image files in batches; unreadable files and non-finite features are skipped and listed."""
        dataset = _ImageFiles(paths, self.transform)
        loader = DataLoader(
            dataset,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            shuffle=False,
            collate_fn=_collate_files,
        )
        kept, i2i, t2i, skipped = [], [], [], []
        done = 0
        for indices, images, failed in loader:
            skipped += [f"{paths[index]}: {reason}" for index, reason in failed]
            if images is not None:
                features = self._encode_batch(images)
                finite = np.isfinite(features.i2i).all(axis=1) & np.isfinite(features.t2i).all(axis=1)
                skipped += [
                    f"{paths[i]}: non-finite features"
                    for i, ok in zip(indices, finite, strict=True)
                    if not ok
                ]
                kept += [paths[i] for i, ok in zip(indices, finite, strict=True) if ok]
                i2i.append(features.i2i[finite])
                t2i.append(features.t2i[finite])
            done += len(indices) + len(failed)
            if progress is not None:
                progress(done, len(paths))
        for line in skipped:
            logger.warning("skipped gallery file %s", line)
        width = self.model.embed_dim
        return EmbeddedImages(
            paths=kept,
            i2i=np.concatenate(i2i) if i2i else np.zeros((0, width), np.float32),
            t2i=np.concatenate(t2i) if t2i else np.zeros((0, width), np.float32),
            skipped=skipped,
        )

    def _encode_batch(self, images: torch.Tensor) -> EmbeddedImages:
        with self._lock:
            self.encode_calls += 1
            features = self.model.encode_image(images.to(self.device), normalize=True)
        return EmbeddedImages(
            paths=[],
            i2i=features.i2i.float().cpu().numpy(),
            t2i=features.t2i.float().cpu().numpy(),
        )

    def _load_query_image(self, image: ImageSource) -> tuple[Image.Image, torch.Tensor]:
        """Load a query (path, bytes or PIL image) as upright RGB and its model input (3, H, W)."""
        loaded = load_image(image, name=Path(image).name if isinstance(image, (str, Path)) else None)
        return loaded, self.transform(loaded)

    @torch.no_grad()
    def encode_query_image(self, image: ImageSource) -> torch.Tensor:
        """Return the L2-normalised I2I feature (E,) of a query photo."""
        _, tensor = self._load_query_image(image)
        features = self._encode_batch(tensor.unsqueeze(0))
        return _checked_query(torch.from_numpy(features.i2i[0]), "query photo")

    @torch.no_grad()
    def encode_query_text(self, text: str) -> tuple[torch.Tensor, list[str]]:
        """Return the L2-normalised T2I feature (E,) of a description and notes about truncation."""
        cleaned = (text or "").strip()
        if not cleaned:
            raise ValueError("the query text is empty: type a description of the person")
        tokenized = tokenize_with_report([cleaned], self.model.context_length)
        messages = []
        if tokenized.truncated[0]:
            messages.append(
                f"The query was truncated to {self.model.context_length} tokens; the end of the text was not used."
            )
        with self._lock:
            feature = self.model.encode_text(tokenized.tokens.to(self.device), normalize=True)[0]
        return _checked_query(feature.float().cpu(), "query text"), messages

    # Search ---------------------------------------------------------------------------------------

    def search_text(self, text: str, k: int = 10) -> SearchResponse:
        """Rank the gallery's T2I features against a description; raises ValueError for empty text."""
        k = _check_k(k)
        feature, messages = self.encode_query_text(text)
        return self._search(feature, "t2i", k, messages)

    def search_image(self, image: ImageSource, k: int = 10) -> SearchResponse:
        """Rank the gallery's I2I features against a photo (path, bytes or PIL image).

        Raises ImageLoadError (a ValueError) for an unreadable image, naming it and the cause.
        """
        k = _check_k(k)
        feature = self.encode_query_image(image)
        query_hash = _content_sha256(image)
        if query_hash is None:
            return self._search(feature, "i2i", k, [])
        # A photo taken from the gallery would find itself at rank 1: fetch one more and drop it.
        response = self._search(feature, "i2i", k, [], extra=1)
        return self._without_query_file(response, query_hash, k)

    def _search(
        self, feature: torch.Tensor, task: str, k: int, messages: list[str], extra: int = 0
    ) -> SearchResponse:
        with self._lock:
            index = self._index
            size = 0 if index is None else len(index)
            if size == 0:
                return SearchResponse(
                    results=(),
                    messages=(*messages, "The gallery is empty: index a folder or add images first."),
                )
            if k > size:
                messages = [
                    *messages,
                    f"k={k} is more than the {size} gallery images, so all of them are shown.",
                ]
            hits = index.search(feature.numpy()[None, :], task=task, k=min(k + extra, size))[0]
        results = tuple(dataclasses.replace(hit, path=self._absolute(hit.path)) for hit in hits)
        return SearchResponse(results=results, messages=tuple(messages))

    def _without_query_file(self, response: SearchResponse, query_hash: str, k: int) -> SearchResponse:
        """Drop gallery entries with the query's exact content and renumber the ranks."""
        with self._lock:
            entries = self._index.entries if self._index is not None else []
            hashes = {self._absolute(entry.path): entry.sha256 for entry in entries}
        kept = [result for result in response.results if hashes.get(result.path) != query_hash]
        messages = list(response.messages)
        if len(kept) < len(response.results):
            messages.append("The query photo itself is in the gallery and was left out of the results.")
        results = tuple(
            dataclasses.replace(result, rank=rank) for rank, result in enumerate(kept[:k], start=1)
        )
        return SearchResponse(results=results, messages=tuple(messages))

    # Explanation ----------------------------------------------------------------------------------

    def explain(
        self, image: ImageSource, text: str | None = None, reference_image: ImageSource | None = None
    ) -> Explanation:
        """Compute the I2I and T2I Grad-CAM maps of `image` (see `hpl.explain.compute_token_maps`).

        The I2I map is taken against `reference_image` (a query photo) and the T2I map against `text`;
        each falls back to the image's own feature when its query is missing.
        """
        loaded, tensor = self._load_query_image(image)
        messages: list[str] = []
        t2i_reference = None
        if text is not None and text.strip():
            t2i_reference, messages = self.encode_query_text(text)
        else:
            messages.append("No description: the T2I map is taken against the image's own T2I feature.")
        i2i_reference = None
        if reference_image is not None:
            i2i_reference = self.encode_query_image(reference_image)
        else:
            messages.append("No query photo: the I2I map is taken against the image's own I2I feature.")

        with self._lock:
            maps = compute_token_maps(self.model, tensor.to(self.device), i2i_reference, t2i_reference)
        height, width = self.model.image_size
        resized = np.asarray(loaded.resize((width, height), Image.Resampling.BICUBIC))
        return Explanation(
            maps=maps, image=resized, panel=render_panel(resized, maps), messages=tuple(messages)
        )

    # Gallery --------------------------------------------------------------------------------------

    def index_folder(
        self,
        folder: str | os.PathLike[str],
        index_dir: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
        params: IndexParams | None = None,
    ) -> GalleryStats:
        """Make `folder` the gallery: load its cached index, or embed every image and save the index.

        A cached index built with another model or from another version of the folder is detected
        from its manifest and rebuilt. Unreadable images are skipped and counted, never fatal.
        """
        root = Path(folder).resolve()
        files = scan_gallery(root)
        digest = listing_digest(files)
        target = (
            Path(index_dir)
            if index_dir is not None
            else default_index_dir(root, self.fingerprint, self.cache_root)
        )

        index = self._load_cached(target, digest)
        loaded_from_cache = index is not None
        if index is None:
            index, skipped = self._build_index(root, files, digest, progress, params)
            self._save_index(index, target)
        else:
            indexed = {entry.path for entry in index.entries}
            skipped = [
                f"{root / file.path}: skipped when the index was built"
                for file in files
                if file.path not in indexed
            ]
            if progress is not None:
                progress(len(files), len(files))

        with self._lock:
            self._index, self._folder, self._index_dir = index, root, target
            self._skipped, self._loaded_from_cache = skipped, loaded_from_cache
        if index.is_empty:
            logger.warning("gallery %s has no readable images", root)
        return self.stats()

    def use_index(self, index: GalleryIndex, index_dir: str | os.PathLike[str] | None = None) -> None:
        """Search a ready index, such as one loaded with `GalleryIndex.load`; result paths stay as stored.

        Raises ValueError when the index was built with another model.
        """
        if index.fingerprint and index.fingerprint != self.fingerprint:
            raise ValueError(
                f"the index was built with model {index.fingerprint[:12]}..., not with the loaded "
                f"{self.fingerprint[:12]}...; pass the checkpoint the index was built with"
            )
        with self._lock:
            self._index, self._folder = index, None
            self._index_dir = Path(index_dir) if index_dir is not None else None
            self._skipped, self._loaded_from_cache = [], True

    def add_images(
        self, files: Sequence[str | os.PathLike[str]], progress: ProgressCallback | None = None
    ) -> GalleryStats:
        """Embed image files and append them to the current gallery, which may be empty.

        Added images live in memory with their absolute paths, so they are not part of the cached
        index of the folder, and a restart drops them. Unreadable files are skipped and counted.
        """
        paths = [str(Path(file).resolve()) for file in files]
        embedded = self.embed_files(paths, progress)
        entries = [GalleryEntry(path, *parse_pid_camid(Path(path).name)) for path in embedded.paths]
        with self._lock:
            if self._index is None:
                self._index = GalleryIndex(self.model.embed_dim, fingerprint=self.fingerprint)
            self._index.add(entries, embedded.i2i, embedded.t2i)
            self._skipped = [*self._skipped, *embedded.skipped]
        logger.info("added %d images to the gallery (%d skipped)", len(entries), len(embedded.skipped))
        return self.stats()

    def stats(self) -> GalleryStats:
        """Return the counts of the current gallery."""
        with self._lock:
            entries = self._index.entries if self._index is not None else []
            return GalleryStats(
                folder=str(self._folder) if self._folder is not None else None,
                index_dir=str(self._index_dir) if self._index_dir is not None else None,
                num_images=len(entries),
                num_identities=len({entry.pid for entry in entries if is_identity_pid(entry.pid)}),
                num_skipped=len(self._skipped),
                skipped=tuple(self._skipped),
                loaded_from_cache=self._loaded_from_cache,
            )

    def gallery_paths(self) -> list[str]:
        """Return the absolute paths of the gallery images, in index order."""
        with self._lock:
            entries = self._index.entries if self._index is not None else []
            return [self._absolute(entry.path) for entry in entries]

    def _absolute(self, path: str) -> str:
        return str(self._folder / path) if self._folder is not None else path

    def _load_cached(self, target: Path, digest: str) -> GalleryIndex | None:
        try:
            index = GalleryIndex.load(
                target, expected_fingerprint=self.fingerprint, expected_listing_digest=digest
            )
        except FileNotFoundError:
            logger.info("no cached gallery index at %s, building one", target)
            return None
        except IndexMismatchError as err:
            logger.warning("rebuilding the gallery index: %s", err)
            return None
        except (ValueError, OSError, RuntimeError) as err:  # faiss raises RuntimeError on a corrupt file
            logger.warning("rebuilding the unreadable gallery index at %s: %s", target, err)
            return None
        logger.info("loaded the cached gallery index %s (%d images)", target, len(index))
        return index

    def _build_index(
        self,
        root: Path,
        files: Sequence[Any],
        digest: str,
        progress: ProgressCallback | None,
        params: IndexParams | None,
    ) -> tuple[GalleryIndex, list[str]]:
        paths = [str(root / file.path) for file in files]
        logger.info("embedding %d gallery images from %s", len(paths), root)
        embedded = self.embed_files(paths, progress)
        kept = set(embedded.paths)
        kept_files = [file for file, path in zip(files, paths, strict=True) if path in kept]
        entries = gallery_entries(root, kept_files)
        index = GalleryIndex(
            self.model.embed_dim, params, fingerprint=self.fingerprint, listing_digest=digest
        )
        index.add(entries, embedded.i2i, embedded.t2i)
        return index, embedded.skipped

    def _save_index(self, index: GalleryIndex, target: Path) -> None:
        try:
            index.save(target)
        except OSError as err:
            logger.warning(
                "could not cache the gallery index at %s (%s); it is kept in memory only", target, err
            )


def _check_k(k: int) -> int:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a whole number of results of at least 1, got {k!r}")
    return int(k)


def _checked_query(feature: torch.Tensor, what: str) -> torch.Tensor:
    if not torch.isfinite(feature).all():
        raise ValueError(
            f"the {what} gave a non-finite feature (NaN or inf); the model weights may be broken"
        )
    return feature


def _backbone_fingerprint(backbone: str, pretrained: str | None, image_size: tuple[int, int]) -> str:
    """Identify a zero-shot model: backbone, input size and the weights (file hash or open_clip tag)."""
    weights = pretrained or "random"
    if pretrained is not None and Path(pretrained).is_file():
        weights = checkpoint_fingerprint(pretrained)
    text = f"zero-shot|{backbone}|{weights}|{image_size[0]}x{image_size[1]}"
    return hashlib.sha256(text.encode()).hexdigest()


def _content_sha256(image: ImageSource) -> str | None:
    """Return the SHA-256 of a query given as a file path or bytes; None for an in-memory image."""
    if isinstance(image, bytes | bytearray | memoryview):
        return hashlib.sha256(image).hexdigest()
    if isinstance(image, str | os.PathLike) and Path(image).is_file():
        return file_sha256(Path(image))
    return None
