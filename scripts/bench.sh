#!/usr/bin/env bash
# Runs one load-generator scenario against freshly started release servers and prints the
# results: builds release, starts a private PostgreSQL (or uses SQLite), starts `talkzone
# serve` with limits raised for one load generator on 127.0.0.1, creates an admin, runs
# `tzload SCENARIO ARGS…`, and stops everything it started.
#
#   scripts/bench.sh [--db sqlite|postgres] [--nodes N] [--shards K] [--no-build] SCENARIO [tzload args…]
#
#   scripts/bench.sh --db sqlite pairs --pairs 1000 --rate 1 --seconds 30
#   scripts/bench.sh --db postgres pairs --pairs 1000 --rate 1 --seconds 30
#   scripts/bench.sh --shards 2 idle --connections 9500 --hold 60   # 19,000 over two processes
#   scripts/bench.sh fanout --members 500 --senders 2 --rate 10 --seconds 20
#   scripts/bench.sh storm --pairs 5000 --rate 0.2 --seconds 30 --storm-at 10
#   TALKZONE_REDIS_URL=redis://127.0.0.1:6379 scripts/bench.sh --db postgres --nodes 2 \
#       failover --pairs 500 --rate 1 --seconds 30 --kill-at 10     # kills node 2 (kill -9)
#
# --shards K (idle only) runs K tzload processes one after another, each holding
# `--connections` sockets (a process may hold at most about 19,500: 20,000 open files), so
# that each measures the memory of its own connections while the others stay open.
# --no-build runs the release binaries already in target/release.
# Results: the JSON reports and server logs stay in the printed work directory.
set -euo pipefail
cd "$(dirname "$0")/.."

db=sqlite nodes=1 shards=1 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { sed -n '2,22p' "$0"; exit 2; }
scenario=$1; shift
case "$db" in sqlite|postgres) ;; *) echo "--db is sqlite or postgres" >&2; exit 2 ;; esac

log() { printf '== %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

work=$(mktemp -d /tmp/talkzone-bench.XXXXXX)
chmod 755 "$work"
pids=()
pg_bin=""
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "$pg_bin" ] && [ -f "$work/pg/data/postmaster.pid" ]; then
    run_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1
  fi
  log "work directory (reports, logs): $work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: run it as an unprivileged user.
run_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$work/pg"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "$build" = 1 ]; then
  log "building release binaries"
  cargo build --release --locked -p talkzone-server -p talkzone-tests --bin talkzone --bin tzload
fi
bin=target/release

# Every socket is a file: the server and each tzload process use the whole hard limit.
ulimit -n "$(ulimit -Hn)"

if [ "$db" = postgres ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ]; then
    log "installing PostgreSQL"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  pg_port=$(free_port)
  log "starting PostgreSQL on 127.0.0.1:$pg_port (synchronous_commit on)"
  mkdir -p "$work/pg"
  run_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
  run_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -t 60 start \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=300 -c synchronous_commit=on ${BENCH_PG_OPTIONS:-}" >/dev/null
  database_url="postgres://postgres@127.0.0.1:$pg_port/postgres"
else
  database_url="sqlite://$work/data/talkzone.db"
fi
mkdir -p "$work/data"

# Write out what is waiting for the disk first (a fresh build leaves hundreds of MB): the
# kernel would otherwise flush it 30 s later, mid-run, and every fsync would queue behind it.
sync

# One load generator on 127.0.0.1 is every client at once: lift the per-IP and per-user
# limits far above the load (refusals would still be counted and reported by tzload).
export TALKZONE_DATA_DIR="$work/data"
export TALKZONE_DATABASE_URL="$database_url"
export TALKZONE_JWT_SECRET="benchmark-secret-benchmark-secret-0123456789"
export TALKZONE_LOG="${TALKZONE_LOG:-warn}"
export TALKZONE_AUTH_PER_IP_PER_MIN=10000000 TALKZONE_AUTH_BURST=10000000
export TALKZONE_USER_MESSAGES_PER_SEC=100000 TALKZONE_USER_MESSAGES_BURST=100000
export TALKZONE_WS_FRAMES_PER_SEC=100000 TALKZONE_WS_FRAMES_BURST=100000
export TALKZONE_SIGNUPS_FREE_PER_SOURCE=10000000 TALKZONE_OPEN_CHATS_PER_SOURCE=0
export TALKZONE_WS_PER_SOURCE=10000000 TALKZONE_WS_PER_USER=100000

