"""Phrases for scenes: the background and camera phrasings the training captions draw from
(`v2_captions.py`), the canonical wording (`template_caption`, "a red circle moving to the
left on ...") and the paraphrase wording, whose words (`PARAPHRASE_*`) are kept out of
training so that evaluation measures reading, not memory.
"""

from __future__ import annotations

from training.scenes import Scene
from training.vocabulary import MOTION_PHRASES

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


def template_caption(scene: Scene) -> str:
    """The canonical phrasing, also used for held-out evaluation prompts."""
    text = f"a {scene.colour} {scene.shape} {MOTION_PHRASES[scene.motion][0]}"
    text += f" on {BACKGROUND_PHRASES[scene.background][0].format(tone=scene.tone)}"
    return text + _camera_suffix(scene, 0)


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
