"""What a plan looks like outside Python: G-code and SVG, for one level
(fragments plan_level returns) and for the whole part (documents the host
builds from the fragments, in level order, by calling svg_document and
gcode_document by name with plain lists of strings).

Every number is written with a fixed precision, so equal plans give equal
bytes."""
import colorsys


def number(v):
    """v in mm with three decimals (a micrometre), never "-0.000"."""
    text = "%.3f" % v
    return "0.000" if text == "-0.000" else text


def depth_colour(z, z_min=None, z_max=None):
    """#rrggbb for height z on a blue (z_min) to red (z_max) ramp through
    the hues between; the middle of the ramp without a range."""
    t = 0.5 if z_min is None or z_max is None or z_max <= z_min else (z - z_min) / (z_max - z_min)
    t = min(max(t, 0.0), 1.0)
    r, g, b = colorsys.hsv_to_rgb((1.0 - t) * 2.0 / 3.0, 0.85, 0.85)
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def level_gcode(level, z, passes, safe_z, feed, plunge_feed):
    """The level's moves: for each pass (points starting where the tool
    enters, closed back to the start) a rapid at safe_z to its start, a
    plunge to z, the cut, a retract to safe_z."""
    lines = ["(level %d z %s: %d passes)" % (level, number(z), len(passes)), "G0 Z%s" % number(safe_z)]
    for points in passes:
        x0, y0 = number(points[0][0]), number(points[0][1])
        lines.append("G0 X%s Y%s" % (x0, y0))
        lines.append("G1 Z%s F%s" % (number(z), number(plunge_feed)))
        last = (x0, y0)
        first_cut = True
        for x, y in points[1:] + points[:1]:
            xy = (number(x), number(y))
            if xy == last:  # closer than the precision: nothing to move
                continue
            lines.append("G1 X%s Y%s%s" % (xy[0], xy[1], " F%s" % number(feed) if first_cut else ""))
            first_cut = False
            last = xy
        lines.append("G0 Z%s" % number(safe_z))
    return "\n".join(lines) + "\n"


def level_svg(level, z, passes, colour):
    """A <g> of the level's passes seen from above, in part coordinates
    (svg_document flips y), stroked in colour."""
    paths = []
    for points in passes:
        d = "M" + " L".join("%s %s" % (number(x), number(y)) for x, y in points) + " Z"
        paths.append('<path d="%s"/>' % d)
    return '<g data-level="%d" data-z="%s" stroke="%s">%s</g>\n' % (level, number(z), colour, "".join(paths))


def svg_document(level_svgs, width, height, bbox, outline=None):
    """One SVG from the levels' fragments (drawn in the order given).

    width, height: the picture's size in pixels. bbox: the part's bounding
    box, (xmin, ymin, xmax, ymax) or (xmin, ymin, zmin, xmax, ymax, zmax),
    which becomes the view (with a margin) and is drawn as the stock's edge.
    outline: optional loops (lists of (x, y)) drawn in grey, such as the
    part's section. Seen from above: +y is up."""
    if len(bbox) == 6:
        xmin, ymin, _, xmax, ymax, _ = bbox
    else:
        xmin, ymin, xmax, ymax = bbox
    margin = 0.04 * max(xmax - xmin, ymax - ymin, 1.0)
    vx, vy = xmin - margin, -(ymax + margin)  # y is flipped below
    vw, vh = xmax - xmin + 2 * margin, ymax - ymin + 2 * margin
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="%s %s %s %s">\n'
           % (width, height, number(vx), number(vy), number(vw), number(vh)),
           '<rect x="%s" y="%s" width="%s" height="%s" fill="#f6f5f0"/>\n'
           % (number(vx), number(vy), number(vw), number(vh)),
           '<g transform="scale(1 -1)">\n',
           '<rect x="%s" y="%s" width="%s" height="%s" fill="#ffffff" stroke="#9a9a9a" stroke-width="0.4"/>\n'
           % (number(xmin), number(ymin), number(xmax - xmin), number(ymax - ymin))]
    for loop in outline or ():
        d = "M" + " L".join("%s %s" % (number(x), number(y)) for x, y in loop) + " Z"
        out.append('<path d="%s" fill="none" stroke="#707070" stroke-width="0.3"/>\n' % d)
    out.append('<g fill="none" stroke-width="0.25" stroke-linejoin="round" stroke-linecap="round">\n')
    out.extend(level_svgs)
    out.append("</g>\n</g>\n</svg>\n")
    return "".join(out)


def gcode_document(level_gcodes, header_info):
    """One G-code program from the levels' moves (run in the order given).

    header_info: plain data; known keys, each optional: "title",
    "tool_diameter", "tool_radius", "stepover", "levels", "safe_z" (the
    height the program starts and ends at), "spindle_rpm" (M3 S..., and M5
    at the end, only when given). Other keys are listed as comments, sorted
    by name. The program is in mm (G21), absolute (G90), in the XY plane
    (G17) and ends with M30."""
    info = dict(header_info)
    lines = ["%", "(%s)" % info.pop("title", "manycore-clearing toolpath")]
    for key, unit in (("tool_diameter", " mm"), ("tool_radius", " mm"), ("stepover", " mm"), ("levels", "")):
        if key in info:
            lines.append("(%s %s%s)" % (key.replace("_", " "), _value(info.pop(key)), unit))
    safe_z = info.pop("safe_z", None)
    rpm = info.pop("spindle_rpm", None)
    for key in sorted(info):
        lines.append("(%s %s)" % (key, _value(info[key])))
    lines += ["G21", "G90", "G17"]
    if safe_z is not None:
        lines.append("G0 Z%s" % number(safe_z))
    if rpm is not None:
        lines.append("M3 S%d" % round(rpm))
    body = "".join(level_gcodes)
    tail = []
    if safe_z is not None:
        tail.append("G0 Z%s" % number(safe_z))
    if rpm is not None:
        tail.append("M5")
    tail += ["M30", "%"]
    return "\n".join(lines) + "\n" + body + ("" if not body or body.endswith("\n") else "\n") + "\n".join(tail) + "\n"


def _value(v):
    if isinstance(v, float):
        return number(v)
    return str(v).replace("(", "[").replace(")", "]")  # a comment cannot hold parentheses
