// libFuzzer: the safetensors reader (header JSON, offsets, dtypes, shapes) on arbitrary bytes.
#include "fuzz_common.h"

#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    return mq::fuzz::readAsFile(data, size, ".safetensors", [](const std::string& path) {
        mq::core::SafetensorsFile f(path);
        for (const auto& [name, info] : f.tensors())
            (void)f.load(name); // every byte range the header names
    });
}
