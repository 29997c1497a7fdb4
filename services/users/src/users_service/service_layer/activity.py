"""Applying other services' events to counters, each event once per profile, whatever the redeliveries.

Without multi-document transactions the change and its record cannot commit together, so there are two:
1. the profile write carries the event id in `recent_events` (same document, same write as the counters);
2. after it, the (event id, user id) pair goes into the applied-events ledger (unique key).
A redelivery is skipped if the ledger has the pair, or if the profile remembers the id: a crash between the
two writes leaves the id in `recent_events`, which is bounded but only has to cover such in-flight events.
An event touching two profiles (buyer and seller) is applied to each independently, so a crash after the
first is completed by the redelivery without touching the first again.
"""

from __future__ import annotations

from dataclasses import dataclass

from users_service.domain.activity import deltas_for
from users_service.domain.profile import Profile, ProfileDelta
from users_service.service_layer.commands import ApplyActivity
from users_service.service_layer.dependencies import HandlerDependencies


@dataclass(frozen=True)
class ActivityOutcome:
    concerned: int  # profiles the event is about
    changed: int  # of those, profiles it changed now (fewer on a redelivery)

    @property
    def was_redelivery(self) -> bool:
        return self.concerned > 0 and self.changed == 0


async def apply_activity(command: ApplyActivity, deps: HandlerDependencies) -> ActivityOutcome:
    changed = 0
    deltas = deltas_for(command.event_type, command.payload)
    for user_id, delta in deltas:
        if await deps.applied_events.contains(command.event_id, user_id):
            continue
        outcome = _Applied(command.event_id, delta)
        await deps.writer.change(user_id, outcome.change)
        changed += outcome.applied
        await deps.applied_events.record(command.event_id, user_id)
    return ActivityOutcome(concerned=len(deltas), changed=changed)


class _Applied:
    """The change for one profile; remembers whether its last run (after any retry) added the delta."""

    def __init__(self, event_id: str, delta: ProfileDelta) -> None:
        self._event_id = event_id
        self._delta = delta
        self.applied = False

    def change(self, profile: Profile) -> Profile:
        self.applied = not profile.has_applied(self._event_id)
        return profile.apply(self._event_id, self._delta)
