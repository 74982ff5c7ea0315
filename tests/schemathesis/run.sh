#!/usr/bin/env bash
# schemathesis against the served OpenAPI document (GET /v1/openapi.json), once per role, on a
# real `talkzone serve` over SQLite and over PostgreSQL. Fails on any 5xx, any status code the
# document does not list for its operation, any answer that does
# not match its documented schema, any schemathesis error, a run that hangs, or a server panic.
#
#   tests/schemathesis/run.sh [sqlite] [postgres]      (both when none is named)
#
# Needs: python3 (with venv), the talkzone binary (TALKZONE_BIN, default target/debug/talkzone;
# `cargo build -p talkzone-server --bin talkzone`), and for PostgreSQL TALKZONE_TEST_PG_URL
# (a superuser URL: a fresh database is created in it; scripts/test.sh sets it) and psql
# (TALKZONE_TEST_PG_BIN or PATH). schemathesis and its dependencies are installed, pinned
# (requirements.txt), into a venv in TALKZONE_ST_VENV (default ~/.cache/talkzone/schemathesis-<hash>),
# made once and reused.
#
# Bounded: a fixed seed, ST_MAX_EXAMPLES (default 8) cases per operation and phase, one worker
# (schemathesis' threads trip a CPython 3.11 bug: "AST constructor recursion depth mismatch"),
# each role's run killed after ST_ROLE_TIMEOUT_S (default 300) seconds (which fails the run).
# ST_KEEP_DIR=DIR keeps each run's output and the server logs there.
# Rate limits are raised on the server so 429s do not hide anything; a 429 is still not an error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

bin=${TALKZONE_BIN:-$root/target/debug/talkzone}
max_examples=${ST_MAX_EXAMPLES:-8}
seed=${ST_SEED:-20261123}
role_timeout=${ST_ROLE_TIMEOUT_S:-300}
roles=(anonymous young_person duty_worker supervisor moderator yot_admin)
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

say() { printf '%s\n' "$*" >&2; }
die() { say "schemathesis: $*"; exit 1; }

[ -x "$bin" ] || die "no talkzone binary at $bin (cargo build -p talkzone-server --bin talkzone, or set TALKZONE_BIN)"

# --- schemathesis, pinned, in a cached venv -------------------------------------------------
req="$here/requirements.txt"
req_hash=$(sha256sum "$req" | cut -c1-12)
venv=${TALKZONE_ST_VENV:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/talkzone/schemathesis-$req_hash}
if ! "$venv/bin/schemathesis" --version >/dev/null 2>&1; then
  t0=$SECONDS
  say "schemathesis: installing into $venv (pinned: $req)"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian's python3 splits venv out.
    [ "$(id -u)" = 0 ] || die "python3 has no venv module: apt-get install python3-venv"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
  fi
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-input -r "$req"
  say "schemathesis: installed in $((SECONDS - t0)) s"
fi
st="$venv/bin/schemathesis"
say "schemathesis: $("$st" --version)"

