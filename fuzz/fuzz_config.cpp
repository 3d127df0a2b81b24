// libFuzzer: config.json parsing (Llama / Qwen2 / Qwen2.5-Omni layouts) on arbitrary text.
#include "fuzz_common.h"

#include "common/error.h"
#include "io/hf_config.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
    if (j.is_discarded())
        return 0;
    try {
        mq::core::parseModelConfig(j, "fuzz/config.json");
    } catch (const mq::core::Error&) {
    }
    return 0;
}
