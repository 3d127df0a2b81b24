// libFuzzer: image decoding (stb_image: PNG, JPEG, ...), with the JPEG table checks before it.
#include "fuzz_common.h"

#include "model/image_features.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    return mq::fuzz::readAsFile(data, size, ".png", [](const std::string& path) { mq::core::loadImage(path); });
}
