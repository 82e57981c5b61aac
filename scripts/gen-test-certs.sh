#!/bin/sh
# Generates the TLS fixtures the tests and `gatewise drill` use, into test/fixtures/tls/.
# Run once; the output is committed so tests never depend on openssl being present.
#
#   ca.pem / ca-key.pem                     the test CA (the trust anchor tests pass as `ca`)
#   server.pem / server-key.pem             localhost, 127.0.0.1, ::1; signed by the test CA; 2020-2120
#   self-signed.pem / self-signed-key.pem   localhost, 127.0.0.1, ::1; signed by itself; 2020-2120
#   expired.pem / expired-key.pem           localhost, 127.0.0.1, ::1; signed by the test CA; 2020-2021 only
#   wrong-host.pem / wrong-host-key.pem     wrong.example only; signed by the test CA (hostname mismatch)
#
# Every certificate is issued with `openssl ca -startdate/-enddate`: OpenSSL 3.0's `x509`/`req` cannot set
# a start date (`-not_before` arrived in 3.4), and a start date in the past keeps the fixtures valid on
# machines whose clock is behind the one that generated them.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
out="$root/test/fixtures/tls"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$out" "$work/db"
: >"$work/db/index.txt"
openssl rand -hex 8 >"$work/db/serial"

valid_from=20200101000000Z
valid_until=21200101000000Z
expired_until=20210101000000Z

cat >"$work/openssl.cnf" <<CNF
[ca]
default_ca = test_ca

[test_ca]
dir = $work/db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none

[policy_any]
commonName = supplied
organizationName = optional

[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[localhost_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1

[self_signed_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1

[wrong_host_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example
CNF

# issue NAME SUBJECT EXTENSIONS UNTIL [self]: key + CSR, then a certificate signed by the test CA,
# or by the certificate's own key when the fifth argument is "self".
issue() {
  name=$1 subject=$2 extensions=$3 until=$4 signer=${5:-ca}
  # P-256 keys: small, fast handshakes, accepted by every TLS stack in use here.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$name-key.pem" 2>/dev/null
  openssl req -new -config "$work/openssl.cnf" -key "$out/$name-key.pem" -subj "$subject" -out "$work/$name.csr"
  if [ "$signer" = self ]; then
    set -- -selfsign -keyfile "$out/$name-key.pem"
  else
    set -- -cert "$out/ca.pem" -keyfile "$out/ca-key.pem"
  fi
  openssl ca -batch -notext -config "$work/openssl.cnf" "$@" -extensions "$extensions" \
    -startdate "$valid_from" -enddate "$until" -in "$work/$name.csr" -out "$out/$name.pem" 2>/dev/null
}

issue ca "/CN=Gatewise Test CA/O=Gatewise tests" ca_ext "$valid_until" self
issue server "/CN=localhost/O=Gatewise tests" localhost_ext "$valid_until"
issue self-signed "/CN=localhost/O=Gatewise tests (self-signed)" self_signed_ext "$valid_until" self
issue expired "/CN=localhost/O=Gatewise tests (expired)" localhost_ext "$expired_until"
issue wrong-host "/CN=wrong.example/O=Gatewise tests" wrong_host_ext "$valid_until"

# Sanity: each chain verifies where it should and fails where it should.
openssl verify -CAfile "$out/ca.pem" "$out/server.pem" >/dev/null
openssl verify -CAfile "$out/ca.pem" "$out/wrong-host.pem" >/dev/null
if openssl verify -CAfile "$out/ca.pem" "$out/expired.pem" >/dev/null 2>&1; then
  echo "gen-test-certs: expired.pem unexpectedly verifies" >&2
  exit 1
fi
chmod 0644 "$out"/*.pem
echo "wrote $(cd "$out" && ls | tr '\n' ' ')into $out"
