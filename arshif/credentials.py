"""Secrets (Elasticsearch URL and credentials, the web token): from the environment, or from
a file only its owner can read, and never shown.

Every secret variable NAME may instead be given as NAME_FILE, the path of a file holding the
value (a trailing newline is ignored), as container secrets and systemd credentials are. A
file that its group or other users can read is refused: `chmod 600` it first.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

# The variables that hold secrets; each may also be given as NAME_FILE.
SECRET_VARIABLES = (
    "ARSHIF_ES_URL",
    "ARSHIF_ES_API_KEY",
    "ARSHIF_ES_PASSWORD",
    "ARSHIF_WEB_TOKEN",
    "ARSHIF_REDIS_URL",
    "ARSHIF_DATABASE_URL",
)

_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")


class SecretError(ValueError):
    """A secret cannot be read safely; the message says what to do."""


def redact_url(text: str) -> str:
    """`text` (a URL, a list of URLs, or a message naming them) with any `user:password@`
    replaced by `***@`, for logs and messages."""
    return _USERINFO.sub("***@", text)


def has_secret(name: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether NAME or NAME_FILE is set (without reading the file)."""
    env = os.environ if env is None else env
    return bool(env.get(name) or env.get(f"{name}_FILE"))


def read_secret(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The value of NAME, else the content of the file NAME_FILE names, else None."""
    env = os.environ if env is None else env
    value, path = env.get(name), env.get(f"{name}_FILE")
    if value and path:
        raise SecretError(f"both {name} and {name}_FILE are set; keep one of them")
    if not path:
        return value or None
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
        if not stat.S_ISREG(mode):
            raise SecretError(f"{name}_FILE names {file}, which is not a file")
        if mode & 0o077:
            raise SecretError(
                f"{file} ({name}_FILE) is open to other users (mode "
                f"{stat.S_IMODE(mode):04o}); make it private with `chmod 600 {file}`"
            )
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretError(f"cannot read {file} ({name}_FILE): {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise SecretError(f"{file} ({name}_FILE) is not UTF-8 text") from None
    return text.rstrip("\r\n") or None
