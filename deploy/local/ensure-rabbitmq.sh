#!/usr/bin/env bash
# Makes sure a RabbitMQ broker with the management plugin answers on localhost.
# Installs Debian's rabbitmq-server when absent and starts it when stopped. Idempotent.
set -euo pipefail
mgmt="http://localhost:15672/api/overview"

answers() {
  python3 - "$mgmt" <<'PY' 2>/dev/null
import base64, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode()})
urllib.request.urlopen(req, timeout=3).read()
PY
}

answers && exit 0

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
  echo "Installing rabbitmq-server (Debian package)..."
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
fi
export PATH="$PATH:/usr/sbin"
# nameko's test fixtures create a throw-away vhost per test through the management API.
if $sudo_cmd rabbitmqctl -q status >/dev/null 2>&1; then
  $sudo_cmd rabbitmq-plugins enable rabbitmq_management >/dev/null
else
  $sudo_cmd rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  echo "Starting rabbitmq-server..."
  if [ -x /etc/init.d/rabbitmq-server ]; then
    $sudo_cmd /etc/init.d/rabbitmq-server start >/dev/null || $sudo_cmd rabbitmq-server -detached
  else
    $sudo_cmd rabbitmq-server -detached
  fi
fi
for _ in $(seq 1 60); do
  answers && { echo "RabbitMQ is up (AMQP localhost:5672, management localhost:15672)."; exit 0; }
  sleep 1
done
echo "RabbitMQ did not answer on $mgmt within 60 s" >&2
exit 1
