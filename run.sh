#!/usr/bin/env bash
# The first command: installs what is missing, builds, sets up a SoftHSM2 token under ./data
# when there is none, and runs the server on it with a SQLite store, in development mode
# (serve --dev): a plaintext listener on loopback where every caller is an administrator.
#   P11KMS_DATA_DIR  where the token, PINs, database and configuration live (default ./data)
#   P11KMS_PORT      the port for a new configuration (default 7443)
#   P11KMS_JAVA_OPTS the server's JVM options (default -Xms128m -Xmn64m -Xmx256m: 100,000 keys
#                    need about 120 MiB of heap; a fixed 64 MiB young generation keeps G1 from
#                    shrinking it to a few MiB, which paused the server 3 times a second under
#                    load, see docs/performance.md)
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
data_dir=${P11KMS_DATA_DIR:-$root/data}

missing=()
[ -e /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)
# The tests (README, "Test") start their own PostgreSQL cluster from the package's binaries.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The tests also use OpenSC's pkcs11-spy (DomainJoinIT) and gcc for the shim in front of it.
[ -e /usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so ] || missing+=(opensc)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v mvn >/dev/null || missing+=(maven)
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

mvn -B -q -DskipTests install
classpath="$root/server/target/p11kms-server.jar:$(cat "$root/server/target/classpath.txt")"

P11KMS_CLASSPATH="$classpath" "$root/softhsm-config/init-token.sh" "$data_dir"

export SOFTHSM2_CONF="$data_dir/softhsm2.conf"
# The database and the audit log are the server's alone.
umask 077
echo "run.sh: development mode (serve --dev): plaintext on loopback, every local process is an" \
  "administrator of every key; for anything else configure mutual TLS (README, Security)" >&2
# shellcheck disable=SC2086 # options are words
exec java ${P11KMS_JAVA_OPTS:--Xms128m -Xmn64m -Xmx256m} -cp "$classpath" io.p11kms.server.Main \
  serve --config "$data_dir/p11kms.properties" --dev
