#!/usr/bin/env bash
# Makes sure the brokers the tests talk to are up on loopback; starts any that is down.
# NATS with JetStream 4222, Mosquitto 1883, RabbitMQ 5672. Installs them from Debian if missing.
set -uo pipefail
say() { printf '[services] %s\n' "$*"; }
up() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
wait_up() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 1; done; return 1; }

ensure() { # name port install-packages start-command...
  local name=$1 port=$2 pkgs=$3; shift 3
  if up "$port"; then say "$name: up on $port"; return 0; fi
  if ! command -v "${1##*/}" >/dev/null 2>&1 && [ ! -x "$1" ]; then
    say "$name: installing $pkgs"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null
  fi
  say "$name: starting"
  "$@" >/dev/null 2>&1 || true
  if wait_up "$port"; then say "$name: up on $port"; else say "$name: FAILED to start on $port"; return 1; fi
}

rc=0
mkdir -p /var/lib/nats-server
ensure nats 4222 nats-server start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
  -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || rc=1
ensure mosquitto 1883 mosquitto mosquitto -d -c /etc/mosquitto/mosquitto.conf || rc=1
ensure rabbitmq 5672 rabbitmq-server rabbitmq-server -detached || rc=1
exit $rc
