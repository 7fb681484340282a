"""Captions for scenes, in many phrasings.

`template_caption` is the held-out-evaluation phrasing ("a red circle moving to the left");
`random_caption` draws from synonyms and sentence frames so the model learns the meaning,
not one wording. Evaluation paraphrases use words and frames kept out of training
(`PARAPHRASE_*`), so they test the text encoder's generalisation, not memory.
"""

from __future__ import annotations

import numpy as np

from training.scenes import Scene
from training.survey_colours import survey_colour_words
from training.vocabulary import COLOUR_WORDS, MOTION_PHRASES, SHAPE_WORDS

BACKGROUND_PHRASES = {
    "plain": ["a plain {tone} background", "a {tone} background", "an empty {tone} backdrop"],
    "stripes": ["a {tone} striped background", "{tone} stripes", "a striped {tone} wall"],
    "checker": ["a {tone} checkerboard", "a checkered {tone} floor", "{tone} checks"],
    "dots": ["a dotted {tone} background", "{tone} polka dots", "a {tone} spotted backdrop"],
}
CAMERA_PHRASES = {
    "fixed": ["", "static camera", "the camera is fixed", "locked-off shot"],
    "pan": ["the camera pans {direction}", "camera panning {direction}", "a {direction} pan"],
    "zoom": ["the camera zooms in", "camera zooming in", "slow zoom in"],
}
FRAMES = [
    "a {colour} {shape} {motion} on {background}",
    "{colour} {shape} {motion}, {background}",
    "a {colour} {shape} {motion} against {background}",
    "there is a {colour} {shape} {motion} on {background}",
    "video of a {colour} {shape} {motion}, {background}",
    "an animation of a {colour} {shape} {motion} in front of {background}",
]
# Prompts need not say what is behind the object (the paraphrase suite never does): a fifth
# of the training captions leave the background out.
FRAMES_WITHOUT_BACKGROUND = [
    "a {colour} {shape} {motion}",
    "video of a {colour} {shape} {motion}",
    "one {colour} {shape} {motion}",
    "footage of a single {colour} {shape} {motion}",
]

# Kept out of training: used only to measure paraphrase understanding.
PARAPHRASE_COLOURS = {
    "red": "crimson",
    "green": "lime",
    "blue": "azure",
    "yellow": "canary",
    "purple": "plum",
    "orange": "apricot",
    "white": "ivory",
    "cyan": "teal",
}
PARAPHRASE_SHAPES = {
    "circle": "orb",
    "square": "quadrilateral block",
    "triangle": "three-sided shape",
    "cross": "x-like plus mark",
}
PARAPHRASE_MOTIONS = {
    "left": "drifting to the left",
    "right": "gliding toward the right",
    "up": "ascending",
    "down": "descending",
    "still": "motionless",
    "growing": "becoming larger",
    "shrinking": "becoming tinier",
    "bouncing": "springing up and down",
}
PARAPHRASE_FRAME = "a clip showing one {colour} {shape} {motion}"

SURVEY_COLOUR_WORDS = survey_colour_words(PARAPHRASE_COLOURS.values())
SURVEY_SHARE = 0.7  # of captions whose colour word comes from the colour survey


def template_caption(scene: Scene) -> str:
    """The canonical phrasing, also used for held-out evaluation prompts."""
    text = f"a {scene.colour} {scene.shape} {MOTION_PHRASES[scene.motion][0]}"
    text += f" on {BACKGROUND_PHRASES[scene.background][0].format(tone=scene.tone)}"
    return text + _camera_suffix(scene, 0)


def random_caption(scene: Scene, rng: np.random.Generator, *, names_background: bool = True) -> str:
    """One of many phrasings; the canonical one a quarter of the time it names the
    background."""
    if names_background and rng.random() < 0.25:
        return template_caption(scene)
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    colour_words = SURVEY_COLOUR_WORDS if rng.random() < SURVEY_SHARE else COLOUR_WORDS
    text = pick(FRAMES if names_background else FRAMES_WITHOUT_BACKGROUND).format(
        colour=pick(colour_words[scene.colour]),
        shape=pick(SHAPE_WORDS[scene.shape]),
        motion=pick(MOTION_PHRASES[scene.motion]),
        background=pick(BACKGROUND_PHRASES[scene.background]).format(tone=scene.tone),
    )
    return text + _camera_suffix(scene, int(rng.integers(len(CAMERA_PHRASES[scene.camera]))))


def paraphrase_caption(scene: Scene) -> str:
    """A wording with colour, shape and motion words never seen in training."""
    return PARAPHRASE_FRAME.format(
        colour=PARAPHRASE_COLOURS[scene.colour],
        shape=PARAPHRASE_SHAPES[scene.shape],
        motion=PARAPHRASE_MOTIONS[scene.motion],
    )


def _camera_suffix(scene: Scene, index: int) -> str:
    phrase = CAMERA_PHRASES[scene.camera][index].format(direction=scene.pan_direction)
    return f", {phrase}" if phrase else ""
