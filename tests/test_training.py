"""Stages train the right parameters, losses fall, and the trainer runs, evaluates and resumes."""

from __future__ import annotations

import csv
import dataclasses
import importlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import hpl
from hpl.losses import clip_contrastive_loss
from train.config import StageConfig, load_config
from train.data import MixedBatch
from train.stages import (
    ContrastiveStage,
    IdentityContrastiveStage,
    LossSettings,
    PromptStage,
    RepresentationStage,
)
from train.trainer import _group_lr_gate, build_optimizer, lr_factor

IMAGE_SIZE = (128, 64)
REPO_ROOT = Path(__file__).resolve().parent.parent
NUM_LABELS = 6


def _batch(model, pairs=8, i2i=8, seed=0) -> MixedBatch:
    generator = torch.Generator().manual_seed(seed)
    captions = [
        "a man in a red jacket holding a phone",
        "a woman in a blue dress seen from the back",
        "a man with a black backpack and grey trousers",
        "a woman carrying an umbrella, white shirt",
    ]
    tokens = hpl.tokenize([captions[i % 4] for i in range(pairs)], model.context_length)
    return MixedBatch(
        pair_images=torch.randn(pairs, 3, *IMAGE_SIZE, generator=generator),
        pair_tokens=tokens,
        pair_labels=torch.arange(pairs) % 4,
        pair_indices=torch.arange(pairs),
        i2i_images=torch.randn(i2i, 3, *IMAGE_SIZE, generator=generator),
        i2i_labels=torch.arange(i2i) % 4 + 2,
        i2i_indices=torch.arange(i2i),
        skipped=0,
    )


def _step(model, stage, batch, lr=1e-3, steps=1):
    groups = stage.parameter_groups(model, lr, prompt_lr=lr, head_lr_scale=1.0)
    model.requires_grad_(False)
    params = [p for group in groups for p in group.params]
    for param in params:
        param.requires_grad_(True)
    model.bnneck.bias.requires_grad_(False)
    stage.prepare(model, torch.device("cpu"))
    optimizer = torch.optim.Adam(params, lr=lr)
    weights = stage.weights(model)
    history = []
    for _ in range(steps):
        named = stage.losses(model, batch)
        total = sum(weights[name] * value for name, value in named.items())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        history.append({name: value.item() for name, value in named.items()} | {"total": total.item()})
    return history


def _changed(before: dict[str, torch.Tensor], model) -> set[str]:
    after = model.state_dict()
    return {name for name, tensor in before.items() if not torch.equal(tensor, after[name])}


def _snapshot(model) -> dict[str, torch.Tensor]:
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


@pytest.fixture()
def model():
    torch.manual_seed(0)
    return hpl.create_model(num_labels=NUM_LABELS, image_size=IMAGE_SIZE)


def test_stage1_trains_only_prompts_and_inversion(model):
    before = _snapshot(model)
    history = _step(model, PromptStage(LossSettings()), _batch(model))
    changed = {
        name for name in _changed(before, model) if "running" not in name and "num_batches" not in name
    }
    assert set(history[0]) == {"i2t", "t2i", "ic", "total"}
    assert "prompts.identity_context" in changed
    assert any(name.startswith("image_inversion.") for name in changed)
    assert any(name.startswith("text_inversion.") for name in changed)
    allowed = ("prompts.identity_context", "image_inversion.", "text_inversion.")
    assert all(name.startswith(allowed) for name in changed), sorted(changed)


