#include "streaming_options.h"

#include "common/error.h"

#include <cerrno>
#include <cstdlib>

namespace mq::core {

int64_t parseByteSize(const std::string& text)
{
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || errno != 0 || !(v >= 0))
        throw InputError("'" + text + "' is not a size (expected bytes or a number with K, M or G, e.g. 4G)");
    std::string unit(end);
    double mult = 1;
    if (unit == "" || unit == "B")
        mult = 1;
    else if (unit == "K" || unit == "KB" || unit == "KiB")
        mult = 1024.0;
    else if (unit == "M" || unit == "MB" || unit == "MiB")
        mult = 1024.0 * 1024;
    else if (unit == "G" || unit == "GB" || unit == "GiB")
        mult = 1024.0 * 1024 * 1024;
    else
        throw InputError("'" + text + "': unknown unit '" + unit + "' (expected K, M or G)");
    const double bytes = v * mult;
    if (bytes > 9.0e18)
        throw InputError("'" + text + "' is too large");
    return int64_t(bytes);
}

} // namespace mq::core
