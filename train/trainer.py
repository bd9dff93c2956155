"""One training loop for every stage, with evaluation, checkpoints, resume and DistributedDataParallel."""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from hpl.checkpoint import load_checkpoint, save_checkpoint
from hpl.data.pairs import PairDataset
from hpl.data.transforms import build_test_transform, build_train_transform
from hpl.evaluation import Evaluation, evaluate_model
from hpl.models.hpl import HPLModel, build_model
from train.config import StageConfig, TrainConfig, check_resumable, load_config, save_config
from train.data import (
    MixedLoader,
    build_mixed_loader,
    build_pair_loader,
    find_look_alikes,
    load_training_pair,
)
from train.plots import plot_cmc, plot_losses
from train.stages import (
    ContrastiveStage,
    IdentityContrastiveStage,
    LossSettings,
    PromptStage,
    RepresentationStage,
    Stage,
)
from train.state import Progress, load_state, save_state

logger = logging.getLogger(__name__)

STATE_FILE = "checkpoints/last.safetensors"


@dataclass(frozen=True)
class Runtime:
    """Device and process-group facts of this process."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """True on the process that evaluates and writes files."""
        return self.rank == 0


def setup_runtime(device: str) -> Runtime:
    """Pick the device and join the process group when launched by torchrun."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    target = torch.device(device)
    if target.type == "cuda" and world_size > 1:
        target = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(target)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if target.type == "cuda" else "gloo")
    return Runtime(device=target, rank=rank, world_size=world_size)


class StageLosses(nn.Module):
    """The module DistributedDataParallel wraps: its forward returns the stage's named losses."""

    def __init__(self, model: HPLModel, stage: Stage) -> None:
        super().__init__()
        self.model = model
        self.stage = stage

    def forward(self, batch: Any) -> dict[str, torch.Tensor]:
        return self.stage.losses(self.model, batch)


def lr_factor(config: StageConfig, epoch: int) -> float:
    """Return the multiplier of the base learning rate for 0-based `epoch`."""
    if epoch < config.warmup_epochs:
        start = config.warmup_lr / config.lr
        return start + (1.0 - start) * epoch / config.warmup_epochs
    if config.schedule == "constant":
        return 1.0
    if config.schedule == "exponential":
        return config.lr_decay ** (epoch - config.warmup_epochs)
    if config.schedule == "cosine":
        span = max(1, config.epochs - config.warmup_epochs)
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - config.warmup_epochs) / span))
    raise ValueError(f"unknown schedule {config.schedule!r}: expected cosine, exponential or constant")


def _group_lr_gate(group_name: str, config: StageConfig, epoch: int) -> float:
    """Return the learning-rate factor of a parameter group: 0 for encoders in head-only epochs, else 1.

    Gradients through random classifiers can distort pretrained features, so the heads may train
    alone first: LP-FT (Kumar et al., "Fine-Tuning can Distort Pretrained Features and Underperform
    Out-of-Distribution", 2022).
    """
    is_encoder = group_name.split("-")[0] == "encoders"
    return 0.0 if is_encoder and epoch < config.head_only_epochs else 1.0


def check_resume(config: TrainConfig) -> None:
    """Raise ValueError when `config` differs from the saved config of its run in a key that trains.

    Runs without a saved state pass, because resuming them starts from scratch.
    """
    saved = config.run_dir / "config.yaml"
    if (config.run_dir / STATE_FILE).is_file() and saved.is_file():
        check_resumable(load_config(saved), config)


