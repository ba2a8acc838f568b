#!/usr/bin/env bash
# Creates an NSS softoken token for p11kms under DATA_DIR (a database made by certutil, whose
# password is the user PIN) and its domain keys, made by the user with `p11kms init-domain-key
# --config` (NSS softoken has no security officer that can make them, and enforces no key
# custody: development and benchmarks only; docs/hsm/nss.md).
#
# Usage: init-nss-token.sh DATA_DIR [TOKEN_LABEL]
# Reads:  P11KMS_CLASSPATH  the server's classpath
#         P11KMS_NSS_MODULE  default the first libsoftokn3.so in the usual Linux library folders
#         P11KMS_PORT  the port written into the configuration, default 7443
# Writes: DATA_DIR/nssdb/, DATA_DIR/user.pin (random, mode 0600), DATA_DIR/p11kms.properties
#         (last, so its presence means done). The PIN is never printed or passed as an argument.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DATA_DIR [TOKEN_LABEL]" >&2
  exit 2
fi
data_dir=$(realpath -m "$1")
label=${2:-p11kms}
port=${P11KMS_PORT:-7443}
: "${P11KMS_CLASSPATH:?set P11KMS_CLASSPATH to the p11kms server classpath}"

module=${P11KMS_NSS_MODULE:-}
if [ -z "$module" ]; then
  for candidate in /usr/lib/x86_64-linux-gnu/libsoftokn3.so /usr/lib/aarch64-linux-gnu/libsoftokn3.so \
    /usr/lib64/libsoftokn3.so /usr/lib/libsoftokn3.so; do
    if [ -f "$candidate" ]; then
      module=$candidate
      break
    fi
  done
fi
if [ -z "$module" ]; then
  echo "NSS softoken (libsoftokn3.so) not found: install libnss3 or set P11KMS_NSS_MODULE" >&2
  exit 1
fi
command -v certutil >/dev/null || { echo "certutil not found: install libnss3-tools" >&2; exit 1; }

if [ -f "$data_dir/p11kms.properties" ]; then
  echo "p11kms token already set up in $data_dir"
  exit 0
fi
if [ -d "$data_dir/nssdb" ] && [ -n "$(ls -A "$data_dir/nssdb")" ]; then
  echo "$data_dir holds an unfinished set-up (nssdb but no p11kms.properties)." >&2
  echo "Remove $data_dir and run again." >&2
  exit 1
fi

umask 077
mkdir -p "$data_dir/nssdb"
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data_dir/user.pin"
certutil -N -d "sql:$data_dir/nssdb" -f "$data_dir/user.pin" >/dev/null

cat >"$data_dir/p11kms.properties.tmp" <<PROPS
# p11kms on a local NSS softoken token, made by softhsm-config/init-nss-token.sh.
# NSS softoken does not enforce key custody: development and benchmarks only.
# Paths are relative to this file's folder.
listen.host=127.0.0.1
listen.port=$port
hsm.module=$module
hsm.module.init.string=configdir='sql:$data_dir/nssdb' certPrefix='' keyPrefix='' secmod='secmod.db' flags=optimizeSpace dbTokenDescription='$label'
hsm.custody.unenforced.allowed=true
hsm.token.label=$label
hsm.pin.file=user.pin
store.jdbc.url=jdbc:sqlite:$data_dir/p11kms.db
PROPS
java -cp "$P11KMS_CLASSPATH" io.p11kms.server.Main init-domain-key \
  --config "$data_dir/p11kms.properties.tmp" --generation 1
mv "$data_dir/p11kms.properties.tmp" "$data_dir/p11kms.properties"
echo "p11kms NSS token '$label' ready in $data_dir"
