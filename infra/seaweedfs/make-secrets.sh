#!/bin/sh
# The secrets of SeaweedFS's own security, for infra/systemd/seaweedfs.service and the seaweedfs
# service of infra/docker-compose.yml (walkthrough: docs/deploy.md).
#
#   make-secrets.sh ENV_FILE [GRPC_DIR]
#
# ENV_FILE   the four JWT signing keys, one WEED_JWT_*=<64 hex digits> a line: systemd's
#            EnvironmentFile= and compose's env_file: read it. With them the volume server
#            refuses reads and writes, and the filer and the S3 gateway's gRPC port refuse
#            calls, that SeaweedFS did not sign itself.
# GRPC_DIR   (systemd) ca.crt, seaweedfs.crt, seaweedfs.key: mutual TLS for every gRPC port,
#            so that other users of the VM cannot drive the master, volume server or filer
#            through them. The CA's own key is thrown away; to rotate, run this again.
#
# Needs openssl. Refuses to overwrite: delete the old files first to rotate them (then
# restart SeaweedFS; nothing stored depends on these keys).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 ENV_FILE [GRPC_DIR]" >&2
    exit 2
fi
env_file=$1
grpc_dir=${2:-}
umask 077

if [ -e "$env_file" ]; then
    echo "$env_file exists: delete it first to make new keys" >&2
    exit 1
fi
if [ -n "$grpc_dir" ] && [ -e "$grpc_dir/seaweedfs.key" ]; then
    echo "$grpc_dir/seaweedfs.key exists: delete $grpc_dir first to make new certificates" >&2
    exit 1
fi

key() { openssl rand -hex 32; }
mkdir -p "$(dirname "$env_file")"
partial="$env_file.partial"
{
    echo "# SeaweedFS JWT signing keys, made by infra/seaweedfs/make-secrets.sh. Secret."
    echo "# master <-> volume server: writes, reads"
    echo "WEED_JWT_SIGNING_KEY=$(key)"
    echo "WEED_JWT_SIGNING_READ_KEY=$(key)"
    echo "# S3 gateway <-> filer: writes (also gates the S3 gateway's IAM gRPC), reads"
    echo "WEED_JWT_FILER_SIGNING_KEY=$(key)"
    echo "WEED_JWT_FILER_SIGNING_READ_KEY=$(key)"
} > "$partial"
mv "$partial" "$env_file"

if [ -n "$grpc_dir" ]; then
    mkdir -p "$grpc_dir"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # One CA, one certificate for every component (SeaweedFS does not check host names).
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj /CN=seaweedfs-grpc-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj /CN=seaweedfs -keyout "$work/seaweedfs.key" -out "$work/seaweedfs.csr" 2>/dev/null
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
        'extendedKeyUsage=serverAuth,clientAuth' 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
        > "$work/ext.cnf"
    openssl x509 -req -in "$work/seaweedfs.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$work/ext.cnf" \
        -out "$work/seaweedfs.crt" 2>/dev/null
    mv "$work/ca.crt" "$work/seaweedfs.crt" "$work/seaweedfs.key" "$grpc_dir/"
fi
