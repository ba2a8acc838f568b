#!/usr/bin/env bash
# The benchmark: builds, makes a fresh token (SoftHSM2, or NSS softoken) with its domain keys, and runs
# io.p11kms.bench.Bench, which measures the adapter's encrypt loop straight on the token and the
# server (a child JVM) over gRPC on loopback, at 1, 1,000 and 100,000 keys, Encrypt over the AWS
# KMS JSON API beside gRPC at 64 in flight, and the XKS proxy API's Encrypt at 16 in flight (both
# SigV4-signed JSON over HTTP, as AWS clients call them).
#
# Usage: ./bench.sh [--token softhsm2|nss] [--quick] [--jfr [--jfr-settings NAME|FILE]]
#                   [--server-jvm-option OPT]... [--only service|frontends|keys|halfpeak|start]...
#                   [--repeat N] [--keys N,N...]
#   --token  the token to run on: softhsm2 (the default) or nss (NSS softoken, which does not
#            enforce key custody: for comparison only; docs/hsm/nss.md)
#   --quick  1 s warm-up + 3 s per point, 1 and 1,000 keys only (about 3 minutes)
#   --jfr    record a JFR profile of the server into the results folder (server.jfr)
#   --jfr-settings  the recording's settings: profile (the default), default, or a .jfc file
#   --only   run only these groups of server points (gRPC service, HTTP front ends, key counts)
#            and no restart: to profile one path; a run for the record runs them all.
#            halfpeak: Encrypt's peak and the half-peak point alone, as a full run measures them,
#            after the direct loop (about 3 minutes; the service group includes it)
#            start: start to SERVING 10 times on an empty database and 10 times on the data's
#            (P11KMS_BENCH_DATA at 100,000 keys for that target), alternated, median and slowest;
#            with --jfr each start is recorded (start-empty-N.jfr, start-keys-N.jfr)
#   --keys   the key counts of the key-count points, ascending from 1 (e.g. 1,100000)
#   --repeat N  N runs back to back, each on a fresh token and server, into run-1 ... run-N of
#            the results folder, and how many held p99 <= 5 ms at half peak (repeats.txt):
#            `--repeat 5 --only halfpeak` checks the p99 target in about 15 minutes
# Reads: P11KMS_BENCH_TOKEN     the token, as --token (the option wins)
#        P11KMS_BENCH_OUT       results folder (default target/bench/<timestamp>)
#        P11KMS_BENCH_JAVA_OPTS JVM options of the benchmark client, after its heap's (which
#                               they override)
#        P11KMS_MALLOC          the server's malloc, as run.sh reads it: jemalloc (the default,
#                               preloaded when Debian's libjemalloc2 is installed) or glibc
#        P11KMS_BENCH_SKIP_BUILD=1  use the jars already built
#        P11KMS_BENCH_DATA      keep the token and database in this folder and reuse them when it
#                               holds them already (its keys are the run's first keys): to run the
#                               100,000-key points again without making the keys again. For
#                               --only keys runs (other groups add keys of their own)
# Writes to the results folder: report.txt, points.csv, summary.csv, threads.csv (the server's CPU
# per call by thread group), throughput.svg,
# latency.svg, keys.svg, server.log, server-gc.log and client-gc.log (the collectors' pauses),
# slow-calls.csv (the half-peak point's calls over 5 ms: when each was due, how long it took), and
# the token and database under data/ (deleted at the end).
# The client and the server share this machine's cores: see docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD

token=${P11KMS_BENCH_TOKEN:-softhsm2}
repeat=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --token) token=${2:?--token needs softhsm2 or nss}; shift 2 ;;
    --token=*) token=${1#--token=}; shift ;;
    --repeat) repeat=${2:?--repeat needs a count}; shift 2 ;;
    --repeat=*) repeat=${1#--repeat=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if ! [[ $repeat =~ ^[1-9][0-9]?$ ]]; then
  echo "--repeat takes a count from 1 to 99, not '$repeat'" >&2
  exit 2
fi
case "$token" in
  softhsm2 | nss) ;;
  *) echo "unknown token '$token': softhsm2 or nss" >&2; exit 2 ;;
esac

# package, not install: the reactor's jars are enough, and nothing goes to the local repository.
[ "${P11KMS_BENCH_SKIP_BUILD:-}" = 1 ] || mvn -B -q package -DskipTests -pl benchmark -am

out=${P11KMS_BENCH_OUT:-$root/target/bench/$(date +%Y%m%d-%H%M%S)}

