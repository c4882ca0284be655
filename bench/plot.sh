#!/usr/bin/env bash
# Plots bench/results/latest.json with gnuplot: delivered packets/s and CPU
# per packet by mode and size, the latency percentiles by mode, and (when
# the file has them) the pktgen and iperf3 workloads.
# Writes bench/results/throughput.{png,svg}, latency.{png,svg} and
# workloads.{png,svg}.
set -euo pipefail
json=${1:-bench/results/latest.json}
out=$(dirname "$json")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$json" "$tmp" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
OVER = "_over_nfring"
def order(modes):
    # As bench/report.py shows them: MODE_over_nfring (the NFQUEUE consumer
    # over nfring) next to MODE (the same consumer over nfnetlink_queue).
    out = [m for m in modes if not (m.endswith(OVER) and m[:-len(OVER)] in modes)]
    for m in modes:
        if m not in out:
            out.insert(out.index(m[:-len(OVER)]) + 1, m)
    return out
modes = []
for t in r["throughput"]:
    if t["mode"] not in modes:
        modes.append(t["mode"])
modes = order(modes)
tp = {(t["mode"], t["size"]): t for t in r["throughput"]}
with open(sys.argv[2] + "/tp.dat", "w") as f:
    for m in modes:
        a, b = tp.get((m, 64), {}), tp.get((m, 1500), {})
        f.write(f"{m} {a.get('delivered_pps', 0)} {b.get('delivered_pps', 0)} "
                f"{a.get('cpu_us_per_pkt', 0)} {b.get('cpu_us_per_pkt', 0)}\n")
lat = {l["mode"]: l for l in r["latency"]}
with open(sys.argv[2] + "/lat.dat", "w") as f:
    for l in (lat[m] for m in order(list(lat))):
        f.write(f"{l['mode']} {l['p50_us']} {l['p90_us']} {l['p99_us']} {l['p999_us']}\n")
pg = {(t["mode"], t["size"]): t for t in r.get("pktgen", [])}
pgmodes = []
for t in r.get("pktgen", []):
    if t["mode"] not in pgmodes:
        pgmodes.append(t["mode"])
pgmodes = order(pgmodes)
if pg and r.get("tcp"):
    with open(sys.argv[2] + "/pg.dat", "w") as f:
        for m in pgmodes:
            a, b = pg.get((m, 64), {}), pg.get((m, 1500), {})
            f.write(f"{m} {a.get('delivered_pps', 0)} {b.get('delivered_pps', 0)}\n")
    tcp = {t["mode"]: t for t in r["tcp"]}
    with open(sys.argv[2] + "/tcp.dat", "w") as f:
        for t in (tcp[m] for m in order(list(tcp))):
            f.write(f"{t['mode']} {t['mbit_s']} {t['mbit_s_min']} {t['mbit_s_max']}\n")
with open(sys.argv[2] + "/title", "w") as f:
    f.write(f"kernel {r['kernel']}, {r['accel']}, {r['vcpus']} vCPUs, median of {r['runs']} runs")
PY

title=$(cat "$tmp/title")
# Clustered bars, as every chart below draws them.
bars='set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by 45 right
set grid ytics'
for fmt in png svg; do
	if [ "$fmt" = png ]; then term="pngcairo size 1100,520"; else term="svg size 1100,520"; fi
	gnuplot <<GP
set terminal $term noenhanced
set output "$out/throughput.$fmt"
set multiplot layout 1,2 title "nfring vs NFQUEUE: UDP through the FORWARD hook ($title)"
$bars
set key top right
set ylabel "delivered packets/s"
set title "throughput"
plot "$tmp/tp.dat" using 2:xtic(1) title "64 B", "" using 3 title "1500 B"
set ylabel "CPU µs per delivered packet (all vCPUs)"
set title "CPU per packet"
set logscale y
plot "$tmp/tp.dat" using 4:xtic(1) title "64 B", "" using 5 title "1500 B"
unset multiplot
GP
	gnuplot <<GP
set terminal $term noenhanced
set output "$out/latency.$fmt"
set key outside right top
set title "UDP ping-pong round trip at idle ($title)"
$bars
set logscale y
set ylabel "µs"
plot "$tmp/lat.dat" using 2:xtic(1) title "p50", "" using 3 title "p90", \
     "" using 4 title "p99", "" using 5 title "p99.9"
GP
	[ -s "$tmp/pg.dat" ] || continue
	gnuplot <<GP
set terminal $term noenhanced
set output "$out/workloads.$fmt"
set multiplot layout 1,2 title "pktgen and TCP bulk through the FORWARD hook ($title)"
$bars
set key top right
set ylabel "delivered packets/s"
set title "pktgen (netif_receive into the box)"
set yrange [0:*]
plot "$tmp/pg.dat" using 2:xtic(1) title "64 B", "" using 3 title "1500 B"
set ylabel "Mbit/s"
set title "TCP bulk, iperf3 (median, min-max)"
set style histogram errorbars gap 1 lw 1
plot "$tmp/tcp.dat" using 2:3:4:xtic(1) notitle
unset multiplot
GP
done
plots="$out/throughput.png $out/latency.png"
[ -s "$tmp/pg.dat" ] && plots+=" $out/workloads.png"
echo "plots: $plots (and .svg)"
