"""Steps 4 to 6 of the layered layout (see `flowtui.graph.layout`): order each layer to cut
crossings, place nodes along x, and give horizontal edge pieces their own track rows.

Pure functions of integer node ids and their neighbour lists; deterministic.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right, insort

BOX_GAP = 3
"""Columns between two boxes, or a box and an edge lane, in the same layer (odd, like box
widths, so two siblings sit symmetrically under their parent)."""
LANE_GAP = 1
"""Columns between two edge lanes (dummy nodes) in the same layer."""

# -- 4. ordering ----------------------------------------------------------------------------

SWEEPS = 4


def order_layers(
    layers: list[list[int]], lsucc: list[list[int]], lpred: list[list[int]]
) -> list[list[int]]:
    pos = [0] * len(lsucc)
    for nodes in layers:
        for i, v in enumerate(nodes):
            pos[v] = i
    best = [list(nodes) for nodes in layers]
    best_crossings = _crossings(layers, lsucc, pos)
    if best_crossings == 0:
        return best
    for _ in range(SWEEPS):
        for lay in range(1, len(layers)):
            _sort_by_barycenter(layers[lay], lpred, pos)
        for lay in range(len(layers) - 2, -1, -1):
            _sort_by_barycenter(layers[lay], lsucc, pos)
        crossings = _crossings(layers, lsucc, pos)
        if crossings < best_crossings:
            best_crossings = crossings
            best = [list(nodes) for nodes in layers]
            if crossings == 0:
                break
    return best


def _sort_by_barycenter(nodes: list[int], neighbours: list[list[int]], pos: list[int]) -> None:
    keys: dict[int, tuple[float, int]] = {}
    for v in nodes:
        near = neighbours[v]
        bary = sum(pos[u] for u in near) / len(near) if near else float(pos[v])
        keys[v] = (bary, pos[v])
    nodes.sort(key=keys.__getitem__)
    for i, v in enumerate(nodes):
        pos[v] = i


def _crossings(layers: list[list[int]], lsucc: list[list[int]], pos: list[int]) -> int:
    total = 0
    for nodes in layers[:-1]:
        ends = sorted((pos[v], pos[w]) for v in nodes for w in lsucc[v])
        seen: list[int] = []
        for _, b in ends:
            total += len(seen) - bisect_right(seen, b)
            insort(seen, b)
    return total


# -- 5. x coordinates -----------------------------------------------------------------------

X_SWEEPS = 3


def assign_x(
    layers: list[list[int]],
    lsucc: list[list[int]],
    lpred: list[list[int]],
    widths: list[int],
    ports: list[int],
    is_dummy: list[bool],
) -> list[int]:
    xs = [0] * len(widths)
    offsets: list[list[int]] = []
    for nodes in layers:
        offs: list[int] = []
        x = 0
        prev: int | None = None
        for v in nodes:
            if prev is not None:
                x += widths[prev] + (LANE_GAP if is_dummy[prev] and is_dummy[v] else BOX_GAP)
            offs.append(x)
            xs[v] = x
            prev = v
        offsets.append(offs)

    def place(lay: int, neighbours: list[list[int]]) -> bool:
        """Move a layer toward its neighbours; say whether anything moved."""
        nodes = layers[lay]
        if len(nodes) == 1:
            v = nodes[0]
            near = neighbours[v]
            if not near:
                return False
            x = math.floor(sum(xs[u] + ports[u] for u in near) / len(near) - ports[v] + 0.5)
            moved = x != xs[v]
            xs[v] = x
            return moved
        targets: list[float] = []
        weights: list[float] = []
        for i, v in enumerate(nodes):
            near = neighbours[v]
            if near:
                centre = sum(xs[u] + ports[u] for u in near) / len(near)
                weight = 2.0 if is_dummy[v] else 1.0
            else:
                centre = xs[v] + ports[v]
                weight = 0.5
            targets.append(centre - ports[v] - offsets[lay][i])
            weights.append(weight)
        moved = False
        for i, shift in enumerate(_isotonic(targets, weights)):
            x = math.floor(shift + 0.5) + offsets[lay][i]
            moved = moved or x != xs[nodes[i]]
            xs[nodes[i]] = x
        return moved

    for _ in range(X_SWEEPS):
        moved = False
        for lay in range(1, len(layers)):
            moved = place(lay, lpred) or moved
        for lay in range(len(layers) - 2, -1, -1):
            moved = place(lay, lsucc) or moved
        if not moved:
            break
    for lay in range(1, len(layers)):
        place(lay, lpred)
    return xs


def _isotonic(targets: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` (weighted least squares), by PAV."""
    sums: list[float] = []
    totals: list[float] = []
    counts: list[int] = []
    for t, w in zip(targets, weights, strict=True):
        sums.append(t * w)
        totals.append(w)
        counts.append(1)
        while len(sums) > 1 and sums[-2] / totals[-2] > sums[-1] / totals[-1]:
            s, tw, c = sums.pop(), totals.pop(), counts.pop()
            sums[-1] += s
            totals[-1] += tw
            counts[-1] += c
    out: list[float] = []
    for s, tw, c in zip(sums, totals, counts, strict=True):
        out.extend([s / tw] * c)
    return out


