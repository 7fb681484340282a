"""ClipForge: a self-hosted text-to-video service that speaks the Seedance 1.0 API."""

__version__ = "0.1.0"
