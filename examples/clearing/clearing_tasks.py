"""The tasks manycore-clearing submits: plan one level and send the result
down the results channel, so the host collects levels as they finish (and
shows progress) and puts them back in level order itself."""
from planner.plan import plan_level


def plan_into(results, level, z, stepover, tool_radius, z_min, z_max):
    """Plan level `level` at height z; send (level, result) to the channel."""
    results.send((level, plan_level(level, z, stepover, tool_radius, z_min=z_min, z_max=z_max)))
    return level
