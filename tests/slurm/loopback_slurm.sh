#!/usr/bin/env bash
# A single-node SLURM cluster on loopback, for testing the workflow's SLURM profile for real.
#
#   loopback_slurm.sh start <dir>    install the Debian packages if missing, start the cluster
#   loopback_slurm.sh stop <dir>     stop it and put /etc/slurm/slurm.conf back as it was
#   loopback_slurm.sh status [<dir>] say what runs (exit 0 only if every daemon is up)
#
# Everything lives in <dir>: configs, MariaDB data, spool, logs and one PID file per daemon
# (<dir>/pids/). Daemons: munged (own key and socket in <dir>), MariaDB (slurmdbd's database),
# slurmdbd, slurmctld and slurmd, each in the foreground under nohup and setsid, bound to
# 127.0.0.1 on free ports, and stopped by their recorded PID. After `start`, <dir>/cluster.env
# names the account and partition to submit to.
#
# Accounting is real (slurmdbd + MariaDB): the executor's default job-status query is sacct,
# as on real clusters, and it must work. Without slurmdbd, sacct fails and the executor
# silently forgets its jobs and waits forever.
#
# Jobs strip SLURM_CONF before they call srun, so the config must be found at
# /etc/slurm/slurm.conf: while the cluster runs, that is a symlink to <dir>/etc/slurm.conf.
# Whatever was there before is moved to /etc/slurm/slurm.conf.loopback-backup and put back by
# `stop`.
#
# Must run as root. `start` and `stop` are idempotent; a failed `start` stops what it started.
# Exit status: 0 done, 1 failed, 2 usage, 3 this machine cannot keep SLURM on loopback (its
# hostname does not resolve to a loopback address).
set -euo pipefail

# The names the test submits with (also written to <dir>/cluster.env).
readonly CLUSTER_NAME=loopback
readonly ACCOUNT=clustermix
readonly PARTITION=loopback
# Packages, and a command each provides (to tell whether it is installed).
readonly PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
readonly COMMANDS=(munged slurmctld slurmd sbatch sacct sacctmgr slurmdbd mariadbd mariadb-install-db)
# The system's config path that jobs read (Trap 1), and where an existing file is kept.
readonly ETC_DIR=/etc/slurm
readonly ETC_CONF=$ETC_DIR/slurm.conf
readonly ETC_BACKUP=$ETC_DIR/slurm.conf.loopback-backup
# The first line of every slurm.conf this script writes: how we recognise our symlink.
readonly MARKER="# Written by loopback_slurm.sh"
# Daemons, in start order.
readonly DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)
# The memory the node offers, at least: the workflow's rules ask for what a production-size
# run needs (up to 16 GB for one fit), a test machine may have less, and nothing enforces
# memory limits here (task/none), so the node may offer more than the machine has.
readonly MIN_NODE_MEMORY_MB=32000
# Seconds to wait for a daemon to come up, or to exit after SIGTERM.
readonly WAIT_S=60

log() { printf 'loopback_slurm: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

require_root() {
	[[ $(id -u) == 0 ]] || die "must run as root (it installs packages and writes $ETC_CONF)"
}

# --- packages ---------------------------------------------------------------------------

missing_commands() {
	local cmd
	for cmd in "${COMMANDS[@]}"; do
		command -v "$cmd" >/dev/null 2>&1 || printf '%s\n' "$cmd"
	done
}

# Install the Debian packages when any command is missing. Package scripts must not start
# the services (we start our own daemons): a policy-rc.d that forbids it is put in place
# for the install if there is none.
install_packages() {
	[[ -z $(missing_commands) ]] && return 0
	command -v apt-get >/dev/null 2>&1 || die "missing $(missing_commands | xargs) and no apt-get"
	log "installing ${PACKAGES[*]}"
	local policy=/usr/sbin/policy-rc.d created_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\n# Temporary, from loopback_slurm.sh: do not start services.\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		created_policy=1
	fi
	local status=0
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${PACKAGES[@]}" >/dev/null; } || status=$?
	((created_policy)) && rm -f "$policy"
	((status == 0)) || die "apt-get install failed ($status)"
	[[ -z $(missing_commands) ]] || die "still missing after install: $(missing_commands | xargs)"
}

# --- helpers ----------------------------------------------------------------------------

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first port from $1 on that nothing listens on.
free_port() {
	local port=$1
	while port_in_use "$port"; do
		port=$((port + 1))
		((port < 65000)) || die "no free port"
	done
	printf '%s\n' "$port"
}

pid_file() { printf '%s/pids/%s.pid\n' "$1" "$2"; }

# Is process $1 alive? A zombie is not (the daemons' parent is init, which reaps them late).
is_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != [ZX] ]]
}

