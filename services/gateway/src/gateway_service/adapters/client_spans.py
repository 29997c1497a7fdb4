"""The downstream call's client span when its trace is not sampled, made without the tracer's machinery.

Under the edge's root sampling (servicekit.tracing, ADR 0024 "gwtrace") most requests run under a
non-recording server span. The client span the gateway opens for its downstream call under such a parent is
one the SDK's sampler drops (``ParentBased``: a local parent not sampled gives ``DROP``): the SDK's tracer
then only makes a non-recording span with a fresh span id, the parent's trace id and trace state and flags
without ``sampled``, and makes it current for the ``traceparent`` the call carries. Starting it through
``start_as_current_span`` (proxy tracer, context manager, attributes, tracer metrics, context attach and
detach) cost several times what it makes. ``unrecorded_child`` makes the same span from the same sampler
verdict and id generator (the SDK's ``Tracer.start_span`` for a dropped span, step by step), so the
``traceparent`` the service receives is what it was: same trace id, a fresh span id, the same flags.

Whenever the verdict is not a known drop (no SDK provider, the SDK disabled, a sampled or remote or absent
parent, a sampler that records), it returns None and the caller starts the span through the tracer as
before: sampled requests keep their recorded client span.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import Tracer, TracerProvider
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.util.types import Attributes

_INSTRUMENTATION_NAME = "gateway_service.downstream"
# The SDK tracer of the process's provider, looked up once per provider (a provider is installed once per
# process; tests may install another, which is then looked up again).
_tracer_of: dict[int, tuple[TracerProvider, Tracer | None]] = {}


def _sdk_tracer() -> Tracer | None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        return None
    known = _tracer_of.get(id(provider))
    if known is None or known[0] is not provider:
        tracer = provider.get_tracer(_INSTRUMENTATION_NAME)
        # A disabled SDK hands out a no-op tracer, whose spans carry no context at all: not mirrored here.
        known = (provider, tracer if isinstance(tracer, Tracer) else None)
        _tracer_of.clear()
        _tracer_of[id(provider)] = known
    return known[1]


def unrecorded_child(name: str, kind: SpanKind, attributes: Attributes) -> NonRecordingSpan | None:
    """The non-recording span the SDK would start here, or None when the SDK might record it."""
    parent = trace.get_current_span().get_span_context()
    if not parent.is_valid or parent.is_remote or parent.trace_flags.sampled:
        return None
    tracer = _sdk_tracer()
    if (
        tracer is None or not tracer._is_enabled()
    ):  # a tracer turned off by the SDK's configurator: as it does
        return None
    verdict = tracer.sampler.should_sample(None, parent.trace_id, name, kind, attributes)
    if verdict.decision is not Decision.DROP:
        return None
    flags = TraceFlags.DEFAULT | (TraceFlags.RANDOM_TRACE_ID if parent.trace_flags.random_trace_id else 0)
    return NonRecordingSpan(
        SpanContext(
            parent.trace_id,
            tracer.id_generator.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(flags),
            trace_state=verdict.trace_state,
        )
    )
