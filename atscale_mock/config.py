"""Named defaults, in one place (the spec's own thresholds live with the catalogue, in
``events/catalogue.py``). Precedence everywhere: CLI option > environment >
scenario file > these defaults."""

from __future__ import annotations

from typing import Final

DEFAULT_TIMEOUT: Final = 10.0  # seconds, per attempt
DEFAULT_RETRIES: Final = 0
DEFAULT_BACKOFF_BASE: Final = 0.5  # seconds; retry k waits between half and all of base * 2**k
DEFAULT_BACKOFF_CAP: Final = 30.0  # seconds; no single wait is longer, Retry-After included
DEFAULT_ORG: Final = "default"
DEFAULT_RECEIVER_HOST: Final = "127.0.0.1"
DEFAULT_RECEIVER_PORT: Final = 10502  # the engine's webhook port in the spec's example URLs
#: With --seed and no --clock, timestamps start here (the spec example's finished_at),
#: so that the same seed gives byte-identical payloads.
SEEDED_CLOCK: Final = "2021-12-07T15:44:07.077397Z"
RESPONSE_BODY_KEEP: Final = 1024  # characters of a response body kept in logs
RESPONSE_BODY_READ_CAP: Final = 64 * 1024  # bytes read from a response at most
USER_AGENT: Final = "atscale-mock"
SECRET_ENV: Final = "ATSCALE_MOCK_SECRET"  # the signing key when --secret is not given
SIGNING_SCHEMES: Final = ("standard-webhooks", "hmac-sha256")
DEFAULT_HMAC_HEADER: Final = "X-Signature"  # hmac-sha256's header unless told another
#: simulated (or retry-wait) seconds per wall-clock second: from one simulated second in
#: about 12 days to a million a second
MIN_TIME_SCALE: Final = 1e-6
MAX_TIME_SCALE: Final = 1e6
DEFAULT_JOURNAL_MAX_ROWS: Final = 1_000_000  # serve: rows kept (about 1.5 KB a row)


def install_hint(extra: str) -> str:
    """The command that installs an extra's packages into this environment, read from
    this installation's own metadata (so it names what pyproject.toml declares, and
    works however atscale-mock was installed: a wheel, a checkout, a path)."""
    import importlib.metadata
    import shlex

    try:
        requires = importlib.metadata.requires("atscale-mock") or []
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        requires = []
    wanted = [
        r.split(";", 1)[0].strip() for r in requires if f'extra == "{extra}"' in r.replace("'", '"')
    ]
    if not wanted:
        return f"install atscale-mock's {extra} extra (from a checkout: pip install '.[{extra}]')"
    return "pip install " + " ".join(shlex.quote(w) for w in wanted) + f"   (the {extra} extra)"