# The PID of daemon $2 of cluster $1 if it is alive and still that program, else nothing.
live_pid() {
	local file pid comm
	file=$(pid_file "$1" "$2")
	[[ -s $file ]] || return 1
	pid=$(<"$file")
	is_alive "$pid" || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	# Guard against PID reuse: the process must be the daemon we started.
	[[ $comm == "$2" ]] || return 1
	printf '%s\n' "$pid"
}

# Start daemon $2 of cluster $1: the command that follows, in the foreground under nohup in
# a session of its own (so a Ctrl-C of the caller does not reach it), output in its log.
start_daemon() {
	local dir=$1 name=$2
	shift 2
	setsid nohup "$@" >"$dir/log/$name.out" 2>&1 </dev/null &
	local pid=$!
	printf '%s\n' "$pid" >"$(pid_file "$dir" "$name")"
	# setsid execs (it is not a group leader here) and so does nohup: $! is the daemon.
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] && is_alive "$pid" && return 0
		is_alive "$pid" || break
		sleep 0.1
	done
	tail -n 20 "$dir/log/$name.out" >&2 || true
	die "$name did not start (see $dir/log/)"
}

# Wait until the command that follows succeeds, at most WAIT_S seconds; $1 names what for.
# On a timeout, the command's last output tells why.
wait_for() {
	local what=$1 output
	shift
	local deadline=$((SECONDS + WAIT_S))
	until output=$("$@" 2>&1); do
		((SECONDS < deadline)) || die "timed out waiting for $what; last output: ${output:-none}"
		sleep 0.5
	done
}

# Is /etc/slurm/slurm.conf a symlink written by this script (for any directory)?
etc_conf_is_ours() {
	[[ -L $ETC_CONF ]] || return 1
	local target
	target=$(readlink "$ETC_CONF")
	# A dangling symlink is of no use to anyone: treat it as a stale one of ours.
	[[ ! -e $target ]] && return 0
	[[ $(head -n 1 "$target") == "$MARKER"* ]]
}

# --- configuration ----------------------------------------------------------------------

# With NoInAddrAny, the daemons bind the address that this machine's hostname resolves to:
# only a loopback address keeps the cluster off the network. Exit 3 (not 1) otherwise, so
# that a caller can tell "cannot run here" from "failed".
require_loopback_hostname() {
	local addr
	addr=$(getent ahostsv4 "$(hostname)" | awk 'NR == 1 { print $1 }')
	if [[ $addr != 127.* ]]; then
		log "hostname $(hostname) resolves to '${addr:-nothing}', not a loopback address:"
		log "SLURM would listen on it. Map it to 127.0.1.1 in /etc/hosts to run this cluster."
		exit 3
	fi
}

# Write <dir>/etc/{slurm,slurmdbd}.conf and <dir>/cluster.env; set NODE, DB_PORT, DB_PASS.
NODE=
DB_PORT=
DB_PASS=
write_configs() {
	local dir=$1 host ctld_port slurmd_port dbd_port db_port db_pass node
	host=$(hostname -s)
	ctld_port=$(free_port 6817)
	slurmd_port=$(free_port $((ctld_port + 1)))
	dbd_port=$(free_port $((slurmd_port + 1)))
	db_port=$(free_port 3306)
	db_pass=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
	NODE=$host
	DB_PORT=$db_port
	DB_PASS=$db_pass
	# This machine's CPUs, sockets, cores and threads as slurmd sees them, and at least
	# MIN_NODE_MEMORY_MB of memory (see there).
	node=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //')
	local memory_mb
	memory_mb=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")
	((memory_mb >= MIN_NODE_MEMORY_MB)) || memory_mb=$MIN_NODE_MEMORY_MB
	# shellcheck disable=SC2001  # a regular expression, not a glob
	node=$(sed "s/RealMemory=[0-9]*/RealMemory=$memory_mb/" <<<"$node")

	cat >"$dir/etc/slurm.conf" <<EOF
$MARKER for $dir: a single node on loopback.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
# Bind loopback only (not INADDR_ANY).
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No systemd or cgroups needed.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# Take the node's CPUs and memory from this file, not the hardware (see MIN_NODE_MEMORY_MB).
SlurmdParameters=config_overrides
MailProg=/bin/true
MinJobAge=300
# Accounting through slurmdbd, with accounts enforced (as a real cluster does).
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbd_port
AccountingStoragePass=$dir/munge/munge.socket.2
AccountingStorageEnforce=associations
JobCompType=jobcomp/none
NodeName=$host NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

	cat >"$dir/etc/slurmdbd.conf" <<EOF
$MARKER for $dir.
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket.2
DbdHost=$host
DbdAddr=127.0.0.1
DbdPort=$dbd_port
CommunicationParameters=NoInAddrAny
SlurmUser=root
LogFile=$dir/log/slurmdbd.log
PidFile=$dir/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=$db_pass
StorageLoc=slurm_acct_db
EOF
	chmod 600 "$dir/etc/slurmdbd.conf"

	# What a client needs to know (KEY=value lines).
	cat >"$dir/cluster.env" <<EOF
SLURM_CONF=$dir/etc/slurm.conf
CLUSTER=$CLUSTER_NAME
ACCOUNT=$ACCOUNT
PARTITION=$PARTITION
NODE=$host
EOF
}

