#!/usr/bin/env bash
# A throw-away one-node Slurm cluster (Debian's slurm 22.05 + munge), all of
# whose files (conf, key, sockets, pid files, logs, state) live in DIR.
#   cluster.sh start DIR     install if needed, start, wait for the node; writes DIR/env
#   cluster.sh stop DIR      cancel jobs, stop daemons; idempotent (use in trap ... EXIT)
# start exits 77 after printing "skipped: <why>" when Slurm can't be installed.
# Typical caller:  cluster.sh start "$d" || ...; trap 'cluster.sh stop "$d"' EXIT; . "$d/env"
set -eu -o pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
dir=$(realpath -m "$dir")
export SLURM_CONF=$dir/slurm.conf
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
running() { local s; s=$(ps -o stat= -p "$1") && [ "${s:0:1}" != Z ]; }  # zombies count as gone
alive() { [ -f "$dir/$1.pid" ] && running "$(cat "$dir/$1.pid")"; }

install_slurm() {
  command -v sbatch >/dev/null && command -v slurmctld >/dev/null &&
    command -v slurmd >/dev/null && command -v munged >/dev/null && return 0
  [ "$(id -u)" = 0 ] || { echo "skipped: Slurm is not installed and we are not root"; exit 77; }
  command -v apt-get >/dev/null || { echo "skipped: Slurm is not installed and there is no apt-get"; exit 77; }
  local t pol=/usr/sbin/policy-rc.d made='' ok=1; t=$(now)
  # Keep the packages' init scripts from starting system-wide daemons.
  [ -e $pol ] || { printf '#!/bin/sh\nexit 101\n' >$pol; chmod +x $pol; made=1; }
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o Dpkg::Use-Pty=0 install
             --no-install-recommends slurmctld slurmd slurm-client munge)
  "${apt[@]}" >"$dir/apt.log" 2>&1 || { apt-get -qq update >>"$dir/apt.log" 2>&1 && "${apt[@]}" >>"$dir/apt.log" 2>&1; } || ok=''
  [ -z "$made" ] || rm -f $pol
  [ -n "$ok" ] || { echo "skipped: apt-get install of Slurm failed (see $dir/apt.log)"; exit 77; }
  echo "installed Slurm in $(since "$t")"
}

free_port() {  # 127.0.0.1 port nobody listens on
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_conf() {
  # Ports derive from DIR so that two clusters don't clash; skip busy ones.
  local p=$(( 20000 + $(printf %s "$dir" | cksum | cut -d' ' -f1) % 10000 * 2 )) i user mem
  for i in $(seq 50); do free_port $p && free_port $((p + 1)) && break; p=$((p + 2)); done
  user=$(id -un) mem=$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)
  cat >"$SLURM_CONF" <<EOF
ClusterName=repro
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$p
SlurmdPort=$((p + 1))
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
MpiDefault=none
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
DependencyParameters=kill_invalid_depend
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
# Refuse at submission a job that no node could ever run (else: pending forever).
EnforcePartLimits=ALL
# Start jobs at once, not up to 3 s after submission.
SchedulerParameters=batch_sched_delay=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

# Daemons run in the foreground under nohup so that $! is their pid at once:
# stop then works even after a start that died half-way.
daemon() {  # NAME CMD...
  local name=$1; shift
  nohup "$@" </dev/null >>"$dir/$name.out" 2>&1 &
  echo $! >"$dir/$name.pid"
}

wait_for() {  # SECONDS WHAT CMD...: poll CMD until it succeeds
  local secs=$1 what=$2 i; shift 2
  for i in $(seq $((secs * 5))); do "$@" && return 0; sleep 0.2; done
  echo "error: timed out after ${secs}s waiting for $what" >&2
  for f in "$dir"/*.log "$dir"/*.out; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
  return 1
}

node_idle() { [ "$(sinfo -h -N -n localhost -o %t 2>/dev/null)" = idle ]; }

start() {
  mkdir -p "$dir"
  install_slurm
  local t; t=$(now)
  mkdir -p "$dir/state" "$dir/spool"
  write_conf
  [ -f "$dir/munge.key" ] || { dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none; chmod 600 "$dir/munge.key"; }
  # --force: munged refuses a socket whose folders are not all world-searchable
  # (mktemp -d makes 0700); only our own user talks to it. -F logs to munged.out.
  daemon munged munged -F --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
    --pid-file="$dir/munged.pid" --seed-file="$dir/munged.seed"
  wait_for 10 munged test -S "$dir/munge.socket"
  daemon slurmctld slurmctld -D -i
  daemon slurmd slurmd -D -N localhost
  wait_for 60 "the node to be idle" node_idle
  printf 'export SLURM_CONF=%q\n' "$SLURM_CONF" >"$dir/env"
  echo "started in $(since "$t"); . $dir/env"
}

kill_tree() {  # SIGNAL PID: a process and all its descendants
  local c; for c in $(pgrep -P "$2" || true); do kill_tree "$1" "$c"; done
  kill "-$1" "$2" 2>/dev/null || true
}

stop() {
  local t i name pid; t=$(now)
  [ -f "$SLURM_CONF" ] || { echo "stopped (nothing to stop)"; return 0; }
  if alive slurmctld; then
    scancel --quiet --user="$(id -un)" 2>/dev/null || true
    for i in $(seq 150); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for name in slurmd slurmctld munged; do
    alive $name || continue
    pid=$(cat "$dir/$name.pid"); kill -TERM "$pid"
    for i in $(seq 50); do running "$pid" || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # Steps left by a job the dead controller couldn't cancel: find them by our conf.
  for pid in $(pgrep -x slurmstepd || true); do
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qx "SLURM_CONF=$SLURM_CONF" && kill_tree KILL "$pid"
  done
  rm -f "$dir"/*.pid "$dir/env"
  echo "stopped in $(since "$t")"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
