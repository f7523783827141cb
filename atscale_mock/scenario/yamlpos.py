"""Safe YAML loading that remembers where every key and value stands.

PyYAML composes the text into nodes (SafeLoader: no object construction); we build
plain values ourselves so that we can refuse tags that would construct objects,
report duplicate keys, and bound the work an alias bomb could cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Problem

Path = tuple[str | int, ...]

MAX_NODES = 2_000_000  # values in a document; a larger one is refused as too large
MAX_ALIAS_VALUES = 100_000  # values reached again through aliases: more is an alias bomb
MAX_DEPTH = 64
#: libyaml's composer when PyYAML was built with it (several times faster), else Python's
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CachedLoader(_BASE_LOADER):  # type: ignore[misc]
    """The safe loader with its tag resolution remembered per scalar text: the same
    keys and values (``id``, ``event: slow-query``) recur thousands of times in a big
    file, and resolving each is a handful of regular expressions in Python."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._tags: dict[tuple[str, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._tags) < 100_000:
                self._tags[key] = tag
        return tag


_LOADER = _CachedLoader


_BASE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_BASE + t for t in ("str", "int", "float", "bool", "null")}
_TIMESTAMP = _BASE + "timestamp"
_STR = _BASE + "str"


@dataclass(frozen=True, slots=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based
    width: int = 1


@dataclass
class Document:
    """A loaded file: its data, its lines, and its node tree, where the position of any
    key or value is looked up when a problem needs it. Nothing is kept per value, and
    the tree is let go once the data is built (``release``): a problem found later
    composes the text again, once, so a valid 100,000-step file costs its data alone."""

    file: str
    lines: list[str]
    data: Any = None
    root: Node | None = None
    text: str = ""  # what to compose again when a position is asked for after release

    def release(self) -> None:
        self.root = None

    def mark_of(self, path: Path, *, key: bool = False) -> Mark | None:
        """Where the value (or, ``key=True``, the key) at ``path`` stands; None if the
        path leads nowhere."""
        if self.root is None and self.text:
            self.root = yaml.compose(self.text, Loader=_LOADER)
        node = self.root
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if isinstance(node, MappingNode):
                found = next(
                    (
                        (k, v)
                        for k, v in node.value
                        if isinstance(k, ScalarNode) and k.value == part
                    ),
                    None,
                )
                if found is None:
                    return None
                if last and key:
                    return _mark(found[0])
                node = found[1]
            elif isinstance(node, SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return None
                node = node.value[part]
            else:
                return None
        return _mark(node) if node is not None else None

    def problem(self, path: Path, message: str, hint: str = "", *, key: bool = False) -> Problem:
        """A Problem pointing at the key (``key=True``) or the value at ``path``."""
        mark = self.mark_of(path, key=key) or self.mark_of(path, key=not key)
        if mark is None:  # fall back to the nearest parent that has a position
            for cut in range(len(path) - 1, -1, -1):
                mark = self.mark_of(path[:cut], key=True) or self.mark_of(path[:cut])
                if mark:
                    break
        return self.problem_at(mark, message, hint)

    def problem_at(self, mark: Mark | None, message: str, hint: str = "") -> Problem:
        if mark is None:
            return Problem(self.file, 0, 0, message, hint)
        source = self.lines[mark.line - 1] if 0 < mark.line <= len(self.lines) else ""
        return Problem(self.file, mark.line, mark.column, message, hint, source, mark.width)


def _mark(node: Node) -> Mark:
    start, end = node.start_mark, node.end_mark
    width = end.column - start.column if end.line == start.line else 1
    return Mark(start.line + 1, start.column + 1, width if width > 1 else 1)


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.budget = MAX_NODES
        self.alias_budget = MAX_ALIAS_VALUES
        self.seen: set[int] = set()  # nodes built once: another visit is an alias
        self.constructor = SafeConstructor()

    def build(self, node: Node, path: Path, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooBig
        if isinstance(node, ScalarNode):
            pass  # an aliased scalar costs what a plain one does
        elif id(node) in self.seen:
            self.alias_budget -= len(node.value) + 1
            if self.alias_budget < 0:
                raise _AliasBomb
        else:
            self.seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _TooDeep
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            if node.tag != _BASE + "seq":
                return self._bad_tag(node)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        if node.tag == _TIMESTAMP:
            return node.value
        if node.tag == _STR:
            return node.value  # most scalars: no constructor needed
        if node.tag not in _SCALAR_TAGS:
            return self._bad_tag(node)
        return self.constructor.construct_object(node)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> Any:
        if node.tag != _BASE + "map":
            return self._bad_tag(node)
        result: dict[str, Any] = {}
        key_nodes: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                self.problems.append(
                    self.doc.problem_at(
                        _mark(key_node), "a key must be a plain scalar", "write the key as text"
                    )
                )
                continue
            key = str(key_node.value)
            if key == "<<":
                self.problems.append(
                    self.doc.problem_at(
                        _mark(key_node),
                        "merge keys (<<) are not supported",
                        "repeat the keys, or put shared settings in `defaults`",
                    )
                )
                continue
            child = (*path, key)
            if key in result:
                first = _mark(key_nodes[key])
                self.problems.append(
                    self.doc.problem_at(
                        _mark(key_node),
                        f"duplicate key '{key}'",
                        f"first defined at line {first.line}; remove one",
                    )
                )
                continue
            key_nodes[key] = key_node
            result[key] = self.build(value_node, child, depth + 1)
        return result

    def _bad_tag(self, node: Node) -> None:
        tag = node.tag.replace(_BASE, "!!")
        self.problems.append(
            self.doc.problem_at(
                _mark(node),
                f"tag '{tag}' is not allowed",
                "YAML is loaded safely: only plain maps, lists, strings, numbers and booleans",
            )
        )
        return None


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    pass


class _AliasBomb(Exception):
    pass


def load(raw: bytes, file: str) -> tuple[Document, list[Problem]]:
    """Parse ``raw`` into a Document; problems are returned, never raised."""
    doc = Document(file, [])
    if b"\x00" in raw:
        return doc, [
            Problem(
                file,
                0,
                0,
                "not a text file (it contains NUL bytes)",
                "a scenario is a UTF-8 YAML file",
            )
        ]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return doc, [
            Problem(file, 0, 0, f"not UTF-8 text (byte {exc.start})", "save the scenario as UTF-8")
        ]
    doc.lines = text.splitlines()
    too_deep = [Problem(file, 0, 0, f"the document nests deeper than {MAX_DEPTH} levels")]
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except RecursionError:  # PyYAML's parser recurses once per level: far past MAX_DEPTH
        return doc, too_deep
    except yaml.MarkedYAMLError as first:
        return doc, [_syntax_problem(doc, _worded(text, first))]
    except yaml.YAMLError as exc:
        return doc, [Problem(file, 0, 0, f"YAML error: {exc}")]
    if root is None:
        return doc, [
            Problem(
                file, 0, 0, "the file is empty", "start with `version: 1` and a list of `steps`"
            )
        ]
    doc.root, doc.text = root, text
    builder = _Builder(doc)
    try:
        doc.data = builder.build(root, ())
    except _TooBig:
        return doc, [
            Problem(
                file,
                0,
                0,
                f"the document is too large: more than {MAX_NODES:,} values",
                "split it, or use repeat: {count: N} instead of listing steps",
            )
        ]
    except _AliasBomb:
        return doc, [
            Problem(
                file,
                0,
                0,
                f"aliases expand to more than {MAX_ALIAS_VALUES:,} values (an alias bomb?)",
                "use fewer aliases",
            )
        ]
    except (_TooDeep, RecursionError):
        return doc, too_deep
    if not builder.problems:
        doc.release()  # the data is all a valid file needs; positions come back on demand
    return doc, builder.problems


def _worded(text: str, error: yaml.MarkedYAMLError) -> yaml.MarkedYAMLError:
    """PyYAML's own parser words syntax errors better than libyaml: ask it."""
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as worded:
        return worded
    except RecursionError:
        return error
    return error


def _syntax_problem(doc: Document, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    column = mark.column + 1 if mark else 0
    message = f"YAML syntax: {exc.problem or exc.context}"
    hint = ""
    source = doc.lines[line - 1] if 0 < line <= len(doc.lines) else ""
    if "\\t" in str(exc.problem) or "\t" in source[: max(column, 1)]:
        message, hint = "a tab character in indentation", "YAML indents with spaces only"
        column = source.index("\t") + 1 if "\t" in source else column
    return Problem(doc.file, line, column, message, hint, source, 1)
