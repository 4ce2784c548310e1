"""Password rules and hashing: argon2id through argon2-cffi, a list of common passwords.

The rules (`check_new_password`): at least 12 characters, at most 1,000 (argon2 would take any
length, but a megabyte of password is a denial of service, not a password), text without NUL
or lone surrogates, and not a common password, neither as typed nor with digits and symbols
added at its end ("baseball2024!"). The list is the `passwords` frequency list of the `zxcvbn`
package (a dependency; about 30,000 entries, most frequent first), read from it once, on the
first check: the import takes about 55 ms and keeps about 13 MB (zxcvbn's other word lists come
with it), which a server that never sees a new password need not spend. Nothing is fetched at
run time.

Hashes are argon2id with the OWASP Password Storage Cheat Sheet's first choice: 19 MiB of
memory, 2 passes, 1 lane (`vekst_hasher`). argon2-cffi's default (RFC 9106's second
recommendation: 64 MiB, 3 passes, 4 lanes) took about 8 times as long per login on a 2-core
server (`benchmarks/bench_passwords.py`, docs/benchmarks.md), time a guesser could make the
server spend. `needs_rehash` tells when a stored hash was made with other parameters, so a
login can upgrade it.
"""

from __future__ import annotations

import string
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from experiments.errors import InvalidInputError
from experiments.inputs import text_problem

MIN_LENGTH = 12
MAX_LENGTH = 1000
_TRAILING = string.digits + string.punctuation + " "


def vekst_hasher() -> PasswordHasher:
    """argon2id over 19 MiB, 2 passes, 1 lane (see the module's docstring)."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


hasher = vekst_hasher()
"""The hasher every account uses; tests swap in a cheaper one (`use_hasher`)."""


def use_hasher(replacement: PasswordHasher) -> None:
    """Hash with `replacement` from now on (tests: fewer passes over less memory)."""
    global hasher  # noqa: PLW0603  (one hasher per process, replaced only by tests)
    hasher = replacement
    _dummy_hash.cache_clear()


def check_new_password(password: str, field: str = "password") -> None:
    """Refuse a password that breaks a rule, naming `field` (see the module's docstring)."""
    if len(password) > MAX_LENGTH:
        raise InvalidInputError(field, f"must be at most {MAX_LENGTH} characters")
    problem = text_problem(password)
    if problem is not None:
        raise InvalidInputError(field, problem)
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(field, f"must be at least {MIN_LENGTH} characters")
    if is_common(password):
        raise InvalidInputError(
            field, "is a common password (or one with digits or symbols added); choose another"
        )


def is_common(password: str) -> bool:
    lowered = password.lower()
    return lowered in common_passwords() or lowered.rstrip(_TRAILING) in common_passwords()


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's list of common passwords, lower case (imported here: see the module's
    docstring)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # here, not at the top: lazily

    return frozenset(FREQUENCY_LISTS["passwords"])


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash. Without a hash (no such account) a dummy
    one is checked all the same, so the answer takes as long either way."""
    try:
        return hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return hasher.hash("not the password of anyone")
