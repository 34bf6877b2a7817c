"""MediaPipe Face Mesh landmark indices (478-point topology with refined irises).

Index lists are the ones the rest of the engine (render, qc) and the yardstick
(../shared/eval/lipeval.py) agree on; the measures on them (eye distance, aperture, mouth width)
are in `lipflap.face.geometry`.
"""
from __future__ import annotations

N_LANDMARKS = 478

# Lips, listed corner to corner so each list is a polyline.
UPPER_INNER_LIP = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
LOWER_INNER_LIP = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]
UPPER_OUTER_LIP = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291]
LOWER_OUTER_LIP = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291]
# Closed loops (no repeated corner).
INNER_LIPS = UPPER_INNER_LIP + LOWER_INNER_LIP[-2:0:-1]
OUTER_LIPS = UPPER_OUTER_LIP + LOWER_OUTER_LIP[-2:0:-1]
LIPS = sorted(set(INNER_LIPS) | set(OUTER_LIPS))

# Pairs (upper, lower) of inner-lip points whose gap is the aperture (yardstick definition).
INNER_LIP_PAIRS = [(82, 87), (13, 14), (312, 317)]
MOUTH_CORNERS = (61, 291)
EYE_OUTER_CORNERS = (33, 263)
EYE_INNER_CORNERS = (133, 362)
NOSE_TIP = 1
SUBNASALE = 2
FOREHEAD = 10
CHIN = 152
IRIS_CENTERS = (468, 473)

# Face outline, clockwise from the top of the forehead.
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
             377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67,
             109]
# Lower part of the outline (ear to ear under the chin): moves with the jaw.
JAW = [234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288,
       361, 323, 454]
CHIN_CONTOUR = [136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365]
LEFT_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
RIGHT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
NOSE = [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 64, 294, 48, 278, 115, 344, 220, 440]

# Points that move with the skull only (not with the jaw, lips or eyelids): used for the head's
# rigid motion, head pose and the tracking crop.
RIGID = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 2, 33, 133, 362, 263, 116, 345, 50, 280,
         234, 454, 127, 356, 21, 251, 54, 284, 103, 332]

# Points whose motion is speech: lips, the chin and the lower jaw outline. They are smoothed less
# so that fast closures (p/b/m within two frames) survive.
MOUTH_REGION = sorted(set(LIPS) | set(CHIN_CONTOUR) | {58, 172, 288, 397, 164, 18, 200, 199, 175,
                                                        57, 287, 43, 273, 204, 424, 211, 431})

