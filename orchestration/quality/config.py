"""`config/quality.yaml`: thresholds and rules, and the `${section.key}` placeholders suites use."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from orchestration import settings

QUALITY_CONFIG_PATH = settings.CONFIG_DIR / "quality.yaml"
SEVERITIES = ("ERROR", "WARNING")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")


def load_quality_config(path: Path | None = None) -> dict:
    """`config/quality.yaml` (env BOLIGSOSIAL_QUALITY_CONFIG overrides the path)."""
    env = os.environ.get("BOLIGSOSIAL_QUALITY_CONFIG")
    config_path = Path(path) if path else Path(env) if env else QUALITY_CONFIG_PATH
    return settings.read_yaml(config_path) or {}


def config_value(config: dict, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def resolve_placeholders(node: Any, config: dict, where: str = "") -> Any:
    """Replace `${a.b}` by the config value; a string that is only a placeholder keeps the value's type."""
    if isinstance(node, dict):
        return {k: resolve_placeholders(v, config, where) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_placeholders(v, config, where) for v in node]
    if isinstance(node, str) and "${" in node:
        def lookup(name: str) -> Any:
            try:
                return config_value(config, name)
            except KeyError:
                raise ValueError(f"{where}: ${{{name}}} is not set in config/quality.yaml") from None

        whole = _PLACEHOLDER.fullmatch(node.strip())
        if whole:
            return lookup(whole.group(1))
        text = _PLACEHOLDER.sub(lambda m: str(lookup(m.group(1))), node)
        try:  # "-${a.b}" with a.b = 0.25 is the number -0.25, not a string
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and re.fullmatch(r"-?\d+", text.strip()) else number
    return node
