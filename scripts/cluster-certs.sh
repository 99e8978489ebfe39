#!/usr/bin/env bash
# Makes a cluster's TLS certificates with openssl (docs/cluster.md, "TLS between nodes"):
#   bash scripts/cluster-certs.sh DIR NODE[=IP] [NODE[=IP] ...]
# DIR/ca.pem and DIR/ca.key: the cluster's own CA, named after DIR plus a random tag so two clusters' CAs never look
# alike in a refusal message (keep ca.key off the nodes); DIR/NODE.pem and DIR/NODE.key: one
# certificate per node, signed by that CA, for server and client use, with NODE (and IP, if given) as subject
# alternative names. An existing CA in DIR is reused, so nodes can be added later. Certificates last 825 days.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DIR NODE[=IP] [NODE[=IP] ...]" >&2
  exit 64
fi

dir=$1
shift
mkdir -p "$dir"
umask 077

if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 825 \
    -subj "/CN=berth cluster CA $(basename "$(cd "$dir" && pwd)") $(openssl rand -hex 4)" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi

for spec in "$@"; do
  node=${spec%%=*}
  names="DNS:$node"
  if [ "$spec" != "$node" ]; then
    names="$names,IP:${spec#*=}"
  fi

  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -subj "/CN=$node" -keyout "$dir/$node.key" -out "$dir/$node.csr"
  openssl x509 -req -in "$dir/$node.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -sha256 -days 825 \
    -out "$dir/$node.pem" -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth,clientAuth" \
      "subjectAltName=$names")
  rm "$dir/$node.csr"
  echo "$dir/$node.pem, $dir/$node.key (signed by $dir/ca.pem)"
done
