#!/usr/bin/env bash
# Soak test on loopback: a churning simulated network (netsim, the "small" preset with 20 % of
# its nodes offline at any time, the set changing every 10 s), `seedscope crawl` crawling it,
# and build/tests/seedscope-hostile attacking the crawler all along (one attack after another:
# silent, slowloris, half handshakes, churn, ping flood, idle peers, garbage, PEX flood,
# 10,000-address answers). Prints one line per interval (elapsed, RSS, open fds, database
# size, contacts per second) and a summary (min/max RSS after warm-up, RSS slope).
#
# usage: scripts/soak.sh MINUTES      (SOAK_INTERVAL=30 seconds per line, SOAK_BUILD=build)
# Everything runs on 127.0.0.0/8 and stops by itself; a trap stops the children on any exit.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:?usage: scripts/soak.sh MINUTES}
if ! [[ $minutes =~ ^[0-9]+$ ]] || ((minutes < 1 || minutes > 1440)); then
  echo "soak.sh: MINUTES must be 1..1440" >&2
  exit 2
fi
interval=${SOAK_INTERVAL:-30}
build=${SOAK_BUILD:-build}
BUILD_TARGETS="seedscope seedscope-hostile" scripts/build.sh "$build" >/dev/null
bin=$build/crawler/seedscope
tool=$build/tests/seedscope-hostile

work=$(mktemp -d /tmp/seedscope-soak-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

total=$((minutes * 60))
# The simulated network outlives the crawl a little; both end by themselves.
"$bin" netsim --print-preset small |
  sed -e 's/^address_offset = 0 /address_offset = 53000 /' \
    -e 's/^offline_fraction = 0.03 /offline_fraction = 0.20 /' \
    -e 's/^period = "20s" /period = "10s" /' >"$work/net.toml"
"$bin" netsim --scenario "$work/net.toml" --duration "$((total + 30))s" \
  >"$work/netsim.out" 2>"$work/netsim.err" &
pids+=($!)
seeds=""
for _ in $(seq 1 200); do
  seeds=$(sed -n 's/^simhub-1 seeds: //p' "$work/netsim.out")
  [[ -n $seeds ]] && break
  sleep 0.1
done
[[ -n $seeds ]] || { echo "soak.sh: netsim did not start: $(cat "$work/netsim.err")" >&2; exit 1; }

home=$work/home
"$bin" init --home "$home" >/dev/null 2>&1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$home/config/config.toml" <<EOF
moniker = "soak-crawler"
[p2p]
laddr = "tcp://127.0.0.1:$port"
seeds = "$seeds"
[crawler]
retry_base = "5s"
retry_cap = "30s"
recrawl_interval = "1m"
status_interval = "60s"
[instrumentation]
prometheus_listen_addr = "off"
EOF
"$bin" crawl --home "$home" --loopback-only --duration "${total}s" \
  >"$work/crawl.out" 2>"$work/crawl.err" &
crawl=$!
pids+=($crawl)
id=$("$bin" show-node-id --home "$home")
for _ in $(seq 1 100); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
db=$home/data/seedscope.db

# The attacks, one after another until the end (each bounded by --duration).
(
  attacks=("silent 2000 0" "slowloris 1000 0" "half-handshake 600 0" "churn 6000 750"
    "ping-flood 1 0" "idle 60 0" "garbage 1000 500" "pex-flood 20 0" "big-addrs 20 0")
  end=$((SECONDS + total - 5))
  i=0
  while ((SECONDS < end)); do
    read -r name conns rate <<<"${attacks[i % ${#attacks[@]}]}"
    left=$((end - SECONDS))
    ((left > 20)) && left=20
    ((left < 1)) && break
    "$tool" --target "$id@127.0.0.1:$port" --network simhub-1 --attack "$name" \
      --connections "$conns" --duration "$left" --rate "$rate" --honest 2 >>"$work/hostile.log" 2>&1 || true
    i=$((i + 1))
  done
) &
pids+=($!)

contacts() { sqlite3 -readonly "$db" 'SELECT count(*) FROM contacts' 2>/dev/null || echo 0; }
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
printf '%8s %9s %6s %10s %12s\n' elapsed_s rss_mib fds db_mib contacts/s
samples=()
last=$(contacts)
start=$SECONDS
while kill -0 "$crawl" 2>/dev/null && ((SECONDS - start < total + 20)); do
  sleep "$interval"
  kill -0 "$crawl" 2>/dev/null || break
  elapsed=$((SECONDS - start))
  rss=$(rss_of "$crawl")
  fds=$(ls "/proc/$crawl/fd" 2>/dev/null | wc -l)
  bytes=$(($(stat -c %s "$db" 2>/dev/null || echo 0) + $(stat -c %s "$db-wal" 2>/dev/null || echo 0)))
  now=$(contacts)
  rate=$(awk -v a="$now" -v b="$last" -v t="$interval" 'BEGIN {printf "%.1f", (a - b) / t}')
  last=$now
  printf '%8d %9.1f %6d %10.1f %12s\n' "$elapsed" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" \
    "$fds" "$(awk -v b="$bytes" 'BEGIN {print b / 1048576}')" "$rate"
  samples+=("$elapsed $rss")
done
wait "$crawl" && code=0 || code=$?
echo "crawl exited with $code"
honest=$(grep -c '^honest:' "$work/hostile.log" || true)
echo "hostile runs: $(grep -c '^attack=' "$work/hostile.log" || true) (honest summaries: $honest)"
# One line per attack run: its name, what it reached, and the honest clients meanwhile.
awk '/^attack=/ { split($1, a, "="); name = a[2]; line = $0; sub(/.* attempted=/, "attempted=", line)
                  sub(/ bytes_sent=.*/, "", line) }
     /^honest:/ { sub(/^honest: /, ""); printf "  %-15s %s; honest %s\n", name, line, $0 }' "$work/hostile.log"
# Summary over the samples after the first (warm-up): min/max RSS and a least-squares slope.
printf '%s\n' "${samples[@]:1}" | awk '
  NF == 2 { n++; x[n] = $1; y[n] = $2 / 1024; if (n == 1 || y[n] < mn) mn = y[n]; if (y[n] > mx) mx = y[n] }
  END {
    if (n < 2) { print "summary: too few samples after warm-up for a slope"; exit }
    for (i = 1; i <= n; i++) { sx += x[i]; sy += y[i] }
    mx_ = sx / n; my = sy / n
    for (i = 1; i <= n; i++) { num += (x[i] - mx_) * (y[i] - my); den += (x[i] - mx_) ^ 2 }
    printf "summary: RSS after warm-up min %.1f MiB, max %.1f MiB, slope %.2f MiB/min over %d samples\n", mn, mx, 60 * num / den, n
  }'
exit "$code"
