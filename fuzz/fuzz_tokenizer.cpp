// libFuzzer: tokenizer.json (byte-level BPE) loading, then encoding a fixed text with it.
#include "fuzz_common.h"

#include "common/error.h"
#include "model/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    try {
        const mq::core::Tokenizer t =
            mq::core::Tokenizer::fromJsonText(std::string(reinterpret_cast<const char*>(data), size), "fuzz/tokenizer.json");
        (void)t.encode("Hello, world! <|im_start|>user\n1234 \xe4\xbd\xa0\xe5\xa5\xbd");
    } catch (const mq::core::Error&) {
    }
    return 0;
}
