"""Accounts in the domain: e-mails normalised or refused by rule, the password rules, hashes
upgraded at login, invitations used once."""

from __future__ import annotations

import subprocess
import sys

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from experiments import invitations, passwords, users
from experiments.audit import COMMAND_LINE
from experiments.db import make_engine, session_scope
from experiments.errors import ConflictError, InvalidInputError, NotFoundError
from experiments.models.user import UserRole
from tests.accounts import PASSWORD

GOOD = "amber kettles hum quietly"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [(" Ana@Shop.Example ", "ana@shop.example"), ("o'brien+ab@x.co.uk", "o'brien+ab@x.co.uk")],
)
def test_emails_are_stored_trimmed_and_in_lower_case(raw: str, stored: str) -> None:
    assert users.normalise_email(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["", "ana", "@shop.example", "ana@", "ana@shop", "a na@shop.example", "a@b@", "a\x00@b.c"],
)
def test_a_malformed_email_is_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        users.normalise_email(raw)
    assert refused.value.field == "email"


@given(st.text(max_size=300))
def test_any_text_is_an_address_or_a_field_error(raw: str) -> None:
    try:
        email = users.normalise_email(raw)
    except InvalidInputError as exc:
        assert exc.field == "email"
    else:
        assert email == email.strip().lower() and "@" in email and len(email) <= 254


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "at least 12"),
        ("x" * 1001, "at most 1000"),
        ("Password1234", "common password"),
        ("baseball2024!!", "common password"),
        ("\ud800" * 12, "valid Unicode"),
        (GOOD + "\x00", "NUL"),
    ],
)
def test_the_password_rules(password: str, rule: str) -> None:
    with pytest.raises(InvalidInputError, match=rule):
        passwords.check_new_password(password)


def test_the_common_list_comes_from_zxcvbn_and_is_big_enough() -> None:
    common = passwords.common_passwords()
    assert len(common) > 10_000
    assert {"password", "iloveyou", "1234567890ab"} & common == {"password", "iloveyou"}
    assert all(entry == entry.lower() for entry in common)
    passwords.check_new_password(GOOD)  # a passphrase passes


def test_the_list_is_read_only_when_a_password_is_checked() -> None:
    code = "import sys, experiments.passwords; assert 'zxcvbn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_hash_of_other_parameters_is_upgraded_at_login(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine) as session:
            user = users.create_user(session, "ana@shop.example", PASSWORD, UserRole.VIEWER)
            old_hash = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash(PASSWORD)
            user.password_hash = old_hash
        with session_scope(engine) as session:
            assert users.authenticate(session, "ana@shop.example", "wrong password") is None
            found = users.authenticate(session, "ana@shop.example", PASSWORD)
            assert found is not None and found.password_hash != old_hash
            assert users.authenticate(session, "nobody@shop.example", PASSWORD) is None
    finally:
        engine.dispose()


def test_an_invitation_is_used_once_and_its_token_is_not_stored(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine) as session:
            issued = invitations.invite(session, "kari@shop.example", UserRole.EDITOR, COMMAND_LINE)
        with Session(engine) as session:
            (stored,) = invitations.pending(session)
            assert issued.token not in stored.token_hash
        with session_scope(engine) as session:
            with pytest.raises(InvalidInputError):
                invitations.accept(session, issued.token, "short")
        with session_scope(engine) as session:
            user = invitations.accept(session, issued.token, GOOD)
            assert user.role == "editor"
        with session_scope(engine) as session, pytest.raises(NotFoundError):
            invitations.accept(session, issued.token, GOOD)
        with session_scope(engine) as session, pytest.raises(ConflictError):
            invitations.invite(session, "KARI@shop.example", UserRole.VIEWER, COMMAND_LINE)
    finally:
        engine.dispose()