# Put our slurm.conf at /etc/slurm/slurm.conf (a symlink), keeping what was there.
link_etc_conf() {
	local dir=$1
	mkdir -p "$ETC_DIR"
	if [[ -e $ETC_CONF || -L $ETC_CONF ]] && ! etc_conf_is_ours; then
		[[ -e $ETC_BACKUP || -L $ETC_BACKUP ]] && die "$ETC_BACKUP exists already; resolve by hand"
		mv "$ETC_CONF" "$ETC_BACKUP"
		log "kept the existing $ETC_CONF as $ETC_BACKUP"
	fi
	ln -sfn "$dir/etc/slurm.conf" "$ETC_CONF"
}

# Remove our symlink (only if it points into $1, or is dangling) and restore the backup.
unlink_etc_conf() {
	local dir=$1
	if etc_conf_is_ours; then
		local target
		target=$(readlink "$ETC_CONF")
		if [[ $target == "$dir/etc/slurm.conf" || ! -e $target ]]; then
			rm -f "$ETC_CONF"
		fi
	fi
	if [[ (-e $ETC_BACKUP || -L $ETC_BACKUP) && ! -e $ETC_CONF && ! -L $ETC_CONF ]]; then
		mv "$ETC_BACKUP" "$ETC_CONF"
		log "restored $ETC_CONF"
	fi
}

# --- start / stop -----------------------------------------------------------------------

all_running() {
	local dir=$1 name
	for name in "${DAEMONS[@]}"; do
		live_pid "$dir" "$name" >/dev/null || return 1
	done
	[[ $(readlink "$ETC_CONF" 2>/dev/null) == "$dir/etc/slurm.conf" ]]
}

mariadb_args() {
	local dir=$1
	printf '%s\n' --no-defaults --datadir="$dir/mysql/data" --user=root \
		--innodb-log-file-size=16M --innodb-buffer-pool-size=64M
}

# The EXIT trap of a start that failed.
STARTING_DIR=
on_start_failure() {
	local status=$?
	((status != 0)) || return 0
	log "start failed (exit $status); stopping what started; logs in $STARTING_DIR/log"
	cmd_stop "$STARTING_DIR" || true
}

cmd_start() {
	local dir=$1
	require_root
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	if all_running "$dir"; then
		log "already running from $dir"
		return 0
	fi
	# Another cluster of ours that is alive would compete for the symlink: refuse.
	if etc_conf_is_ours; then
		local other
		other=$(readlink "$ETC_CONF")
		other=${other%/etc/slurm.conf}
		if [[ $other != "$dir" ]] && [[ -d $other ]] && all_running "$other"; then
			die "a loopback cluster runs from $other; stop it first"
		fi
	fi
	require_loopback_hostname
	install_packages
	# Start from a clean slate (a half-started earlier attempt included).
	cmd_stop "$dir" 2>/dev/null || true
	rm -rf "${dir:?}"/{etc,munge,mysql,spool,run,log,pids,cluster.env}
	mkdir -p "$dir"/{etc,munge,mysql,spool/ctld,spool/d,run,log,pids}
	chmod 700 "$dir" "$dir/munge"
	# A failure from here on (set -e or die: both exit) stops whatever has started and
	# restores /etc/slurm; the trap is dropped on success.
	STARTING_DIR=$dir
	trap on_start_failure EXIT

	write_configs "$dir"
	link_etc_conf "$dir"
	export SLURM_CONF=$dir/etc/slurm.conf

	# munge: its own key and socket.
	mungekey --create --keyfile="$dir/munge/munge.key"
	chmod 600 "$dir/munge/munge.key"
	start_daemon "$dir" munged munged --foreground --force \
		--key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket.2" \
		--pid-file="$dir/run/munged.pid" --seed-file="$dir/munge/munged.seed" \
		--log-file="$dir/log/munged.log"
	wait_for munged bash -c "munge -n -S '$dir/munge/munge.socket.2' | unmunge -S '$dir/munge/munge.socket.2'"

	# MariaDB on loopback, with a database user for slurmdbd.
	local -a db_args
	mapfile -t db_args < <(mariadb_args "$dir")
	mariadb-install-db "${db_args[@]}" --auth-root-authentication-method=socket \
		--skip-test-db >"$dir/log/mariadb-install.log" 2>&1 ||
		{
			tail -n 20 "$dir/log/mariadb-install.log" >&2
			die "mariadb-install-db failed"
		}
	start_daemon "$dir" mariadbd mariadbd "${db_args[@]}" --bind-address=127.0.0.1 \
		--port="$DB_PORT" --socket="$dir/mysql/mysqld.sock" --pid-file="$dir/run/mariadbd.pid" \
		--skip-name-resolve --log-error="$dir/log/mariadb.log"
	wait_for MariaDB mariadb-admin --no-defaults --socket="$dir/mysql/mysqld.sock" ping
	mariadb --no-defaults --socket="$dir/mysql/mysqld.sock" -e "
		CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
		GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"

	# slurmdbd, then the cluster, account and user (root) in it.
	start_daemon "$dir" slurmdbd slurmdbd -D
	wait_for slurmdbd sacctmgr -n list cluster
	sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null
	sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER_NAME" description=test organization=test >/dev/null
	sacctmgr -i add user root account="$ACCOUNT" cluster="$CLUSTER_NAME" >/dev/null

	start_daemon "$dir" slurmctld slurmctld -D -i -f "$SLURM_CONF"
	wait_for slurmctld scontrol ping
	start_daemon "$dir" slurmd slurmd -D -f "$SLURM_CONF" -N "$NODE"
	wait_for "node $NODE to be idle" bash -c "sinfo -h -n '$NODE' -o %T | grep -qx idle"
	# One job through srun, as the executor's job step will do.
	timeout 60 srun -A "$ACCOUNT" -p "$PARTITION" -n 1 -t 1 --mem=100 true ||
		die "a test job failed (see $dir/log/)"
	trap - EXIT
	log "running from $dir (account $ACCOUNT, partition $PARTITION)"
}