def test_stage1_gradients_reach_every_trainable_parameter(model):
    stage = PromptStage(LossSettings())
    groups = stage.parameter_groups(model, 1e-3, prompt_lr=1e-3)
    model.requires_grad_(False)
    params = {id(p): p for group in groups for p in group.params}
    for param in params.values():
        param.requires_grad_(True)
    named = stage.losses(model, _batch(model))
    sum(named.values()).backward()
    names = {id(p): n for n, p in model.named_parameters()}
    missing = [names[key] for key, p in params.items() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing
    frozen_with_grad = [n for n, p in model.named_parameters() if id(p) not in params and p.grad is not None]
    assert not frozen_with_grad


def test_stage2_trains_encoders_and_heads_not_prompts(model):
    before = _snapshot(model)
    history = _step(model, RepresentationStage(LossSettings()), _batch(model))
    changed = _changed(before, model)
    assert set(history[0]) == {"sdm", "id_t2i", "triplet", "id_i2i", "cic", "ilpa", "cmpr", "total"}
    assert any(name.startswith("visual.vit.transformer") for name in changed)
    assert "visual.class_embedding_i2i" in changed
    assert any(name.startswith("text.transformer") for name in changed)
    assert any(name.startswith("classifier_i2i") for name in changed)
    assert any(name.startswith("classifier_t2i") for name in changed)
    assert any(name.startswith("image_inversion") for name in changed)
    assert "prompts.identity_context" not in changed
    assert not any(name.startswith("prompt_encoder.") for name in changed)
    assert "bnneck.bias" not in changed


def test_two_tokens_differ_after_one_step(model):
    model.eval()
    images = torch.randn(4, 3, *IMAGE_SIZE)
    first = model.visual(images)
    assert torch.allclose(first.i2i, first.t2i, atol=1e-5)
    model.train()
    _step(model, RepresentationStage(LossSettings()), _batch(model))
    model.eval()
    after = model.visual(images)
    assert not torch.allclose(after.i2i, after.t2i, atol=1e-3)


def test_stage2_losses_fall_on_a_fixed_batch(model):
    history = _step(model, RepresentationStage(LossSettings()), _batch(model), lr=3e-4, steps=8)
    assert all(torch.isfinite(torch.tensor(row["total"])) for row in history)
    assert history[-1]["total"] < history[0]["total"]


def test_joint_baseline_stage2_uses_base_losses_only():
    torch.manual_seed(0)
    baseline = hpl.create_model(
        num_labels=NUM_LABELS,
        image_size=IMAGE_SIZE,
        task_routed=False,
        hierarchical_prompts=False,
        cmpr=False,
    )
    history = _step(baseline, RepresentationStage(LossSettings()), _batch(baseline))
    assert set(history[0]) == {"sdm", "id_t2i", "triplet", "id_i2i", "total"}


def test_cmpr_switch_drops_the_cmpr_loss():
    torch.manual_seed(0)
    model = hpl.create_model(num_labels=NUM_LABELS, image_size=IMAGE_SIZE, cmpr=False)
    weights = RepresentationStage(LossSettings()).weights(model)
    assert "cmpr" not in weights
    assert weights["ilpa"] == pytest.approx(0.4)


def test_stage0_trains_encoders_and_resets_i2i_token(model):
    stage = ContrastiveStage(LossSettings())
    batch = _batch(model)
    as_dict = {
        "images": batch.pair_images,
        "tokens": batch.pair_tokens,
        "valid": torch.ones(8, dtype=torch.bool),
    }
    before = _snapshot(model)
    _step(model, stage, as_dict)
    changed = _changed(before, model)
    assert any(name.startswith("visual.vit.") for name in changed)
    assert any(name.startswith("text.") for name in changed)
    assert not any(name.startswith(("prompts.", "classifier", "image_inversion")) for name in changed)
    stage.finish(model)
    assert torch.equal(model.visual.class_embedding_i2i, model.visual.vit.class_embedding)
    assert torch.equal(
        model.prompt_encoder.transformer.resblocks[0].mlp.c_fc.weight,
        model.text.transformer.resblocks[0].mlp.c_fc.weight,
    )


def test_identity_stage0_trains_encoders(model):
    stage = IdentityContrastiveStage(LossSettings(stage0_identities=True))
    assert stage.mixed_batches
    assert stage.name == "stage0"
    before = _snapshot(model)
    history = _step(model, stage, _batch(model), steps=3)
    assert set(history[0]) == {"clip", "image", "total"}
    assert history[-1]["total"] < history[0]["total"]
    changed = _changed(before, model)
    assert any(name.startswith("visual.vit.") for name in changed)
    assert any(name.startswith("text.") for name in changed)
    assert not any(name.startswith(("prompts.", "classifier", "image_inversion")) for name in changed)


def test_identity_stage0_caption_matches(model):
    """With one image per identity the caption term equals CLIP's loss. Repeated identities lower it."""
    stage = IdentityContrastiveStage(LossSettings(stage0_identities=True))
    batch = _batch(model, pairs=4, i2i=0)
    with torch.no_grad():
        unique = stage.losses(model, batch)["clip"]
        clip = ContrastiveStage(LossSettings()).losses(
            model, {"images": batch.pair_images, "tokens": batch.pair_tokens}
        )["clip"]
        repeated = stage.losses(model, dataclasses.replace(batch, pair_labels=torch.tensor([0, 0, 1, 1])))
    assert unique.item() == pytest.approx(clip.item(), rel=1e-5)
    assert repeated["clip"].item() < unique.item()


def test_stage0_fixed_logit_scale(model):
    """A fixed stage-0 scale replaces the learned one, which then stays out of the optimizer."""
    settings = LossSettings(stage0_identities=True, stage0_logit_scale=60.0)
    plain, identity = ContrastiveStage(settings), IdentityContrastiveStage(settings)
    for stage in (plain, identity):
        params = [p for group in stage.parameter_groups(model, 1e-3) for p in group.params]
        assert not any(p is model.logit_scale for p in params)
        assert stage.logit_scale(model) == 60.0
    learned = [p for g in ContrastiveStage(LossSettings()).parameter_groups(model, 1e-3) for p in g.params]
    assert any(p is model.logit_scale for p in learned)

    batch = _batch(model, pairs=4, i2i=0)
    with torch.no_grad():
        images = model.encode_visual(batch.pair_images).t2i
        texts = model.encode_text(batch.pair_tokens)
        expected = clip_contrastive_loss(images, texts, 60.0)
        got = plain.losses(model, {"images": batch.pair_images, "tokens": batch.pair_tokens})["clip"]
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    scale_before = model.logit_scale.detach().clone()
    _step(model, identity, _batch(model))
    assert torch.equal(model.logit_scale.detach(), scale_before)


@pytest.mark.parametrize("decay_1d", [True, False])
def test_weight_decay_of_1d_parameters(model, decay_1d):
    groups = RepresentationStage(LossSettings()).parameter_groups(model, 1e-4, head_lr_scale=10.0)
    config = StageConfig(optimizer="adamw", weight_decay=0.05, decay_1d=decay_1d)
    optimizer = build_optimizer(groups, config)
    lr_of = {id(p): group.lr for group in groups for p in group.params}
    seen = 0
    for group in optimizer.param_groups:
        for param in group["params"]:
            seen += 1
            assert group["lr"] == lr_of[id(param)]
            expected = 0.0 if param.ndim < 2 and not decay_1d else 0.05
            assert group["weight_decay"] == expected, (group["name"], tuple(param.shape))
    assert seen == len(lr_of)
    assert len(optimizer.param_groups) == (len(groups) if decay_1d else 2 * len(groups))
    assert optimizer.defaults["fused"]


def test_head_only_epochs_hold_encoders(model):
    stage = RepresentationStage(LossSettings())
    groups = stage.parameter_groups(model, 1e-3, head_lr_scale=10.0)
    model.requires_grad_(False)
    for group in groups:
        for param in group.params:
            param.requires_grad_(True)
    config = StageConfig(
        epochs=3, lr=1e-3, optimizer="adamw", weight_decay=0.05, decay_1d=False, head_only_epochs=1
    )
    optimizer = build_optimizer(groups, config)
    gates = [
        {g["name"]: _group_lr_gate(g["name"], config, epoch) for g in optimizer.param_groups}
        for epoch in (0, 1)
    ]
    assert gates[0] == {"encoders": 0.0, "encoders-1d": 0.0, "heads": 1.0, "heads-1d": 1.0}
    assert set(gates[1].values()) == {1.0}

    for group in optimizer.param_groups:
        group["lr"] *= gates[0][group["name"]]
    stage.prepare(model, torch.device("cpu"))
    before = _snapshot(model)
    named = stage.losses(model, _batch(model))
    optimizer.zero_grad()
    sum(named.values()).backward()
    optimizer.step()
    changed = _changed(before, model)
    # A learning rate of 0 also stops AdamW's weight decay, so the encoders stay exactly as they were.
    # The I2I class token is new in stage II and trains with the heads.
    encoder_changes = {name for name in changed if name.startswith(("visual.", "text."))}
    assert encoder_changes <= {"visual.class_embedding_i2i", "visual.positional_embedding_i2i"}
    assert {"classifier_i2i.weight", "classifier_t2i.weight"} <= changed
    assert any(name.startswith("image_inversion.") for name in changed)


def test_stage2_i2i_token_at_head_lr(model):
    groups = RepresentationStage(LossSettings()).parameter_groups(model, 1e-4, head_lr_scale=10.0)
    lr_of = {id(param): group.lr for group in groups for param in group.params}
    visual = model.visual
    assert lr_of[id(visual.class_embedding_i2i)] == pytest.approx(1e-3)
    assert lr_of[id(visual.positional_embedding_i2i)] == pytest.approx(1e-3)
    assert lr_of[id(visual.vit.class_embedding)] == pytest.approx(1e-4)
    counted = sum(len(group.params) for group in groups)
    assert counted == len(lr_of)  # no parameter is in two groups


def test_unknown_optimizer_rejected():
    with pytest.raises(ValueError, match="invalid optimizer 'sgd': expected adam or adamw"):
        StageConfig(optimizer="sgd")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("stage2.optimizer=sgd", "invalid stage2.optimizer 'sgd': expected adam or adamw"),
        ("stage1.schedule=step", "invalid stage1.schedule 'step': expected cosine, exponential, constant"),
        ("stage2.lr=0", "invalid stage2.lr 0.0: expected a number above 0"),
        ("stage2.head_lr_scale=-1", "invalid stage2.head_lr_scale -1.0: expected a number above 0"),
        ("stage1.prompt_lr=0", "invalid stage1.prompt_lr 0.0: expected a number above 0 or null"),
        ("stage0.weight_decay=-0.1", "invalid stage0.weight_decay -0.1: expected 0 or more"),
        ("batch.instances=0", "invalid batch.instances 0: expected 1 or more"),
        ("batch.i2i_size=-4", "invalid batch.i2i_size -4: expected 0 or more"),
        ("data.erasing_prob=1.5", r"invalid data.erasing_prob 1.5: expected a probability in \[0, 1\]"),
        ("data.num_workers=-1", "invalid data.num_workers -1: expected 0 or more"),
        ("eval.every=-2", "invalid eval.every -2: expected 0 or more"),
    ],
)
def test_config_rejects_bad_values_at_load(override, message):
    # A typo in a stage-II key fails before any data is read or any stage trains.
    with pytest.raises(ValueError, match=message):
        load_config(REPO_ROOT / "train/configs/synthetic.yaml", [override])


