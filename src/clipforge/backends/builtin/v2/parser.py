"""Reading a prompt: attributes from the heads, colour values from the lookup, and an honest
account of which words changed the reading.

A word counts as used when taking it out of the prompt changes the reading (an attribute's
class or a colour) or takes `USED_DROP` of probability from a class the reading chose; every
other word, function words aside, is reported in `unused_words`. When the shape head says the
object is none it can draw ("a dragon"), the words it read as that object are reported as
replaced by FALLBACK_SHAPE (`_undrawable`), and are unused too: nothing of them reaches the
picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from clipforge.backends.builtin.v2.colours import RGB, ColourTable, Mention, colour_table
from clipforge.backends.builtin.v2.heads import CLASSES, ROLES, ParserHeads
from clipforge.backends.builtin.words import FUNCTION_WORDS as BASE_FUNCTION_WORDS

FALLBACK_SHAPE = "circle"
DEFAULT_COLOUR: tuple[str, RGB] = ("white", (255, 255, 255))
DEFAULT_BACKGROUND_COLOUR: tuple[str, RGB] = ("black", (0, 0, 0))
USED_DROP = 0.2
ATTENDED = 0.2
"""A word also counts as used when an attribute that the prompt set (not a default class)
puts this share of its attention on it: words that say the same thing twice ("falling down")
each change nothing when taken out alone."""
DEFAULTS = {
    "shape": "other",
    "motion": "still",
    "background": "unspecified",
    "camera": "unspecified",
}
MAX_REPLACED = 3
"""Words tried as objects it cannot draw (a MiniLM row each)."""
MAX_WORDS = 40
"""Content words weighed by ablation (one MiniLM row each); later ones are past or near the
tokenizer's MAX_TOKENS anyway and are reported unused."""
MAX_TOKENS = 48
PARSER_FILE = "parser.safetensors"
FUNCTION_WORDS = BASE_FUNCTION_WORDS | {"this", "that", "one", "some"}
_WORD = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Parsed:
    """What the generator gets (classes and colour values) and what the client is told."""

    shape: str
    motion: str
    background: str
    camera: str
    colour: tuple[str, RGB]
    background_colour: tuple[str, RGB]
    unused_words: tuple[str, ...] = ()
    replaced: dict[str, str] = field(default_factory=dict)
    colour_said: bool = True
    background_colour_said: bool = True

    def attributes(self) -> dict[str, str]:
        """The reading as strings, for `Reading.attributes`: what is drawn, each value the
        prompt did not give marked "(not said)" (the generator's default)."""
        out = {
            "colour": _said(self.colour[0], self.colour_said),
            "shape": self.shape,
            "motion": self.motion,
            "background": _said("plain", False)
            if self.background == "unspecified"
            else self.background,
            "tone": _said(self.background_colour[0], self.background_colour_said),
            "camera": _said("fixed", False) if self.camera == "unspecified" else self.camera,
        }
        out.update({f"replaced {word}": shape for word, shape in self.replaced.items()})
        return out


def _said(value: str, said: bool) -> str:
    return value if said else f"{value} (not said)"


@dataclass(frozen=True)
class _Raw:
    """One prompt's reading before the word accounting: classes, their probabilities, and
    the object and background colour mentions (None: not named)."""

    classes: dict[str, str]
    probabilities: dict[str, torch.Tensor]
    colour: Mention | None
    background_colour: Mention | None
    attention: dict[str, torch.Tensor]  # attribute -> (L,) over the tokens
    offsets: torch.Tensor  # (L, 2) the tokens' character spans

    def attended(self, name: str, start: int, end: int) -> float:
        """The share of `name`'s attention on the tokens inside characters [start, end)."""
        inside = (self.offsets[:, 1] > self.offsets[:, 0]) & (self.offsets[:, 0] >= start)
        inside &= self.offsets[:, 1] <= end
        return float(self.attention[name][inside].sum())


