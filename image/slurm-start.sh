#!/bin/bash
# lumi-node-slurm-start: starts the test node's miniature Slurm cluster inside the
# page's sandbox (the snippet runner runs it for a page marked `<!-- snippets: slurm -->`).
# slurmctld and one slurmd per node run in the foreground of background jobs of the
# page's shell, as the page's user, so they end with the page's sandbox.
# The configuration comes from the layer (image/slurm_config.py); here it gets free
# loopback ports (of the page's own network namespace), a fresh key, and the
# page's /tmp for state, spool and logs (/etc/slurm links there).
set -eu
SOURCE=/appl/lumi/node/slurm
STATE=/tmp/.lumi-node-slurm
WAIT=90  # seconds for the nodes to register: 30 s may be too few on a 2-core machine that
         # runs the tests and `make bench` at once; the wait ends as soon as they are idle

die() { echo "lumi-node-slurm-start: $*" >&2; exit 1; }
[ -f "$SOURCE/slurm.conf.in" ] || die "no Slurm configuration in $SOURCE (layer not built?)"
[ -w /run ] || die "/run is not writable; slurmctld needs /run/slurmctld"
[ ! -e "$STATE/etc/slurm.conf" ] || die "Slurm is already running in this page's node"

mapfile -t nodes <"$SOURCE/nodes"
mkdir -p "$STATE/etc" "$STATE/state" "$STATE/log"
for node in "${nodes[@]}"; do mkdir -p "$STATE/spool/$node"; done
cp "$SOURCE/gres.conf" "$SOURCE/cgroup.conf" "$SOURCE/job_submit.lua" "$STATE/etc/"
# Ports the kernel hands out as free on loopback, held open until all are chosen.
read -r -a ports < <(python3 -c '
import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' $((${#nodes[@]} + 1)))
substitute=(-e "s/@CTLD_PORT@/${ports[0]}/")
for index in "${!nodes[@]}"; do
    substitute+=(-e "s/@PORT_${nodes[index]}@/${ports[index + 1]}/")
done
sed "${substitute[@]}" "$SOURCE/slurm.conf.in" >"$STATE/etc/slurm.conf"
(umask 077 && head -c 64 /dev/urandom >"$STATE/etc/slurm.key")

deadline=$((SECONDS + WAIT))
/usr/sbin/slurmctld -D -i >>"$STATE/log/slurmctld.out" 2>&1 </dev/null &
# One slurmd at a time: each binds the one /run/slurm/sack.socket of this "host" (auth/slurm)
# after removing the one before it, and two started at once can both remove it and then
# race to bind, which kills the loser ("Unable to bind UNIX socket: Address already in use").
for node in "${nodes[@]}"; do
    /usr/sbin/slurmd -D -N "$node" >>"$STATE/log/slurmd-$node.out" 2>&1 </dev/null &
    pid=$!
    until grep -qs "slurmd started on" "$STATE/log/slurmd-$node.log"; do
        kill -0 "$pid" 2>/dev/null || { tail -n 5 "$STATE/log/slurmd-$node".* >&2; die "slurmd of $node ended at its start"; }
        [ $SECONDS -lt $deadline ] || die "slurmd of $node did not start within $WAIT s"
        sleep 0.02
    done
done
until [ -z "$(sinfo -h -N -o '%T' 2>/dev/null | grep -v -x idle)" ] && sinfo -h >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
        echo "lumi-node-slurm-start: the nodes did not register within $WAIT s:" >&2
        sinfo -N >&2 || true
        tail -n 5 "$STATE"/log/*.log >&2 || true
        exit 1
    fi
    sleep 0.05
done
