#!/usr/bin/env bash
# The first command: installs what serving needs and is missing, builds when the sources changed
# since its last build, sets up a SoftHSM2 token under ./data when there is none, and runs the
# server on it with a SQLite store, in development mode (serve --dev): a plaintext listener on
# loopback where every caller is an administrator. Says what it did at each step.
#   P11KMS_DATA_DIR  where the token, PINs, database, audit log and configuration live
#                    (default ./data)
#   P11KMS_PORT      the port (default 7443); given on a later run with another value, it
#                    replaces listen.port in the configuration
#   P11KMS_JAVA_OPTS the server's JVM options (default -XX:+UseParallelGC -Xms128m -Xmn64m
#                    -Xmx128m: at 100,000 keys the live heap is 21-36 MiB; the parallel collector
#                    fills the old generation before a full collection compacts it, so the heap's
#                    resident share grows to its cap, which keeps it out of the room the token's
#                    cached keys need; a fixed 64 MiB young generation keeps the collector from
#                    shrinking it to a few MiB, which paused the server 3 times a second under
#                    load; the parallel collector paused the server for less, and cost it less CPU
#                    per call, than G1 at half the peak rate; see docs/configuration.md, "Sizing
#                    the caches", docs/performance.md)
#   P11KMS_MALLOC    jemalloc (the default: Debian's libjemalloc2, preloaded into the server;
#                    a key that misses the backing key cache costs the server less CPU under it
#                    than under glibc's malloc, see docs/performance.md) or glibc
#   MALLOC_CONF      jemalloc's options (default narenas:1: one arena, so that the memory a
#                    recycled token library frees is reused by the next one's keys, whichever
#                    thread unwraps them; docs/configuration.md, "Sizing the caches")
# Writes DATA_DIR/endpoint (host:port), which ./p11kms reads to find this server, and
# DATA_DIR/aws-endpoint, the AWS KMS JSON API's URL.
# The tests need more (PostgreSQL, OpenSC, gcc): `.ci/run` installs those.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
data_dir=$(realpath -m "${P11KMS_DATA_DIR:-$root/data}")
say() { echo "run.sh: $*"; }

missing=()
[ -e /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)
jemalloc() {
  for f in /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2; do
    [ -e "$f" ] && echo "$f" && return
  done
}
malloc=${P11KMS_MALLOC:-jemalloc}
case "$malloc" in
  jemalloc) [ -n "$(jemalloc)" ] || missing+=(libjemalloc2) ;;
  glibc) ;;
  *) echo "run.sh: P11KMS_MALLOC must be jemalloc or glibc, was '$malloc'" >&2; exit 2 ;;
esac
command -v mvn >/dev/null || missing+=(maven)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian packages)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "SoftHSM2, Maven, a JDK and the allocator are installed"
fi

# What the server is built from: the poms and the non-test sources of the modules it needs.
sources_digest() {
  find pom.xml proto hsm-adapter server \
    \( -path '*/target' -o -path '*/src/test' \) -prune -o \
    -type f \( -name pom.xml -o -path '*/src/*' \) -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
distribution() { ls -td server/target/p11kms-*/ 2>/dev/null | head -n 1 || true; }
stamp=server/target/run.sh.sources
digest=$(sources_digest)
dist=$(distribution)
# A build made since (mvn package by hand, maybe of other sources) is not the one recorded.
if [ -n "$dist" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ] &&
  [ -z "$(find "$dist" -newer "$stamp" -print -quit)" ]; then
  say "sources unchanged since the last build: using ${dist%/}"
else
  if [ -f "$stamp" ] && [ -n "$dist" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    say "building: server/target was built again since run.sh's last build"
  elif [ -f "$stamp" ]; then
    say "building: the sources changed since the last build"
  else
    say "building: no build of these sources yet"
  fi
  started=$SECONDS
  # Maven prints colour resets even in batch mode; its messages stay.
  mvn -B -q -DskipTests -Dspotless.check.skip=true -pl server -am package 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g'
  dist=$(distribution)
  echo "$digest" >"$stamp"
  say "built ${dist%/} in $((SECONDS - started)) s"
fi
dist=$root/${dist%/}

P11KMS_CLASSPATH="$dist/lib/*" softhsm-config/init-token.sh "$data_dir" | sed 's/^/run.sh: /'
config=$data_dir/p11kms.properties

setting() { sed -n "s/^$1=//p" "$config" | tail -n 1; }
port=$(setting listen.port)
port=${port:-7443}
if [ -n "${P11KMS_PORT:-}" ] && [ "$P11KMS_PORT" != "$port" ]; then
  if ! [[ $P11KMS_PORT =~ ^[0-9]{1,5}$ ]]; then
    echo "run.sh: P11KMS_PORT must be a port number, was '$P11KMS_PORT'" >&2
    exit 2
  fi
  sed -i '/^listen\.port=/d' "$config"
  echo "listen.port=$P11KMS_PORT" >>"$config"
  say "P11KMS_PORT=$P11KMS_PORT: listen.port changed from $port to $P11KMS_PORT in $config"
  port=$P11KMS_PORT
fi
host=$(setting listen.host)
endpoint="${host:-127.0.0.1}:$port"
echo "$endpoint" >"$data_dir/endpoint"
# The AWS KMS JSON API's URL, for `aws kms ... --endpoint-url "$(cat data/aws-endpoint)"`.
aws_port=$(setting aws.listen.port)
echo "http://${host:-127.0.0.1}:${aws_port:-$((port + 1))}" >"$data_dir/aws-endpoint"
say "serving $config on $endpoint; in another terminal: ./p11kms kms list-keys"

export SOFTHSM2_CONF="$data_dir/softhsm2.conf"
export JAVA_OPTS="${P11KMS_JAVA_OPTS:--XX:+UseParallelGC -Xms128m -Xmn64m -Xmx128m}"
if [ "$malloc" = jemalloc ]; then
  # jemalloc's thread caches serve the small blocks every token call and every SQLite read
  # allocates and frees, which glibc's malloc takes from locked arenas (docs/performance.md).
  export LD_PRELOAD="$(jemalloc)${LD_PRELOAD:+:$LD_PRELOAD}"
  export MALLOC_CONF="${MALLOC_CONF:-narenas:1}"
  say "malloc: jemalloc ($(jemalloc), MALLOC_CONF=$MALLOC_CONF)"
fi
# The database and the audit log are the server's alone.
umask 077
echo "run.sh: development mode (serve --dev): plaintext on loopback, every local process is an" \
  "administrator of every key; for anything else configure mutual TLS (docs/security.md)" >&2
exec "$dist/bin/p11kms" serve --config "$config" --dev