class _ColourModel(torch.nn.Module):
    """Stands in for HPLModel in find_look_alikes: an image's T2I feature is its mean colour."""

    image_size = (16, 8)

    def encode_image(self, images, normalize=False, flip=None):
        features = images.mean(dim=(2, 3))
        return hpl.ImageFeatures(i2i=features, t2i=torch.nn.functional.normalize(features, dim=-1))


def test_look_alikes_nearest_first(tmp_path):
    from PIL import Image
    from torch.utils.data import DataLoader

    from hpl.data.records import ImageRecord
    from hpl.data.sampler import PKSampler
    from train.data import TrainImages, find_look_alikes

    colours = {0: (250, 10, 10), 1: (230, 30, 20), 2: (10, 10, 250), 3: (30, 20, 230), 4: (10, 250, 10)}
    records = []
    for label, colour in colours.items():
        for copy in range(2):
            path = tmp_path / f"{label}_{copy}.png"
            Image.new("RGB", (8, 16), colour).save(path)
            records.append(ImageRecord(path=str(path), pid=label + 1, label=label))
    records.append(ImageRecord(path=str(tmp_path / "missing.png"), pid=6, label=5))
    dataset = TrainImages(records, transform=None, image_size=(16, 8))
    loader = DataLoader(dataset, batch_sampler=PKSampler([r.label for r in records], 2, 2))

    def transform(image):
        pixels = torch.tensor(list(image.getdata()), dtype=torch.float)  # (H * W, 3)
        return pixels.T.reshape(3, 16, 8) / 255

    model = _ColourModel()

    neighbours = find_look_alikes(model, loader, transform, 2, seed=0, device=torch.device("cpu"))
    assert set(neighbours) == set(range(6))
    assert neighbours[0][0] == 1
    assert neighbours[1][0] == 0
    assert neighbours[2][0] == 3
    assert neighbours[3][0] == 2
    assert all(len(row) == 2 and label not in row for label, row in neighbours.items())
    assert model.training


