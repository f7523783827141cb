"""`check --fuzz 500` against a correct in-process FastAPI receiver: wall time of the
whole check (battery included), median of N runs, and whether the same seed sent the
same payloads.

    .venv/bin/python bench/check_fuzz.py [--runs 3] [--fuzz 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from check_receivers import SECRET, fastapi_app  # noqa: E402

import atscale_mock as am  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fuzz", type=int, default=500)
    args = parser.parse_args()
    times, sent = [], []
    for _ in range(args.runs):
        bodies: list[bytes] = []

        def keep(a: Any, into: list[bytes] = bodies) -> None:
            if a.label.startswith("fuzz"):
                into.append(a.request.body)

        start = time.perf_counter()
        card = am.check(
            fastapi_app(buggy=False),
            path="/hooks",
            sign=am.Signing("standard-webhooks", SECRET),
            fuzz=args.fuzz,
            seed=1,
            on_attempt=keep,
        )
        times.append(time.perf_counter() - start)
        sent.append(bodies)
        assert card.ok, card.text()
        fuzz = card.fuzz
        assert fuzz is not None
        print(f"run: {times[-1]:.1f} s, {fuzz.examples} fuzzed payloads, fuzz {fuzz.seconds:.1f} s")
    same = all(s == sent[0] for s in sent)
    print(
        f"check --fuzz {args.fuzz}: median {statistics.median(times):.1f} s over {args.runs} runs; "
        f"same seed, same payloads: {same}"
    )


if __name__ == "__main__":
    main()
