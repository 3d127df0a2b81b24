#pragma once
// Video files (mp4, mkv, webm, anything Debian's FFmpeg demuxes and decodes) read through
// libavformat / libavcodec / libswscale / libswresample. No FFmpeg type appears here: the
// decoders, the demuxer and the converters live in video_decode.cpp only.
//
// Files are opened through FFmpeg's "file" protocol only (a playlist inside a file cannot reach
// the network). Every error — a missing file, data no demuxer recognises, a file without a video
// (or audio) stream, a codec this FFmpeg build cannot decode, a packet the decoder rejects —
// throws InputError naming the file and what was expected.
// Thread-safety: every function opens its own FFmpeg objects and may run concurrently.
#include "model/image_features.h" // RgbImage

#include <cstdint>
#include <string>
#include <vector>

namespace mq::core {

struct VideoInfo {
    int64_t frames = 0; // video packets in one demux pass (the container's nb_frames is not trusted)
    double fps = 0.0; // the stream's avg_frame_rate, else its r_frame_rate; 0 when neither is known
    int width = 0; // coded size of the video stream
    int height = 0;
    bool hasAudio = false; // the file holds at least one audio stream
    double durationSeconds = 0.0; // the container's duration, else the stream's, else frames / fps
};

// Opens path and reads every packet once, counting the chosen video stream's packets (those the
// demuxer marks as to be discarded are left out). The video stream is FFmpeg's best one that is
// not an attached picture (cover art). Throws InputError naming the file when it is missing, is
// not a media file, is unreadable part-way, or has no video stream.
VideoInfo probeVideo(const std::string& path);

// Decodes the video stream sequentially and returns, as 8-bit RGB at each frame's own size, the
// frames with the given 0-based indices, where index i is the i-th frame the decoder outputs
// (presentation order; the decoder is flushed at the end of the file). indices must be strictly
// increasing and non-negative; decoding stops after the last one. The YUV -> RGB conversion is
// libswscale's, with the frame's colour matrix and range, as the ffmpeg CLI's auto-inserted scale
// filter does (flags=bicubic; at the same size libswscale takes its unscaled path, where the
// flags make no difference: SWS_POINT gave the same bytes on yuv420p and yuv444p).
// Throws InputError naming the file for bad indices, an index at or past the number of frames
// decoded, or any of probeVideo's reasons.
std::vector<RgbImage> decodeVideoFrames(const std::string& path, const std::vector<int64_t>& indices);

struct DecodedAudio {
    std::vector<float> samples; // mono float32, the mean of the source channels
    int sampleRate = 0; // the source's rate (no resampling)
    int sourceChannels = 0;
};

// Decodes the best audio stream of path to mono float32 at its own sample rate. The channels are
// averaged with equal weights (a libswresample matrix of 1/channels), the same mix-down as the
// WAV path in model/audio_features.cpp. Encoder priming and padding that the container signals
// (AAC in mp4) are dropped by libavcodec. Throws InputError naming the file when it has no audio
// stream, no decoded samples, or any of probeVideo's reasons (bar the video stream).
DecodedAudio decodeAudioTrack(const std::string& path);

} // namespace mq::core
