# Helpers for the fleet tests: a PostgreSQL cluster of the test's own (run
# as nobody, in $T/pg), and jaild nodes, each in a network namespace of
# its own with its own config, store, socket and kernel sets.
# Source after lib.sh; call fleet_setup, then fleet_node NAME per node.

FLEET_NODES=
FLEET_PIDS=

# Find initdb/pg_ctl and check what the fleet tests need.
fleet_check() {
	[ "$(id -u)" = 0 ] || e2e_skip "needs root (namespaces, nftables, runs PostgreSQL as nobody)"
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] ||
		e2e_skip "PostgreSQL is not installed (initdb not found)"
	for c in ip nft setpriv psql; do
		command -v $c >/dev/null || e2e_skip "$c is not installed"
	done
	grep -q 'HAVE_LIBPQ=1' "$top_builddir/Makefile" 2>/dev/null ||
		e2e_skip "jaild was built without libpq (configure --with-libpq)"
	[ -n "${FLEET_ACTION:-}" ] || e2e_need nftables
}

# Run a PostgreSQL command as nobody (in namespace $FLEET_PG_NS if set).
fleet_pg_as() {
	${FLEET_PG_NS:+ip netns exec "$FLEET_PG_NS"} \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    --inh-caps=-all "$@"
}

# Make and start the cluster: a Unix socket in $T/pgsock and, with
# FLEET_PG_TCP=ADDR set, TCP on ADDR:$FLEET_PG_PORT as well.
fleet_pg_start() {
	chmod 755 "$T"
	mkdir -p "$T/pg" "$T/pgsock"
	chown nobody:nogroup "$T/pg" "$T/pgsock"
	if [ ! -f "$T/pg/PG_VERSION" ]; then
		fleet_pg_as "$PGBIN/initdb" -D "$T/pg" -U jaild --auth=trust \
		    -E UTF8 --no-sync >"$T/initdb.log" 2>&1 || {
			cat "$T/initdb.log" >&2
			e2e_fail "initdb failed"
			exit 1
		}
		cat >>"$T/pg/postgresql.conf" <<EOC
unix_socket_directories = '$T/pgsock'
listen_addresses = '${FLEET_PG_TCP:-}'
port = ${FLEET_PG_PORT:-5432}
fsync = off
max_connections = 50
shared_buffers = 32MB
EOC
		echo "host all all 0.0.0.0/0 trust" >>"$T/pg/pg_hba.conf"
	fi
	fleet_pg_as "$PGBIN/pg_ctl" -D "$T/pg" -l "$T/pgsock/pg.log" -w -t 30 \
	    start >/dev/null || {
		tail -20 "$T/pgsock/pg.log" >&2
		e2e_fail "PostgreSQL did not start"
		exit 1
	}
	FLEET_PG_UP=1
}

fleet_pg_stop() {
	[ "${FLEET_PG_UP:-0}" = 1 ] || return 0
	fleet_pg_as "$PGBIN/pg_ctl" -D "$T/pg" -m fast -w -t 30 stop \
	    >/dev/null 2>&1
	FLEET_PG_UP=0
}

# psql against the test cluster.
fleet_psql() {
	psql -X -q -t -A -h "$T/pgsock" -p "${FLEET_PG_PORT:-5432}" -U jaild \
	    -d postgres "$@"
}

# Stop every node's jaild (by PID), PostgreSQL, the namespaces.
fleet_cleanup() {
	local n
	for n in $FLEET_NODES; do fleet_stop "$n"; done
	fleet_pg_stop
	for n in $FLEET_NODES; do ip netns del "jf-$n-$$" 2>/dev/null; done
	[ -n "${FLEET_PG_NS:-}" ] && ip netns del "$FLEET_PG_NS" 2>/dev/null
	e2e_cleanup
}

fleet_setup() {
	fleet_check
	e2e_setup
	trap fleet_cleanup EXIT
	FLEET_URL="host=$T/pgsock port=${FLEET_PG_PORT:-5432} user=jaild dbname=postgres"
}

# fleet_node NAME [URL]: a namespace jf-NAME-PID, a config in $T/NAME
# with one jail "mail" (sendmail-idle, native nftables, fleet = $FLEET_MODE)
# reading $T/NAME/mail.log.
fleet_node() {
	local n=$1 url=${2:-$FLEET_URL} d=$T/$1
	ip netns add "jf-$n-$$" || e2e_skip "cannot create network namespaces"
	FLEET_NODES="$FLEET_NODES $n"
	ip netns exec "jf-$n-$$" ip link set lo up
	mkdir -p "$d/conf/jails.d" "$d/run"
	cp -r "$top_srcdir/filters" "$top_srcdir/actions" "$d/conf/"
	: >"$d/mail.log"
	cat >"$d/conf/jaild.conf" <<EOC
[jaild]
socket = $d/run/jaild.sock
dbfile = $d/jaild.db

[fleet]
url = $url
node = $n

[DEFAULT]
ignoreip = 127.0.0.0/8 ::1 ${FLEET_IGNORE:-}
EOC
	cat >"$d/conf/jails.d/mail.conf" <<EOC
[mail]
enabled = true
filter = sendmail-idle
action = ${FLEET_ACTION:-nftables}
logpath = $d/mail.log
port = 25
maxretry = ${FLEET_MAXRETRY:-2}
findtime = 10m
bantime = ${FLEET_BANTIME:-1h}
fleet = ${FLEET_MODE:-share}
EOC
}

