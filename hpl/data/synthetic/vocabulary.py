"""Vocabulary: colours, garments and the words captions use for them."""

from __future__ import annotations

RGB = tuple[int, int, int]


# The first 12 colours are well separated; the last 12 are near shades of them, used by larger palettes.
GARMENT_COLOURS: dict[str, RGB] = {
    "black": (28, 28, 30),
    "white": (236, 236, 230),
    "grey": (128, 128, 128),
    "red": (196, 30, 36),
    "blue": (36, 72, 190),
    "green": (40, 140, 60),
    "yellow": (236, 206, 40),
    "orange": (240, 128, 30),
    "pink": (240, 140, 180),
    "purple": (120, 48, 150),
    "brown": (112, 72, 40),
    "beige": (214, 194, 150),
    "navy blue": (26, 36, 92),
    "light blue": (128, 178, 230),
    "dark green": (26, 76, 40),
    "maroon": (112, 26, 40),
    "dark grey": (68, 68, 70),
    "light grey": (186, 186, 186),
    "khaki": (166, 150, 100),
    "cream": (240, 230, 200),
    "teal": (30, 128, 128),
    "olive": (110, 110, 44),
    "lavender": (180, 160, 220),
    "coral": (240, 110, 90),
}
JEANS_COLOURS = ("blue", "navy blue", "light blue", "black", "grey", "dark grey")
HAIR_COLOURS: dict[str, RGB] = {
    "black": (24, 20, 18),
    "brown": (92, 56, 30),
    "blonde": (212, 176, 100),
    "grey": (150, 150, 150),
    "auburn": (142, 62, 30),
}
SKIN_TONES: dict[str, RGB] = {
    "light": (242, 210, 186),
    "fair": (226, 186, 150),
    "medium": (200, 154, 114),
    "olive": (178, 134, 94),
    "brown": (140, 96, 64),
    "dark": (96, 64, 44),
}
UMBRELLA_COLOURS = ("black", "red", "blue", "yellow", "green", "purple", "pink", "white")

GENDERS = ("man", "woman")
HAIR_STYLES = ("short", "long", "ponytail", "bun", "shaved")
UPPER_TYPES = ("t-shirt", "shirt", "sweater", "jacket", "coat", "tank top", "dress")
UPPER_PATTERNS = ("plain", "stripes", "checks", "logo")
LOWER_TYPES = ("trousers", "jeans", "shorts", "skirt")
SHOE_TYPES = ("sneakers", "leather shoes", "boots", "sandals")
BAG_TYPES = ("none", "backpack", "shoulder bag", "handbag")
HEADWEAR_TYPES = ("none", "cap", "beanie", "hat", "glasses", "sunglasses")
HELD_OBJECTS = ("none", "phone", "umbrella", "cup", "box")
VIEWS = ("front", "back", "side")
OCCLUSIONS = ("none", "pole", "car", "person")
SCENES = ("street", "wall", "grass", "indoor")

# Words a caption may use for each garment, bag or object type; the first one is the plain name.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "t-shirt": ("t-shirt", "T-shirt", "tee"),
    "shirt": ("shirt", "button-up shirt", "collared shirt"),
    "sweater": ("sweater", "jumper", "pullover"),
    "jacket": ("jacket",),
    "coat": ("coat", "long coat", "overcoat"),
    "tank top": ("tank top", "sleeveless top"),
    "dress": ("dress",),
    "trousers": ("trousers", "pants", "slacks"),
    "jeans": ("jeans", "denim jeans"),
    "shorts": ("shorts",),
    "skirt": ("skirt",),
    "sneakers": ("sneakers", "trainers", "running shoes"),
    "leather shoes": ("leather shoes", "dress shoes"),
    "boots": ("boots", "ankle boots"),
    "sandals": ("sandals",),
    "backpack": ("backpack", "rucksack"),
    "shoulder bag": ("shoulder bag", "messenger bag"),
    "handbag": ("handbag", "purse"),
    "cap": ("cap", "baseball cap"),
    "beanie": ("beanie", "knitted hat"),
    "hat": ("hat", "sun hat"),
    "phone": ("phone", "mobile phone", "smartphone"),
    "umbrella": ("umbrella",),
    "cup": ("cup", "coffee cup", "paper cup"),
    "box": ("box", "cardboard box", "parcel"),
}
PLURAL_TYPES = {"trousers", "jeans", "shorts", "sneakers", "leather shoes", "boots", "sandals"}
