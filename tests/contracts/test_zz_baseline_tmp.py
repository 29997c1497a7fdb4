import subprocess, sys, os
import pytest
pytestmark = [pytest.mark.e2e]

async def test_baseline(contract_stack, signed_in_user, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{contract_stack.gateway_url}/openapi.json",
         "--checks", "all", "-H", f"Authorization: Bearer {signed_in_user.access_token}",
         "-H", f"X-Device-Id: {signed_in_user.device_id}", "--seed", "1", "-n", "20", "--no-color", "-w", "1",
         "--generation-deterministic"],
        capture_output=True, text=True, timeout=900)
    open("/tmp/gwapi_baseline.txt", "w").write(out.stdout + out.stderr)
