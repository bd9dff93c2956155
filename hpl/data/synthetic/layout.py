"""Image and drawing-canvas sizes, and the folder and file names of the two dataset layouts."""

from __future__ import annotations

import re

IMAGE_HEIGHT = 128
IMAGE_WIDTH = 64
DRAW_SCALE = 2  # people are drawn at 2x and reduced with a box filter, which antialiases the edges
CANVAS_HEIGHT = IMAGE_HEIGHT * DRAW_SCALE
CANVAS_WIDTH = IMAGE_WIDTH * DRAW_SCALE
BACKGROUND_MARGIN = 24  # extra canvas pixels on each side of a camera background, used for crop jitter

MARKET_DIR = "Market-1501"
CUHK_DIR = "CUHK-PEDES"
MARKET_NAME_PATTERN = re.compile(r"^(-1|\d{4})_c(\d)s(\d)_(\d{6})_(\d{2})\.jpg$")
