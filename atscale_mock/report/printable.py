"""Text from outside (a receiver's body, an error message) made safe for where it goes.

* :func:`for_terminal`: control characters (C0 but tab and newline, DEL, C1) shown as
  ``\\u001b``-style escapes, so a body cannot clear the screen, move the cursor or plant
  an OSC 8 link; the escape is also valid inside a JSON string, so JSON stays JSON.
* :func:`for_xml`: what XML 1.0 cannot hold (C0 but tab, newline and return;
  surrogates; U+FFFE and U+FFFF) escaped the same way, so JUnit files stay well-formed.
"""

from __future__ import annotations

import re

_TERMINAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def for_terminal(text: str) -> str:
    return _TERMINAL.sub(_escape, text)


def for_xml(text: str) -> str:
    return _XML.sub(_escape, text)
