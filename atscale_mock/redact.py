"""Keep secrets out of everything printed, logged or reported."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
#: ``scheme://user:password@``: the password part of a URL's userinfo
_USERINFO = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^/\s@]*@")
#: ``?token=...`` / ``&api_key=...``: the value of a query parameter whose name holds a
#: sensitive word (the list below)
_QUERY = re.compile(
    r"([?&;][^=&#\s\"'<>]*(?:token|key|secret|sig|password|passwd|auth|credential|session)"
    r"[^=&#\s\"'<>]*=)[^&#\s\"'<>]+",
    re.IGNORECASE,
)
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


#: A secret this long or longer is masked wherever it occurs inside a string; a
#: shorter one of at least MIN_TOKEN characters (``X-Api-Key: k3y``) wherever it stands
#: as a whole word (no letter, digit, ``-`` or ``_`` touching it: a receiver echoing it
#: back in its body does not leak it); shorter still (``X-Api-Key: 1``) only where it is
#: a whole value, so masking it can never eat into ids, numbers or JSON syntax.
MIN_SUBSTRING = 6
MIN_TOKEN = 3


class Redactor:
    """Masks sensitive header values and every registered secret value. Structured data
    is redacted value by value before it is serialized (:meth:`data`), never by
    rewriting encoded text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._long: list[str] = []
        self._short: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets.add(secret)
            self._long = sorted(
                (s for s in self._secrets if len(s) >= MIN_SUBSTRING), key=len, reverse=True
            )
            short = sorted(
                (s for s in self._secrets if MIN_TOKEN <= len(s) < MIN_SUBSTRING),
                key=len,
                reverse=True,
            )
            self._short = (
                re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(s) for s in short) + r")(?![\w-])")
                if short
                else None
            )

    def text(self, text: str) -> str:
        """One value with the registered secrets (whole, or inside it when long enough)
        the password of any URL's userinfo (``https://user:password@host``) and the value of
        a sensitive query parameter (``?token=...``) masked."""
        if text in self._secrets:
            return MASK
        for secret in self._long:
            if secret in text:
                text = text.replace(secret, MASK)
        if self._short is not None:
            text = self._short.sub(MASK, text)
        if "@" in text:
            text = _USERINFO.sub(rf"\1{MASK}@", text)
        if "=" in text:
            text = _QUERY.sub(rf"\1{MASK}", text)
        return text

    def data(self, value: Any) -> Any:
        """A copy of JSON-like data with every string redacted by :meth:`text` (keys
        kept); serialize the result, do not redact the serialized text."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

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
