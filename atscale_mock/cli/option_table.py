"""Which delivery option each delivering command takes, in one table: every command
that delivers accepts every delivery option, or refuses it by name here, with why (the
root command checks a command line against this table before Click parses it, and
tests/test_option_matrix.py is generated from it)."""

from __future__ import annotations

#: the commands that deliver webhooks
COMMANDS = ("send", "run", "replay", "load", "check")

#: options that say how a delivery is made, wherever it is made
DELIVERY_OPTIONS = (
    "--header",
    "--timeout",
    "--retries",
    "--retry-schedule",
    "--retry-time-scale",
    "--sign",
    "--secret",
    "--signature-header",
    "--bad-signature",
    "--stale-timestamp",
    "--duplicates",
    "--reorder",
    "--drop",
    "--delay",
    "--jitter",
    "--malformed",
    "--malformed-rate",
    "--insecure",
    "--ca-cert",
    "--log",
    "--max-time",
    "--expect-status",
    "--seed",
)

_LOAD_MEASURES = "load measures what one attempt gets: it never retries"
_CHECK_NAMES = "each check sends exactly what it names"

#: (command, option): why that command does not take that option
REFUSED: dict[tuple[str, str], str] = {
    ("run", "--expect-status"): "a scenario says what it expects per step: `expect: {status: 401}`",
    ("replay", "--retry-schedule"): "replay retries with --retries; it has no schedule of its own",
    (
        "replay",
        "--retry-time-scale",
    ): "replay retries with --retries; it has no schedule of its own",
    ("replay", "--bad-signature"): "replay re-sends what was recorded (--sign signs it again)",
    ("replay", "--stale-timestamp"): "replay re-sends what was recorded (--sign signs it again)",
    ("replay", "--expect-status"): "replay re-sends; a negative test is `send --expect-status`",
    ("load", "--retries"): _LOAD_MEASURES,
    ("load", "--retry-schedule"): _LOAD_MEASURES,
    ("load", "--retry-time-scale"): _LOAD_MEASURES,
    ("load", "--bad-signature"): "load signs every request validly; forged ones are check's",
    ("load", "--stale-timestamp"): "load signs every request validly; stale ones are check's",
    ("load", "--log"): "load writes no line per request (it would measure the disk): --report",
    ("load", "--max-time"): "load runs for --duration",
    ("load", "--expect-status"): "load judges with --threshold (error_rate<1%, ...)",
    ("check", "--retries"): "a check judges the first answer: a retry would hide it",
    ("check", "--retry-schedule"): "a check judges the first answer: a retry would hide it",
    ("check", "--retry-time-scale"): "a check judges the first answer: a retry would hide it",
    ("check", "--bad-signature"): "the forged, stale and other signature checks send those",
    ("check", "--stale-timestamp"): "the forged, stale and other signature checks send those",
    ("check", "--duplicates"): _CHECK_NAMES + " (the duplicate check sends one)",
    ("check", "--reorder"): _CHECK_NAMES + " (the out-of-order check reorders)",
    ("check", "--drop"): _CHECK_NAMES,
    ("check", "--delay"): _CHECK_NAMES,
    ("check", "--jitter"): _CHECK_NAMES,
    ("check", "--malformed"): _CHECK_NAMES + " (invalid-json, wrong-content-type, empty)",
    ("check", "--malformed-rate"): _CHECK_NAMES + " (invalid-json, wrong-content-type, empty)",
    ("check", "--max-time"): "check is bounded by --fuzz-time and --timeout",
    ("check", "--expect-status"): "check takes --expect CHECK=CODES",
}


def refusal(argv: list[str]) -> tuple[str, str, str] | None:
    """(command, option, why) for the first delivery option ``argv`` gives a command
    that does not take it, or None."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        return None
    for arg in argv[argv.index(command) + 1 :]:
        if arg == "--":
            break
        option = arg.split("=", 1)[0]
        why = REFUSED.get((command, option))
        if why is not None:
            return command, option, why
    return None
