# bench/lib-dyn.sh: helpers of the stand-alone bench scripts (dynamic.sh,
# issue9.sh, h2.sh), sourced after they set OUT (results file), CG (their
# cgroup v1 directory) and CPU_QUOTA (percent; empty: none).

log() { echo "$*" | tee -a "$OUT"; }

# cap PID: the process under a CFS quota of CPU_QUOTA % (cgroup v1).
cap() {
    [ -z "$CPU_QUOTA" ] && return 0
    mkdir -p "$CG" && echo 10000 >"$CG/cpu.cfs_period_us" &&
        echo $((CPU_QUOTA * 100)) >"$CG/cpu.cfs_quota_us" && echo "$1" >"$CG/cgroup.procs"
}

# uncap: what is left in CG back to the root group, and CG removed.
uncap() {
    [ -d "$CG" ] || return 0
    xargs -r -n1 -I{} sh -c 'echo {} > /sys/fs/cgroup/cpu/cgroup.procs' <"$CG/cgroup.procs" 2>/dev/null
    rmdir "$CG" 2>/dev/null
}

# wait_http URL: true once URL answers (5 s at most).
wait_http() {
    for _ in $(seq 100); do
        curl -sk -o /dev/null "$1" && return 0
        sleep 0.05
    done
    return 1
}

# machine_line: the CPU model, count and kernel, for a results header.
machine_line() {
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -r)"
}
