"""Keep secrets out of everything printed, logged or reported."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"
#: ``scheme://user:password@``: the password part of a URL's userinfo
_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\"']*:)[^/\s@\"']*@")
#: A header whose name contains one of these words has its value masked.
SENSITIVE_WORDS = (
    "authorization",
    "cookie",
    "token",
    "secret",
    "key",
    "signature",
    "password",
    "auth",
    "credential",
)


def is_sensitive_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


class Redactor:
    """Masks sensitive header values and every registered secret value in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = {s for s in secrets if s}

    def add(self, secret: str) -> None:
        if secret:
            self._secrets.add(secret)

    def text(self, text: str) -> str:
        """``text`` with every registered secret, and the password of any URL's
        userinfo (``https://user:password@host``), masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        if "@" in text:
            text = _USERINFO.sub(rf"\1{MASK}@", text)
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: MASK if is_sensitive_header(name) else self.text(value)
            for name, value in headers.items()
        }

    def learn_headers(self, headers: Mapping[str, str]) -> None:
        """Register the values of sensitive headers, so they are masked anywhere else too."""
        for name, value in headers.items():
            if is_sensitive_header(name):
                self.add(value)
                # "Bearer abc": the token alone must not leak either.
                _, _, token = value.partition(" ")
                if len(token) >= 4:
                    self.add(token)
