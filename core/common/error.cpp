#include "common/error.h"

namespace mq::core {

std::string describe(const std::string& file, const std::string& tensor, const std::string& what)
{
    std::string out;
    if (!file.empty())
        out += file + ": ";
    if (!tensor.empty())
        out += "tensor '" + tensor + "': ";
    out += what;
    return out;
}

} // namespace mq::core
