#!/bin/sh
# As the official image: without a config file, redis-server accepts clients from outside the container.
set -eu
if [ "${1:-}" = redis-server ]; then
    shift
    exec runuser -u redis -- redis-server --protected-mode no --dir /var/lib/redis "$@"
fi
exec "$@"
