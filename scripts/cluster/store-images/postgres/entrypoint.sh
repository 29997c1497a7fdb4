#!/bin/sh
# As the official image: initdb on first start with POSTGRES_PASSWORD for the postgres superuser, password
# authentication from outside the container, then `postgres [args]` as the postgres user.
set -eu
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/data
if [ "${1:-}" = postgres ]; then
    shift
    mkdir -p "$data" /var/run/postgresql
    chown postgres:postgres "$data" /var/run/postgresql
    if [ ! -s "$data/PG_VERSION" ]; then
        printf '%s' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" > /tmp/pwfile
        chown postgres /tmp/pwfile
        runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres --pwfile=/tmp/pwfile \
            --auth-local=trust --auth-host=scram-sha-256 >/dev/null
        rm -f /tmp/pwfile
        echo "host all all 0.0.0.0/0 scram-sha-256" >> "$data/pg_hba.conf"
    fi
    exec runuser -u postgres -- "$bin/postgres" -D "$data" -c listen_addresses='*' "$@"
fi
exec "$@"
