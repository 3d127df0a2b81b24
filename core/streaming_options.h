#pragma once
// Options of the layer-wise stages (streaming.h), in a header without libtorch so the engine's
// torch-free API (engine.h) can carry them.
#include <cstdint>
#include <string>

namespace mq::core {

struct StreamOptions {
    // Bytes of hidden states kept in memory; past it they go to a temporary file.
    int64_t memBudget = int64_t(4) << 30;
    // Folder of the temporary file ("" = $TMPDIR or /tmp).
    std::string spillDir;
};

// "4G", "512M", "1.5G", "100000" (bytes) -> bytes; InputError on anything else.
int64_t parseByteSize(const std::string& text);

} // namespace mq::core
