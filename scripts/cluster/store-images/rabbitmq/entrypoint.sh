#!/bin/sh
# As the official image: the default user from RABBITMQ_DEFAULT_USER/_PASS, allowed from outside the container,
# the management API on 15672; the node name follows the container's hostname.
set -eu
if [ "${1:-}" = rabbitmq-server ]; then
    cat > /etc/rabbitmq/rabbitmq.conf <<CONF
loopback_users = none
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
listeners.tcp.default = 5672
management.tcp.port = 15672
CONF
    chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
    exec runuser -u rabbitmq -- "$@"
fi
exec "$@"
