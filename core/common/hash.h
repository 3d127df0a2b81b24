#pragma once
// FNV-1a 64 over bytes: the digests the engine keeps (model fingerprints, plan digests). Not a
// cryptographic hash: it tells a changed input from the same one, nothing more.
#include <cstddef>
#include <cstdint>

namespace mq::core {

inline constexpr uint64_t kFnv1aOffset = 1469598103934665603ull;

inline uint64_t fnv1a(uint64_t h, const void* data, size_t n)
{
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

} // namespace mq::core
