#pragma once
// How a rotation is named in sessions and settings (no libtorch): "" for none, else
// "hadamard:SEED" (quant/rotation.h builds the matrices from it), or "hadamard-heads:SEED": the
// same with each attention head's values and o_proj's matching inputs turned too.
#include <cstdint>
#include <string>

namespace mq::core {

// kind "none" -> "", "hadamard" -> "hadamard:SEED", "hadamard-heads" -> "hadamard-heads:SEED";
// InputError for another kind.
std::string makeRotationKey(const std::string& kind, uint64_t seed);
bool validRotationKey(const std::string& key);
// The seed of a valid non-empty key (InputError otherwise).
uint64_t rotationSeed(const std::string& key);
// Whether a valid key turns the value/output heads too.
bool rotatesHeads(const std::string& key);

} // namespace mq::core
