#!/usr/bin/env bash
# Build stripe-mock (Apache-2.0, Stripe's official API mock) from the Go module proxy, idempotently. The order
# service's Stripe adapter is tested against it (services/order/tests/integration/test_stripe_adapter.py): it
# checks request shapes against Stripe's OpenAPI spec, not flows (it is stateless). Cached in
# ${GIGSTACK_CACHE:-~/.cache/gigstack}/stripe-mock-<version>/stripe-mock. `--print-path` prints the binary's path.
set -euo pipefail

STRIPE_MOCK_VERSION="v0.203.0"
CACHE="${GIGSTACK_CACHE:-$HOME/.cache/gigstack}"
BIN_DIR="$CACHE/stripe-mock-$STRIPE_MOCK_VERSION"

if [[ ! -x "$BIN_DIR/stripe-mock" ]]; then
    command -v go >/dev/null || { echo "stripe-mock.sh: go is required to build stripe-mock" >&2; exit 1; }
    mkdir -p "$BIN_DIR"
    GOBIN="$BIN_DIR.tmp" GOFLAGS="${GOFLAGS:--p=1}" nice -n 15 go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" >&2
    mv "$BIN_DIR.tmp/stripe-mock" "$BIN_DIR/stripe-mock"
    rmdir "$BIN_DIR.tmp"
fi
if [[ "${1:-}" == "--print-path" ]]; then
    echo "$BIN_DIR/stripe-mock"
fi