# --repeat N: N runs back to back, each on a fresh token and server (run-1 ... run-N in the
# results folder), then how many of them held the p99 target at half peak.
if [ "$repeat" -gt 1 ]; then
  mkdir -p "$out"
  for i in $(seq 1 "$repeat"); do
    echo "bench.sh: run $i of $repeat"
    P11KMS_BENCH_SKIP_BUILD=1 P11KMS_BENCH_OUT="$out/run-$i" "$0" --token "$token" \
      ${args[@]+"${args[@]}"}
  done
  # summary.csv: name,value,unit,target,met (only the name may hold commas). Beside each run's
  # p99, the CPU per call (points.csv) of the server and the client at half peak (and the server's
  # heap allocation per call there), of the server at Encrypt's 64 in flight, and of the direct loop at 1 and 4 threads, and the machine gauge
  # measured just before the half-peak point (MachineGauge): gauges of the machine that no server
  # code touches.
  for i in $(seq 1 "$repeat"); do
    p99=$(awk -F, -v run="$i" '/^Encrypt p99 at half peak/ {
      print "run " run ": " $1 " " $(NF-3) " ms, " ($NF == "true" ? "held" : "missed") }' \
      "$out/run-$i/summary.csv")
    cpu=$(awk -F, '
      $1 == "half-peak" {
        half = "server " $12 " us (heap " sprintf("%.1f", $14 / 1024) " KB), client " $11 \
          " us a call at half peak" }
      $1 == "service" && $2 == "Encrypt" && $3 == 64 { peak = "server " $12 " us at 64 in flight" }
      $1 == "direct" && $3 == 1 { one = $11 }
      $1 == "direct" && $3 == 4 { four = $11 }
      END { print half "; " peak "; direct encrypt " one " us at 1 thread, " four " at 4" }' \
      "$out/run-$i/points.csv")
    gauge=$(awk -F, '
      /^machine gauge: SHA-256/ { sha = $(NF-3) }
      /^machine gauge: thread hand-off/ { hand = $(NF-3) }
      /^GC pauses at half peak, server: / { pauses = $2; sub(/.*: /, "", pauses) }
      /^GC pauses at half peak, client: / { client = $2; sub(/.*: /, "", client) }
      /^calls over 5 ms at half peak due in a GC pause of either JVM/ {
        near = $1; sub(/.*: /, "", near); sub(/ \(.*/, "", near) }
      END { print "server GC pauses " pauses ", client " client "; calls over 5 ms due in a" \
        " pause or 5 ms after: " near "; machine gauge: SHA-256 of 4 KiB " sha " us, hand-off " \
        hand " us" }' \
      "$out/run-$i/summary.csv")
    echo "$p99 ($cpu; $gauge)"
  done >"$out/repeats.txt"
  held=$(grep -c ' ms, held' "$out/repeats.txt" || true)
  echo "p99 at half peak <= 5 ms in $held of $repeat runs" >>"$out/repeats.txt"
  cat "$out/repeats.txt"
  exit 0
fi
server_cp="$root/server/target/p11kms-server.jar:$(cat "$root/server/target/classpath.txt")"
bench_cp="$root/benchmark/target/p11kms-benchmark.jar:$(cat "$root/benchmark/target/classpath.txt")"

mkdir -p "$out"
if [ -n "${P11KMS_BENCH_DATA:-}" ]; then
  mkdir -p "$P11KMS_BENCH_DATA"
  data=$(cd "$P11KMS_BENCH_DATA" && pwd)
else
  data="$out/data"
  trap 'rm -rf "$data"' EXIT
fi

# A fresh token and the domain key ceremony, in a JVM of their own (the SO login cannot share a
# JVM with an open adapter). PINs stay in files under $data, which is deleted at the end.
if [ -f "$data/p11kms.properties" ]; then
  echo "reusing the token and database in $data"
  [ "$token" = nss ] || export SOFTHSM2_CONF="$data/softhsm2.conf"
elif [ "$token" = nss ]; then
  P11KMS_CLASSPATH="$server_cp" P11KMS_PORT=0 softhsm-config/init-nss-token.sh "$data" p11kms-bench \
    >"$out/init-token.log"
else
  P11KMS_CLASSPATH="$server_cp" P11KMS_PORT=0 softhsm-config/init-token.sh "$data" p11kms-bench \
    >"$out/init-token.log"
  # SoftHSM2 reads SOFTHSM2_CONF once per process: set it before the JVM starts.
  export SOFTHSM2_CONF="$data/softhsm2.conf"
fi
export P11KMS_CLASSPATH="$server_cp"
# The client's GC log: Bench sets its pauses beside the half-peak point's tail (and the server's).
# Netty's leak detector off, as the server runs it (Main): the client's CPU is not what is measured.
# The client's heap: its pauses add to the latencies it measures. A fixed 1 GiB young generation
# (parallel collector) pauses it about once in a 10 s point; G1 sized from the machine's memory
# paused it 5-23 times. P11KMS_BENCH_JAVA_OPTS come after these, and win.
# shellcheck disable=SC2086
java -Xlog:gc:file="$out/client-gc.log":time -XX:+UseParallelGC -Xms1536m -Xmx1536m -Xmn1g \
  -Dio.grpc.netty.shaded.io.netty.leakDetection.level=disabled ${P11KMS_BENCH_JAVA_OPTS:-} -cp "$bench_cp" io.p11kms.bench.Bench \
  --data "$data" --out "$out" ${args[@]+"${args[@]}"}
