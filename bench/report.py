#!/usr/bin/env python3
"""Print bench/results/latest.json as tables, with the ratios the
benchmark issue sets as targets (measured in one VM boot)."""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json"
with open(path) as f:
    r = json.load(f)

OVER = "_over_nfring"


def ordered(rows):
    """Rows in the file's order, except that each MODE_over_nfring row
    (the NFQUEUE consumer over nfring, run in the nfring phase) follows
    the rows of MODE (the same consumer over nfnetlink_queue, run later)
    when the file has them."""
    modes = {t["mode"] for t in rows}
    moved = [t for t in rows
             if t["mode"].endswith(OVER) and t["mode"][:-len(OVER)] in modes]
    out = [t for t in rows if not any(t is m for m in moved)]
    for t in moved:
        base = t["mode"][:-len(OVER)]
        at = max(i for i, u in enumerate(out) if u["mode"] in (base, t["mode"]))
        out.insert(at + 1, t)
    return out


# The mode column: as wide as the longest name (16 before the
# *_over_nfring modes).
mw = max([16] + [len(t["mode"]) for w in ("throughput", "latency", "pktgen",
                                           "tcp") for t in r.get(w, [])])

print(f"kernel {r['kernel']}, accel {r['accel']}, {r['vcpus']} vCPUs, "
      f"{r['runs']} runs of {r['seconds_per_run']} s per point (median shown)")
print()
hdr = (f"{'mode':<{mw}} {'size':>5} {'sent pps':>9} {'deliv pps':>9} "
       f"{'min':>7} {'max':>7} {'cpu us/pkt':>10} {'usr':>6} {'sys':>6} "
       f"{'sirq':>6} {'sysc/pkt':>8} {'ctx/pkt':>7} {'q drops':>8}")
print(hdr)
print("-" * len(hdr))
tp = {(t["mode"], t["size"]): t for t in r["throughput"]}
for t in ordered(r["throughput"]):
    print(f"{t['mode']:<{mw}} {t['size']:>5} {t['sent_pps']:>9} "
          f"{t['delivered_pps']:>9} {t['delivered_pps_min']:>7} "
          f"{t['delivered_pps_max']:>7} {t['cpu_us_per_pkt']:>10.1f} "
          f"{t['cpu_user_us']:>6.1f} {t['cpu_sys_us']:>6.1f} "
          f"{t['cpu_softirq_us']:>6.1f} {t['syscalls_per_pkt']:>8.3f} "
          f"{t['ctxsw_per_pkt']:>7.3f} {t['queue_drops']:>8}")
print()
lw = max(24, mw)
print(f"{'latency (UDP ping-pong)':<{lw}} {'samples':>7} {'p50 us':>8} "
      f"{'p90 us':>8} {'p99 us':>8} {'p99.9 us':>9}")
lat = {l["mode"]: l for l in r["latency"]}
for l in ordered(r["latency"]):
    print(f"{l['mode']:<{lw}} {l['samples']:>7} {l['p50_us']:>8.0f} "
          f"{l['p90_us']:>8.0f} {l['p99_us']:>8.0f} {l['p999_us']:>9.0f}")


pg = {(t["mode"], t["size"]): t for t in r.get("pktgen", [])}
if pg:
    print()
    print("pktgen (in-kernel generator, netif_receive into the box)")
    hdr = (f"{'mode':<{mw}} {'size':>5} {'inject pps':>10} {'deliv pps':>9} "
           f"{'min':>7} {'max':>7} {'cpu us/pkt':>10} {'q drops':>8} "
           f"{'sysc/pkt':>8}")
    print(hdr)
    print("-" * len(hdr))
    for t in ordered(r["pktgen"]):
        print(f"{t['mode']:<{mw}} {t['size']:>5} {t['injected_pps']:>10} "
              f"{t['delivered_pps']:>9} {t['delivered_pps_min']:>7} "
              f"{t['delivered_pps_max']:>7} {t['cpu_us_per_pkt']:>10.1f} "
              f"{t['queue_drops']:>8} {t.get('syscalls_per_pkt', 0):>8.3f}")

tcp = {t["mode"]: t for t in r.get("tcp", [])}
if tcp:
    print()
    print("TCP bulk (iperf3, one stream)")
    hdr = (f"{'mode':<{mw}} {'Mbit/s':>8} {'min':>8} {'max':>8} {'retrans':>8} "
           f"{'cpu us/MB':>10} {'queued pkts':>11} {'q drops':>8}")
    print(hdr)
    print("-" * len(hdr))
    for t in ordered(r["tcp"]):
        print(f"{t['mode']:<{mw}} {t['mbit_s']:>8.1f} {t['mbit_s_min']:>8.1f} "
              f"{t['mbit_s_max']:>8.1f} {t['retransmits']:>8} "
              f"{t['cpu_us_per_mb']:>10.1f} {t.get('queued_pkts', 0):>11} "
              f"{t.get('queue_drops', 0):>8}")

print()
print("targets (ratios within this run):")


def check(name, value, op, limit):
    ok = value >= limit if op == ">=" else value <= limit
    shown = f"{value:.3f}" if value < 0.1 else f"{value:.2f}"
    print(f"  {'met ' if ok else 'MISS'} {name}: {shown} (target {op} {limit})")


