"""Exceptions of the event bus: what handlers raise to steer a message, and what publishing raises."""

from __future__ import annotations


class PermanentEventError(Exception):
    """Raised by a handler when retrying cannot help (bad payload, unknown template, business rule).

    The consumer republishes the message to the queue's dead-letter queue with the error text as
    `x-dead-letter-reason` and acks it, so the work queue keeps flowing.
    """


class DuplicateEventError(Exception):
    """Raised by a handler that found the event already processed (e.g. `claim_event` returned False).

    Optional: returning normally is just as correct; raising it only makes the consumer count the
    message as `duplicate` instead of `processed`. The message is acked.
    """


class HandBackEventError(Exception):
    """Raised by a handler that waited for a dependency outside the message's control (an SMTP outage, our
    own misconfiguration) and gives the message back without it counting as a failed attempt.

    The consumer publishes a fresh copy to the end of the same queue (its `x-delivery-count` starts again)
    and acks the original, so an outage of any length never dead-letters work. The handler must already
    have waited (backoff) before raising: hand-backs of an immediately failing handler would spin.
    """


class MalformedEventError(ValueError):
    """The message body is not a valid `EventEnvelope`; it is dead-lettered without calling the handler."""


class PublishFailed(Exception):  # noqa: N818 - name fixed by docs/servicekit-api.md
    """The broker did not confirm a publication within the publish deadline (after retries)."""


class UnroutableEvent(PublishFailed):
    """The broker returned the event: no queue is bound for its type (no declared subscription)."""


class PublishNacked(PublishFailed):
    """The broker nacked the event until the publish deadline: it is reachable but refuses this event (e.g.
    a queue at its length limit with `reject-publish`), so an outbox counts it against the event."""
