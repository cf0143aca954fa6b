#!/usr/bin/env bash
# Makes sure a RabbitMQ broker with the management plugin answers on localhost, with AMQP over TLS
# on 5671 beside plain AMQP on 5672 (tests/e2e/test_tls_broker.py connects the services over it).
# The TLS listener checks a client certificate when one is presented (verify_peer), so a local
# client identity signed by the same CA is written too; a client may also sign in with its
# certificate alone (EXTERNAL: the certificate's common name is the user), and the local CA's key
# is kept so that the tests can issue a certificate per service identity. Installs Debian's rabbitmq-server when
# absent, starts it when stopped, and restarts it once when its TLS setup is new. Idempotent.
set -euo pipefail
mgmt="http://localhost:15672/api/overview"
# A local CA, a certificate for localhost and a client identity; deploy/local/tls.py names them.
tls_dir=/etc/rabbitmq/mynacar-tls
tls_conf=/etc/rabbitmq/conf.d/50-mynacar-tls.conf

answers() {
  python3 - "$mgmt" <<'PY' 2>/dev/null
import base64, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode()})
urllib.request.urlopen(req, timeout=3).read()
PY
}

tls_listens() {
  python3 -c 'import socket; socket.create_connection(("localhost", 5671), 2).close()' 2>/dev/null
}

login_by_certificate() {
  grep -q '^ssl_cert_login_from' "$tls_conf" 2>/dev/null
}

answers && tls_listens && [ -s "$tls_dir/client.pem" ] && [ -s "$tls_dir/ca.key" ] && login_by_certificate && exit 0

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
  echo "Installing rabbitmq-server (Debian package)..."
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
fi
export PATH="$PATH:/usr/sbin"

tls_is_new=""
if [ ! -s "$tls_dir/client.pem" ] || [ ! -s "$tls_conf" ] || [ ! -s "$tls_dir/ca.key" ] || ! login_by_certificate; then
  tls_is_new=1
  echo "Writing a local CA and a TLS listener on 5671 for RabbitMQ ($tls_dir)..."
  $sudo_cmd mkdir -p "$tls_dir" /etc/rabbitmq/conf.d
  work=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mynacar local CA" \
    -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$work/ext"
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 3650 -extfile "$work/ext" -out "$work/server.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=mynacar-service" \
    -keyout "$work/client.key" -out "$work/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$work/client-ext"
  openssl x509 -req -in "$work/client.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 3650 -extfile "$work/client-ext" -out "$work/client.pem" 2>/dev/null
  $sudo_cmd install -m 0644 "$work/ca.pem" "$work/server.pem" "$work/client.pem" "$tls_dir/"
  $sudo_cmd install -m 0640 "$work/server.key" "$tls_dir/"
  # The client key is a throw-away local identity for tests and `make run`, readable by the user;
  # so is this local CA's key (tests/service/test_broker_permissions.py signs with it).
  $sudo_cmd install -m 0644 "$work/client.key" "$work/ca.key" "$tls_dir/"
  $sudo_cmd chown -R rabbitmq:rabbitmq "$tls_dir"
  rm -rf "$work"
  printf '%s\n' "listeners.ssl.default = 5671" \
    "ssl_options.cacertfile = $tls_dir/ca.pem" \
    "ssl_options.certfile = $tls_dir/server.pem" \
    "ssl_options.keyfile = $tls_dir/server.key" \
    "ssl_options.verify = verify_peer" \
    "ssl_options.fail_if_no_peer_cert = false" \
    "auth_mechanisms.1 = PLAIN" \
    "auth_mechanisms.2 = AMQPLAIN" \
    "auth_mechanisms.3 = EXTERNAL" \
    "ssl_cert_login_from = common_name" | $sudo_cmd tee "$tls_conf" >/dev/null
fi

start_broker() {
  if [ -x /etc/init.d/rabbitmq-server ]; then
    $sudo_cmd /etc/init.d/rabbitmq-server start >/dev/null || $sudo_cmd rabbitmq-server -detached
  else
    $sudo_cmd rabbitmq-server -detached
  fi
}
# nameko's test fixtures create a throw-away vhost per test through the management API.
if $sudo_cmd rabbitmqctl -q status >/dev/null 2>&1; then
  $sudo_cmd rabbitmq-plugins enable rabbitmq_management rabbitmq_auth_mechanism_ssl >/dev/null
  if [ -n "$tls_is_new" ] || ! tls_listens; then  # TLS settings are read at boot only
    echo "Restarting rabbitmq-server for its TLS listener..."
    $sudo_cmd rabbitmqctl -q stop >/dev/null
    start_broker
  fi
else
  $sudo_cmd rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_auth_mechanism_ssl >/dev/null
  echo "Starting rabbitmq-server..."
  start_broker
fi
for _ in $(seq 1 60); do
  answers && tls_listens && {
    echo "RabbitMQ is up (AMQP localhost:5672, AMQP over TLS localhost:5671, management localhost:15672)."
    exit 0
  }
  sleep 1
done
echo "RabbitMQ did not answer on $mgmt and on 5671 (TLS) within 60 s" >&2
exit 1
