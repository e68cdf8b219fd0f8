"""Domain errors. Each carries a translatable message safe to show to the user."""
from __future__ import annotations


class DomainError(Exception):
    """A rule refused an action; ``message`` is a lazy translatable string."""

    def __init__(self, message, **params):
        super().__init__(str(message))
        self.message = message
        self.params = params

    def __str__(self) -> str:  # rendered in the current language
        return str(self.message) % self.params if self.params else str(self.message)


class NotAllowed(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class NotFound(DomainError):
    pass
