"""Templated captions, the facts each one states, and caption tokenization."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hpl.data.synthetic.attributes import Identity, Instance
from hpl.data.synthetic.settings import SyntheticSettings
from hpl.data.synthetic.vocabulary import GARMENT_COLOURS, HAIR_COLOURS, PLURAL_TYPES, RGB, SYNONYMS


@dataclass(frozen=True)
class CaptionFact:
    """One attribute named by a caption: its true value, and the value the caption states."""

    attribute: str
    value: str
    stated: str


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _with_article(phrase: str, plural: bool) -> str:
    return phrase if plural else f"{_article(phrase)} {phrase}"


def _join(phrases: Sequence[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


class _CaptionWriter:
    """Builds one caption, naming attributes and recording each as a CaptionFact."""

    def __init__(
        self,
        rng: random.Random,
        identity: Identity,
        instance: Instance,
        settings: SyntheticSettings,
        palette: Sequence[str],
    ) -> None:
        self.rng = rng
        self.identity = identity
        self.instance = instance
        self.settings = settings
        self.palette = list(palette)
        self.facts: list[CaptionFact] = []

    def colour(self, attribute: str, value: str) -> str:
        """Name a colour, replaced by a similar one at the caption colour error rate."""
        stated = value
        if self.rng.random() < self.settings.caption_colour_error_rate:
            if attribute == "hair_colour":
                vocabulary = HAIR_COLOURS
            else:
                vocabulary = {name: GARMENT_COLOURS[name] for name in self.palette}
            stated = _similar_colour(value, vocabulary, self.rng)
        self.facts.append(CaptionFact(attribute, value, stated))
        return stated

    def word(self, attribute: str, value: str) -> str:
        stated = self.rng.choice(SYNONYMS.get(value, (value,)))
        self.facts.append(CaptionFact(attribute, value, stated))
        return stated

    def include(self) -> bool:
        return self.rng.random() < self.settings.caption_attribute_rate

    # Identity phrases; each returns None when the caption leaves the attribute out or it is not visible.

    def hair(self) -> str | None:
        identity = self.identity
        covered = identity.headwear in ("beanie", "hat") and identity.hair_style in ("short", "shaved")
        if covered or not self.include():
            return None
        style = identity.hair_style
        self.facts.append(CaptionFact("hair_style", style, style))
        if style == "shaved":
            return "a shaved head"
        colour = self.colour("hair_colour", identity.hair_colour)
        return {
            "short": f"short {colour} hair",
            "long": f"long {colour} hair",
            "ponytail": f"{_article(colour)} {colour} ponytail",
            "bun": f"{colour} hair in a bun",
        }[style]

    def upper(self) -> str:
        identity = self.identity
        colour = self.colour("upper_colour", identity.upper_colour)
        name = self.word("upper_type", identity.upper_type)
        pattern = identity.upper_pattern
        visible_logo = pattern == "logo" and self.instance.view == "front"
        if pattern in ("stripes", "checks") and self.rng.random() < 0.8:
            self.facts.append(CaptionFact("upper_pattern", pattern, pattern))
            other = self.colour("pattern_colour", identity.pattern_colour)
            adjective = "striped" if pattern == "stripes" else "checked"
            return f"{_article(colour)} {colour} and {other} {adjective} {name}"
        if visible_logo and self.rng.random() < 0.8:
            self.facts.append(CaptionFact("upper_pattern", pattern, pattern))
            other = self.colour("pattern_colour", identity.pattern_colour)
            return f"{_article(colour)} {colour} {name} with {_article(other)} {other} logo on the front"
        return f"{_article(colour)} {colour} {name}"

    def lower(self) -> str | None:
        identity = self.identity
        if identity.lower_type == "none" or not self.include():
            return None
        colour = self.colour("lower_colour", identity.lower_colour)
        name = self.word("lower_type", identity.lower_type)
        return _with_article(f"{colour} {name}", identity.lower_type in PLURAL_TYPES)

    def shoes(self) -> str | None:
        identity = self.identity
        if not self.include():
            return None
        colour = self.colour("shoes_colour", identity.shoes_colour)
        name = self.word("shoes_type", identity.shoes_type)
        return f"{colour} {name}"

    def headwear(self) -> str | None:
        identity = self.identity
        kind = identity.headwear
        hidden = kind in ("glasses", "sunglasses") and self.instance.view == "back"
        if kind == "none" or hidden or not self.include():
            return None
        if kind in ("glasses", "sunglasses"):
            self.facts.append(CaptionFact("headwear", kind, kind))
            return kind
        colour = self.colour("headwear_colour", identity.headwear_colour)
        return f"{_article(colour)} {colour} {self.word('headwear', kind)}"

    def bag(self) -> str | None:
        identity = self.identity
        if identity.bag_type == "none" or not self.include():
            return None
        colour = self.colour("bag_colour", identity.bag_colour)
        return f"{_article(colour)} {colour} {self.word('bag_type', identity.bag_type)}"

    def build(self) -> str | None:
        identity = self.identity
        if self.rng.random() >= self.settings.caption_attribute_rate * 0.4:
            return None
        if identity.height >= 1.04:
            word = "tall"
        elif identity.height <= 0.93:
            word = "short"
        elif identity.width <= 0.86:
            word = "slim"
        elif identity.width >= 1.1:
            word = "heavy-set"
        else:
            return None
        self.facts.append(CaptionFact("build", word, word))
        return word

    # Instance phrases

    def view_phrase(self, participle: bool) -> str:
        view, facing = self.instance.view, self.instance.facing
        self.facts.append(CaptionFact("view", view, view))
        options = {
            "front": (
                ("walking towards the camera", "facing the camera"),
                ("facing the camera", "seen from the front"),
            ),
            "back": (
                ("walking away from the camera", "facing away from the camera"),
                ("seen from behind", "seen from the back"),
            ),
            "side": (
                (f"walking to the {facing}", "seen from the side"),
                ("seen from the side", f"facing {facing}"),
            ),
        }[view]
        return self.rng.choice(options[1] if participle else options[0])

    def held_phrase(self) -> str | None:
        held = self.instance.held_object
        if held == "none":
            if self.rng.random() < 0.25:
                self.facts.append(CaptionFact("held_object", "none", "none"))
                return "carrying nothing in " + self.pronoun_possessive() + " hands"
            return None
        name = self.word("held_object", held)
        if held == "umbrella":
            colour = self.colour("held_colour", self.instance.held_colour)
            return self.rng.choice(
                (
                    f"holding {_article(colour)} {colour} umbrella",
                    f"walking under {_article(colour)} {colour} umbrella",
                )
            )
        verb = self.rng.choice(("holding", "carrying")) if held == "box" else "holding"
        return f"{verb} {_article(name)} {name}"

    def pronoun(self) -> str:
        return "he" if self.identity.gender == "man" else "she"

    def pronoun_possessive(self) -> str:
        return "his" if self.identity.gender == "man" else "her"

    def subject(self, article: str) -> str:
        nouns = {
            "man": ("man", "guy", "young man", "gentleman"),
            "woman": ("woman", "lady", "young woman", "girl"),
        }
        if self.rng.random() < 0.2:
            noun = self.rng.choice(("person", "pedestrian"))
        else:
            noun = self.rng.choice(nouns[self.identity.gender])
            self.facts.append(CaptionFact("gender", self.identity.gender, self.identity.gender))
        build = self.build()
        phrase = f"{build} {noun}" if build else noun
        return f"{_article(phrase)} {phrase}" if article == "a" else f"{article} {phrase}"


def _similar_colour(name: str, vocabulary: dict[str, RGB], rng: random.Random) -> str:
    """Pick one of the two colours of `vocabulary` nearest to `name` in RGB (a plausible annotator mistake)."""
    reference = vocabulary.get(name) or GARMENT_COLOURS[name]
    ranked = sorted(
        (other for other in vocabulary if other != name),
        key=lambda other: sum((a - b) ** 2 for a, b in zip(reference, vocabulary[other], strict=True)),
    )
    return rng.choice(ranked[:2])


def write_caption(
    rng: random.Random,
    identity: Identity,
    instance: Instance,
    settings: SyntheticSettings,
    palette: Sequence[str],
) -> tuple[str, list[CaptionFact]]:
    """Write one caption of an image and return it with the facts it states."""
    writer = _CaptionWriter(rng, identity, instance, settings, palette)
    clothes = [phrase for phrase in (writer.upper(), writer.lower(), writer.shoes()) if phrase]
    if len(clothes) > 2 and rng.random() < 0.3:
        clothes[1:] = rng.sample(clothes[1:], len(clothes) - 1)
    hair = writer.hair()
    headwear = writer.headwear()
    bag = writer.bag()
    instance_parts: list[str] = []
    if rng.random() < settings.caption_instance_rate:
        instance_parts = [writer.view_phrase(participle=False)]
        held = writer.held_phrase()
        if held:
            instance_parts.append(held)
        rng.shuffle(instance_parts)
    template = rng.choice((_template_noun_phrase, _template_declarative, _template_instance_first))
    text = template(writer, rng, clothes, hair, headwear, bag, instance_parts)
    return text, writer.facts


def _template_noun_phrase(
    writer: _CaptionWriter,
    rng: random.Random,
    clothes: list[str],
    hair: str | None,
    headwear: str | None,
    bag: str | None,
    instance_parts: list[str],
) -> str:
    """'A woman with long brown hair wearing a red coat and black boots, carrying a bag. She is ...'"""
    subject = writer.subject("a")
    if hair:
        subject += f" with {hair}"
    verb = rng.choice(("wearing", "dressed in", "in"))
    worn = clothes + ([headwear] if headwear else [])
    first = f"{subject} {verb} {_join(worn)}"
    if bag:
        first += f", carrying {bag}" if rng.random() < 0.5 else f", with {bag}"
    sentences = [_sentence(first)]
    if instance_parts:
        sentences.append(_sentence(f"{writer.pronoun()} is {_join(instance_parts)}"))
    return " ".join(sentences)


def _template_declarative(
    writer: _CaptionWriter,
    rng: random.Random,
    clothes: list[str],
    hair: str | None,
    headwear: str | None,
    bag: str | None,
    instance_parts: list[str],
) -> str:
    """'The man is wearing ... He has short black hair and glasses. He carries a backpack.'"""
    article = rng.choice(("the", "this", "a"))
    sentences = [_sentence(f"{writer.subject(article)} is wearing {_join(clothes)}")]
    extras = []
    pronoun = writer.pronoun()
    has = [phrase for phrase in (hair, headwear) if phrase]
    if has:
        extras.append(
            _sentence(f"{pronoun} has {_join(has)}")
            if hair
            else _sentence(f"{pronoun} also wears {_join(has)}")
        )
    if bag:
        extras.append(_sentence(f"{pronoun} {rng.choice(('carries', 'has'))} {bag}"))
    if instance_parts:
        extras.append(_sentence(f"{pronoun} is {_join(instance_parts)}"))
    rng.shuffle(extras)
    return " ".join(sentences + extras)


def _template_instance_first(
    writer: _CaptionWriter,
    rng: random.Random,
    clothes: list[str],
    hair: str | None,
    headwear: str | None,
    bag: str | None,
    instance_parts: list[str],
) -> str:
    """'Seen from behind, a man in a grey jacket and black trousers carries a backpack.'"""
    if not instance_parts:
        return _template_noun_phrase(writer, rng, clothes, hair, headwear, bag, instance_parts)
    lead = _sentence(
        f"{_join(instance_parts)}, {writer.subject('a')} {rng.choice(('wears', 'is wearing', 'is dressed in'))} {_join(clothes)}"
    )
    sentences = [lead]
    pronoun = writer.pronoun()
    details = [phrase for phrase in (hair, headwear) if phrase]
    if details:
        sentences.append(_sentence(f"{pronoun} has {_join(details)}"))
    if bag:
        sentences.append(_sentence(f"{pronoun} {rng.choice(('carries', 'has'))} {bag}"))
    return " ".join(sentences)


def tokenize_caption(caption: str) -> list[str]:
    """Split a caption into lower-case word tokens, as in CUHK-PEDES `processed_tokens`."""
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", caption.lower())
