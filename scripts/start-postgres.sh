#!/usr/bin/env bash
# A local PostgreSQL for the warehouse tests: 127.0.0.1:5432, user ecm / password ecm (scram-sha-256),
# database ecm_test (C collation, like Redshift's byte order). Idempotent: installs Debian's
# postgresql package when it is missing, reuses a server that already runs, and prints one line
# when ready. Exports nothing; tests read ECM_TEST_PG_DSN or use those defaults.
set -euo pipefail

PORT=5432
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
    AS_PG=(runuser -u postgres --)
else
    SUDO=(sudo -n)
    AS_PG=(sudo -n -u postgres)
fi
# As root, without the lock's descriptor: a server started here must not inherit (and keep) the lock.
as_root() { "${SUDO[@]}" "$@" 9>&-; }

fail() {
    echo "start-postgres: $*" >&2
    [ -s "$LOG" ] && tail -n 20 "$LOG" >&2
    exit 1
}

# One run at a time on this machine (parallel test runs share the server).
exec 9>/tmp/ecm-start-postgres.lock
flock -w 300 9 || fail "another start-postgres.sh is still running (lock /tmp/ecm-start-postgres.lock)"

installed() {
    command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}
if ! installed; then
    echo "start-postgres: installing Debian's postgresql package..." >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOG" 2>&1 \
        || fail "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >"$LOG" 2>&1 \
        || fail "apt-get install postgresql failed"
    installed || fail "postgresql installed, but pg_ctlcluster or the server binary is missing"
fi
VERSION=$(for server in /usr/lib/postgresql/*/bin/postgres; do basename "$(dirname "$(dirname "$server")")"; done \
    | sort -V | tail -n 1)

ready() { pg_isready -q -h 127.0.0.1 -p "$PORT" -t 2; }

# Remove the Unix-socket lock file when the process it names is gone or a zombie.
clear_stale_socket_lock() {
    local lock="/var/run/postgresql/.s.PGSQL.$PORT.lock" pid state
    [ -f "$lock" ] || return 0
    pid=$(head -n 1 "$lock" 2>/dev/null | tr -dc '0-9')
    state=$(awk '/^State:/ {print $2}' "/proc/${pid:-0}/status" 2>/dev/null || true)
    if [ -z "$pid" ] || [ -z "$state" ] || [ "$state" = Z ]; then
        as_root rm -f "$lock" "/var/run/postgresql/.s.PGSQL.$PORT"
    fi
}

if ! ready; then
    # Our cluster: the newest version's "main" (created by the package, or here if missing).
    if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
        as_root pg_createcluster "$VERSION" main --port "$PORT" >"$LOG" 2>&1 \
            || fail "pg_createcluster $VERSION main failed"
    fi
    cluster_port=$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {print $3}')
    if [ "$cluster_port" != "$PORT" ]; then
        as_root pg_conftool "$VERSION" main set port "$PORT" >"$LOG" 2>&1 \
            || fail "could not set the port of cluster $VERSION/main to $PORT"
    fi
    if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" && $4 ~ /online/ {f=1} END {exit !f}'; then
        # A server killed hard (as at the end of a session) can leave a socket lock naming a dead
        # or not-yet-reaped process; clear it and retry for a while before giving up.
        started=no
        for _ in 1 2 3 4 5 6; do
            if as_root pg_ctlcluster "$VERSION" main start >"$LOG" 2>&1; then
                started=yes
                break
            fi
            clear_stale_socket_lock
            sleep 2
        done
        [ "$started" = yes ] \
            || fail "pg_ctlcluster $VERSION main start failed (log: /var/log/postgresql/postgresql-$VERSION-main.log)"
    fi
    for _ in $(seq 1 60); do
        ready && break
        sleep 0.5
    done
    ready || fail "PostgreSQL did not accept connections on 127.0.0.1:$PORT within 30 s"
fi

# The test role and database, over the local socket as the postgres superuser (peer auth).
psql_admin() { "${AS_PG[@]}" psql -p "$PORT" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
psql_admin -d postgres >"$LOG" 2>&1 <<'SQL' || fail "could not create the role ecm"
SET password_encryption = 'scram-sha-256';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ecm') THEN
        CREATE ROLE ecm LOGIN;
    END IF;
END
$$;
ALTER ROLE ecm WITH LOGIN CREATEDB PASSWORD 'ecm';
SQL
if [ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'ecm_test'" 2>"$LOG")" != "1" ]; then
    psql_admin -d postgres -c "CREATE DATABASE ecm_test OWNER ecm TEMPLATE template0 ENCODING 'UTF8' \
        LC_COLLATE 'C' LC_CTYPE 'C'" >"$LOG" 2>&1 || fail "could not create the database ecm_test"
fi

# A throwaway test server: no fsync or synchronous commit (a crash loses only test data, and
# the tests' crash-safety claims rest on transactions, not on durability). Reloadable settings,
# so a server that was already running gets them too.
psql_admin -d postgres >"$LOG" 2>&1 <<'SQL' || fail "could not set the test server's durability settings"
ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET full_page_writes = off;
SELECT pg_reload_conf();
SQL

# Password login over TCP must work; add a scram-sha-256 rule for loopback if the server has none.
login() { PGPASSWORD=ecm psql -h 127.0.0.1 -p "$PORT" -U ecm -d ecm_test -X -qAt -c "SHOW server_version" 2>"$LOG"; }
if ! server_version=$(login); then
    hba=$(psql_admin -d postgres -c "SHOW hba_file")
    as_root sed -i '1i host all ecm 127.0.0.1/32 scram-sha-256' "$hba" || fail "could not edit $hba"
    psql_admin -d postgres -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    server_version=$(login) || fail "password login as ecm on 127.0.0.1:$PORT fails"
fi
echo "PostgreSQL ${server_version%% *} ready on 127.0.0.1:$PORT (user ecm, database ecm_test)"
