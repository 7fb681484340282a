"""The job store's schema as SQLite statements, one step per schema change.

`user_version` (SQLite) and `schema_version` (PostgreSQL, rewritten in `pg_schema.py`) count
the steps applied; a change appends a step and never edits one.
"""

from __future__ import annotations

from clipforge.store import keys, presence, throttle, webhooks

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the jobs table. A later schema change appends a step; `user_version` counts them.
    (
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN
                ('queued', 'generating', 'completed', 'error', 'cancelled')),
            request TEXT NOT NULL,
            model TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            worker_id TEXT,
            lease_expires_at REAL,
            progress_step INTEGER NOT NULL DEFAULT 0,
            progress_total INTEGER NOT NULL DEFAULT 0,
            error_name TEXT,
            error_message TEXT,
            video_key TEXT,
            backend TEXT,
            timings TEXT NOT NULL DEFAULT '{}',
            cancel_requested INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX jobs_claim_order ON jobs (status, created_at, id)",
        "CREATE INDEX jobs_newest ON jobs (created_at, id)",
        "CREATE INDEX jobs_running ON jobs (worker_id) WHERE status = 'generating'",
    ),
    # 2: listing filters in SQL: the model as the client spelled it, and the owning API key.
    (
        "ALTER TABLE jobs ADD COLUMN listed_model TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE jobs ADD COLUMN owner TEXT",
        "UPDATE jobs SET listed_model = COALESCE(json_extract(request, '$.client_model'), model)",
        "CREATE INDEX jobs_by_model ON jobs (listed_model, created_at, id)",
        "CREATE INDEX jobs_by_status ON jobs (status, owner)",
    ),
    # 3: Idempotency-Key on create: (scope, key) -> the job it made and the body's fingerprint.
    (
        """CREATE TABLE idempotency_keys (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            PRIMARY KEY (scope, key)
        )""",
        "CREATE INDEX idempotency_by_job ON idempotency_keys (job_id)",
    ),
    # 4: execution_expires_after (a deadline for queued jobs) and the retention sweep.
    (
        "ALTER TABLE jobs ADD COLUMN expires_at REAL",
        "ALTER TABLE jobs ADD COLUMN purged_at REAL",
        "CREATE INDEX jobs_expiring ON jobs (expires_at) WHERE status = 'queued'",
        "CREATE INDEX jobs_finished ON jobs (finished_at) WHERE purged_at IS NULL",
    ),
    # 5: callback_url notifications: the URL and the last status it was told about.
    (
        "ALTER TABLE jobs ADD COLUMN callback_url TEXT",
        "ALTER TABLE jobs ADD COLUMN notified_status TEXT",
        "CREATE INDEX jobs_to_notify ON jobs (updated_at) WHERE callback_url IS NOT NULL"
        " AND (notified_status IS NULL OR notified_status <> status)",
    ),
    # 6: API keys, stored as SHA-256 digests (`store/keys.py`).
    keys.MIGRATION,
    # 7: tenants and a shared front door: admin keys and per-key limits, request rates counted
    # in the database (`store/throttle.py`), leased callback deliveries, crashed attempts, and
    # listings by owner.
    (
        *keys.LIMITS_MIGRATION,
        *throttle.MIGRATION,
        "ALTER TABLE jobs ADD COLUMN notify_lease_until REAL",
        "ALTER TABLE jobs ADD COLUMN worker_crashes INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX jobs_by_owner ON jobs (owner, created_at, id)",
    ),
    # 8: Ark's priority and service tier order the queue; the stills kept with each video.
    (
        "ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN tier INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN stills TEXT NOT NULL DEFAULT '[]'",
        "CREATE INDEX jobs_claim_rank ON jobs (status, tier, priority DESC, created_at, id)",
    ),
    # 9: progress beyond the denoising steps (the phase, an estimate of what follows), and
    # what the model made of the request.
    (
        "ALTER TABLE jobs ADD COLUMN phase TEXT",
        "ALTER TABLE jobs ADD COLUMN phase_started_at REAL",
        "ALTER TABLE jobs ADD COLUMN expected_tail_s REAL",
        "ALTER TABLE jobs ADD COLUMN reading TEXT NOT NULL DEFAULT '{}'",
    ),
    # 10: workers report themselves (readiness and metrics: `store/presence.py`).
    presence.MIGRATION,
    # 11: the API dialect each job came through (the metrics of finished jobs say it).
    ("ALTER TABLE jobs ADD COLUMN surface TEXT NOT NULL DEFAULT ''",),
    # 12: each key's webhook secret, and the one it replaced while still valid
    # (`store/webhooks.py`).
    webhooks.MIGRATION,
    # 13: which LoRA adapters each worker loaded or failed to load (`store/presence.py`).
    presence.ADAPTERS_MIGRATION,
)
