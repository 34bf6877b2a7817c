# lipflap: GUI start-up: Nodes > lipflap > LipSync.
import nuke

import lipflap_nuke_node

nuke.menu("Nodes").addMenu("lipflap").addCommand("LipSync", "lipflap_nuke_node.create()")
