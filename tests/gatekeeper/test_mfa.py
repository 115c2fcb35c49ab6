"""The TOTP second factor, its replay guard, and one-time recovery codes."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from gatekeeper import accounts, mfa
from gatekeeper.models import RecoveryCode, Site, User

NOW = datetime(2026, 12, 3, 15, 0, 10, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """Hold the second factor's clock at NOW, so the codes it accepts are known."""
    monkeypatch.setattr(mfa, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def secret() -> str:
    return mfa.new_secret()


@pytest.fixture
def user() -> User:
    return User(username="sam.manager", totp_last_step=0)


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def test_the_current_code_is_accepted_and_remembered(clock, secret, user):
    mfa.accept_code(user, secret, code_at(secret, clock))

    assert user.totp_last_step == pyotp.TOTP(secret).timecode(clock)


def test_a_code_typed_with_spaces_is_accepted(clock, secret, user):
    code = code_at(secret, clock)

    mfa.accept_code(user, secret, f" {code[:3]} {code[3:]} ")

    assert user.totp_last_step > 0


def test_a_code_from_a_phone_one_step_slow_is_accepted(clock, secret, user):
    mfa.accept_code(user, secret, code_at(secret, clock - timedelta(seconds=30)))

    assert user.totp_last_step == pyotp.TOTP(secret).timecode(clock) - 1


def test_the_same_code_cannot_be_used_twice(clock, secret, user):
    code = code_at(secret, clock)
    mfa.accept_code(user, secret, code)

    with pytest.raises(mfa.MfaError, match="already used"):
        mfa.accept_code(user, secret, code)


def test_an_older_code_is_refused_once_a_newer_one_was_used(clock, secret, user):
    mfa.accept_code(user, secret, code_at(secret, clock))

    with pytest.raises(mfa.MfaError, match="already used"):
        mfa.accept_code(user, secret, code_at(secret, clock - timedelta(seconds=30)))


def test_a_code_two_steps_old_is_refused(clock, secret, user):
    with pytest.raises(mfa.MfaError, match="not right"):
        mfa.accept_code(user, secret, code_at(secret, clock - timedelta(seconds=60)))

    assert user.totp_last_step == 0


def test_a_wrong_code_is_refused(clock, secret, user):
    valid = {code_at(secret, clock + timedelta(seconds=30 * n)) for n in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1000) if f"{n:06d}" not in valid)

    with pytest.raises(mfa.MfaError, match="not right"):
        mfa.accept_code(user, secret, wrong)

    assert user.totp_last_step == 0


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_a_code_that_is_not_six_digits_is_refused(clock, secret, user, code):
    with pytest.raises(mfa.MfaError, match="6-digit"):
        mfa.accept_code(user, secret, code)


def test_the_code_of_another_secret_is_refused(clock, secret, user):
    other = mfa.new_secret()
    assert other != secret

    with pytest.raises(mfa.MfaError):
        mfa.accept_code(user, secret, code_at(other, clock))


def test_a_sealed_secret_opens_with_its_key_only(secret):
    key = Fernet.generate_key().decode()
    sealed = mfa.seal_secret(key, secret)

    assert secret not in sealed
    assert mfa.open_secret(key, sealed) == secret
    with pytest.raises(mfa.MfaError):
        mfa.open_secret(Fernet.generate_key().decode(), sealed)


def test_a_tampered_sealed_secret_does_not_open(secret):
    key = Fernet.generate_key().decode()
    sealed = mfa.seal_secret(key, secret)
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]

    with pytest.raises(mfa.MfaError):
        mfa.open_secret(key, flipped)


def test_the_enrolment_uri_names_the_issuer_and_the_account(secret):
    uri = mfa.provisioning_uri(secret, "sam.manager")

    assert uri.startswith("otpauth://totp/")
    assert "sam.manager" in uri
    assert f"secret={secret}" in uri
    assert f"issuer={mfa.ISSUER}" in uri


def test_the_enrolment_qr_code_is_an_svg_document(secret):
    document = mfa.qr_svg(mfa.provisioning_uri(secret, "sam.manager"))

    assert b"<svg" in document
    assert b"<script" not in document


def issue(sessions, user_id: int) -> list[str]:
    with sessions.begin() as s:
        return mfa.issue_recovery_codes(s, s.get(User, user_id))


def spend(sessions, user_id: int, code: str) -> bool:
    with sessions.begin() as s:
        return mfa.use_recovery_code(s, s.get(User, user_id), code)


def remaining(sessions, user_id: int) -> int:
    with sessions.begin() as s:
        return mfa.remaining_recovery_codes(s, s.get(User, user_id))


def test_ten_distinct_recovery_codes_are_issued_and_stored_hashed(sessions, guard):
    codes = issue(sessions, guard.id)

    assert len(codes) == mfa.RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    with sessions.begin() as s:
        stored = set(s.scalars(select(RecoveryCode.code_hash)))

    assert len(stored) == 10
    assert not stored & {code.replace("-", "") for code in codes}
    assert remaining(sessions, guard.id) == 10


def test_each_recovery_code_works_once(sessions, guard):
    codes = issue(sessions, guard.id)

    for used, code in enumerate(codes, start=1):
        assert spend(sessions, guard.id, code)
        assert remaining(sessions, guard.id) == 10 - used

    assert not any(spend(sessions, guard.id, code) for code in codes)
    assert remaining(sessions, guard.id) == 0


def test_a_recovery_code_is_read_without_regard_to_case_hyphen_or_spaces(
    sessions, guard
):
    code = issue(sessions, guard.id)[0]

    assert spend(sessions, guard.id, f" {code.upper().replace('-', ' ')} ")
    assert not spend(sessions, guard.id, code)


def test_a_made_up_recovery_code_is_refused(sessions, guard):
    issue(sessions, guard.id)

    assert not spend(sessions, guard.id, "00000-00000")
    assert remaining(sessions, guard.id) == 10


def test_issuing_recovery_codes_again_voids_the_old_ones(sessions, guard):
    old = issue(sessions, guard.id)
    new = issue(sessions, guard.id)

    assert not set(old) & set(new)
    assert not spend(sessions, guard.id, old[0])
    assert spend(sessions, guard.id, new[0])
    assert remaining(sessions, guard.id) == 9


def test_a_recovery_code_works_only_for_its_own_account(sessions, guard, site):
    with sessions.begin() as s:
        other, _ = accounts.create_user(
            s,
            username="olga.other",
            display_name="Olga Other",
            role="guard",
            sites=[s.get(Site, site.id)],
            actor="setup",
        )

    code = issue(sessions, guard.id)[0]

    assert not spend(sessions, other.id, code)
    assert spend(sessions, guard.id, code)
