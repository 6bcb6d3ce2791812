"""Understanding customers' replies: intent classification and reschedule-time parsing.

Standard library only: this is domain code, imported by services and the CLI.
"""

from bot.domain.replies.classifier import Classification, classify_rules
from bot.domain.replies.hybrid import classify
from bot.domain.replies.lexicon import INTENTS
from bot.domain.replies.normalize import normalize
from bot.domain.replies.reschedule import RescheduleTime, parse_reschedule

__all__ = [
    "INTENTS",
    "Classification",
    "RescheduleTime",
    "classify",
    "classify_rules",
    "normalize",
    "parse_reschedule",
]
