#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for testing the SLURM launcher (make slurm-test).
#
#   bash scripts/slurm-local.sh start    install Debian's SLURM and munge if missing, start the daemons,
#                                      wait until the node is idle (a no-op when already running)
#   bash scripts/slurm-local.sh status   print sinfo
#   bash scripts/slurm-local.sh stop     stop the daemons this script started
#
# Debian's slurm-wlm (22.05 on Debian 12). No systemd: munged, slurmctld and slurmd are started
# by hand; their state, logs and PID files live in $SLURM_LOCAL_DIR (default /tmp/slurm-local).
# The configuration is written to /etc/slurm/slurm.conf (where sinfo, sbatch and scancel look),
# marked as this script's: a slurm.conf that is not this script's is never overwritten.
# Needs root, or sudo. The partition is called `debug`.
set -euo pipefail

STATE=${SLURM_LOCAL_DIR:-/tmp/slurm-local}
CONF=/etc/slurm/slurm.conf
MARK="# written by scripts/slurm-local.sh"
PACKAGES="slurm-wlm slurm-client slurmctld slurmd munge"
START_TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}

die() { echo "slurm-local: error: $*" >&2; exit 1; }
say() { echo "slurm-local: $*"; }

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    SUDO="none"
fi
as_root() {
    [ "$SUDO" != none ] || die "this needs root: run it as root or install sudo"
    $SUDO "$@"
}

# the PID in a PID file, if that process is alive
alive_pid() {
    local pid
    pid=$(as_root cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && as_root kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# the node's name as slurmd sees it (hostname -s; the hostname command may be missing in a container)
short_hostname() { hostname -s 2>/dev/null || uname -n | cut -d. -f1; }

install_packages() {
    local missing="" p
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing packages:$missing, and no apt-get to install them (Debian or Ubuntu needed)"
    say "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # a fresh machine may have no package lists yet
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
        as_root apt-get update -q >/dev/null
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
    } || die "could not install$missing"
}

write_conf() {
    if as_root test -e "$CONF" && ! as_root grep -qF "$MARK" "$CONF"; then
        die "$CONF exists and is not this script's: not overwriting it (a real SLURM installation?)"
    fi
    local host cpus mem
    host=$(short_hostname)
    cpus=$(nproc)
    mem=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)  # MB, a little under the total
    as_root mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" "$STATE/log"
    as_root tee "$CONF" >/dev/null <<EOF
$MARK: a single-node cluster for tests (state and logs in $STATE)
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    if as_root test ! -s /etc/munge/munge.key; then
        say "creating a munge key"
        as_root mkdir -p /etc/munge
        as_root sh -c 'umask 077; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null'
        as_root chown munge:munge /etc/munge/munge.key
        as_root chmod 400 /etc/munge/munge.key
    fi
    if alive_pid /run/munge/munged.pid >/dev/null; then
        return 0
    fi
    as_root mkdir -p /run/munge /var/log/munge /var/lib/munge
    as_root chown munge:munge /run/munge /var/log/munge /var/lib/munge
    as_root runuser -u munge -- /usr/sbin/munged
    as_root touch "$STATE/munged.ours"  # stop stops it only if we started it
    local i
    for i in $(seq 50); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "munged does not answer (see /var/log/munge/munged.log)"
}

node_state() { sinfo -h -N -o '%t' 2>/dev/null | head -n1; }

log_tails() {
    local f
    for f in "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log"; do
        echo "---- last lines of $f" >&2
        as_root tail -n 20 "$f" >&2 2>/dev/null || echo "(none)" >&2
    done
}

start() {
    local t0 state
    t0=$(date +%s.%N)
    if alive_pid "$STATE/slurmctld.pid" >/dev/null && alive_pid "$STATE/slurmd.pid" >/dev/null; then
        case "$(node_state)" in
            idle|mix|alloc) say "already running (state and logs in $STATE)"; return 0 ;;
        esac
    fi
    install_packages
    as_root mkdir -p "$STATE"
    write_conf
    start_munge
    alive_pid "$STATE/slurmctld.pid" >/dev/null || as_root slurmctld -i
    alive_pid "$STATE/slurmd.pid" >/dev/null || as_root slurmd
    local deadline=$(( $(date +%s) + START_TIMEOUT ))
    while :; do
        state=$(node_state)
        case "$state" in
            idle|mix|alloc) break ;;
        esac
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log_tails
            die "the node is not idle after ${START_TIMEOUT} s (state: ${state:-no answer from slurmctld}); logs in $STATE/log"
        fi
        sleep 0.5
    done
    say "running: partition debug, node $(short_hostname), $(nproc) CPUs; started in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
    say "state and logs in $STATE; stop with: bash scripts/slurm-local.sh stop"
}

stop_pidfile() {
    local name=$1 file=$2 pid i
    pid=$(alive_pid "$file") || { as_root rm -f "$file"; return 0; }
    as_root kill "$pid"
    for i in $(seq 100); do
        as_root kill -0 "$pid" 2>/dev/null || { say "stopped $name"; as_root rm -f "$file"; return 0; }
        sleep 0.1
    done
    say "$name (pid $pid) did not stop in 10 s: killing it"
    as_root kill -9 "$pid" 2>/dev/null || true
    as_root rm -f "$file"
}

stop() {
    stop_pidfile slurmd "$STATE/slurmd.pid"
    stop_pidfile slurmctld "$STATE/slurmctld.pid"
    if as_root test -e "$STATE/munged.ours"; then
        stop_pidfile munged /run/munge/munged.pid
        as_root rm -f "$STATE/munged.ours"
    fi
}

status() {
    command -v sinfo >/dev/null 2>&1 || die "SLURM is not installed (run: bash scripts/slurm-local.sh start)"
    sinfo || die "slurmctld does not answer (start it: bash scripts/slurm-local.sh start; logs in $STATE/log)"
    squeue
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
