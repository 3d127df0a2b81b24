// libFuzzer: video files through Debian's FFmpeg (demuxers, decoders, libswscale,
// libswresample) and our wrapper around them: probe, the first frames, the audio track. FFmpeg
// itself is not instrumented; what this guards is the wrapper (buffers, frame counting, RAII on
// every error path) against whatever a broken file makes FFmpeg return.
#include "fuzz_common.h"

#include "common/error.h"
#include "io/video_decode.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    return mq::fuzz::readAsFile(data, size, ".mkv", [](const std::string& path) {
        const mq::core::VideoInfo info = mq::core::probeVideo(path);
        if (info.frames > 0 && int64_t(info.width) * info.height <= 4096 * 4096)
            mq::core::decodeVideoFrames(path, {0, std::max<int64_t>(1, info.frames / 2)});
        if (info.hasAudio)
            mq::core::decodeAudioTrack(path);
    });
}
