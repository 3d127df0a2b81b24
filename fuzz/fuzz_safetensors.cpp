// libFuzzer: the safetensors reader (header JSON, offsets, dtypes, shapes) on arbitrary bytes.
#include "fuzz_common.h"

#include "common/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    mq::fuzz::TempInput in(data, size, ".safetensors");
    try {
        mq::core::SafetensorsFile f(in.path());
        for (const auto& [name, info] : f.tensors()) {
            const at::Tensor t = f.load(name); // every byte range the header names
            (void)t;
        }
    } catch (const mq::core::Error&) {
    }
    return 0;
}
