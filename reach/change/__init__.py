"""The change stage: EC2 calls, typed, applied to a snapshot; Terraform plans and CloudTrail read into them.

    change_set = read_change_set("plan.json", snapshot)      # a JSON list of EC2 calls, or a Terraform plan
    after = apply_changes(snapshot, change_set.changes, notes)  # a new snapshot; the one given is untouched

- `calls`: one pydantic model per EC2 action reach applies (`CALLS`), AWS's parameter names and ranges.
- `change_set`: a change set's envelope (`Change`, `ChangeSet`, `parse_changes`).
- `security_groups`, `network_acls`, `route_tables`, `network_interfaces`: each applies its calls.
- `apply`: hands each call to its module. `terraform`: a plan's resource changes -> calls.
- `cloudtrail`: CloudTrail records -> the same calls, with who made them and when.
- `inputs`: reading hostile files safely, and naming the path of every bad value.

It reads the snapshot's AWS shapes (`reach.snapshot`) and the vocabulary (`reach.model`); `reach.whatif`,
`reach.reconcile` and `reach.api` import it, never the other way.
"""

from reach.change.apply import apply_changes, supported_actions
from reach.change.calls import CALLS, Ec2Call, parse_call
from reach.change.change_set import Change, ChangeFormat, ChangeSet, parse_changes
from reach.change.read import read_change_set
from reach.change.terraform import is_terraform_plan, plan_changes

__all__ = [
    "CALLS",
    "Change",
    "ChangeFormat",
    "ChangeSet",
    "Ec2Call",
    "apply_changes",
    "is_terraform_plan",
    "parse_call",
    "parse_changes",
    "plan_changes",
    "read_change_set",
    "supported_actions",
]