urls=() server_pids=()
for n in $(seq 1 "$nodes"); do
  port=$(free_port)
  TALKZONE_LISTEN="127.0.0.1:$port" "$bin/talkzone" serve >"$work/node$n.out" 2>"$work/node$n.log" &
  pids+=($!) server_pids+=($!)
  for _ in $(seq 1 300); do
    grep -q "is listening on" "$work/node$n.out" 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/node$n.log" >&2; exit 1; }
    sleep 0.1
  done
  urls+=("http://127.0.0.1:$port")
  log "node $n: pid ${pids[-1]} at http://127.0.0.1:$port ($db)"
done

admin_password="benchmark-admin-password"
echo "$admin_password" | "$bin/talkzone" admin create-user --username admin --role yot_admin >/dev/null

args=(--admin-user admin --admin-password "$admin_password")
for u in "${urls[@]}"; do args+=(--url "$u"); done
for p in "${server_pids[@]}"; do args+=(--server-pid "$p"); done
# PostgreSQL stores in its own processes: report their CPU beside the server's.
if [ "$db" = postgres ]; then args+=(--database-pid "$(head -n 1 "$work/pg/data/postmaster.pid")"); fi
extra=()
if [ "$scenario" = failover ] && [[ " $* " != *" --kill-cmd "* ]]; then
  [ "$nodes" -ge 2 ] || { echo "failover needs --nodes 2 or more" >&2; exit 2; }
  extra+=(--kill-cmd "kill -9 ${server_pids[-1]}")
fi

status=0
if [ "$shards" -le 1 ]; then
  log "tzload $scenario $*"
  "$bin/tzload" "${args[@]}" --json "$work/report.json" "$scenario" "$@" "${extra[@]}" || status=$?
  cat "$work/report.json"
else
  [ "$scenario" = idle ] || { echo "--shards is for idle" >&2; exit 2; }
  shard_pids=()
  for k in $(seq 1 "$shards"); do
    log "tzload shard $k/$shards: idle $*"
    "$bin/tzload" "${args[@]}" --json "$work/report$k.json" idle "$@" 2>"$work/shard$k.err" &
    shard_pids+=($!)
    # The next shard starts once this one holds its connections (and has measured them).
    until grep -q "connections open; holding" "$work/shard$k.err" 2>/dev/null; do
      kill -0 "${shard_pids[-1]}" 2>/dev/null || { cat "$work/shard$k.err" >&2; exit 1; }
      sleep 0.5
    done
    tail -n 1 "$work/shard$k.err" >&2
  done
  for p in "${shard_pids[@]}"; do wait "$p" || status=$?; done
  python3 - "$work" "$shards" <<'EOF'
import json, sys
work, shards = sys.argv[1], int(sys.argv[2])
reports = [json.load(open(f"{work}/report{k}.json")) for k in range(1, shards + 1)]
for k, r in enumerate(reports, 1):
    m = r["memory"]
    print(f"shard {k}: {r['clients']} connections, RSS {m['rss_before_bytes']/2**20:.1f} -> "
          f"{m['rss_after_bytes']/2**20:.1f} MiB, {m['per_connection_bytes']:.0f} bytes/connection, "
          f"gave up {r['clients_gave_up']}, reconnects {r['reconnects']}, cpu s {r['cpu_s']}")
total = sum(r["clients"] for r in reports)
before, after = reports[0]["memory"]["rss_before_bytes"], reports[-1]["memory"]["rss_after_bytes"]
print(f"all shards: {total} idle connections, server RSS {before/2**20:.1f} -> {after/2**20:.1f} MiB, "
      f"{(after - before) / total:.0f} bytes per connection (includes the later shards' sign-ins)")
EOF
fi
exit "$status"
