#!/usr/bin/env bash
# Tessera benchmarks: every command behind bench/RESULTS.md, in order.
# Raw outputs go to bench/results/. Release builds only.
#
#   bench/run.sh core        criterion benches (issue 2)
#   bench/run.sh overhead    paired sign-in path vs raw argon2id (issue 2)
#   bench/run.sh scale       SQLite scale, 1,000,000 and 10,000 users (issue 3)
#   bench/run.sh scale-pg    Postgres scale under pg_virtualenv (issue 3)
#   bench/run.sh http        HTTP load on memory, SQLite, Postgres (issue 4)
#   bench/run.sh webhooks    outbox events/s and event-write cost, SQLite and Postgres (issue 16)
#   bench/run.sh all
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results
mkdir -p "$out"
secs=${SECS:-8}

build() {
    cargo build --release -p tessera-bench --bins -p tessera-cli --bin tessera
}

core() {
    cargo bench -p tessera-bench --bench core 2>&1 | tee "$out/core.txt"
}

overhead() {
    build
    target/release/password_overhead --pairs 300 | tee "$out/password-overhead.md"
}

scale() {
    build
    target/release/scale --backend sqlite --users 1000000 --seconds "$secs" | tee "$out/scale-sqlite-1m.md"
    target/release/scale --backend sqlite --users 10000 --seconds "$secs" | tee "$out/scale-sqlite-10k.md"
}

# Inside pg_virtualenv: a libpq URL from the PG* variables it exports.
pg_url() {
    local host=${PGHOST:-localhost}
    [[ $host == /* ]] && host=localhost
    echo "postgres://${PGUSER}:${PGPASSWORD}@${host}:${PGPORT:-5432}/${PGDATABASE:-postgres}"
}
export -f pg_url

scale_pg() {
    build
    pg_virtualenv bash -c "
        set -e
        target/release/scale --backend postgres --url \"\$(pg_url)\" --users 1000000 --seconds $secs | tee $out/scale-postgres-1m.md
        target/release/scale --backend postgres --url \"\$(pg_url)\" --users 10000 --seconds $secs | tee $out/scale-postgres-10k.md
    "
}

http() {
    build
    local db
    db=$(mktemp -d)/tessera.db
    target/release/http_load --server-bin target/release/tessera --db memory:// \
        --scenario all --seconds "$secs" --label memory | tee "$out/http-memory.md"
    target/release/http_load --server-bin target/release/tessera --db "sqlite://$db" \
        --scenario all --seconds "$secs" --label sqlite | tee "$out/http-sqlite.md"
    pg_virtualenv bash -c "
        set -e
        target/release/http_load --server-bin target/release/tessera --db \"\$(pg_url)?schema=http\" \
            --scenario all --seconds $secs --label postgres | tee $out/http-postgres.md
    "
}

webhooks() {
    cargo build --release -p tessera-bench --bin webhooks
    local db
    db=$(mktemp -d)/webhooks.db
    target/release/webhooks --url "sqlite://$db" | tee "$out/webhooks-sqlite.md"
    pg_virtualenv bash -c "
        set -e
        target/release/webhooks --url \"\$(pg_url)?schema=webhooks\" | tee $out/webhooks-postgres.md
    "
}

case "${1:-all}" in
    core) core ;;
    overhead) overhead ;;
    scale) scale ;;
    scale-pg) scale_pg ;;
    http) http ;;
    webhooks) webhooks ;;
    all) core; overhead; scale; scale_pg; http; webhooks ;;
    *) echo "usage: $0 [core|overhead|scale|scale-pg|http|webhooks|all]" >&2; exit 2 ;;
esac
