"""Encrypted backups: the passphrase opens them, and nothing else does."""

import logging
import os
import stat

import pytest
from click.testing import CliRunner

from gatekeeper import backup
from gatekeeper.cli import main

PASSPHRASE = "lobby kiosk backup 2026"


@pytest.fixture
def sealed(tmp_path, monkeypatch):
    """A plain file of three and a half chunks, and its encrypted copy; the chunks
    are made small so that the test moves several of them quickly."""
    monkeypatch.setattr(backup, "CHUNK_BYTES", 1000)
    plain = tmp_path / "plain.backup"
    plain.write_bytes(os.urandom(3500))
    encrypted = backup.encrypt_file(plain, tmp_path / "sealed.enc", PASSPHRASE)
    return plain, encrypted


def test_an_encrypted_backup_decrypts_to_the_same_bytes(sealed, tmp_path):
    plain, encrypted = sealed

    restored = backup.decrypt_file(encrypted, tmp_path / "out", PASSPHRASE)

    assert restored.read_bytes() == plain.read_bytes()
    assert backup.is_encrypted(encrypted) and not backup.is_encrypted(plain)
    assert plain.read_bytes()[:100] not in encrypted.read_bytes()
    assert stat.S_IMODE(encrypted.stat().st_mode) == 0o600
    assert stat.S_IMODE(restored.stat().st_mode) == 0o600


def test_an_empty_file_still_carries_a_tag(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    encrypted = backup.encrypt_file(empty, tmp_path / "empty.enc", PASSPHRASE)

    assert (
        backup.decrypt_file(encrypted, tmp_path / "out", PASSPHRASE).read_bytes() == b""
    )


def _damaged(encrypted, tmp_path, change) -> str:
    data = bytearray(encrypted.read_bytes())
    changed = tmp_path / "damaged.enc"
    changed.write_bytes(bytes(change(data)))
    with pytest.raises(backup.BackupError) as refused:
        backup.decrypt_file(changed, tmp_path / "out", PASSPHRASE)

    assert not (tmp_path / "out").exists()
    return str(refused.value)


def test_a_wrong_passphrase_leaves_nothing_behind(sealed, tmp_path):
    _plain, encrypted = sealed

    with pytest.raises(backup.BackupError, match="passphrase is wrong"):
        backup.decrypt_file(encrypted, tmp_path / "out", "not the passphrase")

    assert not (tmp_path / "out").exists()


def test_a_changed_cut_or_reordered_file_is_refused(sealed, tmp_path):
    _plain, encrypted = sealed
    header = len(encrypted.read_bytes()) - 4 * 16 - 3500
    sealed_chunk = 1000 + 16

    def flip(data):
        data[header + 10] ^= 1
        return data

    def cut_last_chunk(data):
        return data[: header + 3 * sealed_chunk]

    def swap_first_two(data):
        first = data[header : header + sealed_chunk]
        second = data[header + sealed_chunk : header + 2 * sealed_chunk]
        return data[:header] + second + first + data[header + 2 * sealed_chunk :]

    def change_salt(data):
        data[len(backup.ENCRYPTED_MAGIC) + 5] ^= 1
        return data

    for change in (flip, cut_last_chunk, swap_first_two, change_salt):
        assert "damaged" in _damaged(encrypted, tmp_path, change), change.__name__


def test_an_absurd_cost_in_the_header_is_refused_before_deriving(sealed, tmp_path):
    _plain, encrypted = sealed

    def huge_cost(data):
        data[len(backup.ENCRYPTED_MAGIC)] = 40
        return data

    assert "header is damaged" in _damaged(encrypted, tmp_path, huge_cost)


def test_a_short_passphrase_is_refused(tmp_path):
    plain = tmp_path / "plain"
    plain.write_bytes(b"data")

    with pytest.raises(backup.BackupError, match="at least 12"):
        backup.encrypt_file(plain, tmp_path / "out.enc", "short")


def test_restore_of_an_encrypted_backup_needs_its_passphrase(sealed):
    _plain, encrypted = sealed

    with pytest.raises(backup.BackupError, match="encrypted"):
        backup.restore("sqlite:///unused.sqlite3", encrypted)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_command_encrypts_and_asks_for_the_passphrase_to_restore(
    database_url, site, tmp_path, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GATEKEEPER_ENV", "testing")
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n")
    path = tmp_path / "nightly.backup.enc"
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        made = CliRunner().invoke(
            main, ["backup", str(path), "--passphrase-file", str(secret)]
        )
        fresh = tmp_path / "new-server" / "gatekeeper.sqlite3"
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh}")
        restored = CliRunner().invoke(
            main, ["restore", str(path)], input=PASSPHRASE + "\n"
        )
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers

    assert made.exit_code == 0, made.output
    assert backup.is_encrypted(path)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert restored.exit_code == 0, restored.output
    assert "Passphrase of the backup" in restored.output
    assert "Site dock-a: OK" in restored.output
