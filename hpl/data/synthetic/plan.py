"""Planning: people, their splits in the two datasets, their images and file names."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hpl.data.synthetic.attributes import (
    Identity,
    Instance,
    _randint_in,
    draw_identity,
    draw_instance,
    vary_identity,
)
from hpl.data.synthetic.cameras import Camera, make_cameras, with_lighting_strength
from hpl.data.synthetic.captions import CaptionFact, write_caption
from hpl.data.synthetic.layout import CUHK_DIR, MARKET_DIR
from hpl.data.synthetic.seeds import _stream
from hpl.data.synthetic.settings import SyntheticSettings
from hpl.data.synthetic.vocabulary import GARMENT_COLOURS


@dataclass(frozen=True)
class _Group:
    """A disjoint group of people with the same membership in the two datasets."""

    name: str
    count: int
    market_split: str | None  # "train" or "test"
    cuhk_split: str | None  # "train", "val" or "test"


def _identity_groups(settings: SyntheticSettings) -> list[_Group]:
    return [
        _Group("market_only_train", settings.market_only_train_ids, "train", None),
        _Group("market_only_test", settings.market_only_test_ids, "test", None),
        _Group("cuhk_only_train", settings.cuhk_only_train_ids, None, "train"),
        _Group("cuhk_val", settings.cuhk_val_ids, None, "val"),
        _Group("cuhk_only_test", settings.cuhk_only_test_ids, None, "test"),
        _Group("shared_train", settings.shared_train_ids, "train", "train"),
        _Group("shared_test", settings.shared_test_ids, "test", "test"),
        _Group("market_test_in_cuhk_train", settings.market_test_in_cuhk_train_ids, "test", "train"),
        _Group("cuhk_test_in_market_train", settings.cuhk_test_in_market_train_ids, "train", "test"),
    ]


@dataclass
class Person:
    """One synthetic person and its labels in the two datasets (None where it is absent)."""

    name: str  # "P00001"
    group: str
    identity: Identity
    market_pid: int | None = None
    market_split: str | None = None
    cuhk_id: int | None = None
    cuhk_split: str | None = None
    shared_keys: list[str] = field(default_factory=list)  # Market file names also in CUHK-PEDES


@dataclass
class ImageSpec:
    """Everything needed to render and write one image, and to describe it in attributes.jsonl."""

    key: str  # Market file name, or the CUHK-PEDES file path for images outside Market
    person: str | None  # Person.name; None for distractors and junk boxes
    identity: Identity | None  # None for junk boxes
    instance: Instance
    render_seed: int
    market_pid: int | None = None  # 0 for distractors, -1 for junk boxes, None outside Market
    cuhk_id: int | None = None
    market_folder: str | None = None  # bounding_box_train, bounding_box_test or query
    cuhk_path: str | None = None  # CUHK-PEDES file_path, relative to imgs/
    cuhk_split: str | None = None
    captions: list[str] = field(default_factory=list)
    caption_facts: list[list[CaptionFact]] = field(default_factory=list)

    def output_paths(self) -> list[str]:
        """Return the paths, relative to the output folder, where this image is written."""
        paths = []
        if self.market_folder is not None:
            paths.append(f"{MARKET_DIR}/{self.market_folder}/{self.key}")
        if self.cuhk_path is not None:
            paths.append(f"{CUHK_DIR}/imgs/{self.cuhk_path}")
        return paths


@dataclass
class _Plan:
    persons: list[Person]
    images: list[ImageSpec]
    cameras: list[Camera]


def plan_dataset(settings: SyntheticSettings, seed: int) -> _Plan:
    """Decide every person, label, file name, instance attribute and caption, without drawing pixels."""
    palette = list(GARMENT_COLOURS)[: settings.palette_size]
    cameras = make_cameras(seed, settings.num_cameras)
    if settings.camera_lighting_strength != 1.0:
        cameras = [with_lighting_strength(camera, settings.camera_lighting_strength) for camera in cameras]
    persons = _plan_persons(settings, seed, palette)
    _assign_labels(persons, settings, seed)
    names = _MarketNamer(seed)
    images: list[ImageSpec] = []
    for person in persons:
        market_images = _plan_market_images(person, settings, seed, cameras, names)
        cuhk_images = _plan_cuhk_images(person, market_images, settings, seed, cameras)
        images.extend(market_images)
        images.extend(image for image in cuhk_images if image.market_folder is None)
    images.extend(_plan_distractors(settings, seed, cameras, names, palette))
    images.extend(_plan_junk(settings, seed, cameras, names))
    _write_captions(images, settings, seed, palette)
    return _Plan(persons, images, cameras)


def _plan_persons(settings: SyntheticSettings, seed: int, palette: Sequence[str]) -> list[Person]:
    """Draw every person group by group; groups dressed alike stay inside one identity group."""
    persons: list[Person] = []
    uniform_index = 0
    for group in _identity_groups(settings):
        rng = _stream(seed, "persons", group.name)
        identities: list[Identity] = []
        group_start_rate = _uniform_group_start_rate(settings)
        while len(identities) < group.count:
            remaining = group.count - len(identities)
            if rng.random() < group_start_rate and remaining >= settings.uniform_group_size[0]:
                size = min(remaining, _randint_in(rng, settings.uniform_group_size))
                identities.extend(_draw_uniform_group(rng, palette, settings, size, uniform_index))
                uniform_index += 1
            else:
                identities.append(draw_identity(rng, palette))
        for identity in identities:
            persons.append(
                Person(
                    f"P{len(persons) + 1:05d}",
                    group.name,
                    identity,
                    market_split=group.market_split,
                    cuhk_split=group.cuhk_split,
                )
            )
    return persons


def _uniform_group_start_rate(settings: SyntheticSettings) -> float:
    """Return the chance per draw of starting a group, so that `uniform_fraction` of people are in one.

    A draw starts a group of mean size S with chance q, else adds one person. The expected fraction
    of people in groups is then qS / (qS + 1 - q), and solving for q gives f / (S (1 - f) + f).
    """
    fraction = settings.uniform_fraction
    mean_size = sum(settings.uniform_group_size) / 2.0
    return fraction / (mean_size * (1.0 - fraction) + fraction) if fraction > 0 else 0.0


def _draw_uniform_group(
    rng: random.Random, palette: Sequence[str], settings: SyntheticSettings, size: int, group_index: int
) -> list[Identity]:
    base = dataclasses.replace(draw_identity(rng, palette), uniform_group=group_index)
    members = [base]
    attempts = 0
    while len(members) < size:
        attempts += 1
        if attempts > 100 * size:
            raise RuntimeError(
                f"could not draw {size} distinct people dressed alike; lower uniform_group_size"
            )
        member = vary_identity(rng, base, palette, _randint_in(rng, settings.uniform_changed_details))
        if all(_dress_signature(member) != _dress_signature(other) for other in members):
            members.append(member)
    return members


def _dress_signature(identity: Identity) -> tuple[Any, ...]:
    return dataclasses.astuple(dataclasses.replace(identity, shade_seed=0, uniform_group=None))


def _assign_labels(persons: list[Person], settings: SyntheticSettings, seed: int) -> None:
    """Give Market pids (shuffled over 1..N, train and test interleaved as in Market-1501) and CUHK ids.

    CUHK-PEDES ids are 1-based and contiguous per split in the order train, val, test, so a reader can
    use ``id - 1`` as the training label.
    """
    rng = _stream(seed, "labels")
    market = [person for person in persons if person.market_split is not None]
    pids = list(range(1, len(market) + 1))
    rng.shuffle(pids)
    for person, pid in zip(market, pids, strict=True):
        person.market_pid = pid
    next_id = 1
    for split in ("train", "val", "test"):
        members = [person for person in persons if person.cuhk_split == split]
        rng.shuffle(members)
        for person in members:
            person.cuhk_id = next_id
            next_id += 1


class _MarketNamer:
    """Issues Market-1501 file names with unique (camera, sequence, frame) triples."""

    def __init__(self, seed: int) -> None:
        self.rng = _stream(seed, "market-names")
        self.used: set[tuple[int, int, int]] = set()

    def name(self, pid: int, camid: int, query: bool) -> str:
        while True:
            sequence = self.rng.randint(1, 6)
            frame = self.rng.randrange(1, 200_000) // 25 * 25 + 1
            if (camid, sequence, frame) not in self.used:
                break
        self.used.add((camid, sequence, frame))
        box = 0 if query else self.rng.randint(1, 6)
        owner = "-1" if pid < 0 else f"{pid:04d}"
        return f"{owner}_c{camid}s{sequence}_{frame:06d}_{box:02d}.jpg"


def _new_image(
    key_parts: tuple[object, ...],
    seed: int,
    settings: SyntheticSettings,
    camera: Camera,
    person: Person | None,
    identity: Identity | None,
) -> ImageSpec:
    rng = _stream(seed, "instance", *key_parts)
    instance = draw_instance(rng, settings, camera.camid, camera.scene)
    return ImageSpec(
        key="",
        person=person.name if person else None,
        identity=identity,
        instance=instance,
        render_seed=rng.randrange(1 << 30),
        market_pid=person.market_pid if person else None,
        cuhk_id=person.cuhk_id if person else None,
    )


def _plan_market_images(
    person: Person, settings: SyntheticSettings, seed: int, cameras: list[Camera], names: _MarketNamer
) -> list[ImageSpec]:
    """Plan a person's Market images: training images, or one query per query camera plus gallery images."""
    if person.market_split is None or person.market_pid is None:
        return []
    rng = _stream(seed, "market-plan", person.name)
    shots: list[tuple[int, str]] = []  # (camid, folder)
    if person.market_split == "train":
        seen_by = rng.sample(
            range(1, settings.num_cameras + 1), _randint_in(rng, settings.market_train_cameras)
        )
        count = max(len(seen_by), _randint_in(rng, settings.market_train_images))
        shots = [(seen_by[index % len(seen_by)], "bounding_box_train") for index in range(count)]
    else:
        seen_by = rng.sample(
            range(1, settings.num_cameras + 1), _randint_in(rng, settings.market_test_cameras)
        )
        query_count = min(len(seen_by), _randint_in(rng, settings.query_cameras))
        shots = [(camid, "query") for camid in seen_by[:query_count]]
        for camid in seen_by:
            shots += [(camid, "bounding_box_test")] * _randint_in(rng, settings.gallery_per_camera)
    images = []
    for index, (camid, folder) in enumerate(shots):
        image = _new_image(
            ("market", person.name, index), seed, settings, cameras[camid - 1], person, person.identity
        )
        image.key = names.name(person.market_pid, camid, query=folder == "query")
        image.market_folder = folder
        images.append(image)
    return images


