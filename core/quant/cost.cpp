#include "quant/cost.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace mq::core {

namespace {

constexpr double kScaleBits = 16.0; // a scale or zero point as an export stores it (fp16 / bf16)

double weightBits(const WeightQuantSpec& w, int64_t inFeatures)
{
    switch (w.format) {
    case WeightFormat::None:
        return 16.0;
    case WeightFormat::NF4:
        // fp32 absmax per block, or (double quantization) an 8-bit code per block and an fp32
        // absmax2 per 256 blocks (the offset is one per tensor)
        return w.nf4DoubleQuant ? 4.0 + 8.0 / double(w.nf4Block) + 32.0 / (256.0 * double(w.nf4Block))
                                : 4.0 + 32.0 / double(w.nf4Block);
    case WeightFormat::Int: {
        if (w.perTensor) // one scale (and zero point) per tensor: nothing per element to speak of
            return double(w.bits);
        const double n = double(w.groupSize > 0 ? w.groupSize : inFeatures);
        return double(w.bits) + (w.symmetric ? kScaleBits : 2 * kScaleBits) / n;
    }
    case WeightFormat::NVFP4:
        return 4.0 + 8.0 / 16.0; // an E4M3 scale per 16 (the float32 global scale per tensor: negligible)
    case WeightFormat::MXFP4:
        return 4.0 + 8.0 / 32.0; // an E8M0 scale per 32
    case WeightFormat::HiF4:
        return 4.5; // 32 bits of metadata per 64 elements
    }
    return 16.0;
}

} // namespace

QuantCost quantCost(const Session& s)
{
    QuantCost c;
    // Per decoder input group: channels K and the output features of the Linears reading it.
    std::map<std::string, int64_t> outOf, inOf;
    double weightElems = 0.0, weightBitSum = 0.0;
    for (const ModuleInfo& m : s.modules) {
        outOf[m.inputGroup] += m.outFeatures;
        inOf[m.inputGroup] = m.inFeatures;
        const double e = double(m.inFeatures) * double(m.outFeatures);
        weightElems += e;
        weightBitSum += e * (s.settings ? weightBits(s.settings->weight, m.inFeatures) : 16.0);
    }
    if (weightElems > 0)
        c.weightBitsEffective = weightBitSum / weightElems;
    if (!s.settings)
        return c;
    const QuantSettings& q = *s.settings;
    c.mode = q.mode;
    c.encodersQuantized = q.quantizeEncoders;
    const bool quantized = q.abits < 16 && q.act != ActScheme::None;
    const bool dabc = quantized && q.act == ActScheme::PerChannelStatic && q.dabc.enabled;
    c.actUpperBound = dabc && q.dabc.rho > 0.0;
    double elems = 0, bits = 0, macs = 0, macBits = 0, extraMacs = 0, compensated = 0;
    for (const auto& [group, k] : inOf) {
        const double K = double(k), N = double(outOf[group]);
        int64_t masked = 0;
        if (dabc) {
            auto it = s.plans.find(group);
            if (it != s.plans.end())
                for (uint8_t b : it->second.mask)
                    masked += b ? 1 : 0;
        }
        double b = 16.0;
        if (quantized) {
            b = double(q.abits);
            // Per tensor: one scale (and zero point) per input, nothing per element.
            if (q.act == ActScheme::PerTokenDynamic) {
                switch (q.actFormat) {
                case ActFormat::Int:
                    // a scale (and a zero point) per token, or per group of its channels
                    b += (q.actAsym ? 2.0 : 1.0) * kScaleBits
                        * (q.actGroupSize > 0 ? std::ceil(K / double(q.actGroupSize)) : 1.0) / K;
                    break;
                case ActFormat::NVFP4: b = 4.0 + 8.0 / 16.0; break; // E4M3 per 16 (a static global scale)
                case ActFormat::MXFP4: b = 4.0 + 8.0 / 32.0; break; // E8M0 per 32
                case ActFormat::HiF4: b = 4.5; break;
                case ActFormat::HiF8: b = 8.0; break;
                }
            }
            b += (16.0 - double(q.abits)) * double(masked) / K; // a compensated element: 16 bits in all
        }
        c.channels += k;
        c.compensatedChannels += masked;
        elems += K;
        bits += K * b;
        macs += K * N;
        macBits += K * N * b;
        extraMacs += double(masked) * N;
        compensated += double(masked);
    }
    if (elems > 0) {
        c.actBitsEffective = bits / elems;
        c.compensatedShare = compensated / elems;
    }
    if (macs > 0) {
        c.actBitsEffectiveMac = macBits / macs;
        c.dabcExtraMacs = extraMacs / macs;
    }
    return c;
}

std::string costSummary(const QuantCost& c)
{
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "activations %.2f bits/element%s (%.2f per multiply-add), DABC %lld of %lld channels "
                  "(+%.1f%% multiply-adds), weights %.2f bits, %s",
                  c.actBitsEffective, c.actUpperBound ? " at most" : "", c.actBitsEffectiveMac,
                  static_cast<long long>(c.compensatedChannels), static_cast<long long>(c.channels),
                  100.0 * c.dabcExtraMacs, c.weightBitsEffective, c.mode.c_str());
    return std::string(buf) + (c.encodersQuantized ? " (the decoder's; the encoders are quantized too)" : "");
}

} // namespace mq::core
