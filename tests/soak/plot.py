#!/usr/bin/env python3
"""Draws the soak's samples (tests/tests/soak.rs, MQTTX_SOAK_CSV) as an SVG:
RSS, the live heap and open file descriptors over time.

    python3 tests/soak/plot.py /tmp/soak.csv book/src/soak.svg

Standard library only, so it runs on a fresh machine.
"""

import csv
import sys

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 70, 40, 50


def main(source, target):
    with open(source, newline="") as f:
        rows = [
            (
                float(r["seconds"]),
                int(r["rss_kib"]) / 1024,
                int(r["fds"]),
                int(r["cuts"]),
                int(r.get("heap_kib") or 0) / 1024,
            )
            for r in csv.DictReader(f)
        ]
    if not rows:
        sys.exit("no samples in " + source)
    t_max = max(r[0] for r in rows) or 1
    rss_max = max(r[1] for r in rows) * 1.2 or 1
    fds_max = max(r[2] for r in rows) * 1.2 or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t):
        return LEFT + t / t_max * plot_w

    def y(value, top):
        return TOP + plot_h - value / top * plot_h

    def line(points, colour):
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="20" font-size="14">Soak: {rows[-1][3]} cuts of 100 connections, '
        f"{t_max / 60:.0f} min</text>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="black"/>',
        f'<line x1="{LEFT + plot_w}" y1="{TOP}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="black"/>',
    ]
    for i in range(6):
        t = t_max * i / 5
        out.append(f'<text x="{x(t):.0f}" y="{TOP + plot_h + 18}" text-anchor="middle">{t / 60:.0f} min</text>')
        rss = rss_max * i / 5
        out.append(f'<text x="{LEFT - 6}" y="{y(rss, rss_max) + 4:.0f}" text-anchor="end" fill="#1f77b4">{rss:.0f}</text>')
        fds = fds_max * i / 5
        out.append(
            f'<text x="{LEFT + plot_w + 6}" y="{y(fds, fds_max) + 4:.0f}" fill="#d62728">{fds:.0f}</text>'
        )
    out.append(f'<text x="{LEFT - 6}" y="{TOP - 8}" text-anchor="end" fill="#1f77b4">MiB: RSS,</text>')
    if any(r[4] for r in rows):
        out.append(f'<text x="{LEFT + 4}" y="{TOP - 8}" fill="#2ca02c">live heap</text>')
    out.append(f'<text x="{LEFT + plot_w + 6}" y="{TOP - 8}" fill="#d62728">open fds</text>')
    out.append(line([(x(r[0]), y(r[1], rss_max)) for r in rows], "#1f77b4"))
    if any(r[4] for r in rows):
        out.append(line([(x(r[0]), y(r[4], rss_max)) for r in rows], "#2ca02c"))
    out.append(line([(x(r[0]), y(r[2], fds_max)) for r in rows], "#d62728"))
    out.append("</svg>")
    with open(target, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