# -- 6. tracks ------------------------------------------------------------------------------


def assign_tracks(
    upper: list[int], lsucc: list[list[int]], port_x: list[int]
) -> tuple[dict[tuple[int, int], int], int]:
    """Give the edge pieces between a layer and the next their horizontal track rows.

    Pieces that fan out of one node, or fan into one node, share a track (they meet there
    anyway); other pieces get tracks whose spans do not touch. A group that leaves a column
    takes a track above every group that arrives in that column, so a line never seems to
    flow from one edge into an unrelated one. Returns the track of every bent piece and the
    number of tracks.
    """
    segments = [(a, b) for a in upper for b in lsucc[a]]
    if not segments:
        return {}, 0
    outdeg: dict[int, int] = {}
    indeg: dict[int, int] = {}
    for a, b in segments:
        outdeg[a] = outdeg.get(a, 0) + 1
        indeg[b] = indeg.get(b, 0) + 1
    nets: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    for a, b in segments:
        if outdeg[a] > 1:
            key = ("s", a, 0)
        elif indeg[b] > 1:
            key = ("t", b, 0)
        else:
            key = ("e", a, b)
        nets.setdefault(key, []).append((a, b))
    bent = [
        (key, segs) for key, segs in nets.items() if any(port_x[a] != port_x[b] for a, b in segs)
    ]
    if not bent:
        return {}, 0
    spans: list[tuple[int, int]] = []
    leaves: dict[int, list[int]] = {}  # column -> nets whose source sits there
    arrives: dict[int, list[int]] = {}  # column -> nets that end there
    for i, (_, segs) in enumerate(bent):
        cols = [port_x[a] for a, _ in segs] + [port_x[b] for _, b in segs]
        spans.append((min(cols), max(cols)))
        for a, b in segs:
            leaves.setdefault(port_x[a], []).append(i)
            arrives.setdefault(port_x[b], []).append(i)
    above: list[set[int]] = [set() for _ in bent]  # above[j]: nets that must sit above j
    for col, sources in leaves.items():
        for j in arrives.get(col, ()):
            for i in sources:
                if i != j:
                    above[j].add(i)
    waiting = [len(s) for s in above]
    below: list[list[int]] = [[] for _ in bent]
    for j, s in enumerate(above):
        for i in sorted(s):
            below[i].append(j)
    ready = [(spans[i], i) for i in range(len(bent)) if waiting[i] == 0]
    heapq.heapify(ready)
    placed = [False] * len(bent)
    track = [0] * len(bent)
    rows: list[list[tuple[int, int]]] = []
    for _ in range(len(bent)):
        if ready:
            _, i = heapq.heappop(ready)
        else:  # contradictory constraints (only in odd broken graphs): take the leftmost
            i = min((spans[k], k) for k in range(len(bent)) if not placed[k])[1]
        placed[i] = True
        lo, hi = spans[i]
        t = max((track[k] + 1 for k in above[i] if placed[k]), default=0)
        while t < len(rows) and any(not (hi + 1 < a or b + 1 < lo) for a, b in rows[t]):
            t += 1
        if t == len(rows):
            rows.append([])
        rows[t].append((lo, hi))
        track[i] = t
        for j in below[i]:
            waiting[j] -= 1
            if waiting[j] == 0 and not placed[j]:
                heapq.heappush(ready, (spans[j], j))
    assignment: dict[tuple[int, int], int] = {}
    for i, (_, segs) in enumerate(bent):
        for a, b in segs:
            if port_x[a] != port_x[b]:
                assignment[(a, b)] = track[i]
    return assignment, len(rows)