class PromptParser:
    def __init__(self, encoder: object, heads: ParserHeads, table: ColourTable | None = None):
        self.tokenizer = encoder.tokenizer  # type: ignore[attr-defined]
        self.model = encoder.model  # type: ignore[attr-defined]
        self.device = encoder.device  # type: ignore[attr-defined]
        self.heads = heads.to(self.device).eval()
        self.table = table or colour_table()

    @torch.no_grad()
    def states(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """MiniLM token states (B, L, D), their mask (B, L) and character offsets (B, L, 2)."""
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
            return_offsets_mapping=True,
        )
        offsets = batch.pop("offset_mapping")
        batch = batch.to(self.device)
        states = self.model(**batch).last_hidden_state
        return states, batch["attention_mask"].bool(), offsets

    @torch.no_grad()
    def read_raw(self, texts: list[str]) -> list[_Raw]:
        states, mask, offsets = self.states(texts)
        logits, attention = self.heads.read(states, mask)
        # A name past the tokenizer's truncation has no states to read its role from: unread.
        mentions = [
            [m for m in self.table.mentions(text) if _within(m, offsets[row])]
            for row, text in enumerate(texts)
        ]
        rows, spans = mention_tokens(mentions, offsets)
        roles = self.heads.roles(states, mask, rows.to(self.device), spans.to(self.device))
        role_probabilities = roles.softmax(-1).cpu()
        out, index = [], 0
        for row in range(len(texts)):
            found = mentions[row]
            chosen = role_probabilities[index : index + len(found)]
            index += len(found)
            probabilities = {name: value[row].softmax(-1).cpu() for name, value in logits.items()}
            classes = {name: CLASSES[name][int(p.argmax())] for name, p in probabilities.items()}
            out.append(
                _Raw(
                    classes,
                    probabilities,
                    _pick(found, chosen, 0),
                    _pick(found, chosen, 1),
                    {name: value[row].cpu() for name, value in attention.items()},
                    offsets[row],
                )
            )
        return out

    def parse(self, prompt: str) -> Parsed:
        words = [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(prompt)]
        content = [w for w in words if w[0].lower() not in FUNCTION_WORDS]
        content, beyond = content[:MAX_WORDS], content[MAX_WORDS:]
        ablated = [_without(prompt, start, end) for _, start, end in content]
        full, *others = self.read_raw([prompt, *ablated])
        replaced = dict.fromkeys(self._undrawable(prompt, full, content, others), FALLBACK_SHAPE)
        unused = [
            word
            for (word, start, end), raw in zip(content, others, strict=True)
            if word in replaced or not _used(full, raw, start, end)
        ]
        return Parsed(
            shape=FALLBACK_SHAPE if full.classes["shape"] == "other" else full.classes["shape"],
            motion=full.classes["motion"],
            background=full.classes["background"],
            camera=full.classes["camera"],
            colour=_value(full.colour, DEFAULT_COLOUR),
            background_colour=_value(full.background_colour, DEFAULT_BACKGROUND_COLOUR),
            unused_words=(*unused, *(word for word, _, _ in beyond)),
            replaced=replaced,
            colour_said=full.colour is not None,
            background_colour_said=full.background_colour is not None,
        )

    def _undrawable(
        self, prompt: str, full: _Raw, content: list[tuple[str, int, int]], others: list[_Raw]
    ) -> list[str]:
        """The objects the prompt names that the generator cannot draw, where the shape head
        reads "other": the word it reads most, then, with that word blanked out, the next,
        while it still reads "other" ("a dragon flying over a castle": castle, dragon). Only
        words that nothing but the shape read are candidates, and a word counts when the
        head puts ATTENDED of its attention on it (the first always counts)."""
        if full.classes["shape"] != "other":
            return []
        candidates = [
            word
            for word, raw in zip(content, others, strict=True)
            if not _used(full, raw, word[1], word[2], ignore="shape")
        ]
        found: list[str] = []
        text, raw = prompt, full
        for _ in range(MAX_REPLACED):
            if raw.classes["shape"] != "other" or not candidates:
                break
            word, start, end = max(candidates, key=lambda w: raw.attended("shape", w[1], w[2]))
            if not found or raw.attended("shape", start, end) >= ATTENDED:
                found.append(word)
            candidates.remove((word, start, end))
            text = text[:start] + " " * (end - start) + text[end:]  # the offsets stay
            raw = self.read_raw([text])[0]
        return found


def _pick(found: list[Mention], roles: torch.Tensor, role: int) -> Mention | None:
    """The mention most surely in `role`, among those whose likeliest role it is."""
    best, best_p = None, 0.0
    for mention, p in zip(found, roles.tolist(), strict=True):
        if max(range(len(ROLES)), key=p.__getitem__) == role and p[role] > best_p:
            best, best_p = mention, p[role]
    return best


def _used(full: _Raw, raw: _Raw, start: int, end: int, ignore: str = "") -> bool:
    """Whether the word at [start, end) counts for the reading (but for attribute `ignore`):
    taking it out (`raw`) changed it, or an attribute the prompt set read it."""
    set_by_prompt = [
        name for name, chosen in full.classes.items() if chosen != DEFAULTS[name] and name != ignore
    ]
    if any(full.attended(name, start, end) >= ATTENDED for name in set_by_prompt):
        return True
    return _changed(full, raw, start, end, ignore)


def _changed(full: _Raw, raw: _Raw, start: int, end: int, ignore: str = "") -> bool:
    """Whether taking out the word at [start, end) changed the reading (but `ignore`)."""
    for mention in (full.colour, full.background_colour):
        if mention is not None and mention.start <= start and end <= mention.end:
            return True
    names = lambda r: (r.colour and r.colour.name, r.background_colour and r.background_colour.name)  # noqa: E731
    if names(full) != names(raw):
        return True
    for name, chosen in full.classes.items():
        if name == ignore:
            continue
        index = CLASSES[name].index(chosen)
        drop = float(full.probabilities[name][index] - raw.probabilities[name][index])
        if raw.classes[name] != chosen or drop >= USED_DROP:
            return True
    return False


def _within(mention: Mention, offsets: torch.Tensor) -> bool:
    return bool(
        (
            (offsets[:, 1] > offsets[:, 0])
            & (offsets[:, 0] >= mention.start)
            & (offsets[:, 1] <= mention.end)
        ).any()
    )


def _without(text: str, start: int, end: int) -> str:
    return " ".join((text[:start] + text[end:]).split())


def _value(mention: Mention | None, default: tuple[str, RGB]) -> tuple[str, RGB]:
    return default if mention is None else (mention.name, mention.rgb)


def mention_tokens(
    mentions: list[list[Mention]], offsets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """For every mention of every row: its row (S,) and the tokens it covers (S, L)."""
    rows, spans = [], []
    bounds = offsets.tolist()
    for row, found in enumerate(mentions):
        for m in found:
            spans.append([e > s and m.start <= s and e <= m.end for s, e in bounds[row]])
            rows.append(row)
    width = offsets.shape[1]
    span_tensor = (
        torch.tensor(spans, dtype=torch.bool) if spans else torch.zeros(0, width, dtype=torch.bool)
    )
    return torch.tensor(rows, dtype=torch.long), span_tensor


def save_heads(heads: ParserHeads, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in heads.state_dict().items()}, str(path))


def load_heads(path: Path) -> ParserHeads:
    heads = ParserHeads()
    heads.load_state_dict(load_file(str(path)))
    return heads.eval()
