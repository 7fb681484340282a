"""Pure video functions (numpy and PyAV only): resample, resize, watermark, encode."""
