"""Cheap, seeded identifiers and seeds: no Faker on the hot path."""

from __future__ import annotations

import hashlib
import os
import random
import uuid


def new_seed() -> int:
    """A fresh random seed, printed by every run so it can be reproduced."""
    return int.from_bytes(os.urandom(4), "big")


def derive_seed(seed: int, *parts: object) -> int:
    """A seed for one step/repeat, stable however many other steps exist."""
    text = "/".join([str(seed), *(str(p) for p in parts)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def uuid4_from(rng: random.Random) -> str:
    """A lowercase 8-4-4-4-12 version-4 UUID drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
