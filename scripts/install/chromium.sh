#!/usr/bin/env bash
# Install Debian's `chromium` and `chromium-driver`, idempotently: the real browser of the browser tier
# (tests/browser). Playwright for Python drives /usr/bin/chromium through `executable_path`; its own browser
# download (`playwright install`) is never used (engines.md, Browser). Fast no-op when both are installed.
# The packages start no service, so (unlike the stores in install-deps.sh) no policy-rc.d guard is needed.
set -euo pipefail

PACKAGES=(chromium chromium-driver)

as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "  apt-get install ${missing[*]}"
    # Lock timeout: another apt run (install-deps' own step, a parallel session) may hold the dpkg lock.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${missing[@]}"
fi
if [[ "${1:-}" == "--print-path" ]]; then
    command -v chromium
fi
