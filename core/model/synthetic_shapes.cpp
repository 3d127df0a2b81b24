#include "model/synthetic_shapes.h"

namespace mq::core {

std::vector<std::string> syntheticShapes()
{
    return {"qwen2.5-7b", "qwen2.5-omni-7b", "qwen2.5-omni-3b", "test-wide", "test-omni"};
}

} // namespace mq::core
