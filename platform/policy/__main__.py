"""CrossGuard entry point (`pulumi preview --policy-pack platform/policy`): builds the pack and serves it."""

from gigstack_platform.policies import ALL_POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="gigstack-platform", policies=list(ALL_POLICIES))
