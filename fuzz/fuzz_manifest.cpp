// libFuzzer: the Qwen2.5-Omni manifest reader (JSONL of text, image, audio, video entries).
#include "fuzz_common.h"

#include "common/error.h"
#include "model/omni_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    mq::fuzz::TempInput in(data, size, ".jsonl");
    try {
        mq::core::loadManifest(in.path());
    } catch (const mq::core::Error&) {
    }
    return 0;
}
