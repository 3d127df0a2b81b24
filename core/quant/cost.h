#pragma once
// What a quantization plan costs, counted the same way for every recipe (README, "What a figure
// costs"), so that recipes are compared at equal budgets. Plain arithmetic on the session: no
// libtorch, the widgets use it too.
//
// Activations, over the inputs of every quantized decoder Linear (token x channel elements of
// each input group, so q/k/v count once):
// - per element: the activation bits, plus for per-token dynamic scales one 16-bit scale per
//   token and group (16 / K bits per element; asymmetric tokens add a 16-bit zero point); an
//   element DABC compensates counts 16 bits in all (its residual x - Q(x) is kept in 16 bits:
//   as good as keeping the element itself in 16 bits, the cheaper of the two); static per-channel scales are fixed per channel, so they
//   cost nothing per element;
// - per multiply-add: the same weighted by the multiply-adds each element takes part in (the
//   output features of the Linears that read the group);
// - DABC's correction product runs over the compensated channels only: its multiply-adds as a
//   share of the quantized product's.
// Weights: bits per weight including scales and zero points (16 bits each) per channel or group;
// NF4 adds a 32-bit absmax per block. Unquantized tensors count 16 bits.
// With rho > 0 DABC compensates only part of a masked channel's elements; the count then uses
// every element of the masked channels, an upper bound (actUpperBound).
#include <cstdint>
#include <string>

#include "session.h"

namespace mq::core {

struct QuantCost {
    std::string mode = "simulated";
    double actBitsEffective = 16.0;    // per activation element
    double actBitsEffectiveMac = 16.0; // per multiply-add
    double dabcExtraMacs = 0.0;        // DABC's extra multiply-adds / the quantized product's
    double compensatedShare = 0.0;     // activation elements DABC compensates / all of them
    int64_t compensatedChannels = 0;   // masked input channels, over every decoder input group
    int64_t channels = 0;              // input channels of every decoder input group
    double weightBitsEffective = 16.0; // per weight of every decoder Linear
    bool actUpperBound = false;        // rho > 0: compensated elements bounded by masked channels
    // The plan quantizes the Qwen2.5-Omni encoders too (--quantize-encoders): the figures above
    // still count the decoder's Linears only, and the summaries say so.
    bool encodersQuantized = false;
};

// The cost of the session's plan (16 bits everywhere without a plan).
QuantCost quantCost(const Session& s);

// One line: "activations 4.00 bits/element (4.00 per multiply-add), DABC 0 of 1820 channels
// (+0.0% multiply-adds), weights 4.25 bits, simulated".
std::string costSummary(const QuantCost& c);

} // namespace mq::core
