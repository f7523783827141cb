"""Text from outside (a receiver's body, an error message) made safe for where it goes.

* :func:`for_terminal`: control characters (C0 but tab and newline, DEL, C1) shown as
  ``\\u001b``-style escapes, so a body cannot clear the screen, move the cursor or plant
  an OSC 8 link; the escape is also valid inside a JSON string, so JSON stays JSON.
  Invisible format characters are escaped too: bidi overrides and isolates
  (``\\u202e`` would print the rest of a line reversed), zero-width spaces and joiners
  (``slow\\u200b-query`` would print as ``slow-query``), the BOM, soft hyphen and the
  line and paragraph separators.
* :func:`for_xml`: what XML 1.0 cannot hold (C0 but tab, newline and return;
  surrogates; U+FFFE and U+FFFF) escaped the same way, so JUnit files stay well-formed.
"""

from __future__ import annotations

import re

#: C0 but tab and newline, DEL, C1, and the invisible characters that reorder or hide
#: text (Unicode's bidi controls, zero-width characters, separators)
_TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def for_terminal(text: str) -> str:
    return _TERMINAL.sub(_escape, text)


def for_xml(text: str) -> str:
    return _XML.sub(_escape, text)


#: characters of a receiver's answer shown beside a failed check or finding
EXCERPT_CHARS = 1024


def response_excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of a receiver's answer on one line: control
    characters (newlines included) escaped, cut with an ellipsis."""
    cut = text[:limit]
    one_line = _TERMINAL.sub(_escape, cut.replace("\n", "\\n").replace("\t", "\\t"))
    return one_line + ("..." if len(text) > limit else "")