def test_lr_schedule_warmup_then_cosine():
    config = StageConfig(epochs=10, lr=1e-3, warmup_epochs=2, warmup_lr=1e-5)
    assert lr_factor(config, 0) == pytest.approx(0.01)
    assert lr_factor(config, 2) == pytest.approx(1.0)
    assert lr_factor(config, 6) == pytest.approx(0.5)
    exponential = StageConfig(epochs=10, lr=1e-3, schedule="exponential", lr_decay=0.8)
    assert lr_factor(exponential, 3) == pytest.approx(0.8**3)


def test_config_overrides_and_errors(tmp_path):
    config = load_config(
        REPO_ROOT / "train/configs/synthetic.yaml", ["stage2.epochs=3", "model.image_size=[256,128]"]
    )
    assert config.stage2.epochs == 3
    assert config.model.image_size == (256, 128)
    assert config.stage2.warmup_epochs == 1  # untouched keys keep the file's values
    # YAML 1.1 reads "3e-5" as a string; a float key takes it as the number.
    assert load_config(None, ["stage2.lr=3e-5"]).stage2.lr == 3e-5
    with pytest.raises(ValueError, match="stage2.lr must be a finite number, got 'fast'"):
        load_config(None, ["stage2.lr=fast"])
    with pytest.raises(ValueError, match="stage2.lr must be a finite number, got True"):
        load_config(None, ["stage2.lr=true"])
    with pytest.raises(ValueError, match="unknown config keys"):
        load_config(None, ["stage2.epoch=3"])
    with pytest.raises(ValueError, match="section.key=value"):
        load_config(None, ["stage2.epochs"])
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="invalid stage2.head_only_epochs -1: expected 0 or more"):
        load_config(None, ["stage2.head_only_epochs=-1"])
    with pytest.raises(
        ValueError, match="invalid stage0.head_only_epochs 2: head-only epochs apply to stage II only"
    ):
        load_config(None, ["stage0.head_only_epochs=2"])


