"""Exemplars at the output frame's head turn are preferred (issue 15 item 2)."""
import numpy as np

from lipflap.render import geometry as g
from lipflap.render import select

IDENT = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _face(yaw_shift: float) -> np.ndarray:
    lm = np.zeros((478, 2))
    lm[g.FACE_SIDES[0]], lm[g.FACE_SIDES[1]] = (-0.8, 0.3), (0.8, 0.3)
    lm[g.EYE_OUTER[0]], lm[g.EYE_OUTER[1]] = (-0.5, 0.0), (0.5, 0.0)
    lm[g.NOSE_TIP] = (yaw_shift, 0.45)
    return lm


def test_head_turn_reads_the_nose_offset():
    front, turned = g.head_turn(_face(0.0), IDENT), g.head_turn(_face(0.32), IDENT)
    assert abs(front[0]) < 1e-9 and abs(turned[0] - 0.2) < 1e-9
    assert abs(front[1] - 0.45) < 1e-9


def test_same_shape_at_the_frames_turn_wins():
    shape = np.zeros((1, 4, 2))
    lib = np.zeros((2, 4, 2))
    cost = select.data_costs(shape, np.array([0.02]), lib, np.array([0.02, 0.02]), np.ones(4),
                             np.array([-1]), np.array([[0.2, 0.4]]), np.array([[0.0, 0.4], [0.19, 0.4]]))
    assert cost[0, 1] < cost[0, 0]
    assert cost[0, 0] >= (0.2 / select.POSE_SIGMA) ** 2 - 1e-6
