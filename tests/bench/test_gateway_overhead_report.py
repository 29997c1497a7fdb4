"""The gateway benchmark's tracing presets and CPU-bound arithmetic (bench/gateway_overhead), without load.

The eks preset's collector config is validated by the real collector binary; the local backend's pid of a
server is that server's process; the implied throughput ratio reproduces the measured one exactly once the
cores each path's processes got are taken into account (docs/benchmarks.md, "Throughput ratio bound").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gigstack_testinfra.backends.local import LocalBackend

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "gateway_overhead"))

# The benchmark's directory is on sys.path only from here (its modules import each other by name).
import run
import tracing_presets


def _summary(rps: float, auth: float, gateway: float, **path: float) -> dict[str, Any]:
    roles = dict.fromkeys(run.PATH_ROLES, 0.0) | path
    return {
        "throughput_rps": rps,
        "auth_cpu_ms_per_request": auth,
        "gateway_cpu_ms_per_request": gateway,
        "path_cpu_ms_per_request": roles,
        "machine_cores_busy": 2.0,
    }


def test_the_implied_ratio_and_the_cores_reproduce_the_measured_ratio() -> None:
    direct = _summary(200.0, auth=2.2, gateway=0.01, loadgen=1.9, mariadb=0.3, redis=0.01)
    via = _summary(150.0, auth=2.4, gateway=1.1, loadgen=2.1, mariadb=0.32, redis=0.1)

    bound = run._implied(direct, via)

    assert bound["direct_path_total_ms"] == pytest.approx(4.4)  # no gateway, no Redis on the direct path
    assert bound["gateway_path_total_ms"] == pytest.approx(6.02)
    assert bound["implied_throughput_ratio"] == pytest.approx(4.4 / 6.02, abs=1e-3)
    cores_direct, cores_via = bound["path_cores"]
    assert (cores_direct, cores_via) == (pytest.approx(0.88), pytest.approx(0.903))
    assert bound["implied_throughput_ratio"] * cores_via / cores_direct == pytest.approx(0.75, abs=2e-3)
    assert bound["measured_throughput_ratio"] == 0.75
    # 0.85 = 4.4 / (4.4 / 0.85): the gateway gets what is left of that total after the rest of the path.
    assert bound["gateway_cpu_ms_for_target_ratio"] == pytest.approx(4.4 / 0.85 - (6.02 - 1.1), abs=1e-3)
    assert bound["gateway_cpu_ms_for_target_ratio_rest_as_direct"] == pytest.approx(
        4.4 / 0.85 - 4.4 - 0.1, abs=1e-3
    )
    assert bound["implied_throughput_ratio_at_gateway_cpu_target"] == pytest.approx(4.4 / 5.5, abs=1e-3)


def test_the_default_preset_leaves_the_services_defaults_and_eks_is_the_overlays() -> None:
    assert tracing_presets.tracing_env("bench-default", None) == {}
    assert tracing_presets.tracing_env("eks", "http://127.0.0.1:4318") == {
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
    }
    # What a baseline under another preset drops first is exactly what a preset sets.
    assert set(tracing_presets.tracing_env("eks", "http://x")) == set(tracing_presets.TRACING_VARIABLES)
    overlay = (Path(run.__file__).resolve().parents[2] / "environments/eks/environment.yaml").read_text()
    assert 'OTEL_TRACES_SAMPLER_ARG: "0.1"' in overlay


@pytest.mark.integration
def test_the_collector_config_is_valid_for_the_built_collector(tmp_path: Path) -> None:
    process, url = tracing_presets.collector_process(tmp_path)
    assert url.startswith("http://127.0.0.1:")
    config = next(arg for arg in process.args if arg.startswith("--config="))
    done = subprocess.run([process.args[0], "validate", config], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.integration
def test_the_local_backend_names_the_pid_of_its_server() -> None:
    backend = LocalBackend()
    try:
        assert backend.server_pid("redis") is None
        backend.redis()
        pid = backend.server_pid("redis")
        assert pid is not None
        assert "redis" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    finally:
        backend.close()
