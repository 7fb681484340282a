"""Labelled prompts for the v2 parser: what each caption says, and where its colour names are.

Colours come from the whole shipped table (any of its names, for the object and for the
background), except `HELD_OUT_COLOURS` (one name in eight, fixed) and the paraphrase suite's
words, which evaluation uses to measure colour reading on names never trained on. Some
captions name an object the generator cannot draw (shape "other"), leave the colour, the
motion, the background or the camera out ("unspecified"), so the reading can say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from clipforge.backends.builtin.v2.colours import colour_table
from training.captions import (
    BACKGROUND_PHRASES,
    PARAPHRASE_COLOURS,
    PARAPHRASE_MOTIONS,
    PARAPHRASE_SHAPES,
)
from training.vocabulary import MOTION_PHRASES, SHAPE_WORDS

# Objects outside the generator's shapes, for the "other" class (never UNSEEN_OBJECTS).
OTHER_OBJECTS = [
    "car",
    "tree",
    "house",
    "dog",
    "cat",
    "person",
    "bird",
    "fish",
    "boat",
    "flower",
    "robot",
    "train",
    "horse",
    "cloud",
    "leaf",
    "rocket",
    "ghost",
    "apple",
    "key",
    "chair",
    "lamp",
    "bottle",
    "guitar",
    "shoe",
    "clock",
    "cup",
    "plane",
    "spider",
    "snake",
    "rabbit",
    "crab",
    "bicycle",
    "umbrella",
    "castle",
    "mountain",
    "city",
    "bridge",
    "window",
    "candle",
    "hat",
    "book",
    # More, and more kinds (animals, vehicles, things, places, people): at 40 nouns the "other"
    # class was those nouns, and an unseen one ("heart") was read as the nearest shape.
    "lion",
    "tiger",
    "elephant",
    "whale",
    "owl",
    "butterfly",
    "frog",
    "monkey",
    "bear",
    "wolf",
    "penguin",
    "turtle",
    "unicorn",
    "monster",
    "truck",
    "bus",
    "motorcycle",
    "helicopter",
    "submarine",
    "tractor",
    "spaceship",
    "scooter",
    "pizza",
    "cake",
    "carrot",
    "sandwich",
    "hammer",
    "sword",
    "phone",
    "laptop",
    "camera",
    "teapot",
    "kite",
    "anchor",
    "crown",
    "feather",
    "bell",
    "shell",
    "skull",
    "tower",
    "church",
    "river",
    "beach",
    "island",
    "village",
    "volcano",
    "garden",
    "child",
    "dancer",
    "soldier",
    "wizard",
    "astronaut",
    "woman",
    "man",
    "knight",
    "moon",
    "sun",
    "planet",
    "lightning bolt",
    "snowflake",
    "flame",
    "rainbow",
    "diamond",
    "hexagon",
    "octagon",
    "spiral",
    "ring",
    "letter a",
    "number seven",
    "logo",
]
# What evaluation and the tests name as unknown objects: never a training noun (a test checks).
UNSEEN_OBJECTS = ("dragon", "star", "heart", "street")
CAMERA = {
    "fixed": ["static camera", "the camera is fixed", "locked-off shot", "still camera"],
    "pan left": ["the camera pans left", "camera panning left", "a left pan"],
    "pan right": ["the camera pans right", "camera panning right", "a right pan"],
    "zoom": ["the camera zooms in", "camera zooming in", "slow zoom in"],
}
FRAMES = [
    "a {colour}{shape} {motion}{background}",
    "{colour}{shape} {motion}{background}",
    "there is a {colour}{shape} {motion}{background}",
    "video of a {colour}{shape} {motion}{background}",
    "an animation of a {colour}{shape} {motion}{background}",
]
BACKGROUND_LINKS = [" on ", " against ", " in front of ", ", "]
# Word order must not decide which colour is the object's: some captions name the background
# first ("on a black background, a lime triangle rising").
BACKGROUND_FIRST = 0.3
LEADING_LINKS = ["on", "against", "over", "in front of"]
_WORD = re.compile(r"[a-z]+")


def _held_out() -> frozenset[str]:
    names = sorted(colour_table().names)
    picks = np.random.default_rng(20261207).permutation(len(names))[: len(names) // 8]
    paraphrase = set(PARAPHRASE_COLOURS.values())
    held = {_WORD.findall(names[i]) and tuple(_WORD.findall(names[i])) for i in picks}
    held |= {tuple(_WORD.findall(n)) for n in names if set(_WORD.findall(n)) & paraphrase}
    # "purple/pink" and "purple pink" are the same words to the lookup: both or neither.
    return frozenset(n for n in names if tuple(_WORD.findall(n)) in held)


HELD_OUT_COLOURS = _held_out()
TRAIN_COLOURS = sorted(set(colour_table().names) - HELD_OUT_COLOURS)


@dataclass(frozen=True)
class Labelled:
    text: str
    labels: dict[str, str]  # attribute -> class, as in heads.CLASSES
    colour_span: tuple[int, int] | None  # the object colour name's characters
    background_span: tuple[int, int] | None


def random_labelled(rng: np.random.Generator, colours: list[str] = TRAIN_COLOURS) -> Labelled:
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    shape = pick(["circle", "square", "triangle", "cross", "other"])
    noun = pick(OTHER_OBJECTS) if shape == "other" else pick(SHAPE_WORDS[shape])
    motion = pick(list(MOTION_PHRASES)) if rng.random() < 0.9 else "still"
    motion_text = pick(MOTION_PHRASES[motion]) if motion != "still" or rng.random() < 0.5 else ""
    colour = pick(colours) if rng.random() < 0.9 else ""
    background = pick(["plain", "stripes", "checker", "dots", "unspecified"])
    tone = pick(colours)
    camera = pick(["fixed", "pan left", "pan right", "zoom", "unspecified", "unspecified"])
    head = (
        pick(FRAMES)
        .split("{background}")[0]
        .format(colour=f"{colour} " if colour else "", shape=noun, motion=motion_text)
    )
    head = " ".join(head.split())
    colour_span = None
    if colour:
        start = head.index(colour + " ")
        colour_span = (start, start + len(colour))
    text, background_span = head, None
    if background != "unspecified" and rng.random() < BACKGROUND_FIRST:
        phrase = pick(BACKGROUND_PHRASES[background])
        link = pick(LEADING_LINKS)
        lead = f"{link} {phrase.format(tone=tone)}, "
        start = len(link) + 1 + phrase.index("{tone}")
        background_span = (start, start + len(tone))
        text = lead + head
        if colour_span:
            colour_span = (colour_span[0] + len(lead), colour_span[1] + len(lead))
    elif background != "unspecified":
        phrase = pick(BACKGROUND_PHRASES[background])
        prefix = text + pick(BACKGROUND_LINKS)
        text = prefix + phrase.format(tone=tone)
        start = len(prefix) + phrase.index("{tone}")
        background_span = (start, start + len(tone))
    if camera != "unspecified":
        text += ", " + pick(CAMERA[camera])
    labels = {"shape": shape, "motion": motion, "background": background, "camera": camera}
    return Labelled(text, labels, colour_span, background_span)


# Words the paraphrases share with training on purpose: they carry no held-out meaning.
SHARED_WORDS = {"to", "the", "left", "right", "up", "and", "down", "shape", "block", "plus"}


def paraphrase_content_words() -> set[str]:
    """Words of the paraphrase suite: never in a training caption (a test checks)."""
    texts = [*PARAPHRASE_SHAPES.values(), *PARAPHRASE_MOTIONS.values()]
    return {w for text in texts for w in text.split()} - SHARED_WORDS
