"""A network built with boto3 in a moto server: what the collector's tests and benchmark collect."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "us-east-1"
OFFICE = "81.2.69.0/24"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class Moto:
    url: str

    def session(self, region: str = REGION) -> boto3.Session:
        return boto3.Session(region_name=region, **CREDENTIALS)

    def client(self, service: str, region: str = REGION) -> Any:
        return self.session(region).client(service, endpoint_url=self.url)


@dataclass
class Built:
    """Ids of what `build_network` made."""

    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.ids[key]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build_network(moto: Moto, region: str = REGION) -> Built:
    """app-vpc (public, app and db subnets; IGW, NAT gateway, SGs with a group reference, a db NACL whose
    deny comes first, an app server, a db interface, a public bastion, a transit gateway, a load balancer,
    flow logs at VPC, subnet and interface level) peered with shared-vpc."""
    ec2 = moto.client("ec2", region)
    built = Built()
    ids = built.ids

    def named(resource_type: str, name: str) -> list[dict[str, Any]]:
        return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]

    ids["vpc"] = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=named("vpc", "app-vpc"))["Vpc"][
        "VpcId"
    ]
    for name, cidr in (("public", "10.0.0.0/24"), ("app", "10.0.1.0/24"), ("db", "10.0.2.0/24")):
        ids[f"{name}-subnet"] = ec2.create_subnet(
            VpcId=ids["vpc"],
            CidrBlock=cidr,
            AvailabilityZone=f"{region}a",
            TagSpecifications=named("subnet", f"{name}-subnet"),
        )["Subnet"]["SubnetId"]

    ids["igw"] = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc"])
    ids["public-rt"] = ec2.create_route_table(VpcId=ids["vpc"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=ids["public-rt"], DestinationCidrBlock="0.0.0.0/0", GatewayId=ids["igw"])
    ec2.associate_route_table(RouteTableId=ids["public-rt"], SubnetId=ids["public-subnet"])

    ids["eip"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ids["nat"] = ec2.create_nat_gateway(SubnetId=ids["public-subnet"], AllocationId=ids["eip"])["NatGateway"][
        "NatGatewayId"
    ]
    ids["private-rt"] = ec2.create_route_table(VpcId=ids["vpc"])["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=ids["private-rt"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=ids["nat"]
    )
    for subnet in ("app-subnet", "db-subnet"):
        ec2.associate_route_table(RouteTableId=ids["private-rt"], SubnetId=ids[subnet])

    ids["app-sg"] = ec2.create_security_group(GroupName="app-sg", Description="app", VpcId=ids["vpc"])[
        "GroupId"
    ]
    ids["db-sg"] = ec2.create_security_group(GroupName="db-sg", Description="db", VpcId=ids["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=ids["db-sg"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": ids["app-sg"]}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "UserIdGroupPairs": [{"GroupId": ids["app-sg"]}],
            },
        ],
    )

    ids["db-acl"] = ec2.create_network_acl(VpcId=ids["vpc"])["NetworkAcl"]["NetworkAclId"]
    for number, egress, action, port in (
        (100, False, "deny", 3306),
        (110, False, "allow", None),
        (100, True, "allow", None),
    ):
        entry: dict[str, Any] = {
            "NetworkAclId": ids["db-acl"],
            "RuleNumber": number,
            "Egress": egress,
            "RuleAction": action,
            "CidrBlock": "10.0.0.0/16" if action == "deny" else "0.0.0.0/0",
            "Protocol": "6" if port else "-1",
        }
        if port:
            entry["PortRange"] = {"From": port, "To": port}
        ec2.create_network_acl_entry(**entry)
    current = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [ids["db-subnet"]]}]
    )
    association = next(
        a["NetworkAclAssociationId"]
        for acl in current["NetworkAcls"]
        for a in acl["Associations"]
        if a["SubnetId"] == ids["db-subnet"]
    )
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=ids["db-acl"])

    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=ids["app-subnet"],
        PrivateIpAddress="10.0.1.10",
        SecurityGroupIds=[ids["app-sg"]],
        TagSpecifications=named("instance", "app-server"),
    )["Instances"][0]
    ids["app-instance"] = instance["InstanceId"]
    ids["app-eni"] = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ids["db-eni"] = ec2.create_network_interface(
        SubnetId=ids["db-subnet"],
        PrivateIpAddress="10.0.2.20",
        Groups=[ids["db-sg"]],
        Description="RDS orders-db",
    )["NetworkInterface"]["NetworkInterfaceId"]

    # A bastion with a public address, open on 22 to an office range only (both public: --redact moves them).
    ids["bastion-sg"] = ec2.create_security_group(
        GroupName="bastion-sg", Description="ssh", VpcId=ids["vpc"]
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=ids["bastion-sg"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": OFFICE}]}],
    )
    bastion = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        NetworkInterfaces=[
            {
                "DeviceIndex": 0,
                "SubnetId": ids["public-subnet"],
                "AssociatePublicIpAddress": True,
                "Groups": [ids["bastion-sg"]],
                "PrivateIpAddress": "10.0.0.10",
            }
        ],
        TagSpecifications=named("instance", "bastion"),
    )["Instances"][0]
    ids["bastion"] = bastion["InstanceId"]

    ids["peer-vpc"] = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=named("vpc", "shared-vpc"))[
        "Vpc"
    ]["VpcId"]
    ids["pcx"] = ec2.create_vpc_peering_connection(VpcId=ids["vpc"], PeerVpcId=ids["peer-vpc"])[
        "VpcPeeringConnection"
    ]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=ids["pcx"])
    ec2.create_route(
        RouteTableId=ids["private-rt"], DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=ids["pcx"]
    )

    # A transit gateway with a route table, and a load balancer with a listener and a target group, so that
    # every per-resource call (route searches, associations, listeners, target health, attributes) runs.
    ids["tgw"] = ec2.create_transit_gateway(Description="core")["TransitGateway"]["TransitGatewayId"]
    # No attachment: moto 5.2 lists VPC attachments under describe-transit-gateway-peering-attachments too,
    # which real EC2 does not (and which the loader then rightly refuses as peering attachments).
    ids["tgw-rtb"] = ec2.create_transit_gateway_route_table(TransitGatewayId=ids["tgw"])[
        "TransitGatewayRouteTable"
    ]["TransitGatewayRouteTableId"]
    elbv2 = moto.client("elbv2", region)
    ids["lb"] = elbv2.create_load_balancer(
        Name="web",
        Subnets=[ids["public-subnet"]],
        SecurityGroups=[ids["bastion-sg"]],
        Scheme="internet-facing",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    ids["tg"] = elbv2.create_target_group(Name="app", Protocol="HTTP", Port=8080, VpcId=ids["vpc"])[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=ids["tg"], Targets=[{"Id": ids["app-instance"]}])
    elbv2.create_listener(
        LoadBalancerArn=ids["lb"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": ids["tg"]}],
    )

    # Flow logs at each level: the VPC (CloudWatch Logs, ALL), the db subnet (S3, ACCEPT only) and the app
    # server's interface (S3, REJECT only, custom format with the fields reconcile uses, 1-minute windows).
    moto.client("logs", region).create_log_group(logGroupName="/vpc/app")
    moto.client("s3", region).create_bucket(Bucket="reach-flow-logs")
    ids["vpc-flow-log"] = ec2.create_flow_logs(
        ResourceIds=[ids["vpc"]],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="/vpc/app",
        DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow-logs",
    )["FlowLogIds"][0]
    ids["subnet-flow-log"] = ec2.create_flow_logs(
        ResourceIds=[ids["db-subnet"]],
        ResourceType="Subnet",
        TrafficType="ACCEPT",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::reach-flow-logs",
    )["FlowLogIds"][0]
    ids["eni-flow-log"] = ec2.create_flow_logs(
        ResourceIds=[ids["app-eni"]],
        ResourceType="NetworkInterface",
        TrafficType="REJECT",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::reach-flow-logs",
        MaxAggregationInterval=60,
        LogFormat="${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
        "${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${pkt-srcaddr} "
        "${pkt-dstaddr} ${flow-direction}",
    )["FlowLogIds"][0]
    return built
