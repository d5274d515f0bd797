"""`reach doctor`: can the flow logs show what reconcile needs?

    report = diagnose(Snapshot.load("snap/").network, flow_logs=["flows/"])
    report.findings          # delivery errors, ACCEPT-only logs, formats, uncovered and silent interfaces
    report.model_dump()      # the JSON

Reads the compiled `Network` only (its flow-log configurations, interfaces and subnets), never raw JSON.
"""

from reach.doctor.diagnose import diagnose
from reach.doctor.report import (
    CoverageSummary,
    CoveringLog,
    DataReport,
    DoctorReport,
    Finding,
    FlowLogReport,
    InterfaceCoverage,
    ObservedCounts,
)

__all__ = [
    "CoveringLog",
    "DataReport",
    "DoctorReport",
    "Finding",
    "FlowLogReport",
    "InterfaceCoverage",
    "ObservedCounts",
    "CoverageSummary",
    "diagnose",
]
