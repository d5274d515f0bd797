"""What an S3 key (or a local path laid out like one) says about the records inside.

    AWSLogs/[o-org/]<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<file>
    AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]
    <account>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz (or .log.parquet)

The file-name stamp is the start of the 5-minute delivery window: the file holds "records with an end time
between 16:20:00 and 16:24:59" for a 1620Z stamp (AWS VPC user guide, flow-logs-s3).
"""

from __future__ import annotations

import calendar
import re
from typing import NamedTuple

_PLAIN = re.compile(
    r"(?:^|/)AWSLogs/(?:o-[a-z0-9]+/)?(?P<account>\d{12})/vpcflowlogs/(?P<region>[a-z0-9-]+)"
    r"(?:/(?P<y>\d{4})(?:/(?P<m>\d\d)(?:/(?P<d>\d\d)(?:/(?P<h>\d\d)(?=/))?)?)?)?"
)
_HIVE = re.compile(
    r"aws-account-id=(?P<account>[^/]+)/aws-service=vpcflowlogs/aws-region=(?P<region>[^/]+)"
    r"(?:/year=(?P<y>\d{4})(?:/month=(?P<m>\d\d)(?:/day=(?P<d>\d\d)(?:/hour=(?P<h>\d\d))?)?)?)?"
)
_FILE = re.compile(
    r"(?P<account>\d{12})_vpcflowlogs_(?P<region>[a-z0-9-]+)_fl-[0-9a-zA-Z]+_"
    r"(?P<y>\d{4})(?P<m>\d\d)(?P<d>\d\d)T(?P<h>\d\d)(?P<mi>\d\d)Z_[0-9a-zA-Z]+\.log"
)

DELIVERY_WINDOW = 300
# Records end within the file's 5-minute window, but a record can start up to an aggregation interval
# (10 minutes) plus 60 s of capture lag before it ends; an hour either side is safe and still prunes.
SLACK = 3600


class KeyInfo(NamedTuple):
    account: str | None
    region: str | None
    first: int | None  # epoch seconds: no record in the file ends before this
    last: int | None  # epoch seconds: no record in the file ends at or after this


def parse_key(key: str) -> KeyInfo:
    """Account, region and the window of record end times that a key's layout promises (None: unknown)."""
    account = region = None
    first = last = None
    for pattern in (_PLAIN, _HIVE):
        m = pattern.search(key)
        if m:
            account, region = m["account"], m["region"]
            first, last = _span(m["y"], m["m"], m["d"], m["h"])
            break
    name = key.rsplit("/", 1)[-1]
    f = _FILE.match(name)
    if f:
        account, region = account or f["account"], region or f["region"]
        t0 = calendar.timegm((int(f["y"]), int(f["m"]), int(f["d"]), int(f["h"]), int(f["mi"]), 0))
        first, last = t0, t0 + DELIVERY_WINDOW
    return KeyInfo(account, region, first, last)


def _span(y: str | None, m: str | None, d: str | None, h: str | None) -> tuple[int | None, int | None]:
    if y is None:
        return None, None
    year = int(y)
    if m is None:
        return calendar.timegm((year, 1, 1, 0, 0, 0)), calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    month = int(m)
    if d is None:
        nxt = (year + 1, 1) if month == 12 else (year, month + 1)
        return calendar.timegm((year, month, 1, 0, 0, 0)), calendar.timegm((*nxt, 1, 0, 0, 0))
    t0 = calendar.timegm((year, month, int(d), 0, 0, 0))
    if h is None:
        return t0, t0 + 86400
    t0 += int(h) * 3600
    return t0, t0 + 3600


def may_overlap(info: KeyInfo, start: int | None, end: int | None) -> bool:
    """Whether a file whose records end in [first, last) can hold a record overlapping [start, end]."""
    if info.first is not None and end is not None and info.first - SLACK > end:
        return False
    return not (info.last is not None and start is not None and info.last + SLACK <= start)
