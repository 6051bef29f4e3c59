"""The clearing demo's toolpath planner, in pure Python (standard library
only, so it loads in manycore's subinterpreters).

One concern per module, each step a plain function of its inputs:

- loops:    slice segments -> closed loops (exact endpoint linking), areas;
- regions:  loops -> nesting -> pockets to clear, each with its islands;
- field:    a region -> a grid of distances to its boundary, with the
            nearest boundary segment of every grid node;
- offset:   distances -> contour-parallel passes (marching squares, then
            each point projected onto its exact offset);
- geometry: small exact helpers (point-segment distance, simplification);
- order:    passes -> cutting order, start points, cut and rapid lengths;
- output:   G-code and SVG, per level and whole documents;
- plan:     plan_level, the entry point the host calls by name.
"""
