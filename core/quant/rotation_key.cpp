#include "quant/rotation_key.h"

#include "common/error.h"

#include <cctype>

namespace mq::core {

namespace {
const std::string kHadamard = "hadamard:";
}

std::string makeRotationKey(const std::string& kind, uint64_t seed)
{
    if (kind == "none" || kind.empty())
        return "";
    if (kind == "hadamard")
        return kHadamard + std::to_string(seed);
    throw InputError("unknown rotation '" + kind + "' (expected none or hadamard)");
}

bool validRotationKey(const std::string& key)
{
    if (key.empty())
        return true;
    if (key.rfind(kHadamard, 0) != 0 || key.size() == kHadamard.size() || key.size() > kHadamard.size() + 20)
        return false;
    for (size_t i = kHadamard.size(); i < key.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(key[i])))
            return false;
    return true;
}

uint64_t rotationSeed(const std::string& key)
{
    if (key.empty() || !validRotationKey(key))
        throw InputError("'" + key + "' is not a rotation (expected hadamard:SEED)");
    return std::stoull(key.substr(kHadamard.size()));
}

} // namespace mq::core
