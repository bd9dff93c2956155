"""Resumable training state in one safetensors file: model, optimizer, RNG and progress.

The file is written to a temporary name and renamed, so a run killed at any moment leaves either
the previous complete state or the new one, never a half-written file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from hpl.checkpoint import write_safetensors_atomically
from hpl.models.hpl import HPLConfig, HPLModel, build_model

FORMAT = "hpl-train-state/1"


@dataclass
class Progress:
    """Progress of a run: finished stages, the current stage and its completed epochs."""

    completed_stages: list[str] = field(default_factory=list)
    stage: str = ""
    epoch: int = 0  # epochs of `stage` completed
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per finished epoch


def save_state(
    path: Path, model: HPLModel, optimizer: torch.optim.Optimizer | None, progress: Progress
) -> None:
    """Write model weights, optimizer state, the torch RNG state and `progress` atomically."""
    tensors = {
        f"model/{name}": t.detach().cpu().contiguous().clone() for name, t in model.state_dict().items()
    }
    tensors["rng/torch"] = torch.get_rng_state()
    optimizer_groups, optimizer_scalars = [], {}
    if optimizer is not None:
        state = optimizer.state_dict()
        optimizer_groups = [
            {k: v for k, v in group.items() if k != "params"} | {"params": group["params"]}
            for group in state["param_groups"]
        ]
        for index, entries in state["state"].items():
            for key, value in entries.items():
                if torch.is_tensor(value):
                    tensors[f"optimizer/{index}/{key}"] = value.detach().cpu().contiguous().clone()
                else:
                    optimizer_scalars[f"{index}/{key}"] = value
    header = {
        "format": FORMAT,
        "config": json.dumps(model.config.to_dict()),
        "optimizer_groups": json.dumps(optimizer_groups),
        "optimizer_scalars": json.dumps(optimizer_scalars),
        "progress": json.dumps(progress.__dict__),
    }
    write_safetensors_atomically(tensors, path, header)


@dataclass
class LoadedState:
    """A training state read back from disk."""

    model: HPLModel
    progress: Progress
    optimizer_state: dict[str, Any] | None


def load_state(path: Path) -> LoadedState:
    """Read a state written by `save_state`; restores the torch RNG state as a side effect."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as err:
        raise ValueError(f"training state {str(path)!r} is unreadable: {err}") from err
    if header.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a training state (format {header.get('format')!r})")

    model = build_model(HPLConfig.from_dict(json.loads(header["config"])), load_pretrained=False)
    model.load_state_dict({k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")})
    torch.set_rng_state(tensors["rng/torch"])

    groups = json.loads(header["optimizer_groups"])
    optimizer_state = None
    if groups:
        state: dict[int, dict[str, Any]] = {}
        for name, tensor in tensors.items():
            if name.startswith("optimizer/"):
                _, index, key = name.split("/", 2)
                state.setdefault(int(index), {})[key] = tensor
        for name, value in json.loads(header["optimizer_scalars"]).items():
            index, key = name.split("/", 1)
            state.setdefault(int(index), {})[key] = value
        optimizer_state = {"state": state, "param_groups": groups}
    return LoadedState(
        model=model, progress=Progress(**json.loads(header["progress"])), optimizer_state=optimizer_state
    )