def test_overrides_after_list_option():
    from train.__main__ import build_parser
    from train.config import parse_with_overrides

    argv = ["--config", "x.yaml", "--stages", "stage1", "stage2", "name=try1", "stage2.epochs=3"]
    args = parse_with_overrides(build_parser(), argv)
    assert args.stages == ["stage1", "stage2"]
    assert args.overrides == ["name=try1", "stage2.epochs=3"]


def test_config_rejects_non_finite_numbers_and_bad_yaml(tmp_path):
    with pytest.raises(ValueError, match="stage2.lr must be a finite number, got 'inf'"):
        load_config(None, ["stage2.lr=inf"])
    with pytest.raises(ValueError, match=r"override 'name=\[': the value is not valid YAML"):
        load_config(None, ["name=["])
    broken = tmp_path / "broken.yaml"
    broken.write_text("stage2: {epochs: 3\n")
    with pytest.raises(ValueError, match="broken.yaml' is not valid YAML"):
        load_config(broken)


def test_cli_rejects_stray_word(capsys):
    from train.__main__ import build_parser
    from train.config import parse_with_overrides

    with pytest.raises(SystemExit) as exit_info:
        parse_with_overrides(build_parser(), ["--config", "x.yaml", "stage2", "stage2.epochs=3"])
    assert exit_info.value.code == 2
    assert "unexpected argument 'stage2': overrides look like section.key=value" in capsys.readouterr().err


def test_resume_refuses_a_changed_config(tmp_path):
    from train.config import save_config
    from train.trainer import STATE_FILE, Trainer

    config = load_config(REPO_ROOT / "train/configs/synthetic.yaml", [f"output_dir={tmp_path}", "name=run"])
    config.run_dir.mkdir(parents=True)
    save_config(config, config.run_dir / "config.yaml")
    state = config.run_dir / STATE_FILE
    state.parent.mkdir()
    state.write_bytes(b"state")  # only its presence matters here

    changed = dataclasses.replace(config, stage2=dataclasses.replace(config.stage2, epochs=12))
    with pytest.raises(ValueError, match=r"cannot resume .* \(stage2.epochs 10 -> 12\)"):
        Trainer(changed, resume=True).check_resume()
    Trainer(changed).check_resume()  # a fresh run may change anything
    faster = dataclasses.replace(config, data=dataclasses.replace(config.data, num_workers=0))
    Trainer(faster, resume=True).check_resume()  # how a run is executed may change


