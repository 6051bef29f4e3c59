"""Small exact geometric helpers shared by the other modules: distances to
segments, lengths of closed polylines, nearest points on them, and the
simplification that drops points a path does not need."""
import math


def closest_on_segment(px, py, ax, ay, bx, by):
    """The point of segment ab nearest to p, and the squared distance."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = ((px - ax) * dx + (py - ay) * dy) / len2 if len2 else 0.0
    t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
    qx, qy = ax + t * dx, ay + t * dy
    return qx, qy, (px - qx) ** 2 + (py - qy) ** 2


def distance_to_loop(px, py, loop):
    """Distance from p to the closed polyline loop."""
    best = math.inf
    ax, ay = loop[-1]
    for bx, by in loop:
        best = min(best, closest_on_segment(px, py, ax, ay, bx, by)[2])
        ax, ay = bx, by
    return math.sqrt(best)


def closed_length(points):
    """Length of the closed polyline through points (back to the first)."""
    total = 0.0
    ax, ay = points[-1]
    for bx, by in points:
        total += math.hypot(bx - ax, by - ay)
        ax, ay = bx, by
    return total


def nearest_on_closed(points, px, py):
    """(edge index i, point, squared distance) of the point of the closed
    polyline nearest to p; the point lies on the edge from points[i] to
    points[i + 1] (wrapping). Ties go to the lowest edge index."""
    best = (0, points[0], math.inf)
    n = len(points)
    for i in range(n):
        ax, ay = points[i]
        bx, by = points[(i + 1) % n]
        qx, qy, d2 = closest_on_segment(px, py, ax, ay, bx, by)
        if d2 < best[2]:
            best = (i, (qx, qy), d2)
    return best


def rotate_to_nearest(points, px, py):
    """The closed polyline starting at its point nearest to p (inserted as
    a new vertex when it falls inside an edge)."""
    i, q, _ = nearest_on_closed(points, px, py)
    n = len(points)
    if q == points[i]:
        return points[i:] + points[:i]
    j = (i + 1) % n
    if q == points[j]:
        return points[j:] + points[:j]
    return [q] + points[j:] + points[:j]


def simplify_closed(points, tolerance):
    """Douglas-Peucker on a closed polyline: drops every point that lies
    within tolerance of the chord that replaces it. Runs of collinear points
    collapse to their ends; curves keep what keeps them within tolerance.
    Deterministic: the loop is split at its first point and the point
    farthest from it."""
    n = len(points)
    if n < 4:
        return list(points)
    # Split the loop at its first point and the point farthest from it.
    x0, y0 = points[0]
    far = max(range(n), key=lambda i: ((points[i][0] - x0) ** 2 + (points[i][1] - y0) ** 2, -i))
    if far == 0:
        return [points[0]]
    ring = list(points) + [points[0]]
    keep = bytearray(n + 1)
    keep[0] = keep[far] = keep[n] = 1
    tol2 = tolerance * tolerance
    stack = [(0, far), (far, n)]
    while stack:
        i, j = stack.pop()
        ax, ay = ring[i]
        bx, by = ring[j]
        worst, worst_d2 = -1, tol2
        for k in range(i + 1, j):
            d2 = closest_on_segment(ring[k][0], ring[k][1], ax, ay, bx, by)[2]
            if d2 > worst_d2:
                worst, worst_d2 = k, d2
        if worst >= 0:
            keep[worst] = 1
            stack.append((i, worst))
            stack.append((worst, j))
    kept = [ring[k] for k in range(n) if keep[k]]
    # The anchor itself goes too when it lies on the chord of its neighbours.
    if len(kept) > 3 and closest_on_segment(*kept[0], *kept[-1], *kept[1])[2] <= tol2:
        kept.pop(0)
    return kept
