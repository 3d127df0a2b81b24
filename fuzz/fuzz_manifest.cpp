// libFuzzer: the Qwen2.5-Omni manifest reader (JSONL of text, image, audio, video entries).
#include "fuzz_common.h"

#include "model/omni_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    return mq::fuzz::readAsFile(data, size, ".jsonl", [](const std::string& path) { mq::core::loadManifest(path); });
}
