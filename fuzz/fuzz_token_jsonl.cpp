// libFuzzer: the token JSONL reader (calibration and evaluation sets).
#include "fuzz_common.h"

#include "common/error.h"
#include "io/token_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    mq::fuzz::TempInput in(data, size, ".jsonl");
    try {
        mq::core::loadTokenDataset(in.path(), 512, 4096);
    } catch (const mq::core::Error&) {
    }
    return 0;
}