class Trainer:
    """Runs stage 0 (when configured), stage I (with hierarchical prompts) and stage II, then evaluates."""

    def __init__(
        self, config: TrainConfig, resume: bool = False, stages: tuple[str, ...] | None = None
    ) -> None:
        self.config = config
        self.resume = resume
        self.only_stages = stages
        self.runtime = setup_runtime(config.device)
        self.run_dir = config.run_dir
        self.state_path = self.run_dir / STATE_FILE
        self.settings = LossSettings(**config.loss.__dict__)
        self.skipped_images = 0

    # Set-up ------------------------------------------------------------------------------------

    def check_resume(self) -> None:
        """Raise ValueError when this run resumes a saved state with a config that changes what it trains."""
        if self.resume:
            check_resume(self.config)

    def _load_data(self) -> PairDataset:
        data = self.config.data
        return load_training_pair(
            data.t2i_dataset,
            data.t2i_root,
            data.i2i_dataset,
            data.i2i_root,
            synthetic_preset=data.synthetic_preset,
            synthetic_seed=data.synthetic_seed,
            synthetic_overrides=data.synthetic_overrides,
        )

    def _initial_model(self, pair: PairDataset) -> tuple[HPLModel, Progress, dict | None]:
        if self.resume and self.state_path.is_file():
            loaded = load_state(self.state_path)
            logger.info(
                "resuming from %s: stages done %s, %s at epoch %d",
                self.state_path,
                loaded.progress.completed_stages,
                loaded.progress.stage or "-",
                loaded.progress.epoch,
            )
            return loaded.model, loaded.progress, loaded.optimizer_state
        if self.resume:
            logger.info("no state at %s: starting from scratch", self.state_path)

        model = build_model(self.config.model.to_hpl_config(pair.num_labels))
        progress = Progress()
        if self.config.init_from:
            _load_encoders(model, self.config.init_from)
            progress.completed_stages.append("stage0")
        return model, progress, None

    def _planned_stages(self, model: HPLModel) -> list[tuple[Stage, StageConfig]]:
        config = self.config
        planned: list[tuple[Stage, StageConfig]] = []
        if config.stage0.epochs > 0:
            stage0 = IdentityContrastiveStage if self.settings.stage0_identities else ContrastiveStage
            planned.append((stage0(self.settings), config.stage0))
        if model.prompts is not None and config.stage1.epochs > 0:
            planned.append((PromptStage(self.settings), config.stage1))
        if config.stage2.epochs > 0:
            planned.append((RepresentationStage(self.settings), config.stage2))
        if self.only_stages:
            planned = [item for item in planned if item[0].name in self.only_stages]
        return planned

    # Main loop ---------------------------------------------------------------------------------

    def run(self) -> Evaluation:
        """Train every planned stage not yet completed, then evaluate and write the final checkpoint.

        Returns the final evaluation; on the processes of a distributed run other than the first, an
        empty one.
        """
        config, runtime = self.config, self.runtime
        self.check_resume()
        torch.manual_seed(config.seed)
        if runtime.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_config(config, self.run_dir / "config.yaml")

        pair = self._load_data()
        model, progress, optimizer_state = self._initial_model(pair)
        model.to(runtime.device)
        self.pair = pair

        for stage, stage_config in self._planned_stages(model):
            if stage.name in progress.completed_stages:
                continue
            start_epoch = progress.epoch if progress.stage == stage.name else 0
            state = optimizer_state if progress.stage == stage.name else None
            self._train_stage(model, stage, stage_config, progress, start_epoch, state)
            optimizer_state = None

        evaluation = self.evaluate(model) if runtime.is_main else Evaluation({})
        if runtime.is_main:
            self._write_outputs(model, progress, evaluation)
        return evaluation

    def _train_stage(
        self,
        model: HPLModel,
        stage: Stage,
        stage_config: StageConfig,
        progress: Progress,
        start_epoch: int,
        optimizer_state: dict | None,
    ) -> None:
        runtime = self.runtime
        groups = stage.parameter_groups(
            model, stage_config.lr, prompt_lr=stage_config.prompt_lr, head_lr_scale=stage_config.head_lr_scale
        )
        model.requires_grad_(False)
        for group in groups:
            for param in group.params:
                param.requires_grad_(True)
        model.bnneck.bias.requires_grad_(False)
        optimizer = build_optimizer(groups, stage_config)
        base_lrs = [group["lr"] for group in optimizer.param_groups]  # before a resumed state sets them
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)

        loader = self._loader(stage, model)
        stage.prepare(model, runtime.device)
        module: nn.Module = StageLosses(model, stage)
        if runtime.world_size > 1:
            module = nn.parallel.DistributedDataParallel(module, find_unused_parameters=True)
        weights = stage.weights(model)
        logger.info(
            "%s: epochs %d-%d, %d steps each, losses %s",
            stage.name,
            start_epoch + 1,
            stage_config.epochs,
            len(loader),
            weights,
        )

        progress.stage = stage.name
        model.train()
        for epoch in range(start_epoch, stage_config.epochs):
            factor = lr_factor(stage_config, epoch)
            for group, base_lr in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = base_lr * factor * _group_lr_gate(group["name"], stage_config, epoch)
            self._group_look_alikes(model, stage, loader, epoch)
            row = self._train_epoch(module, stage, loader, optimizer, weights, epoch, stage_config.epochs)
            row.update(stage=stage.name, epoch=epoch + 1, lr=optimizer.param_groups[0]["lr"])
            if (
                self.config.eval.every
                and (epoch + 1) % self.config.eval.every == 0
                and epoch + 1 < stage_config.epochs
                and runtime.is_main
            ):
                row.update(self.evaluate(model).metrics())
            progress.epoch = epoch + 1
            progress.history.append(row)
            if runtime.is_main:
                save_state(self.state_path, model, optimizer, progress)
                self._write_metrics(progress.history)
            _barrier(runtime)

        stage.finish(model)
        progress.completed_stages.append(stage.name)
        progress.stage, progress.epoch = "", 0
        if runtime.is_main:
            save_checkpoint(
                model, self.run_dir / "checkpoints" / f"{stage.name}.safetensors", stage=stage.name
            )
            save_state(self.state_path, model, None, progress)
        _barrier(runtime)

    def _loader(self, stage: Stage, model: HPLModel) -> Any:
        config, runtime = self.config, self.runtime
        transform = build_train_transform(
            model.image_size,
            model.image_mean,
            model.image_std,
            flip_prob=config.data.flip_prob,
            padding=config.data.padding,
            erasing_prob=config.data.erasing_prob,
        )
        common = {
            "image_size": model.image_size,
            "context_length": model.context_length,
            "num_workers": config.data.num_workers,
            "seed": config.seed,
            "rank": runtime.rank,
            "world_size": runtime.world_size,
        }
        if not stage.mixed_batches:
            return build_pair_loader(self.pair, transform, batch_size=config.batch.stage0_size, **common)
        return build_mixed_loader(
            self.pair,
            transform,
            t2i_size=config.batch.stage0_size if stage.name == "stage0" else config.batch.t2i_size,
            i2i_size=config.batch.i2i_size,
            instances=config.batch.instances,
            **common,
        )

    def _group_look_alikes(self, model: HPLModel, stage: Stage, loader: Any, epoch: int) -> None:
        """Rebuild this epoch's PK batches from groups of look-alike identities.

        The group size is `batch.stage0_groups` in stage 0 and `batch.stage2_groups` in stage II.
        Stage I, and group sizes of 1, keep random batches.
        """
        sizes = {"stage0": self.config.batch.stage0_groups, "stage2": self.config.batch.stage2_groups}
        group_size = sizes.get(stage.name, 1)
        if group_size <= 1 or not isinstance(loader, MixedLoader):
            return
        started = time.perf_counter()
        transform = build_test_transform(model.image_size, model.image_mean, model.image_std)
        # NOTE: under DDP each rank finds the groups itself from the same weights and images. Ranks on
        # different hardware could order near ties differently and so draw different batches.
        for part in (loader.pair_loader, loader.i2i_loader):
            if part is None:
                continue
            neighbours = find_look_alikes(
                model,
                part,
                transform,
                4 * group_size,
                seed=[self.config.seed, epoch],
                device=self.runtime.device,
            )
            part.batch_sampler.set_neighbours(neighbours, group_size)
        logger.info(
            "%s epoch %d: look-alike groups found in %.1f s",
            stage.name,
            epoch + 1,
            time.perf_counter() - started,
        )

    def _train_epoch(
        self,
        module: nn.Module,
        stage: Stage,
        loader: Any,
        optimizer: torch.optim.Optimizer,
        weights: dict[str, float],
        epoch: int,
        epochs: int,
    ) -> dict[str, Any]:
        runtime = self.runtime
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        elif hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)

        sums: dict[str, float] = {}
        steps, skipped, started = 0, 0, time.perf_counter()
        bar = tqdm(
            stage.batches(loader, runtime.device),
            total=len(loader),
            desc=f"{stage.name} {epoch + 1}/{epochs}",
            disable=not runtime.is_main,
            leave=False,
            dynamic_ncols=True,
        )
        for batch in bar:
            skipped += getattr(batch, "skipped", 0)
            with _autocast(runtime.device, self.config.amp):
                named = module(batch)
            total = sum(weights[name] * value for name, value in named.items())
            if not torch.isfinite(total):
                raise FloatingPointError(
                    f"{stage.name} epoch {epoch + 1}: non-finite loss "
                    f"{ {name: float(value) for name, value in named.items()} }; lower the learning rate"
                )
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()

            steps += 1
            for name, value in named.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            sums["total"] = sums.get("total", 0.0) + float(total.detach())
            bar.set_postfix(loss=f"{float(total.detach()):.3f}")

        self.skipped_images += skipped
        row = {name: value / max(steps, 1) for name, value in sums.items()}
        row.update(seconds=round(time.perf_counter() - started, 1), skipped_images=skipped)
        logger.info(
            "%s epoch %d/%d: %s (%.0f s)",
            stage.name,
            epoch + 1,
            epochs,
            ", ".join(
                f"{name} {value:.4f}"
                for name, value in row.items()
                if name not in ("seconds", "skipped_images")
            ),
            row["seconds"],
        )
        return row

    # Evaluation and outputs --------------------------------------------------------------------

    def evaluate(self, model: HPLModel) -> Evaluation:
        """Evaluate both protocols on the pair's test splits and log the table."""
        transform = build_test_transform(model.image_size, model.image_mean, model.image_std)
        evaluation = evaluate_model(
            model,
            transform,
            i2i_query=self.pair.i2i_query,
            i2i_gallery=self.pair.i2i_gallery,
            t2i_test=self.pair.t2i_test,
            batch_size=self.config.eval.batch_size,
            num_workers=self.config.data.num_workers,
            device=self.runtime.device,
        )
        logger.info("evaluation:\n%s", evaluation.format())
        return evaluation

    def _write_metrics(self, history: list[dict[str, Any]]) -> None:
        columns: list[str] = []
        for row in history:
            columns += [key for key in row if key not in columns]
        path = self.run_dir / "metrics.csv"
        temporary = path.with_suffix(".csv.tmp")
        with open(temporary, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(history)
        os.replace(temporary, path)

    def _write_outputs(self, model: HPLModel, progress: Progress, evaluation: Evaluation) -> None:
        flat = evaluation.metrics()
        progress.history.append({"stage": "final", "epoch": 0, **flat})
        self._write_metrics(progress.history)
        plot_losses(progress.history, self.run_dir / "plots" / "losses.png")
        if evaluation.results:
            plot_cmc(evaluation.results, self.run_dir / "plots" / "cmc.png")
        (self.run_dir / "results.md").write_text(evaluation.format() + "\n")
        save_checkpoint(
            model,
            self.run_dir / "model.safetensors",
            metrics=flat,
            data={
                "t2i": self.config.data.t2i_dataset,
                "i2i": self.config.data.i2i_dataset,
                "preset": self.config.data.synthetic_preset,
                "num_labels": model.config.num_labels,
            },
            stages=progress.completed_stages,
            skipped_images=self.skipped_images,
            run=self.config.name,
        )
        logger.info("run finished: %s", self.run_dir)


def build_optimizer(groups: list, config: StageConfig) -> torch.optim.Optimizer:
    """Build the stage's Adam or AdamW. With `decay_1d` off, each group's 1-D parameters get no weight decay.

    open_clip's training script (`training/main.py`) exempts the same tensors: biases, norm gains,
    class tokens and the logit scale. Decay would pull them towards zero.
    The fused implementation is used where torch has one for the parameters' device.
    """
    param_groups = []
    for group in groups:
        if config.decay_1d:
            param_groups.append({"params": group.params, "lr": group.lr, "name": group.name})
            continue
        matrices = [param for param in group.params if param.ndim >= 2]
        vectors = [param for param in group.params if param.ndim < 2]
        if matrices:
            param_groups.append({"params": matrices, "lr": group.lr, "name": group.name})
        if vectors:
            param_groups.append(
                {"params": vectors, "lr": group.lr, "name": f"{group.name}-1d", "weight_decay": 0.0}
            )
    optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if config.optimizer not in optimizers:
        raise ValueError(f"unknown optimizer {config.optimizer!r}: expected adam or adamw")
    optimizer_class = optimizers[config.optimizer]
    try:
        # One kernel for all tensors: on 2 CPU cores the AdamW step of the demo model's 11.5M
        # parameters took 8 ms instead of 40 ms (torch 2.14). A torch without a fused kernel for
        # the parameters' device raises RuntimeError, and the per-tensor loop is used instead.
        return optimizer_class(param_groups, weight_decay=config.weight_decay, fused=True)
    except RuntimeError as err:
        logger.info("fused %s unavailable (%s): using the per-tensor implementation", config.optimizer, err)
        return optimizer_class(param_groups, weight_decay=config.weight_decay)


def _load_encoders(model: HPLModel, path: str) -> None:
    """Copy the encoder weights of a (stage-0) checkpoint into `model`; heads and prompts keep their init."""
    source = load_checkpoint(path).state_dict()
    target = model.state_dict()
    shared = {
        name: tensor
        for name, tensor in source.items()
        if name.startswith(("visual.vit.", "text.", "logit_scale")) and name in target
    }
    model.load_state_dict(shared, strict=False)
    model.visual.reset_i2i_token()
    model.refresh_prompt_encoder()
    model.match_pseudo_token_scale()
    logger.info("initialised %d encoder tensors from %s", len(shared), path)


def _autocast(device: torch.device, enabled: bool) -> Any:
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda"
    )


def _barrier(runtime: Runtime) -> None:
    if runtime.world_size > 1:
        dist.barrier()


def state_path_of(run_dir: Path) -> Path:
    """Return where a run keeps its resumable state."""
    return run_dir / STATE_FILE
