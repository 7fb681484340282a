"""The catalogue's entries: each published model's rules with their sources (no torch), one
module per model family (`entries_wan`, `entries_ltx`, `entries_hunyuan`, `entries_ltx2`).

Every value an entry sets is cited in its `rules.sources` (field -> the document publishing
it). The order is the catalogue's: where configs are identical, the first entry is the one an
unnamed folder gets (`catalog.identify`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clipforge.backends.diffusers.entries_hunyuan import HUNYUAN_ENTRIES
from clipforge.backends.diffusers.entries_ltx import LTX_ENTRIES
from clipforge.backends.diffusers.entries_ltx2 import LTX2_ENTRIES
from clipforge.backends.diffusers.entries_wan import WAN_ENTRIES, WAN_VACE_ENTRIES
from clipforge.backends.diffusers.rules import CatalogEntry

ENTRIES: tuple[CatalogEntry, ...] = (
    *WAN_ENTRIES,
    *LTX_ENTRIES,
    *WAN_VACE_ENTRIES,
    *HUNYUAN_ENTRIES,
    *LTX2_ENTRIES,
)
CATALOGUE: Mapping[str, CatalogEntry] = MappingProxyType({e.name: e for e in ENTRIES})
