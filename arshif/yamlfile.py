"""Reading the YAML files users write (outlets, topics, schedules), with one kind of error
message: the file, then what is wrong with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path, error: type[Exception], what: str = "") -> Any:
    """The parsed file; an unreadable file or bad YAML raises `error` naming the file (and,
    in the read failure, `what` it is)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read{' ' + what if what else ''}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
