"""diffusers."""
