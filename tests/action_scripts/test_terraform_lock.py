"""Unit tests of state-lock recognition (holder and age from terraform's Lock Info)."""

from __future__ import annotations

from datetime import UTC, datetime

from action_scripts import terraform_lock as lock

# The detail of terraform 1.11.4's diagnostic for a lock held on an S3 backend (use_lockfile).
DETAIL = """Error message: operation error S3: PutObject, https response error StatusCode: 412, \
api error PreconditionFailed: At least one of the pre-conditions you specified did not hold
Lock Info:
  ID:        1b2c3d4e-0000-1111-2222-333344445555
  Path:      tfstate-exp/exp/terraform.tfstate
  Operation: OperationTypeApply
  Who:       alice@ci-runner-7
  Version:   1.11.4
  Created:   2026-11-25 08:00:00.123456789 +0000 UTC
  Info:{INFO_PADDING}


Terraform acquires a state lock to protect the state from being written
by multiple users at the same time.""".format(INFO_PADDING=" " * 6)  # the empty field, padded


def test_parse_lock_info_reads_every_field() -> None:
    """The holder, ID, path, operation, version and creation time come out of the block."""
    info = lock.parse_lock_info(DETAIL)
    assert info is not None
    assert info.who == "alice@ci-runner-7"
    assert info.lock_id == "1b2c3d4e-0000-1111-2222-333344445555"
    assert info.path == "tfstate-exp/exp/terraform.tfstate"
    assert info.operation == "OperationTypeApply"
    assert info.version == "1.11.4"
    assert info.created == datetime(2026, 11, 25, 8, 0, 0, 123456, tzinfo=UTC)


def test_age_is_human_readable() -> None:
    """The age is shown in the largest sensible units."""
    info = lock.parse_lock_info(DETAIL)
    assert info is not None
    assert info.age(now=datetime(2026, 11, 25, 10, 5, 1, tzinfo=UTC)) == "2h 05m"
    assert info.age(now=datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)) == "2d 00h"
    assert info.age(now=datetime(2026, 11, 25, 8, 0, 42, tzinfo=UTC)) == "41s"
    assert info.age(now=datetime(2026, 11, 25, 8, 3, 2, tzinfo=UTC)) == "3m 01s"
    assert info.age(now=datetime(2026, 11, 25, 7, 0, 0, tzinfo=UTC)).startswith("0s")


def test_other_timezones_are_converted_to_utc() -> None:
    """A lock created on a machine in another zone is read in UTC."""
    assert lock.parse_created("2026-11-25 10:00:00 +0200 EET") == datetime(
        2026, 11, 25, 8, 0, tzinfo=UTC
    )


def test_errors_without_lock_info_are_not_locks() -> None:
    """An unrelated error detail yields no lock info, and only the lock summary is a lock."""
    assert lock.parse_lock_info("Error: Invalid provider configuration") is None
    assert lock.is_lock_error("Error acquiring the state lock")
    assert not lock.is_lock_error("Error loading state")
    unknown = lock.parse_lock_info("Lock Info:\n  ID:        abc\n")
    assert unknown is not None and unknown.who == "unknown" and unknown.age() == "unknown"