for size in (64, 1500):
    nq = tp.get(("noqueue", size))
    nr = tp.get(("nfring", size))
    nfq = tp.get(("nfqueue", size))
    if not (nq and nr and nfq):
        continue
    check(f"{size} B delivered pps, nfring / no queue",
          nr["delivered_pps"] / nq["delivered_pps"], ">=", 0.95)
    check(f"{size} B delivered pps, nfring / NFQUEUE per-packet",
          nr["delivered_pps"] / nfq["delivered_pps"], ">=", 4)
    check(f"{size} B CPU per packet, nfring / no queue",
          nr["cpu_us_per_pkt"] / nq["cpu_us_per_pkt"], "<=", 1.25)
    check(f"{size} B worker syscalls per packet",
          nr["syscalls_per_pkt"], "<=", 0.01)
if "noqueue" in lat and "nfring" in lat and "nfqueue" in lat:
    check("idle RTT p50, nfring / no queue",
          lat["nfring"]["p50_us"] / lat["noqueue"]["p50_us"], "<=", 1.3)
    check("idle RTT p99, nfring / NFQUEUE",
          lat["nfring"]["p99_us"] / lat["nfqueue"]["p99_us"], "<=", 1.0)
    if "nfring_busypoll" in lat:
        check("idle RTT p50, nfring busy-poll / no queue",
              lat["nfring_busypoll"]["p50_us"] / lat["noqueue"]["p50_us"],
              "<=", 1.3)
        check("idle RTT p99, nfring busy-poll / NFQUEUE",
              lat["nfring_busypoll"]["p99_us"] / lat["nfqueue"]["p99_us"],
              "<=", 1.0)
for size in (64, 1500):
    nr, nfb = pg.get(("nfring", size)), pg.get(("nfqueue_batch", size))
    if nr and nfb and nfb["delivered_pps"]:
        check(f"pktgen {size} B delivered pps, nfring / NFQUEUE batch-32",
              nr["delivered_pps"] / nfb["delivered_pps"], ">=", 2)
    if nr and "syscalls_per_pkt" in nr:
        check(f"pktgen {size} B worker syscalls per packet",
              nr["syscalls_per_pkt"], "<=", 0.01)

missing = [w for w, have in (("the pktgen workload", pg), ("TCP bulk", tcp))
           if not have]
if missing:
    print(f"  (not in this file: {', '.join(missing)})")

# Not targets: what the DPI rules and TCP cost, for reading the tables.
notes = []
for size in (64, 1500):
    d, nr = tp.get(("nfring_dpi", size)), tp.get(("nfring", size))
    if d and nr and nr["delivered_pps"] and nr["cpu_us_per_pkt"]:
        notes.append(f"{size} B nfring with the DPI rules / accept-all: "
                     f"{d['delivered_pps'] / nr['delivered_pps']:.2f}x the "
                     f"rate, {d['cpu_us_per_pkt'] / nr['cpu_us_per_pkt']:.2f}x "
                     f"the CPU per packet")
for base in ("noqueue", "nfqueue_batch", "nfqueue"):
    if "nfring" in tcp and base in tcp and tcp[base]["mbit_s"]:
        notes.append(f"TCP Mbit/s, nfring / {base}: "
                     f"{tcp['nfring']['mbit_s'] / tcp[base]['mbit_s']:.2f}")
if notes:
    print()
    print("other ratios (no target):")
    for n in notes:
        print(f"  {n}")


def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"


def pps_and_cpu(label, o, b):
    return (f"{label}: delivered pps "
            f"{ratio(o['delivered_pps'], b['delivered_pps'])}, "
            f"CPU per packet "
            f"{ratio(o['cpu_us_per_pkt'], b['cpu_us_per_pkt'])}")


# The same NFQUEUE program (nfring-nfq-consumer, same flags) over
# libnetfilter_queue over nfring and over nfnetlink_queue, in this run.
over = []
for base in ("nfqueue", "nfqueue_batch"):
    mode = base + OVER
    for size in (64, 1500):
        o, b = tp.get((mode, size)), tp.get((base, size))
        if o and b:
            over.append(pps_and_cpu(f"{size} B UDP, {mode} / {base}", o, b)
                        + f"; syscalls per packet "
                        f"{o['syscalls_per_pkt']:.3f} vs "
                        f"{b['syscalls_per_pkt']:.3f}")
    if mode in lat and base in lat:
        o, b = lat[mode], lat[base]
        over.append(f"idle RTT, {mode} / {base}: p50 "
                    f"{ratio(o['p50_us'], b['p50_us'])}, p99 "
                    f"{ratio(o['p99_us'], b['p99_us'])}")
    for size in (64, 1500):
        o, b = pg.get((mode, size)), pg.get((base, size))
        if o and b:
            over.append(pps_and_cpu(f"pktgen {size} B, {mode} / {base}",
                                    o, b))
    if mode in tcp and base in tcp:
        over.append(f"TCP, {mode} / {base}: Mbit/s "
                    f"{ratio(tcp[mode]['mbit_s'], tcp[base]['mbit_s'])}")
if over:
    print()
    print("the NFQUEUE consumer over nfring / over nfnetlink_queue "
          "(one binary, this run; no target):")
    for n in over:
        print(f"  {n}")
