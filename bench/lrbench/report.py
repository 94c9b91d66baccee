"""The one table (text and Markdown) and the dated section appended to docs/PERFORMANCE.md."""


def _fmt(v, digits=2):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def rows(result):
    out = []
    for r in result["rows"]:
        if "error" in r:
            out.append([r["name"], "FAILED", "", "", "", "", "", r["error"][:80]])
            continue
        ours, peer = r.get("ours_s"), r.get("peer_s")
        speedup = peer / ours if ours and peer else None
        eff = r["ours_computed"] / ours if ours and r.get("ours_computed") else None
        floors = {int(k): v for k, v in result["floor_tok_s"].items()}  # JSON turns the keys into strings
        fl = floors.get(r["floor_size"]) if r.get("floor_size") else None
        note = []
        if "agreement_max_abs_diff" in r and r["agreement_max_abs_diff"] is not None:
            note.append(f"max ΔP(A) {r['agreement_max_abs_diff']:.3g} ({r['agreement_pairs']} pairs)")
        if "exact_layout_max_abs_diff" in r:
            note.append(f"max Δscore {r['exact_layout_max_abs_diff']:.3g} same tokens, "
                        f"{r['bon_layout_max_abs_diff']:.3g} BoN layout (scores up to {r['score_scale']:.3g})")
        if "ours_rps" in r:
            note.append(f"req/s {r['ours_rps']:.0f} vs {r['peer_rps']:.0f}; p99 {r['ours_p99_s'] * 1e3:.1f} vs "
                        f"{r['peer_p99_s'] * 1e3:.1f} ms")
        if r.get("context_tokens"):
            note.append(f"ctx {r['context_tokens']} tok")
        if r.get("ours_computed"):
            note.append(f"computed {int(r['ours_computed'])}" + (f" vs {r['peer_computed']}" if r.get("peer_computed") else ""))
        note.append(f"load {r['load_before']}")
        out.append([r["name"], _fmt(ours), _fmt(peer), _fmt(speedup), _fmt(eff, 0), _fmt(fl, 0),
                    _fmt(eff / fl if eff and fl else None), "; ".join(note)])
    return out


HEAD = ["workload", "ours s", "llama-server s", "ratio (peer/ours)", "our effective tok/s", "floor tok/s",
        "ratio to floor", "notes"]


def table(result):
    body = rows(result)
    widths = [max(len(str(x)) for x in col) for col in zip(HEAD, *body)]
    line = lambda cells: " | ".join(str(c).ljust(w) for c, w in zip(cells, widths))
    return "\n".join([line(HEAD), "-+-".join("-" * w for w in widths)] + [line(r) for r in body])


def markdown(result):
    m = result["machine"]
    lines = [f"### {result['date']} ({'--full' if result['full'] else 'default'} run, commit {result['commit']})", "",
             f"Machine: {m['nproc']} CPUs, {m['cpu']}, Linux {m['kernel']}; load average {' '.join(m['loadavg_start'])} "
             f"at start, {' '.join(m['loadavg_end'])} at end (the servers' own two threads count for ~2). Wall {m['wall_s']} s.",
             f"Floor: `{result['floor_command']}` → " + ", ".join(f"pp{k}: {v:.0f} tok/s" for k, v in sorted(result['floor_tok_s'].items(), key=lambda kv: int(kv[0]))) + ".",
             *floor_lines(m),
             "", "| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(result)]
    return "\n".join(lines) + "\n"


def floor_lines(m):
    """Which builds the floor was measured on (the faster one at each size is the floor) and our CPU variant."""
    if "floor_builds" not in m:
        return []
    builds = "; ".join(f"{b}: " + ", ".join(f"pp{k} {v:.0f}" for k, v in sorted(run.items(), key=lambda kv: int(kv[0])))
                       for b, run in m["floor_builds"].items())
    source = ", ".join(f"pp{k} from {b}" for k, b in sorted(m.get("floor_source", {}).items(), key=lambda kv: int(kv[0])))
    lines = [f"Floor builds (tok/s): {builds} → {source}. Our server's CPU variant: {m.get('ours_cpu_variant', '?')}."]
    if m.get("floor_other_repack"):
        other = "; ".join(f"{b}: " + ", ".join(f"pp{k} {v:.0f}" for k, v in sorted(run.items(), key=lambda kv: int(kv[0])))
                          for b, run in m["floor_other_repack"].items())
        lines.append(f"The floor's weights are laid out as our server's (repack {int(m.get('floor_repack', False))}); "
                     f"the other layout, for comparison (tok/s): {other}.")
    return lines


def append_markdown(path, result, _text):
    with open(path, "a") as f:
        f.write("\n" + markdown(result))


if __name__ == "__main__":
    # python3 -m bench.lrbench.report bench/results/FILE.json [--append docs/PERFORMANCE.md]
    import json
    import sys
    res = json.load(open(sys.argv[1]))
    print(table(res))
    print()
    print(markdown(res))
    if len(sys.argv) > 3 and sys.argv[2] == "--append":
        append_markdown(sys.argv[3], res, None)