# Stop the daemons of cluster $1 by their recorded PIDs, and restore /etc/slurm.
cmd_stop() {
	local dir=$1
	require_root
	[[ -d $dir ]] && dir=$(cd "$dir" && pwd -P)
	# Jobs first, so no job step outlives its slurmd.
	if live_pid "$dir" slurmctld >/dev/null; then
		SLURM_CONF=$dir/etc/slurm.conf scancel -p "$PARTITION" 2>/dev/null || true
		local i
		for ((i = 0; i < 20; i++)); do
			[[ -z $(SLURM_CONF=$dir/etc/slurm.conf squeue -h -o %i 2>/dev/null) ]] && break
			sleep 0.5
		done
	fi
	# SIGTERM to every daemon at once (slurmctld alone takes seconds to shut down), then
	# SIGKILL to any that is still there after WAIT_S / 2 seconds.
	local name pid
	local -a pids=()
	for name in "${DAEMONS[@]}"; do
		if pid=$(live_pid "$dir" "$name"); then
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
	done
	local deadline=$((SECONDS + WAIT_S / 2))
	for pid in "${pids[@]}"; do
		while is_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
		if is_alive "$pid"; then
			log "$(cat "/proc/$pid/comm" 2>/dev/null) ($pid) ignored SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	for name in "${DAEMONS[@]}"; do rm -f "$(pid_file "$dir" "$name")"; done
	unlink_etc_conf "$dir"
}

cmd_status() {
	local dir=${1:-}
	if [[ -z $dir ]]; then
		etc_conf_is_ours || {
			echo "no loopback cluster ($ETC_CONF is not ours)"
			return 1
		}
		dir=$(readlink "$ETC_CONF")
		dir=${dir%/etc/slurm.conf}
	fi
	[[ -d $dir ]] || {
		echo "no loopback cluster in $dir"
		return 1
	}
	dir=$(cd "$dir" && pwd -P)
	local name pid ok=0
	for name in "${DAEMONS[@]}"; do
		if pid=$(live_pid "$dir" "$name"); then
			printf '%-10s running (pid %s)\n' "$name" "$pid"
		else
			printf '%-10s not running\n' "$name"
			ok=1
		fi
	done
	printf '%-10s %s\n' "$ETC_CONF" "$(readlink "$ETC_CONF" 2>/dev/null || echo '(not a symlink)')"
	if ((ok == 0)); then
		SLURM_CONF=$dir/etc/slurm.conf sinfo || true
		SLURM_CONF=$dir/etc/slurm.conf squeue || true
	fi
	return "$ok"
}

main() {
	(($# >= 1)) || usage
	case $1 in
	start)
		(($# == 2)) || usage
		cmd_start "$2"
		;;
	stop)
		(($# == 2)) || usage
		cmd_stop "$2"
		;;
	status)
		(($# <= 2)) || usage
		cmd_status "${2:-}"
		;;
	*) usage ;;
	esac
}

main "$@"
