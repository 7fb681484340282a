"""LTX-2 at real size with random weights: seconds per transformer forward (video and sound).

The GPU check's LTX-2 section: build `LTX2VideoTransformer3DModel` with the published 2.0 or
2.3 config (random weights cost the trained model's compute), feed one sample's video tokens,
the audio tokens of the same clip and 1,024 text tokens, and time a forward; FLOPs come from
`gpu_flops.ltx2_forward_flops`, so the row also gives the achieved TFLOP/s and the share sound
costs. A guided step is 4 forwards (cond, uncond, STG, modality), a distilled step one.

    python bench/ltx2_forward.py --version 2.3 --size 768x512 --frames 121   # on a GPU
    python bench/ltx2_forward.py --tiny                                        # CPU, toy size
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import torch
from bench.gpu_flops import LTX2_WIDTHS, ltx2_forward_flops, ltx2_tokens

TEXT_TOKENS = 1024
LTX2_20: dict[str, Any] = {
    # diffusers scripts/convert_ltx2_to_diffusers.py, version "2.0"
    "num_attention_heads": 32,
    "attention_head_dim": 128,
    "cross_attention_dim": 4096,
    "audio_num_attention_heads": 32,
    "audio_attention_head_dim": 64,
    "audio_cross_attention_dim": 2048,
    "num_layers": 48,
    "caption_channels": 3840,
    "rope_type": "split",
}
LTX2_23: dict[str, Any] = {
    # 2.3: gated attention, prompt modulation; the connectors project per modality
    **LTX2_20,
    "gated_attn": True,
    "cross_attn_mod": True,
    "audio_gated_attn": True,
    "audio_cross_attn_mod": True,
    "use_prompt_embeddings": False,
}
TINY: dict[str, Any] = {
    **LTX2_23,
    "in_channels": 8,
    "out_channels": 8,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "cross_attention_dim": 32,
    "audio_in_channels": 16,
    "audio_out_channels": 16,
    "audio_num_attention_heads": 2,
    "audio_attention_head_dim": 8,
    "audio_cross_attention_dim": 16,
    "num_layers": 2,
    "caption_channels": 32,
}


def build(config: dict[str, Any], device: torch.device, dtype: torch.dtype) -> Any:
    """The transformer with random weights, made directly on the device in its dtype."""
    from diffusers import LTX2VideoTransformer3DModel

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            return LTX2VideoTransformer3DModel(**config).eval()
    finally:
        torch.set_default_dtype(previous)


def inputs(model: Any, width: int, height: int, frames: int, text: int) -> dict[str, Any]:
    """One sample's forward arguments: packed video and audio latents, both text streams."""
    cfg, param = model.config, next(model.parameters())
    device, dtype = param.device, param.dtype
    video, audio = ltx2_tokens(width, height, frames)
    video_text = cfg.cross_attention_dim if not cfg.use_prompt_embeddings else cfg.caption_channels
    audio_text = cfg.audio_cross_attention_dim
    if cfg.use_prompt_embeddings:
        audio_text = cfg.caption_channels

    def noise(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, device=device, dtype=dtype)

    mask = torch.ones(1, text, device=device, dtype=dtype)
    return {
        "hidden_states": noise(1, video, cfg.in_channels),
        "audio_hidden_states": noise(1, audio, cfg.audio_in_channels),
        "encoder_hidden_states": noise(1, text, video_text),
        "audio_encoder_hidden_states": noise(1, text, audio_text),
        "timestep": torch.tensor([500.0], device=device),
        "sigma": torch.tensor([500.0], device=device),  # as the pipelines pass it (2.3 reads it)
        "encoder_attention_mask": mask,
        "audio_encoder_attention_mask": mask,
        "num_frames": (frames - 1) // 8 + 1,
        "height": height // 32,
        "width": width // 32,
        "audio_num_frames": audio,
        "use_cross_timestep": not cfg.use_prompt_embeddings,
    }


def row(config: dict[str, Any], size: tuple[int, int], frames: int, device: str) -> dict[str, Any]:
    """Seconds per forward (median of 3 after a warm-up), its FLOPs, peak memory."""
    place = torch.device(device)
    dtype = torch.bfloat16 if place.type == "cuda" else torch.float32
    model = build(config, place, dtype)
    text = TEXT_TOKENS if config is not TINY else 16
    args = inputs(model, *size, frames, text)
    sync = torch.cuda.synchronize if place.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for _ in range(4):
            start = time.perf_counter()
            model(**args, return_dict=False)
            sync()
            times.append(time.perf_counter() - start)
    seconds = sorted(times[1:])[1]
    widths = {**LTX2_WIDTHS, "layers": config["num_layers"], "text_tokens": text}
    widths |= {"video": config["num_attention_heads"] * config["attention_head_dim"]}
    widths |= {"audio": config["audio_num_attention_heads"] * config["audio_attention_head_dim"]}
    flops = ltx2_forward_flops(args["hidden_states"].shape[1], args["audio_num_frames"], widths)
    peak = torch.cuda.max_memory_allocated(place) / 2**30 if place.type == "cuda" else None
    return {
        "size": f"{size[0]}x{size[1]}",
        "frames": frames,
        "seconds_per_forward": round(seconds, 4),
        "tflops_per_forward": round(flops["total"] / 1e12, 3),
        "sound_share": round(flops["sound"] / flops["total"], 3),
        "achieved_tflops": round(flops["total"] / seconds / 1e12, 2),
        "peak_gib": None if peak is None else round(peak, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", choices=("2.0", "2.3"), default="2.3")
    parser.add_argument("--size", default="768x512")
    parser.add_argument("--frames", type=int, default=121)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="toy widths (a CPU, seconds)")
    args = parser.parse_args(argv)
    config = TINY if args.tiny else (LTX2_23 if args.version == "2.3" else LTX2_20)
    width, height = (int(side) for side in args.size.split("x"))
    print(json.dumps(row(config, (width, height), args.frames, args.device)))


if __name__ == "__main__":
    main()
