"""Settings of the front door: per-key rates and queue caps, the failed-key throttle, trusted
proxies, connection deadlines, body, prompt, image and video caps, and which addresses
callbacks and image fetches may reach."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from pydantic_settings import NoDecode


class FrontDoorFields(BaseModel):
    """The front door's fields of `Settings` (CLIPFORGE_<NAME>; issue 7)."""

    rate_limit_per_minute: int = Field(
        600,
        ge=0,
        le=1_000_000,
        description="Requests per minute per API key (429 beyond); 0: unlimited. A stored key "
        "may carry its own (`clipforge keys create NAME --rate P`).",
    )
    max_queued_jobs: int = Field(
        120,
        ge=0,
        le=1_000_000,
        description="Queued jobs one API key may have (429 beyond; Ark caps an account at 120); "
        "0: unlimited. A stored key may carry its own (`--max-queued N`).",
    )
    auth_failures_per_minute: int = Field(
        30,
        ge=0,
        description="Failed authentications per client address per minute before that address "
        "gets 429 for a while; 0: no throttle.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For names the client (the address failed keys are throttled by); "
        "default none: the connecting address is the client, whatever the header says.",
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A connection must send a request's headers within this many seconds "
        "(408 and closed otherwise); `clipforge serve` only (docs/DEPLOY.md).",
    )
    keep_alive_seconds: float = Field(
        5.0, gt=0, description="An idle keep-alive connection is closed after this many seconds."
    )
    body_idle_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="A request body that sends nothing for this many seconds gets a 408 (a "
        "caller, even one without a key, cannot hold a connection by never finishing its body).",
    )
    max_body_bytes: int = Field(
        1_000_000, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    max_prompt_chars: int = Field(
        4000, ge=1, description="Longest prompt accepted (400 naming the field beyond)."
    )
    url_allowlist_only: bool = Field(
        False,
        description="Reach only the hosts and networks of CLIPFORGE_URL_ALLOWLIST with callbacks "
        "and image fetches, public ones included (a closed network).",
    )
    max_image_bytes: int = Field(
        20_000_000,
        ge=1024,
        description="Largest first or last frame image (fetched or inline) accepted, in bytes.",
    )
    image_fetch_timeout_seconds: float = Field(
        20.0, gt=0, description="How long fetching one image URL may take in all (5 s to connect)."
    )
    max_video_seconds: float = Field(
        600.0,
        gt=0,
        description="Longest uploaded video (an extension's source) taken, by its header.",
    )
    max_video_frames: int = Field(
        20_000,
        ge=1,
        description="Most frames an uploaded video may have (by its header) and decode from its "
        "last key frame.",
    )
    video_decode_seconds: float = Field(
        10.0, gt=0, description="How long finding an uploaded video's last frame may take."
    )
    url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hosts or networks (CIDR) that callback and image URLs may "
        "reach although they are private, loopback or link-local (refused otherwise).",
    )
