"""Training configuration: small frozen dataclasses built once from YAML plus command-line overrides."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hpl.models import HPLConfig


@dataclass(frozen=True)
class ModelConfig:
    """Architecture; the label count comes from the training data."""

    backbone: str = "hpl-tiny"  # open_clip model name
    pretrained: str | None = None  # None, an open_clip tag ("openai") or a local weights file
    image_size: tuple[int, int] = (128, 64)  # (height, width) in pixels
    task_routed: bool = True  # two class tokens; False trains the joint baseline
    hierarchical_prompts: bool = True  # stage I prompts, L_cic and L_ILPA
    cmpr: bool = True  # L_CMPR in stage II
    num_id_tokens: int = 4  # identity context vectors per label
    num_pseudo_tokens: int = 4  # pseudo tokens per inversion network
    inversion_depth: int = 4  # transformer blocks per inversion network
    flip_test: bool = False  # retrieval features average each image with its mirror image

    def to_hpl_config(self, num_labels: int) -> HPLConfig:
        """Return the model config for `num_labels` training identities."""
        return HPLConfig(num_labels=num_labels, **dataclasses.asdict(self))


@dataclass(frozen=True)
class DataConfig:
    """The T2I set, its I2I partner and where they lie on disk."""

    t2i_dataset: str = "synthetic"  # cuhk_pedes, icfg_pedes, rstpreid or synthetic
    t2i_root: str = "data"  # folder holding the T2I set (or the synthetic output folder)
    i2i_dataset: str = "synthetic"  # market1501, msmt17, dukemtmc or synthetic
    i2i_root: str = "data"  # folder holding the I2I set
    synthetic_preset: str = "demo"  # generator preset when the synthetic data must be generated
    synthetic_seed: int = 0  # generator seed
    synthetic_overrides: dict[str, Any] = field(default_factory=dict)  # generator settings to change
    num_workers: int = 2  # DataLoader worker processes
    flip_prob: float = 0.5  # horizontal flip probability of training images
    padding: int = 10  # pixels padded on each side before the random crop (0: no pad-and-crop)
    erasing_prob: float = 0.5  # random erasing probability of training images

    def __post_init__(self) -> None:
        _require(self, "num_workers", self.num_workers >= 0, "0 or more")
        _require(self, "padding", self.padding >= 0, "0 or more pixels")
        for name in ("flip_prob", "erasing_prob"):
            _require(self, name, 0.0 <= getattr(self, name) <= 1.0, "a probability in [0, 1]")


@dataclass(frozen=True)
class BatchConfig:
    """Mixed batches of image-text pairs and I2I images, each sampled P identities x K images."""

    t2i_size: int = 64  # image-text pairs per batch
    i2i_size: int = 64  # I2I images per batch
    instances: int = 4  # images per identity (K) in each part
    stage0_size: int = 128  # image-text pairs per stage-0 batch (PK-sampled with loss.stage0_identities)
    stage0_groups: int = 1  # look-alike identities per group in stage-0 PK batches (1: random identities)
    stage2_groups: int = 1  # the same for the stage-II PK batches of pairs and of I2I images

    def __post_init__(self) -> None:
        for name in ("t2i_size", "instances", "stage0_size", "stage0_groups", "stage2_groups"):
            _require(self, name, getattr(self, name) >= 1, "1 or more")
        _require(self, "i2i_size", self.i2i_size >= 0, "0 or more (0: no I2I images)")


@dataclass(frozen=True)
class StageConfig:
    """Optimisation of one stage."""

    epochs: int = 0  # 0 skips the stage
    lr: float = 1e-5  # base learning rate
    optimizer: str = "adam"  # adam or adamw
    weight_decay: float = 0.0
    schedule: str = "cosine"  # cosine (after warm-up), exponential (x lr_decay per epoch) or constant
    warmup_epochs: int = 0  # linear warm-up from warmup_lr to lr
    warmup_lr: float = 1e-6
    lr_decay: float = 0.8  # factor per epoch for the exponential schedule
    prompt_lr: float | None = None  # stage I: learning rate of the identity prompts (None: lr)
    head_lr_scale: float = 1.0  # stage II: lr multiplier for classifiers, BNNeck, inversion nets, I2I token
    head_only_epochs: int = 0  # stage II: first epochs that train everything except the encoders (LP-FT)
    decay_1d: bool = True  # also decay 1-D parameters (biases, norms, class tokens, logit scale)

    def __post_init__(self) -> None:
        for name in ("epochs", "warmup_epochs", "head_only_epochs"):
            _require(self, name, getattr(self, name) >= 0, "0 or more")
        _require(self, "optimizer", self.optimizer in OPTIMIZERS, " or ".join(OPTIMIZERS))
        _require(self, "schedule", self.schedule in SCHEDULES, ", ".join(SCHEDULES))
        for name in ("lr", "head_lr_scale", "lr_decay"):
            _require(self, name, getattr(self, name) > 0, "a number above 0")
        for name in ("warmup_lr", "weight_decay"):
            _require(self, name, getattr(self, name) >= 0, "0 or more")
        _require(self, "prompt_lr", self.prompt_lr is None or self.prompt_lr > 0, "a number above 0 or null")


@dataclass(frozen=True)
class LossConfig:
    """Loss weights and constants. Defaults follow HPL (Zhou et al., AAAI 2026), IRRA and BoT, as each field notes."""

    sdm_scale: float = 50.0  # IRRA: 1 / temperature 0.02
    label_smoothing: float = 0.1  # BoT, for L_id^i2i
    triplet_margin: float = 0.3  # BoT
    lambda_ilpa: float = 0.4  # HPL Eq. 14
    lambda_cmpr: float = 0.06  # HPL Eq. 14
    prompt_logit_scale: float = (
        0.0  # scale of prompt contrastive and L_cic logits; 0 uses CLIP's learned scale
    )
    normalize_regression: bool = True  # L2-normalise features inside L_ic and L_ILPA
    stage0_identities: bool = False  # stage 0 uses identity labels (train.stages.IdentityContrastiveStage)
    stage0_logit_scale: float = 0.0  # fixed logit scale of stage 0; 0 trains CLIP's learned scale


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation during training."""

    every: int = 0  # evaluate every N epochs of each stage (0: only at the end of training)
    batch_size: int = 128

    def __post_init__(self) -> None:
        _require(self, "every", self.every >= 0, "0 or more")
        _require(self, "batch_size", self.batch_size >= 1, "1 or more")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs; written to the run folder as `config.yaml`."""

    name: str = "run"
    output_dir: str = "runs"
    seed: int = 0
    device: str = "auto"  # auto, cpu or cuda[:N]
    amp: bool = True  # bfloat16 autocast, on CUDA only
    init_from: str | None = None  # HPL checkpoint whose encoders replace stage 0 (ablations share one)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    stage0: StageConfig = field(
        default_factory=StageConfig
    )  # contrastive pretraining (from-scratch backbones)
    stage1: StageConfig = field(
        default_factory=lambda: StageConfig(epochs=10, lr=5e-5, prompt_lr=0.02, schedule="exponential")
    )
    stage2: StageConfig = field(default_factory=lambda: StageConfig(epochs=60, lr=1e-5, warmup_epochs=5))
    eval: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self) -> None:
        # Stage I trains no encoder and stage 0 trains only the encoders, so holding the encoders
        # would do nothing in stage I and freeze all of stage 0.
        for name in ("stage0", "stage1"):
            epochs = getattr(self, name).head_only_epochs
            if epochs:
                raise ValueError(
                    f"invalid {name}.head_only_epochs {epochs}: head-only epochs apply to stage II only, expected 0"
                )

    @property
    def run_dir(self) -> Path:
        """Folder of this run's outputs."""
        return Path(self.output_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        """Return plain values, ready for YAML."""
        return _plain(dataclasses.asdict(self))


OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("cosine", "exponential", "constant")


def _require(section: object, name: str, valid: bool, expected: str) -> None:
    """Raise the config's error for key `name` of `section` unless `valid`."""
    if not valid:
        raise ValueError(f"invalid {name} {getattr(section, name)!r}: expected {expected}")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def parse_with_overrides(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse `argv` with `parser`, collecting every `key=value` argument into `args.overrides`.

    Overrides may then follow an option that takes a list (`--seeds 0 1 stage2.epochs=3`), which
    argparse alone would hand to that option.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    overrides = [arg for arg in argv if "=" in arg and not arg.startswith("-")]
    args = parser.parse_args([arg for arg in argv if arg not in overrides])
    stray = getattr(args, "overrides", None)
    if stray:
        parser.error(f"unexpected argument {stray[0]!r}: overrides look like section.key=value")
    args.overrides = overrides
    return args


def load_cli_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> TrainConfig:
    """Load `args.config` with `args.overrides`; a missing file or a bad value exits through `parser.error`."""
    try:
        return load_config(args.config, args.overrides)
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Read a YAML config and apply `key=value` overrides such as `stage2.epochs=3`."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {str(path)!r} not found")
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"{str(path)!r} is not valid YAML: {err}") from None
        if not isinstance(values, dict):
            raise ValueError(f"{str(path)!r} must hold a mapping at the top level")
    for override in overrides:
        key, separator, raw = override.partition("=")
        if not separator or not key:
            raise ValueError(f"override {override!r} must look like section.key=value")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise ValueError(f"override {override!r}: the value is not valid YAML") from None
        _set_dotted(values, key.strip(), value)
    return _build(TrainConfig, values, "")


