"""Network: a VPC across three availability zones with public (load balancers) and private subnets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from gigstack_platform.config import NatMode


@dataclass
class NetworkArgs:
    name_prefix: str
    cidr: str
    availability_zones: list[str]
    nat_gateways: NatMode
    cluster_name: str
    tags: dict[str, str]


class Network(pulumi.ComponentResource):
    """VPC, one public and one private subnet per zone, NAT gateways (one or one per zone)."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gigstack:aws:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": args.name_prefix},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        public_routes = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, tags=tags, opts=child)
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
            opts=child,
        )
        # /20 per subnet: the first three for public subnets, the next three (from /18 on) for private ones,
        # leaving room for pods' secondary CIDRs later.
        blocks = list(ipaddress.ip_network(args.cidr).subnets(new_prefix=20))
        cluster_tag = f"kubernetes.io/cluster/{args.cluster_name}"
        self.public_subnet_ids = []
        self.private_subnet_ids = []
        nat_ids: list[pulumi.Output[str]] = []
        for index, zone in enumerate(args.availability_zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=str(blocks[index]),
                map_public_ip_on_launch=False,
                tags={
                    **tags,
                    "Name": f"{args.name_prefix}-public-{zone}",
                    "kubernetes.io/role/elb": "1",
                    cluster_tag: "shared",
                },
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}", subnet_id=public.id, route_table_id=public_routes.id, opts=child
            )
            self.public_subnet_ids.append(public.id)
            if args.nat_gateways == "per_az" or index == 0:
                eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=tags, opts=child)
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=eip.id,
                    subnet_id=public.id,
                    tags=tags,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                )
                nat_ids.append(nat.id)
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=str(blocks[4 + index]),
                tags={
                    **tags,
                    "Name": f"{args.name_prefix}-private-{zone}",
                    "kubernetes.io/role/internal-elb": "1",
                    cluster_tag: "shared",
                },
                opts=child,
            )
            routes = aws.ec2.RouteTable(f"{name}-private-{zone}", vpc_id=vpc.id, tags=tags, opts=child)
            aws.ec2.Route(
                f"{name}-private-{zone}-default",
                route_table_id=routes.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat_ids[-1],
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private.id, route_table_id=routes.id, opts=child
            )
            self.private_subnet_ids.append(private.id)
        self.vpc_id = vpc.id
        self.vpc_cidr = args.cidr
        self.register_outputs({"vpc_id": vpc.id, "private_subnet_ids": self.private_subnet_ids})
