"""Slowing down password guessing: after 5 failed logins, an account and a client address each
wait before the next try, and each further failure doubles the wait (1 s, 2 s, 4 s, ... at most
15 minutes).

Failures are counted per subject (`account:<e-mail>`, `address:<client>`) in the database, so
every process and host sees the same counts. A subject's count starts again after an hour
without failures; a successful login clears the account's count (not the address's, or a
guesser could reset it by logging in to an account of their own). While a subject must wait,
the login is refused before the password is checked, so waiting is not a way to guess.
Unknown e-mail addresses are counted like known ones: the answer never tells which exist.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from experiments.models.user import LoginFailures

FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=1)
LONGEST_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


def subjects(email: str, client: str) -> list[str]:
    return [f"account:{email}", f"address:{client}"]


def seconds_to_wait(session: Session, names: list[str], now: datetime | None = None) -> float:
    """How long the longest-waiting of the subjects must still wait (0: it may try now)."""
    now = now or datetime.now(UTC)
    waits = [0.0]
    for name in names:
        row = session.get(LoginFailures, _hash(name))
        if row is not None and row.wait_until is not None:
            waits.append((row.wait_until - now).total_seconds())
    return max(waits)


def record_failure(session: Session, names: list[str], now: datetime | None = None) -> None:
    """Count a failed login against each subject, and set its wait once past the free ones.

    The count goes up in one UPDATE (`failures + 1`), so logins failing at the same moment in
    several processes are all counted."""
    now = now or datetime.now(UTC)
    for name in names:
        subject = _hash(name)
        _ensure_row(session, subject, now)
        stale = col(LoginFailures.last_failed_at) < now - FORGET_AFTER
        session.execute(
            update(LoginFailures)
            .where(col(LoginFailures.subject_hash) == subject)
            .values(
                failures=case((stale, 1), else_=col(LoginFailures.failures) + 1),
                last_failed_at=now,
            )
        )
        row = session.get(LoginFailures, subject, populate_existing=True)
        if row is not None and row.failures >= FREE_FAILURES:
            row.wait_until = now + wait_after(row.failures)
            session.add(row)
    session.flush()


def _ensure_row(session: Session, subject: str, now: datetime) -> None:
    if session.get(LoginFailures, subject) is not None:
        return
    try:
        with session.begin_nested():  # a savepoint: a row stored meanwhile is no error
            session.add(LoginFailures(subject_hash=subject, failures=0, last_failed_at=now))
    except IntegrityError:
        pass


def wait_after(failures: int) -> timedelta:
    """The wait after the `failures`-th failure in a row (from the 5th on)."""
    doublings = min(failures - FREE_FAILURES, 20)
    return min(FIRST_WAIT * (1 << doublings), LONGEST_WAIT)


def clear(session: Session, name: str) -> None:
    row = session.get(LoginFailures, _hash(name))
    if row is not None:
        session.delete(row)


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()
