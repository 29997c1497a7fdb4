"""GatewayCertificate: the ACM certificate of the public gateway host (`gigstack:ingress.host`).

The AWS Load Balancer Controller picks the certificate for the Ingress's TLS host from ACM ("certificate
discovery"), so an ISSUED certificate for exactly that host must exist before the ALB is created. With
`gigstack:ingress.hostedZoneId` the program also writes the DNS validation record in Route 53 and waits for
issuance; without it the validation record is exported (`gateway_certificate_validation`) for the DNS owner.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass
class GatewayCertificateArgs:
    host: str
    hosted_zone_id: str | None
    tags: dict[str, str]


class GatewayCertificate(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    validation_record: pulumi.Output[str]

    def __init__(
        self, name: str, args: GatewayCertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("gigstack:aws:GatewayCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=args.host,
            validation_method="DNS",
            tags=args.tags,
            opts=child,
        )
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        self.validation_record = option.apply(
            lambda o: f"{o.resource_record_name} {o.resource_record_type} {o.resource_record_value}"
        )
        self.arn = certificate.arn
        if args.hosted_zone_id:
            record = aws.route53.Record(
                f"{name}-validation",
                zone_id=args.hosted_zone_id,
                name=option.apply(lambda o: o.resource_record_name or ""),
                type=option.apply(lambda o: o.resource_record_type or ""),
                records=[option.apply(lambda o: o.resource_record_value or "")],
                ttl=300,
                allow_overwrite=True,
                opts=child,
            )
            validation = aws.acm.CertificateValidation(
                f"{name}-validation",
                certificate_arn=certificate.arn,
                validation_record_fqdns=[record.fqdn],
                opts=child,
            )
            self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})
