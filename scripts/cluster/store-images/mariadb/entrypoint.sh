#!/bin/sh
# As the official image: a data directory on first start, root reachable from outside the container with
# MARIADB_ROOT_PASSWORD, then mariadbd as the mysql user.
set -eu
if [ "${1:-}" = mariadbd ]; then
    shift
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld /var/lib/mysql
    if [ ! -d /var/lib/mysql/mysql ]; then
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
    fi
    password="${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required}"
    cat > /run/mysqld/init.sql <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '$password';
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
    chown mysql /run/mysqld/init.sql
    exec mariadbd --user=mysql --bind-address=0.0.0.0 --init-file=/run/mysqld/init.sql "$@"
fi
exec "$@"
