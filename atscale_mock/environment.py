"""Every environment variable atscale-mock reads or sets, in one table: the docs'
environment page is generated from it, and a test keeps it equal to the names the code
uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    used_by: str
    meaning: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "ATSCALE_MOCK_SECRET",
        "send, run, replay, load, check, receive; the Locust file",
        "The signing key when `--sign` is given without `--secret`. Alone it never turns "
        "signing on.",
        secret=True,
    ),
    Variable(
        "ATSCALE_MOCK_ADMIN_TOKEN",
        "serve, trigger",
        "The control API's bearer token (`--admin-token`); required when serve binds off loopback.",
        secret=True,
    ),
    Variable(
        "ATSCALE_MOCK_ATSCALE_VERSION",
        "send, show, events, demo, validate, plan, run, load, check, receive, drift, serve",
        "The AtScale version whose event catalogue applies (`--atscale-version`): "
        "I2022.4.1 has six events (no prune-result), I2023.4.1 and later seven.",
    ),
    Variable(
        "ATSCALE_MOCK_SERVER",
        "trigger",
        "The running serve to talk to (`--server`), `http://127.0.0.1:10600` by default.",
    ),
    Variable(
        "ATSCALE_MOCK_URL_PASSWORD",
        "check's reproducers",
        "A reproducer printed by `check` for a URL with a password reads the password "
        "from this variable instead of printing it.",
        secret=True,
    ),
    Variable(
        "ATSCALE_MOCK_H_<NAME>",
        "check's reproducers",
        "A reproducer printed by `check` reads a sensitive header (`-H Authorization: ...`) "
        "from `ATSCALE_MOCK_H_AUTHORIZATION` and the like instead of printing it.",
        secret=True,
    ),
    Variable(
        "ATSCALE_MOCK_HEADERS",
        "the Locust file (set by `load --generator locust`)",
        "The headers every request carries, a JSON list of `[name, value]` pairs.",
        secret=True,
    ),
    Variable(
        "ATSCALE_MOCK_SIGN",
        "the Locust file (set by `load --generator locust`)",
        "The signing scheme: `standard-webhooks` or `hmac-sha256`.",
    ),
    Variable(
        "ATSCALE_MOCK_SIGNATURE_HEADER",
        "the Locust file (set by `load --generator locust`)",
        "The header of an `hmac-sha256` signature (`X-Signature` by default).",
    ),
    Variable(
        "ATSCALE_MOCK_PHASES",
        "the Locust file (set by `load --generator locust`)",
        "The schedule, a JSON list of `[seconds, from, to]` per-user rates (a ramp stays a ramp).",
    ),
    Variable(
        "ATSCALE_MOCK_STATUS_FILE",
        "the Locust file (set by `load --generator locust`)",
        "Where the master (or a lone process) leaves its per-second data for `load`'s summary.",
    ),
    Variable(
        "ATSCALE_MOCK_MIX",
        "the Locust file (`--mix`)",
        "The event mix, as `load --mix` takes it.",
    ),
    Variable("ATSCALE_MOCK_SEED", "the Locust file (`--seed`)", "The payloads' seed."),
    Variable(
        "ATSCALE_MOCK_RATE_PER_USER",
        "the Locust file (`--rate-per-user`)",
        "Requests per second per user (0: as fast as possible).",
    ),
    Variable(
        "ATSCALE_MOCK_FULL",
        "the Locust file (`--full`)",
        "Add the documented parameters the spec's examples omit.",
    ),
    Variable(
        "ATSCALE_MOCK_HEADER",
        "the Locust file (`--webhook-header`)",
        "One extra header, `Name: value`.",
        secret=True,
    ),
)
