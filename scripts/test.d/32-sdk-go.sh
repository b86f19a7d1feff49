#!/usr/bin/env bash
# Go SDK: unit tests, the shared vectors, Standard Webhooks interop; the
# end-to-end test runs when TESSERA_BIN points at a tessera binary.
set -euo pipefail
cd "$(dirname "$0")/../../sdks/go"
go vet ./...
go test ./...
