"""Typed readers of environment variables, one per kind of value (README "Configuration").

:class:`Environment` wraps the process environment (or any mapping, in tests) and reads one
variable at a time as what it must be: a whole number in a range, seconds, a flag, one of a few
choices, an http(s) URL, a comma-separated list. A value surrounded by spaces is trimmed; an
empty one is unset. A wrong value raises :class:`SettingsError` with a message that names the
variable, quotes the value back, and says the range and the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["Environment", "SettingsError"]

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and what it expects."""


class Environment:
    """The variables the gateway reads, each through a typed reader."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = variables

    def text(self, name: str) -> str | None:
        """The value trimmed, or None when unset or blank."""
        value = self._variables.get(name)
        if value is None:
            return None
        return value.strip() or None

    def whole_number(self, name: str, default: int, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high`` (digits only); unset is ``default``."""
        text = self.text(name)
        if text is None:
            return default
        if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
            raise SettingsError(
                f"{name} must be a whole number from {low} to {high}, got {text!r} "
                f"(default {default})"
            )
        return int(text)

    def port(self, name: str, default: int) -> int:
        """A TCP port, 0 to 65535; unset is ``default``."""
        text = self.text(name)
        if text is None:
            return default
        if not (text.isascii() and text.isdigit()):
            raise SettingsError(
                f"{name} must be a whole number from 0 to 65535, got {text!r} (default {default})"
            )
        if not 0 <= int(text) <= 65535:
            raise SettingsError(
                f"{name} must be between 0 and 65535, got {int(text)} (default {default})"
            )
        return int(text)

    def seconds(self, name: str, default: float, low: float, high: float) -> float:
        """A duration in seconds from ``low`` to ``high`` (a decimal number); unset is
        ``default``."""
        text = self.text(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise SettingsError(
                f"{name} must be a number of seconds from {low:g} to {high:g}, got {text!r} "
                f"(default {default:g})"
            ) from None
        if not low <= value <= high:  # NaN fails here too
            raise SettingsError(
                f"{name} must be between {low:g} and {high:g} seconds, got {text!r} "
                f"(default {default:g})"
            )
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """true/false, 1/0, yes/no (any case); unset is ``default``."""
        text = self.text(name)
        if text is None:
            return default
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise SettingsError(f"{name} must be 'true' or 'false', got {text!r}")

    def choice(
        self, name: str, choices: Sequence[str], default: str, *, any_case: bool = False
    ) -> str:
        """One of ``choices`` (compared in lower case when ``any_case``); unset is ``default``."""
        text = self.text(name)
        if text is None:
            return default
        value = text.lower() if any_case else text
        if value not in choices:
            expected = (
                f"'{choices[0]}' or '{choices[1]}'"
                if len(choices) == 2
                else f"one of {', '.join(choices)}"
            )
            raise SettingsError(f"{name} must be {expected}, got {value!r}")
        return value

    def http_url(self, name: str, default: str | None = None) -> str | None:
        """An ``http://`` or ``https://`` URL; unset is ``default``."""
        url = self.text(name) or default
        if url is not None and not url.startswith(("http://", "https://")):
            raise SettingsError(f"{name} must be an http(s) URL, got {url!r}")
        return url

    def items(self, name: str) -> tuple[str, ...]:
        """A comma-separated list, each item trimmed, empty items dropped; unset is ``()``."""
        return tuple(item.strip() for item in (self.text(name) or "").split(",") if item.strip())
