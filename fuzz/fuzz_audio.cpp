// libFuzzer: audio decoding (libsndfile: WAV, FLAC, ...) and resampling to 16 kHz.
#include "fuzz_common.h"

#include "common/error.h"
#include "model/audio_features.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    mq::fuzz::TempInput in(data, size, ".wav");
    try {
        mq::core::loadAudio(in.path());
    } catch (const mq::core::Error&) {
    }
    return 0;
}
