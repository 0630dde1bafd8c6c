#!/usr/bin/env bash
# A real Slurm on this one machine, for test/slurm.test.ts: Debian's slurm-wlm and munge, a
# slurm.conf naming this host as the controller and the only node, a munge key, and the three
# daemons. Idempotent: daemons already up on this configuration are left as they are, and a
# slurm.conf this script did not write is never replaced. Needs root (CI runs as root).
set -euo pipefail

MARK="# written by maskpipe's .ci/start-slurm.sh"
CONF=/etc/slurm/slurm.conf

# A daemon is up when a process of that name is, not a zombie: a daemon killed at the end of an
# earlier session can stay <defunct> when nothing reaps it, and pgrep still finds that.
alive() {
  ps -C "$1" -o stat= 2>/dev/null | grep -qv '^Z'
}

node_ready() {
  timeout 5 sinfo --noheader --format=%t 2>/dev/null | grep -qE '^(idle|mix|alloc)'
}

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q slurm-wlm munge >/dev/null; }
fi

# munge: a 1024-byte key readable by munge alone, then the daemon as its own user.
if [ ! -s /etc/munge/munge.key ]; then
  head -c 1024 /dev/urandom >/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! alive munged; then
  runuser -u munge -- /usr/sbin/munged
fi

# slurm.conf: this host, its real CPUs and memory (slurmd -C says them), one partition. The
# scheduler runs every second, so a dependent job starts as soon as its array is done, and a
# requeued job may start again after 5 s (cred_expire; Slurm's default is 120 s).
host=$(hostname -s)
changed=no
if [ ! -f "$CONF" ] || grep -qF "$MARK" "$CONF"; then
  mkdir -p /etc/slurm
  cat >"$CONF.new" <<CONF
$MARK
ClusterName=maskpipe
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
AuthInfo=cred_expire=5
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MinJobAge=300
$(slurmd -C | head -n 1)
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  if cmp -s "$CONF.new" "$CONF"; then rm "$CONF.new"; else mv "$CONF.new" "$CONF" && changed=yes; fi
fi
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

# Daemons this script started on an older slurm.conf are stopped (by their pid files) first.
for daemon in slurmd slurmctld; do
  pidfile=/run/$daemon.pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ "$changed" = yes ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
done
alive slurmctld || slurmctld
alive slurmd || slurmd

for _ in $(seq 60); do
  if node_ready; then
    echo "slurm: up ($(sinfo --noheader --format='%N %t'))"
    exit 0
  fi
  # A node that came back from an earlier run may be marked down: give it back.
  timeout 5 scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
  sleep 1
done
echo "slurm: the node did not become idle; see /var/log/slurm/" >&2
sinfo >&2 || true
exit 1