def _plan_cuhk_images(
    person: Person,
    market_images: list[ImageSpec],
    settings: SyntheticSettings,
    seed: int,
    cameras: list[Camera],
) -> list[ImageSpec]:
    """Plan a person's CUHK-PEDES images: some Market images (kept under Market/) plus new ones under SYN/."""
    if person.cuhk_split is None:
        return []
    rng = _stream(seed, "cuhk-plan", person.name)
    count = _randint_in(rng, settings.cuhk_images)
    shared: list[ImageSpec] = []
    if market_images:
        shared_count = min(count, len(market_images), _randint_in(rng, settings.shared_images))
        shared = rng.sample(market_images, shared_count)
    images = []
    for image in shared:
        image.cuhk_path = f"Market/{image.key}"
        image.cuhk_split = person.cuhk_split
        person.shared_keys.append(image.key)
        images.append(image)
    for index in range(count - len(shared)):
        camera = cameras[rng.randrange(len(cameras))]
        image = _new_image(("cuhk", person.name, index), seed, settings, camera, person, person.identity)
        image.key = f"SYN/{person.name}_c{camera.camid}_{index + 1:02d}.jpg"
        image.cuhk_path = image.key
        image.cuhk_split = person.cuhk_split
        images.append(image)
    return images


def _plan_distractors(
    settings: SyntheticSettings, seed: int, cameras: list[Camera], names: _MarketNamer, palette: Sequence[str]
) -> list[ImageSpec]:
    images = []
    for index in range(settings.num_distractors):
        rng = _stream(seed, "distractor", index)
        camera = cameras[rng.randrange(len(cameras))]
        image = _new_image(("distractor", index), seed, settings, camera, None, draw_identity(rng, palette))
        image.key = names.name(0, camera.camid, query=False)
        image.market_pid = 0
        image.market_folder = "bounding_box_test"
        images.append(image)
    return images


def _plan_junk(
    settings: SyntheticSettings, seed: int, cameras: list[Camera], names: _MarketNamer
) -> list[ImageSpec]:
    images = []
    for index in range(settings.num_junk):
        camera = cameras[_stream(seed, "junk", index).randrange(len(cameras))]
        image = _new_image(("junk", index), seed, settings, camera, None, None)
        image.key = names.name(-1, camera.camid, query=False)
        image.market_pid = -1
        image.market_folder = "bounding_box_test"
        images.append(image)
    return images


def _write_captions(
    images: list[ImageSpec], settings: SyntheticSettings, seed: int, palette: Sequence[str]
) -> None:
    for image in images:
        if image.cuhk_path is None or image.identity is None:
            continue
        rng = _stream(seed, "captions", image.key)
        for _ in range(_randint_in(rng, settings.captions_per_image)):
            text, facts = write_caption(rng, image.identity, image.instance, settings, palette)
            image.captions.append(text)
            image.caption_facts.append(facts)