@pytest.mark.parametrize("module", ["train.__main__", "train.ablation"])
def test_cli_reports_config_errors_without_traceback(module, tmp_path, capsys):
    main = importlib.import_module(module).main
    program = module.removesuffix(".__main__")
    config = str(REPO_ROOT / "train/configs/synthetic.yaml")
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", config, f"output_dir={tmp_path}", "stage2.optimizer=sgd"])
    assert exit_info.value.code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"python -m {program}: error: invalid stage2.optimizer 'sgd': expected adam or adamw")
    )
    with pytest.raises(SystemExit):
        main(["--config", str(tmp_path / "missing.yaml")])
    assert "error: config file" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing was written


@pytest.mark.parametrize("name", ["cuhk_market", "icfg_msmt", "rstp_duke", "synthetic", "synthetic_ablation"])
def test_shipped_configs_load(name):
    config = load_config(REPO_ROOT / "train/configs" / f"{name}.yaml")
    assert config.stage2.epochs > 0


# End-to-end runs on a tiny synthetic pair --------------------------------------------------------

TINY_OVERRIDES = [
    "stage0.epochs=1",
    "stage1.epochs=1",
    "stage2.epochs=2",
    "batch.t2i_size=16",
    "batch.i2i_size=16",
    "batch.stage0_size=16",
    "data.num_workers=0",
    "eval.batch_size=64",
]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from hpl.data.synthetic import generate

    root = tmp_path_factory.mktemp("synthetic")
    generate(root, preset="demo", seed=3, num_ids=24)
    return root


def _train_command(data_root: Path, run_root: Path, name: str, extra=()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "train",
        "--config",
        str(REPO_ROOT / "train/configs/synthetic.yaml"),
        f"name={name}",
        f"output_dir={run_root}",
        f"data.t2i_root={data_root}",
        f"data.i2i_root={data_root}",
        *TINY_OVERRIDES,
        *extra,
    ]


@pytest.mark.slow
def test_trainer_smoke_run(tiny_data, tmp_path, caplog):
    from train.trainer import Trainer

    config = load_config(
        REPO_ROOT / "train/configs/synthetic.yaml",
        [f"output_dir={tmp_path}", "name=smoke", f"data.t2i_root={tiny_data}", f"data.i2i_root={tiny_data}"]
        + TINY_OVERRIDES,
    )
    with caplog.at_level(logging.INFO, logger="train.trainer"):
        evaluation = Trainer(config).run()
    results = evaluation.results
    assert set(results) == {"I2I", "T2I"}
    assert -1.0 <= evaluation.token_cosine <= 1.0
    # synthetic.yaml groups look-alike identities in the batches of stage 0 and stage II, not stage I.
    grouped = [line.split(" epoch")[0] for line in caplog.messages if "look-alike groups found" in line]
    assert grouped == ["stage0", "stage2", "stage2"]
    for result in results.values():
        for metric in ("r1", "r5", "r10", "map", "minp"):
            assert 0.0 <= getattr(result, metric) <= 100.0
        assert result.num_valid > 0

    run = tmp_path / "smoke"
    for name in (
        "model.safetensors",
        "metrics.csv",
        "config.yaml",
        "results.md",
        "plots/losses.png",
        "plots/cmc.png",
    ):
        assert (run / name).is_file(), name
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("clip,total") or "stage" in rows[0]
    assert sum(line.split(",").count("stage2") for line in rows) == 2

    info = hpl.read_checkpoint_info(run / "model.safetensors")
    assert info.metadata["stages"] == ["stage0", "stage1", "stage2"]
    assert set(info.metadata["metrics"]) >= {"I2I_r1", "I2I_map", "T2I_r1", "T2I_map"}

    from train.export_demo import export

    checkpoint, gallery_size = export(run, tiny_data, tmp_path / "assets")
    exported = hpl.read_checkpoint_info(checkpoint)
    assert exported.metadata["preset"] == "demo"
    # The test data is the demo preset rescaled to 24 people with seed 3, and the metadata records that.
    assert exported.metadata["training_data"].startswith(
        "Synthetic persons benchmark, demo preset (identity counts rescaled), seed 3 "
    )
    # The recorded recipe names every key that differs from synthetic.yaml, so it gives the run's config.
    command, then = exported.metadata["recipe"].split(", then ")
    assert then == f"python -m train.export_demo --run {run} --data {tiny_data}"
    assert command.startswith("python -m train --config train/configs/synthetic.yaml name=smoke ")
    assert "stage0.epochs=1" in command.split()
    arguments = shlex.split(command)[5:]
    assert load_config(REPO_ROOT / "train/configs/synthetic.yaml", arguments) == load_config(
        run / "config.yaml"
    )
    assert exported.config.flip_test
    assert exported.metadata["metrics"] == info.metadata["metrics"]
    assert checkpoint.stat().st_size < (run / "model.safetensors").stat().st_size * 0.6  # float16
    gallery = sorted(p.name for p in (tmp_path / "assets" / "gallery").iterdir())
    assert len(gallery) == gallery_size > 0
    assert not any(name.startswith("-1") for name in gallery)


