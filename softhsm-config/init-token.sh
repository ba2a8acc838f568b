#!/usr/bin/env bash
# Creates a SoftHSM2 token for p11kms under DATA_DIR and performs the domain-key ceremony:
# the token's security officer generates domain-key/1 (trusted, sensitive, extractable only under
# a trusted key, wrap/unwrap only, with wrap and unwrap templates that pin the class, type and
# usage of the backing keys it wraps), domain-key-asym/1 and domain-key-hmac/1 (the same, for
# private keys and for HMAC keys).
#
# Usage: init-token.sh DATA_DIR [TOKEN_LABEL]
# With P11KMS_JOIN=1 no domain key is made: the token is to receive the domain keys of a running
# deployment by the domain-join ceremony (p11kms domain-join begin/export/finish; docs/deployment.md).
#
# Reads:  P11KMS_CLASSPATH  the server's classpath (run.sh sets it)
#         P11KMS_JOIN  1: leave the token without a domain key, for a domain join
#         P11KMS_PKCS11_MODULE  default /usr/lib/softhsm/libsofthsm2.so
#         P11KMS_PORT  the port written into the configuration, default 7443
# Writes: DATA_DIR/softhsm2.conf, DATA_DIR/tokens/, DATA_DIR/user.pin and DATA_DIR/so.pin
#         (random, mode 0600), DATA_DIR/p11kms.properties (last, so its presence means done).
# PINs are generated here and kept in files; they are never printed.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DATA_DIR [TOKEN_LABEL]" >&2
  exit 2
fi
data_dir=$(realpath -m "$1")
label=${2:-p11kms}
module=${P11KMS_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
port=${P11KMS_PORT:-7443}
here=$(cd "$(dirname "$0")" && pwd)
: "${P11KMS_CLASSPATH:?set P11KMS_CLASSPATH to the p11kms server classpath}"

if [ -f "$data_dir/p11kms.properties" ]; then
  echo "p11kms token already set up in $data_dir"
  exit 0
fi
if [ -d "$data_dir/tokens" ] && [ -n "$(ls -A "$data_dir/tokens")" ]; then
  echo "$data_dir holds an unfinished set-up (tokens but no p11kms.properties)." >&2
  echo "Remove $data_dir and run again." >&2
  exit 1
fi

umask 077
mkdir -p "$data_dir/tokens"
sed "s#@TOKEN_DIR@#$data_dir/tokens#" "$here/softhsm2.conf.template" >"$data_dir/softhsm2.conf"
export SOFTHSM2_CONF="$data_dir/softhsm2.conf"

new_pin() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
new_pin >"$data_dir/user.pin"
new_pin >"$data_dir/so.pin"

# softhsm2-util takes PINs only as arguments; this development token's PINs are throwaway.
softhsm2-util --init-token --free --label "$label" \
  --so-pin "$(cat "$data_dir/so.pin")" --pin "$(cat "$data_dir/user.pin")" >/dev/null

if [ "${P11KMS_JOIN:-0}" = "1" ]; then
  echo "no domain key made (P11KMS_JOIN=1): run the domain join before serving"
else
  java -cp "$P11KMS_CLASSPATH" io.p11kms.server.Main init-domain-key \
    --module "$module" --token-label "$label" --so-pin-file "$data_dir/so.pin" --generation 1
fi

cat >"$data_dir/p11kms.properties.tmp" <<PROPS
# p11kms on a local SoftHSM2 token, made by softhsm-config/init-token.sh.
# Paths are relative to this file's folder.
listen.host=127.0.0.1
listen.port=$port
hsm.module=$module
hsm.token.label=$label
hsm.pin.file=user.pin
store.jdbc.url=jdbc:sqlite:$data_dir/p11kms.db
PROPS
mv "$data_dir/p11kms.properties.tmp" "$data_dir/p11kms.properties"
echo "p11kms token '$label' ready in $data_dir"
