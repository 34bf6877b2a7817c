"""lipflap.media: reading and writing video and audio with PyAV (FFmpeg).

    probe.probe(path) -> VideoInfo          exact rate (Fraction), frame count, timecode, colour tags,
                                            audio streams; VideoInfo.to_dict() is JSON-safe
    decode.read_frames(path, start=0, end=None, *, deep=None, info=None) -> Iterator[Frame]
                                            frame-exact, `end` inclusive; Frame(index, image,
                                            time_s, av_frame), image RGB uint8 (8-bit sources) or
                                            uint16 (deeper); decode.read_frame(path, index)
    audio.load_audio(path, rate=16000, channels=1, offset_s=0.0, duration_s=None, stream=None)
                                            float32 (n,) or (n, ch), time 0 = video frame 0
    encode.VideoWriter(path, *, codec, fps, width, height, like=None, start_timecode=None,
                       first_frame_number=0, alpha=False, audio=None, inputs=())
                                            .write(rgb[a]) .write_frame(frame)
                                            .write_composite(frame, patch, alpha, x0, y0)
                                            .close() -> path, .abort(); a context manager
    encode.plain_transcode(src, dst, codec, start=0, end=None)   the fidelity reference

Timecode and rates are part of the engine-host contract (lipflap.contract.timecode, .rates).

Codecs: prores_hq, prores_4444, prores_4444xq, dnxhr_hq, h264 (.mov/.mp4), png (16-bit) and exr (half float,
linear light) sequences. Errors a user can act on are lipflap.contract.errors.MediaError / RangeError.
Submodules are imported on demand so `import lipflap.media` stays cheap.
"""
