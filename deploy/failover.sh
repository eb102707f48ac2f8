#!/usr/bin/env bash
# Two `codefuel serve` replicas behind nginx (Debian's package) on loopback; a load run
# through nginx; one replica killed (SIGKILL) in the middle of it. Reports the load figures,
# whose "errors" are the requests that failed (target 0: nginx retries them on the other).
#
#     bash deploy/failover.sh [--codefuel target/release/codefuel] [--requests 20000]
#
# Needs nginx (apt-get install nginx-light) and the serve_load benchmark
# (cargo build --release -p codefuel-benchmarks --bin serve_load).
set -euo pipefail
cd "$(dirname "$0")/.."
codefuel=target/release/codefuel
requests=20000
while [ $# -gt 0 ]; do
    case "$1" in
        --codefuel) codefuel=$2; shift 2 ;;
        --requests) requests=$2; shift 2 ;;
        *) echo "unknown flag $1" >&2; exit 2 ;;
    esac
done
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 2; }
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ports=()
for i in 1 2; do
    "$codefuel" serve --bind 127.0.0.1:0 --jobs 1 > "$work/replica$i.out" 2>&1 &
    pids+=($!)
    until grep -q "listening on" "$work/replica$i.out"; do sleep 0.2; done
    ports+=("$(grep -o '127.0.0.1:[0-9]*' "$work/replica$i.out" | cut -d: -f2)")
done
port=$(free_port)
sed -e "s/@PORT1@/${ports[0]}/" -e "s/@PORT2@/${ports[1]}/" -e "s/@PORT@/$port/" \
    deploy/nginx.conf > "$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log"
echo "replicas on ${ports[*]}, nginx on $port"

target/release/serve_load --url "127.0.0.1:$port" --requests "$requests" --connections 64 \
    > "$work/load.out" 2>&1 &
load=$!
sleep 5
echo "killing replica 1 (pid ${pids[0]}) in the middle of the run"
kill -9 "${pids[0]}"
status=0
wait "$load" || status=$?
cat "$work/load.out"
exit "$status"
