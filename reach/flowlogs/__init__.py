"""VPC Flow Logs from anywhere AWS delivers them, as typed Arrow record batches; and SQL over them.

stream = read_flow_logs(["flows/", "s3://bucket/AWSLogs/"], log_format=None, filters=Filters.of(...),
                        profile=None, region=None)   # the AWS CLI's --profile and --region, for S3/CloudWatch
for batch in stream:            # pyarrow.RecordBatch, FLOW_LOG_SCHEMA columns first
    ...
stream.stats                    # records, unparsable, bad_lines, nodata, skipdata, bytes_read, files
stream.schema                   # FLOW_LOG_SCHEMA + every extra column seen: the union of the batches' schemas

summarize(read_flow_logs(paths))                       -> Summary
query(read_flow_logs(paths), "SELECT … FROM vpc_flow_logs")  -> pyarrow.Table
"""

from reach.flowlogs.fields import DEFAULT_LOG_FORMAT, FLOW_LOG_SCHEMA, parse_log_format
from reach.flowlogs.filters import Filters
from reach.flowlogs.query import DEFAULT_FIELDS, TABLE_NAME, Shorthand, parse_time, query, shorthand_sql
from reach.flowlogs.reader import FlowLogStream, read_flow_logs
from reach.flowlogs.stats import BadLine, FlowLogStats
from reach.flowlogs.summary import LogsSummary, summarize

__all__ = [
    "DEFAULT_FIELDS",
    "DEFAULT_LOG_FORMAT",
    "FLOW_LOG_SCHEMA",
    "TABLE_NAME",
    "BadLine",
    "Filters",
    "FlowLogStats",
    "FlowLogStream",
    "Shorthand",
    "LogsSummary",
    "parse_log_format",
    "parse_time",
    "query",
    "read_flow_logs",
    "shorthand_sql",
    "summarize",
]
