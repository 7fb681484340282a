"""`clipforge models` says what an id renders a request with reference images on (issue 29)."""

from __future__ import annotations

from rich.console import Console

from clipforge.cli.output import models_table
from clipforge.client import Model


def test_the_table_names_the_reference_weights_under_it() -> None:
    models = [
        Model(id="bytedance/seedance-1-0-pro-t2v", backend="diffusers", weights="wan2.2-t2v-a14b"),
        Model(
            id="bytedance/seedance-2-0",
            backend="diffusers",
            weights="wan2.2-ti2v-5b",
            reference_images=9,
            reference_weights="wan2.1-vace-14b",
        ),
    ]
    console = Console(width=80, record=True)
    console.print(models_table(models))
    text = console.export_text()
    assert "with reference images: bytedance/seedance-2-0 -> wan2.1-vace-14b" in text
    assert "seedance-1-0-pro-t2v ->" not in text and "…" not in text
