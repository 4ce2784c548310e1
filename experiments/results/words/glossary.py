"""The words of a results page explained in a sentence each: shown where they appear (as the
title of an `<abbr>` and in the page's "What the words mean") and listed in docs/pages.md.
"""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    "change": "The variant's value relative to the control's: +10 % means 10 % more.",
    "likely range": (
        "Where the true change lies, with 95 % confidence, however often the page is read (a "
        "peeking-safe confidence sequence). While it holds 0, no change is shown yet."
    ),
    "p-value": (
        "How surprising the data would be if the variant changed nothing (the peeking-safe "
        "sequential p-value). Below the significance level the change is shown; it decides "
        "together with the likely range."
    ),
    "chance it is better": (
        "The probability that the variant beats the control (Bayesian). Context only: a high "
        "chance is not enough to decide while the likely range still holds no change."
    ),
    "reading": (
        "What the likely range shows: improved, worsened or no clear change yet; for a guardrail "
        "whether it was harmed."
    ),
    "95 % CI": "The likely range (a 95 % confidence sequence), as the summary writes it.",
    "look": (
        "A computed snapshot of the results. One is taken about every hour while the page is "
        "read, or when you take one; the chart shows one point per look."
    ),
    "peeking-safe": (
        "Valid however often you read the results: looking every day does not raise the chance "
        "of calling a change that is not there."
    ),
    "significance level": (
        "The chance of calling a change that is not there that the test accepts (5 % unless "
        "the design says otherwise)."
    ),
    "smallest change to detect": (
        "The smallest relative change the plan is sized to find with the design's power; "
        "smaller ones may go unseen."
    ),
    "guardrail": (
        "A metric that must not get worse (refunds, unsubscribes): a variant that harms it is "
        "not shipped, whatever its main metric says."
    ),
}


def explain(term: str) -> str | None:
    """The term's explanation (any letter case), or None for a word that needs none."""
    return GLOSSARY.get(term) or GLOSSARY.get(term.lower())
