# lipflap: Nuke start-up, also run in render mode (no UI): nothing here may touch menus or
# import the engine. The LipSync node's internal graph is plain Nuke nodes, so renders on a farm
# need nothing from lipflap but this folder on NUKE_PATH.
import os

import nuke

nuke.pluginAddPath(os.path.dirname(os.path.abspath(__file__)))
