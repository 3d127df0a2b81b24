// libFuzzer: audio decoding (libsndfile: WAV, FLAC, ...) and resampling to 16 kHz.
#include "fuzz_common.h"

#include "model/audio_features.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    return mq::fuzz::readAsFile(data, size, ".wav", [](const std::string& path) { mq::core::loadAudio(path); });
}
