"""Timing rules that turn timed mouth targets into animation, one small module each.

Order in lipflap.mouth.build: pauses (which pauses rest, relax or hold) -> anticipation (vowels
formed before they sound) -> coarticulation (dominance blend at each frame) -> closure (p/b/m
sealed on frames inside the phone) -> flicker and minimum duration (no shape shown for a single
frame unless it is a closure).
"""
