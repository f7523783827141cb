"""The engine event catalogue of each AtScale version, as AtScale's documentation of
that version states it (see docs/spec.md):

* I2022.4.1: six engine events; there is no Aggregate Prune Result.
* I2023.4.1, I2024.1.x, I2024.2.1 and later: seven, the six plus Aggregate Prune Result.
* I2022.3.0: the overview says "four different types of engine-level events"; which
  four is not stated, so that version is refused, never guessed.
* Versions between I2022.4.1 and I2023.4.1: not stated; refused with the documented
  ones named.

Payload shapes are the same on every documented version's page, so a version only
narrows which events exist. The default is the latest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError
from .catalogue import EVENTS, Event, find_event

SIX = (
    "batch-start",
    "batch-result",
    "schema-publish",
    "slow-query",
    "slow-agg-build",
    "unpublish",
)
SEVEN = tuple(e.name for e in EVENTS)

#: Every version whose catalogue the documentation states, oldest first, with its events.
DOCUMENTED: dict[str, tuple[str, ...]] = {
    "I2022.4.1": SIX,
    "I2023.4.1": SEVEN,
    "I2024.1.x": SEVEN,
    "I2024.2.1": SEVEN,
}
LATEST = "latest"
#: The first version whose page documents seven events; "and later" have them too.
SEVEN_SINCE = (2023, 4, 1)
#: The documented version with four events nobody names.
FOUR_UNSTATED = "I2022.3.0"

_VERSION = re.compile(r"^I(\d{4})\.(\d{1,2})\.(\d{1,3}|x)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The events one AtScale version sends: ``version`` as the user named it and
    ``events`` in the catalogue's order."""

    version: str
    events: tuple[Event, ...]

    def has(self, event: Event) -> bool:
        return event in self.events

    @property
    def label(self) -> str:
        """How messages name it: "AtScale I2022.4.1's catalogue (6 events)"."""
        who = "the latest AtScale" if self.version == LATEST else f"AtScale {self.version}'s"
        return f"{who} catalogue ({len(self.events)} events)"

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.events]

    def refuse(self, event: Event, where: str = "") -> UsageError:
        """The error for an event this version does not have, naming those that do."""
        return UsageError(
            f"{where}event '{event.name}' is not in AtScale {self.version}'s catalogue",
            f"versions that have it: {versions_with(event)}; {self.version} has: "
            + ", ".join(self.names),
            field="atscale_version",
        )

    def within(self, mix: dict[str, float], default: bool) -> dict[str, float]:
        """A load's event mix for this version: the ``default`` mix loses the events the
        version lacks; a mix the user chose with one is refused."""
        if default:
            return {name: w for name, w in mix.items() if name in self.names}
        for name in mix:
            event = find_event(name)
            if event is not None:
                self.require(event, "mix: ")
        return mix

    def require(self, event: Event, where: str = "") -> Event:
        if not self.has(event):
            raise self.refuse(event, where)
        return event


def versions_with(event: Event) -> str:
    """The documented versions that have ``event``, as a reader wants them."""
    having = [v for v, names in DOCUMENTED.items() if event.name in names]
    if having and having[-1] == list(DOCUMENTED)[-1]:
        return ", ".join(having) + " and later"
    return ", ".join(having) or "none documented"


def catalogue(version: str | None = None) -> Catalogue:
    """The catalogue of AtScale ``version`` (``I2022.4.1``, ``I2024.2.1``, ``latest``;
    None is the latest). A version whose catalogue is not documented is a UsageError
    naming those that are."""
    if version is None or version.strip().lower() in ("", LATEST):
        return Catalogue(LATEST, EVENTS)
    given = version.strip()
    match = _VERSION.match(given)
    documented = ", ".join(DOCUMENTED) + " and later, or latest"
    if match is None:
        raise UsageError(
            f"atscale_version: {version!r} is not an AtScale version",
            f"AtScale versions look like I2024.2.1; documented: {documented}",
            field="atscale_version",
        )
    for name, names in DOCUMENTED.items():
        if name.lower() == given.lower():
            return _of(name, names)
    year, minor, patch = match.groups()
    if given.upper() == FOUR_UNSTATED:
        raise UsageError(
            f"atscale_version: AtScale {FOUR_UNSTATED}'s documentation says it has four "
            "engine events but not which four (not stated), so atscale-mock has no "
            "catalogue for it",
            f"documented: {documented}",
            field="atscale_version",
        )
    key = (int(year), int(minor), 99 if patch.lower() == "x" else int(patch))
    if key >= SEVEN_SINCE:
        return _of(given, SEVEN)  # the documentation: I2023.4.1 "and later" have seven
    raise UsageError(
        f"atscale_version: the engine event catalogue of AtScale {given} is not stated "
        "in the documentation atscale-mock is built from",
        f"documented: {documented}",
        field="atscale_version",
    )


def _of(version: str, names: tuple[str, ...]) -> Catalogue:
    return Catalogue(version, tuple(e for e in EVENTS if e.name in names))