# --- one temp dir, one server at a time ------------------------------------------------------
work=$(mktemp -d /tmp/talkzone-st.XXXXXX)
server_pid=
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
cleanup() { set +e; stop_server; [ -n "${ST_KEEP_DIR:-}" ] && cp -r "$work/." "$ST_KEEP_DIR/"; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The server's settings for every run: limits raised so the fuzzer is not rate limited.
export TALKZONE_LOG=warn
export TALKZONE_AUTH_PER_IP_PER_MIN=1000000 TALKZONE_AUTH_BURST=1000000
export TALKZONE_USER_MESSAGES_PER_SEC=100000 TALKZONE_USER_MESSAGES_BURST=100000
export TALKZONE_WS_FRAMES_PER_SEC=100000 TALKZONE_WS_FRAMES_BURST=100000
export TALKZONE_SIGNUPS_FREE_PER_SOURCE=1000000 TALKZONE_OPEN_CHATS_PER_SOURCE=0
export TALKZONE_CHATS_PER_DAY=1000000 TALKZONE_ACCESS_TOKEN_TTL_S=86400
# Web Push on, as a service that offers it runs (off, its key route answers 503 by design, which
# schemathesis counts as a server error); the key is made in the run's data dir at start.
export TALKZONE_PUSH_VAPID_SUBJECT=mailto:schemathesis@example.org
export SCHEMATHESIS_HOOKS="$here/hooks.py"

results=()   # "backend|role|result|time|cases"
failed=0

run_backend() {
  local backend=$1 dir="$work/$1" port base db_url=
  mkdir -p "$dir/data"
  port=$(free_port)
  base="http://127.0.0.1:$port"
  unset TALKZONE_DATABASE_URL TALKZONE_JWT_SECRET
  case "$backend" in
    sqlite) ;;
    postgres)
      [ -n "${TALKZONE_TEST_PG_URL:-}" ] || die "TALKZONE_TEST_PG_URL is not set: PostgreSQL needs a server (scripts/test.sh starts one)"
      local psql=psql name
      [ -n "${TALKZONE_TEST_PG_BIN:-}" ] && psql="$TALKZONE_TEST_PG_BIN/psql"
      name="tz_st_$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
      "$psql" -q -X -v ON_ERROR_STOP=1 "$TALKZONE_TEST_PG_URL" -c "CREATE DATABASE $name" >/dev/null
      db_url="${TALKZONE_TEST_PG_URL%%\?*}"
      db_url="${db_url%/*}/$name"
      export TALKZONE_DATABASE_URL=$db_url
      TALKZONE_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
      export TALKZONE_JWT_SECRET
      ;;
    *) die "unknown backend '$backend' (sqlite or postgres)";;
  esac
  export TALKZONE_DATA_DIR="$dir/data" TALKZONE_LISTEN="127.0.0.1:$port"

  say ""
  say "== schemathesis on $backend: talkzone serve on $base"
  "$bin" serve >"$dir/server.log" 2>&1 &
  server_pid=$!
  local up=
  for _ in $(seq 150); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$base/readyz" 2>/dev/null; then up=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$up" ] || { tail -n 30 "$dir/server.log" >&2; die "$backend: the server did not become ready"; }

  if ! python3 "$here/check_document.py" "$base/v1/openapi.json"; then
    failed=1
    results+=("$backend|document|FAILED (path parameters)|-|-")
  fi

  local admin_pw
  admin_pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  printf '%s\n' "$admin_pw" | "$bin" admin create-user --username st-root --role yot_admin >/dev/null
  printf '%s\n' "$admin_pw" | "$venv/bin/python" "$here/accounts.py" "$base" st-root "$dir" >&2

  local role out rc t0 secs cases status
  for role in "${roles[@]}"; do
    out="$dir/$role.txt"
    local auth=()
    [ "$role" = anonymous ] || auth=(-H "Authorization: Bearer $(cat "$dir/token.$role")")
    t0=$SECONDS
    set +e
    # DELETE /v1/me would end the young person's session half-way: it is called once, below.
    ( cd "$dir" && timeout -k 10 "$role_timeout" "$st" --config-file "$dir/schemathesis.toml" run "$base/v1/openapi.json" "${auth[@]}" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance \
        --exclude-operation-id delete_me \
        --max-examples "$max_examples" --seed "$seed" --workers 1 \
        --generation-database none --request-timeout 30 --no-color ) >"$out" 2>&1
    rc=$?
    set -e
    secs=$((SECONDS - t0))
    cases=$(grep -Eo '[0-9]+ generated' "$out" | tail -n 1 | cut -d' ' -f1 || true)
    status=ok
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status="FAILED (timeout ${role_timeout}s)"
    elif [ "$rc" != 0 ]; then status="FAILED (exit $rc)"; fi
    # Once, at the end: DELETE /v1/me (a young person's account is erased; staff get 403).
    if [ "$role" != anonymous ]; then
      local code
      code=$(python3 - "$base" "$dir/token.$role" <<'EOF'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1] + "/v1/me", method="DELETE",
                             headers={"authorization": "Bearer " + open(sys.argv[2]).read().strip()})
try:
    print(urllib.request.urlopen(req, timeout=30).status)
except urllib.error.HTTPError as e:
    print(e.code)
EOF
)
      echo "DELETE /v1/me -> $code" >>"$out"
      case "$code" in 5*) status="FAILED (DELETE /v1/me: $code)";; esac
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then status="FAILED (server died)"; fi
    if [ "$status" != ok ]; then
      failed=1
      say "-- $backend / $role: $status; schemathesis said:"
      # Failures with their reproducing requests (tokens are masked), then the summary.
      if grep -Eq '^=+ (FAILURES|ERRORS) =+$' "$out"; then sed -n '/^=* \(FAILURES\|ERRORS\) =*$/,$p' "$out"
      else tail -n 60 "$out"; fi | cut -c1-400 | head -n 400 >&2 || true
    else
      say "-- $backend / $role: ok, ${cases:-?} cases in ${secs}s ($(grep -E '^=+ .* in [0-9.]+s =+$' "$out" | tail -n 1 | tr -d '=' | xargs))"
    fi
    results+=("$backend|$role|$status|${secs}s|${cases:-?}")
  done

  if grep -q 'panicked' "$dir/server.log"; then
    failed=1
    say "-- $backend: the server panicked:"
    grep -A5 'panicked' "$dir/server.log" | head -n 40 >&2
    results+=("$backend|server|FAILED (panic)|-|-")
  fi
  if grep -Eq '(ERROR|"level":"ERROR")' "$dir/server.log"; then
    say "-- $backend: server errors logged (see above if a run failed):"
    grep -E 'ERROR' "$dir/server.log" | head -n 20 >&2
  fi
  stop_server
  unset TALKZONE_DATABASE_URL TALKZONE_JWT_SECRET
}

for b in "${backends[@]}"; do run_backend "$b"; done

say ""
say "schemathesis summary (checks: not_a_server_error, response_schema_conformance, status_code_conformance; seed $seed, up to $max_examples examples per operation and phase):"
printf '  %-9s %-13s %-28s %6s %7s\n' backend role result time cases >&2
for r in "${results[@]}"; do
  IFS='|' read -r c1 c2 c3 c4 c5 <<<"$r"
  printf '  %-9s %-13s %-28s %6s %7s\n' "$c1" "$c2" "$c3" "$c4" "$c5" >&2
done
if [ "$failed" != 0 ]; then
  say "schemathesis: FAILED (a 5xx, an undocumented status, a schema mismatch, an error or a timeout above)"
  exit 1
fi
say "schemathesis: no server errors; every answer's status and body were documented"
