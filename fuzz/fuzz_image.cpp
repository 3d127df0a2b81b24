// libFuzzer: image decoding (stb_image: PNG, JPEG, ...).
#include "fuzz_common.h"

#include "common/error.h"
#include "model/image_features.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    mq::fuzz::TempInput in(data, size, ".png");
    try {
        mq::core::loadImage(in.path());
    } catch (const mq::core::Error&) {
    }
    return 0;
}