# fleet_db_ns: put PostgreSQL in a namespace of its own, listening on TCP;
# fleet_link N I then joins node N to it over a veth pair (10.213.I.2 on
# the node, 10.213.I.1 on the database side) and prints the node's url.
fleet_db_ns() {
	FLEET_PG_NS=jf-db-$$
	ip netns add "$FLEET_PG_NS" || e2e_skip "cannot create network namespaces"
	ip netns exec "$FLEET_PG_NS" ip link set lo up
	FLEET_PG_TCP='*'
}

fleet_link() {
	local n=$1 i=$2
	ip link add "jfn$i-$$" netns "jf-$n-$$" type veth \
	    peer name "jfd$i-$$" netns "$FLEET_PG_NS" || e2e_skip "cannot create a veth pair"
	fleet_in "$n" ip link set "jfn$i-$$" name eth0
	fleet_in "$n" ip addr add "10.213.$i.2/24" dev eth0
	fleet_in "$n" ip link set eth0 up
	ip netns exec "$FLEET_PG_NS" ip addr add "10.213.$i.1/24" dev "jfd$i-$$"
	ip netns exec "$FLEET_PG_NS" ip link set "jfd$i-$$" up
}

# Run a command inside node N's namespace.
fleet_in() {
	local n=$1
	shift
	ip netns exec "jf-$n-$$" "$@"
}

fleet_start() {
	local n=$1 d=$T/$1 pid
	# ip netns exec execs jaild: $! is jaild's own pid (a function run
	# in the background would be a subshell, and kill would miss it).
	ip netns exec "jf-$n-$$" "$JAILD" -f -v -c "$d/conf" \
	    >>"$d/jaild.log" 2>&1 &
	pid=$!
	eval "FLEET_PID_$n=$pid"
	e2e_wait 10 "jaild $n answers" \
	    'kill -0 '$pid' && fjc '$n' status' || {
		e2e_fail "jaild $n did not start"
		tail -20 "$d/jaild.log" >&2
		exit 1
	}
}

# fleet_stop N [SIGNAL]: stop node N's jaild and wait (bounded).
fleet_stop() {
	local n=$1 sig=${2:-TERM} pid i
	eval "pid=\${FLEET_PID_$n:-}"
	[ -n "$pid" ] || return 0
	kill -s "$sig" "$pid" 2>/dev/null
	for i in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -s KILL "$pid"
	{ wait "$pid"; } 2>/dev/null
	eval "FLEET_PID_$n="
}

fjc() {
	local n=$1
	shift
	"$JAILCTL" -S "$T/$n/run/jaild.sock" "$@"
}

# Node N's kernel set of single IPv4 addresses, sorted, one a line.
fleet_elems() {
	fleet_in "$1" nft -j list set inet jaild mail_v4 2>/dev/null |
	    jq -r '.nftables[] | .set? // empty | .elem[]? |
	    (if type == "object" and has("elem") then .elem.val else . end) |
	    if type == "object" then "\(.prefix.addr)/\(.prefix.len)" else . end' |
	    sort
}

fleet_in_set() {
	fleet_elems "$1" | grep -qxF "$2"
}

# The active bans of node N's store, "addr origin", sorted.
fleet_store_bans() {
	sqlite3 "$T/$1/jaild.db" "SELECT addr || ' ' || coalesce(origin, '-') FROM bans WHERE active = 1 ORDER BY addr"
}

# fleet_fail N ADDR [COUNT]: COUNT idle lines (default 1) of ADDR in N's log.
fleet_fail() {
	local i
	for i in $(seq 1 "${3:-1}"); do
		e2e_idle_line "$2" "$T/$1/mail.log"
	done
}

# fleet_storm N PREFIX COUNT: one idle line for each of COUNT addresses
# PREFIX.X.Y (X.Y from 0.1 on), appended to N's log in one write.
fleet_storm() {
	local stamp
	stamp=$(e2e_stamp)
	awk -v s="$stamp" -v p="$2" -v n="$3" -v pid=$$ 'BEGIN {
	    for (i = 1; i <= n; i++)
		printf "%s mx sm-mta[%d]: 6ARS%010d: [%s.%d.%d] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv4\n",
		    s, pid, i, p, int(i / 250), i % 250 + 1 }' >"$T/storm.tmp"
	cat "$T/storm.tmp" >>"$T/$1/mail.log"
}

# How many single IPv4 addresses N's kernel set holds.
fleet_count() {
	fleet_elems "$1" | grep -c .
}

# Stop the nodes, fail on any sanitizer report in their logs, and end.
fleet_done() {
	local n
	for n in $FLEET_NODES; do fleet_stop "$n"; done
	for n in $FLEET_NODES; do
		grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:' \
		    "$T/$n/jaild.log" 2>/dev/null &&
			e2e_fail "sanitizer report in $n's log: $(grep -m1 -E 'Sanitizer|runtime error' "$T/$n/jaild.log")"
	done
	e2e_done
}
