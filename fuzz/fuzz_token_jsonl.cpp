// libFuzzer: the token JSONL reader (calibration and evaluation sets).
#include "fuzz_common.h"

#include "io/token_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    return mq::fuzz::readAsFile(data, size, ".jsonl", [](const std::string& path) { mq::core::loadTokenDataset(path, 512, 4096); });
}