@pytest.mark.slow
def test_killed_run_resumes(tiny_data, tmp_path):
    """Kill a real training process mid-run, then --resume finishes it from the last complete epoch."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    command = _train_command(tiny_data, tmp_path, "killed", ["stage2.epochs=4"])
    state = tmp_path / "killed" / "checkpoints" / "last.safetensors"
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if (tmp_path / "killed" / "checkpoints" / "stage1.safetensors").is_file():
            break
        time.sleep(0.2)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert state.is_file()
    assert not (tmp_path / "killed" / "model.safetensors").exists()
    leftovers = [p.name for p in state.parent.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers or all(p.startswith(".") for p in leftovers)

    resumed = subprocess.run(
        [*command, "--resume"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from" in resumed.stderr
    assert "stage0" not in resumed.stderr.split("resuming from")[1].split("\n")[1]  # stage 0 not retrained
    info = hpl.read_checkpoint_info(tmp_path / "killed" / "model.safetensors")
    assert info.metadata["stages"] == ["stage0", "stage1", "stage2"]
    rows = (tmp_path / "killed" / "metrics.csv").read_text().splitlines()
    stage2_epochs = [line for line in rows if ",stage2," in line]
    assert len(stage2_epochs) == 4


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tiny_data, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(29500 + os.getpid() % 1000),
        "-m",
        "train",
        *_train_command(tiny_data, tmp_path, "ddp", ["device=cpu", "stage2.epochs=1"])[3:],
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "ddp" / "model.safetensors").is_file()
    assert "evaluation" in result.stderr


@pytest.mark.slow
def test_ablation_runner_tiny(tiny_data, tmp_path, capsys):
    from train.ablation import METRICS, VARIANTS, main

    overrides = [
        f"output_dir={tmp_path}",
        "name=ablation",
        f"data.t2i_root={tiny_data}",
        f"data.i2i_root={tiny_data}",
        "stage2.epochs=1",
        *[override for override in TINY_OVERRIDES if not override.startswith("stage2.")],
    ]
    config = str(REPO_ROOT / "train/configs/synthetic_ablation.yaml")
    assert main(["--config", config, "--seeds", "0", *overrides]) == 0
    with open(tmp_path / "ablation" / "ablation.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["variant"] for row in rows] == [name for _, name, *_ in VARIANTS]
    for row in rows:
        assert all(row[metric] for metric in METRICS)
    # The joint baseline has one class token; each routed variant reports how far its two have moved apart.
    assert rows[0]["token_cosine"] == ""
    assert all(-1.0 <= float(row["token_cosine"]) <= 1.0 for row in rows[1:])

    # Every variant starts from the one stage-0 checkpoint of its seed.
    stage0 = tmp_path / "ablation" / "seed0" / "stage0" / "checkpoints" / "stage0.safetensors"
    assert stage0.is_file()
    baseline = hpl.read_checkpoint_info(tmp_path / "ablation" / "seed0" / "baseline" / "model.safetensors")
    assert baseline.config.task_routed is False
    assert baseline.config.hierarchical_prompts is False
    full = hpl.read_checkpoint_info(tmp_path / "ablation" / "seed0" / "trt_hpl_cmpr" / "model.safetensors")
    assert full.config.cmpr is True
    assert full.metadata["stages"] == ["stage0", "stage1", "stage2"]

    table = (tmp_path / "ablation" / "ablation.md").read_text()
    assert table.count("\n| ") == 5  # header and four variants

    # A rerun with a changed key would skip the finished variants, so it stops before training.
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", config, "--seeds", "0", *overrides, "stage2.epochs=2"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "cannot resume" in error
    assert "stage2.epochs 1 -> 2" in error
    assert "| Token cosine |" in table.splitlines()[2]
    assert "+ TRT + HPL + CMPR" in table
