"""Reading the YAML files users write (outlets, topics, schedules), with one kind of error
message: the file, then what is wrong with it, on one line.

The loader is PyYAML's safe one, stricter in three ways, because these files are short
hand-written configuration:

- no aliases (`*name`): a few lines of nested aliases expand to billions of nodes (an
  "alias bomb") before any field is looked at, and configuration never needs them;
- no duplicate keys in a mapping: YAML would keep the last silently, so a setting
  written twice would be half ignored;
- dates stay text (`2026-02-30` is not turned into a date by the loader, which raised a
  bare ValueError for impossible ones): each field that holds a date checks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError


class StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader without aliases, duplicate keys or implicit timestamps."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed here; write the value out",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: the base class says so
            if key in seen:
                raise ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _one_line(exc: yaml.YAMLError) -> str:
    """'line 3, column 5: found ...' rather than PyYAML's several-line report."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = " ".join(filter(None, (exc.context, exc.problem)))
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return " ".join(str(exc).split())


def read_yaml(path: Path, error: type[Exception], what: str = "") -> Any:
    """The parsed file; an unreadable file, a file not in UTF-8 or bad YAML raises `error`
    naming the file (and, in the read failure, `what` it is)."""
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a safe loader
    except OSError as exc:
        raise error(f"{path}: cannot read{' ' + what if what else ''}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); "
            "save the file as UTF-8"
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {_one_line(exc)}") from None
    except RecursionError:
        raise error(f"{path}: not valid YAML: nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # a value PyYAML cannot build
        raise error(f"{path}: not valid YAML: {exc}") from None