def _set_dotted(values: dict[str, Any], dotted: str, value: Any) -> None:
    node = values
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"cannot set {dotted!r}: {part!r} is not a section")
    node[leaf] = value


def _build(cls: type, values: dict[str, Any], prefix: str) -> Any:
    if not isinstance(values, dict):
        raise ValueError(f"{prefix or 'config'} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {item.name for item in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ValueError(
            f"unknown config keys {[prefix + key for key in unknown]}; valid keys: {sorted(fields)}"
        )
    defaults = {item.name: item for item in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            # A section given in part keeps the field's own defaults for the keys it leaves out.
            base = dataclasses.asdict(defaults[name].default_factory())
            kwargs[name] = _build(hint, {**base, **(value or {})}, f"{prefix}{name}.")
        else:
            kwargs[name] = _coerce(value, hint, prefix + name)
    try:
        return cls(**kwargs)
    except ValueError as err:
        # A section's own check names its key alone; the message gets the section's prefix here.
        message = str(err)
        if prefix and message.startswith("invalid "):
            raise ValueError(f"invalid {prefix}{message.removeprefix('invalid ')}") from None
        raise


def _coerce(value: Any, hint: Any, name: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(option for option in options if option is not type(None))
        origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{name} must be a list, got {value!r}")
        return tuple(value)
    if hint is float:
        # YAML 1.1 reads an exponent without a dot ("3e-5") as a string.
        number = math.nan
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = float(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        return number
    if hint in (int, bool, str) and not isinstance(value, hint):
        raise ValueError(f"{name} must be {hint.__name__}, got {value!r}")
    return value


# Keys that may differ when a run resumes: they change how it runs, not what it trains.
RESUMABLE_CHANGES = frozenset({"device", "data.num_workers", "eval.every", "eval.batch_size"})


def flat_config(config: TrainConfig) -> dict[str, Any]:
    """Return the config as `section.key` entries; mappings inside a section stay whole."""
    flat = {}
    for key, value in config.to_dict().items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": item for inner, item in value.items()})
        else:
            flat[key] = value
    return flat


def check_resumable(saved: TrainConfig, config: TrainConfig) -> None:
    """Raise ValueError when `config` changes a key of the saved run other than `RESUMABLE_CHANGES`.

    The trained epochs follow the saved config, so a changed key would be recorded but never run.
    """
    before, after = flat_config(saved), flat_config(config)
    changed = [
        f"{key} {before.get(key)!r} -> {after[key]!r}"
        for key in after
        if key not in RESUMABLE_CHANGES and before.get(key) != after[key]
    ]
    if changed:
        raise ValueError(
            f"cannot resume {config.run_dir} with a changed config ({'; '.join(changed)}): resume with "
            f"the run's own values, or start a new run under another name"
        )


def save_config(config: TrainConfig, path: Path) -> None:
    """Write the resolved config as YAML."""
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
