"""The compile cache is keyed by what the files hold: an edit that keeps a file's size and modification
time is seen, a `touch` that changes nothing is not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from reach.api import Snapshot
from reach.snapshot.cache import fingerprint
from tests.conftest import FIXTURES

LAMBDA_NACL = FIXTURES / "lambda-rds-nacl" / "snapshot"


def test_a_same_size_edit_with_the_mtime_kept_serves_the_new_verdict(tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    shutil.copytree(LAMBDA_NACL, folder)
    assert Snapshot.load(folder).explain("10.0.1.100", "10.0.2.50", 3306).verdict == "REJECT"
    acls = folder / "describe-network-acls.json"
    before = acls.stat()
    text = acls.read_text()
    deny = '"RuleAction": "deny",\n                    "RuleNumber": 100'  # the DB subnet's deny of 3306
    assert text.count(deny) == 1
    edited = text.replace(deny, deny.replace("100", "900"))  # now after the allow (110): same size
    assert len(edited) == len(text)
    acls.write_text(edited)
    os.utime(acls, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `touch -r` or `cp -p` leaves it
    assert (acls.stat().st_size, acls.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert Snapshot.load(folder).explain("10.0.1.100", "10.0.2.50", 3306).verdict == "ACCEPT"


def test_the_key_follows_content_not_timestamps(tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    shutil.copytree(LAMBDA_NACL, folder)
    key = fingerprint(folder)
    os.utime(folder / "describe-vpcs.json", ns=(0, 0))
    assert fingerprint(folder) == key
    (folder / "describe-vpcs.json").write_text((folder / "describe-vpcs.json").read_text() + " ")
    assert fingerprint(folder) != key
