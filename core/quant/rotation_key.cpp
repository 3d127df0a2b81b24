#include "quant/rotation_key.h"

#include "common/error.h"

#include <cctype>

namespace mq::core {

namespace {
const std::string kHadamard = "hadamard:";
const std::string kHadamardHeads = "hadamard-heads:";

// The prefix of a key of a known kind ("" for none).
const std::string* prefixOf(const std::string& key)
{
    if (key.rfind(kHadamardHeads, 0) == 0)
        return &kHadamardHeads;
    if (key.rfind(kHadamard, 0) == 0)
        return &kHadamard;
    return nullptr;
}
} // namespace

std::string makeRotationKey(const std::string& kind, uint64_t seed)
{
    if (kind == "none" || kind.empty())
        return "";
    if (kind == "hadamard")
        return kHadamard + std::to_string(seed);
    if (kind == "hadamard-heads")
        return kHadamardHeads + std::to_string(seed);
    throw InputError("unknown rotation '" + kind + "' (expected none, hadamard or hadamard-heads)");
}

bool validRotationKey(const std::string& key)
{
    if (key.empty())
        return true;
    const std::string* prefix = prefixOf(key);
    if (!prefix || key.size() == prefix->size() || key.size() > prefix->size() + 20)
        return false;
    for (size_t i = prefix->size(); i < key.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(key[i])))
            return false;
    return true;
}

uint64_t rotationSeed(const std::string& key)
{
    if (key.empty() || !validRotationKey(key))
        throw InputError("'" + key + "' is not a rotation (expected hadamard:SEED or hadamard-heads:SEED)");
    return std::stoull(key.substr(prefixOf(key)->size()));
}

bool rotatesHeads(const std::string& key)
{
    return key.rfind(kHadamardHeads, 0) == 0;
}

} // namespace mq::core
