"""Safetensors checkpoints of HPL models: weights, the model config and free-form metadata.

Nothing in a checkpoint is executed: safetensors stores raw tensors and a JSON header, and pickle
files (PyTorch's `.pt`/`.pth`/`.bin`) are rejected before any byte of them is interpreted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from hpl.models.hpl import HPLConfig, HPLModel, build_model

logger = logging.getLogger(__name__)

FORMAT = "hpl-checkpoint/1"
HF_HUB_PREFIX = "hf-hub:"
_PICKLE_SIGNATURES = (b"PK\x03\x04", b"\x80")  # zip archive of torch.save, or a raw pickle stream


@dataclass(frozen=True)
class CheckpointInfo:
    """Config and metadata stored in a checkpoint's header, read without building the model."""

    path: Path
    config: HPLConfig
    metadata: dict[str, Any]


def save_checkpoint(
    model: HPLModel, path: str | os.PathLike[str], dtype: torch.dtype | None = None, **metadata: Any
) -> Path:
    """Write `model` to a `.safetensors` file atomically (temporary file, then rename).

    `dtype` (for example torch.float16) stores floating-point tensors at lower precision; loading
    casts them back to the model's dtype. `metadata` must be JSON-serialisable (metrics, training
    data, the stage reached, ...).
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoint path must end in .safetensors, got {str(path)!r}")
    try:
        metadata_json = json.dumps(metadata, sort_keys=True)
    except TypeError as err:
        raise ValueError(f"checkpoint metadata must be JSON-serialisable: {err}") from err

    tensors = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().to("cpu")
        if dtype is not None and tensor.is_floating_point():
            tensor = tensor.to(dtype)
        tensors[name] = tensor.contiguous().clone()
    header = {"format": FORMAT, "config": json.dumps(model.config.to_dict()), "metadata": metadata_json}

    write_safetensors_atomically(tensors, path, header)
    logger.info("saved checkpoint %s (%d tensors)", path, len(tensors))
    return path


def write_safetensors_atomically(
    tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]
) -> None:
    """Write a safetensors file through a temporary sibling and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def resolve_checkpoint_path(source: str | os.PathLike[str]) -> Path:
    """Return a local path for `source`: a file path or `hf-hub:owner/repo/path/in/repo.safetensors`."""
    text = str(source)
    if not text.startswith(HF_HUB_PREFIX):
        path = Path(text)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {text!r} not found: pass an existing .safetensors file")
        return path

    parts = text[len(HF_HUB_PREFIX) :].split("/")
    if len(parts) < 3 or not all(parts):
        raise ValueError(f"expected hf-hub:owner/repo/path/to/file.safetensors, got {text!r}")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as err:
        raise FileNotFoundError(
            f"could not fetch {filename!r} from the Hugging Face Hub repository {repo_id!r} ({err}); "
            "check the name and network access, or download the file and pass its local path"
        ) from err


def read_checkpoint_info(source: str | os.PathLike[str]) -> CheckpointInfo:
    """Read the config and metadata of a checkpoint without loading its tensors."""
    path = resolve_checkpoint_path(source)
    _reject_pickle(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise ValueError(
            f"{str(path)!r} is not a readable safetensors checkpoint (truncated or corrupt?): {err}"
        ) from err
    return CheckpointInfo(
        path=path, config=_config_from_header(path, header), metadata=_metadata(path, header)
    )


def load_checkpoint(source: str | os.PathLike[str], device: str | torch.device = "cpu") -> HPLModel:
    """Rebuild the HPL model stored in `source` (a path or `hf-hub:...`), in eval mode on `device`."""
    info = read_checkpoint_info(source)
    try:
        with safe_open(str(info.path), framework="pt", device="cpu") as handle:
            state = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as err:
        raise ValueError(f"{str(info.path)!r} is truncated or corrupt: {err}") from err

    model = build_model(info.config, load_pretrained=False)
    _load_state(model, state, info.path)
    model.checkpoint_metadata = info.metadata
    logger.info(
        "loaded checkpoint %s (%s, %d labels)", info.path, info.config.backbone, info.config.num_labels
    )
    return model.to(device).eval()


def checkpoint_fingerprint(source: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Return the SHA-256 of a checkpoint file, identifying the weights an index was built with."""
    digest = hashlib.sha256()
    with open(resolve_checkpoint_path(source), "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _reject_pickle(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(9)
    if not head:
        raise ValueError(f"checkpoint {str(path)!r} is empty")
    # A safetensors file starts with its header length (8 bytes, little-endian) and then the JSON
    # header. That length can begin with the byte 0x80 of a pickle stream, so the layout is checked first.
    if head[8:9] == b"{":
        return
    if head.startswith(_PICKLE_SIGNATURES):
        raise ValueError(
            f"{str(path)!r} is a pickle-based PyTorch file; it is not loaded because unpickling can run "
            "code. Convert trusted weights with safetensors.torch.save_file, or use an HPL .safetensors checkpoint"
        )


def _config_from_header(path: Path, header: dict[str, str]) -> HPLConfig:
    if header.get("format") != FORMAT:
        raise ValueError(
            f"{str(path)!r} is a safetensors file but not an HPL checkpoint (format {header.get('format')!r}, "
            f"expected {FORMAT!r}); plain CLIP weights go to pretrained=..., not to load_checkpoint"
        )
    try:
        return HPLConfig.from_dict(json.loads(header["config"]))
    except (KeyError, json.JSONDecodeError, TypeError, ValueError) as err:
        raise ValueError(f"{str(path)!r} has an invalid model config: {err}") from err


def _metadata(path: Path, header: dict[str, str]) -> dict[str, Any]:
    try:
        return json.loads(header.get("metadata", "{}"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} has invalid metadata JSON: {err}") from err


def _load_state(model: HPLModel, state: dict[str, torch.Tensor], path: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(
        name for name in set(expected) & set(state) if expected[name].shape != state[name].shape
    )
    if missing or unexpected or wrong_shape:
        raise ValueError(
            f"{str(path)!r} does not match its own model config: "
            f"{len(missing)} missing tensors {missing[:5]}, {len(unexpected)} unexpected {unexpected[:5]}, "
            f"{len(wrong_shape)} with a wrong shape {wrong_shape[:5]}"
        )
    model.load_state_dict(state, strict=True)
