#include "quant/quant_settings.h"

#include <cstdio>

#include "common/error.h"

namespace mq::core {

std::string WeightQuantSpec::label() const
{
    switch (format) {
    case WeightFormat::None:
        return "fp";
    case WeightFormat::NF4:
        return "nf4-b" + std::to_string(nf4Block) + (nf4DoubleQuant ? "-dq" : "");
    case WeightFormat::Int:
        return "int" + std::to_string(bits) + (symmetric ? "-sym" : "-asym")
            + (perTensor ? std::string("-t") : groupSize > 0 ? "-g" + std::to_string(groupSize) : std::string("-ch"))
            + (scaleDtype == ScaleDtype::F32 ? "" : std::string("-") + scaleDtypeName(scaleDtype) + "s");
    case WeightFormat::NVFP4:
        return "nvfp4";
    case WeightFormat::MXFP4:
        return "mxfp4";
    case WeightFormat::HiF4:
        return "hif4";
    }
    return "?";
}

const char* scaleDtypeName(ScaleDtype d)
{
    switch (d) {
    case ScaleDtype::F32: return "f32";
    case ScaleDtype::BF16: return "bf16";
    case ScaleDtype::F16: return "f16";
    }
    return "?";
}

ScaleDtype parseScaleDtype(const std::string& s)
{
    if (s == "f32") return ScaleDtype::F32;
    if (s == "bf16") return ScaleDtype::BF16;
    if (s == "f16") return ScaleDtype::F16;
    throw InputError("unknown scale dtype '" + s + "' (expected f32, bf16 or f16)");
}

bool gptqRounds(WeightFormat f)
{
    return f != WeightFormat::None && f != WeightFormat::NF4;
}

const char* actFormatName(ActFormat f)
{
    switch (f) {
    case ActFormat::Int: return "int";
    case ActFormat::NVFP4: return "nvfp4";
    case ActFormat::MXFP4: return "mxfp4";
    case ActFormat::HiF8: return "hif8";
    case ActFormat::HiF4: return "hif4";
    }
    return "?";
}

ActFormat parseActFormat(const std::string& s)
{
    if (s == "int") return ActFormat::Int;
    if (s == "nvfp4") return ActFormat::NVFP4;
    if (s == "mxfp4") return ActFormat::MXFP4;
    if (s == "hif8") return ActFormat::HiF8;
    if (s == "hif4") return ActFormat::HiF4;
    throw InputError("unknown activation format '" + s + "' (expected int, nvfp4, mxfp4, hif8 or hif4)");
}

const char* actSchemeName(ActScheme s)
{
    switch (s) {
    case ActScheme::None: return "none";
    case ActScheme::PerTokenDynamic: return "per-token-dynamic";
    case ActScheme::PerChannelStatic: return "per-channel-static";
    case ActScheme::PerTensorDynamic: return "per-tensor-dynamic";
    case ActScheme::PerTensorStatic: return "per-tensor-static";
    }
    return "?";
}

ActScheme parseActScheme(const std::string& s)
{
    if (s == "none") return ActScheme::None;
    if (s == "per-token-dynamic") return ActScheme::PerTokenDynamic;
    if (s == "per-channel-static") return ActScheme::PerChannelStatic;
    if (s == "per-tensor-dynamic") return ActScheme::PerTensorDynamic;
    if (s == "per-tensor-static") return ActScheme::PerTensorStatic;
    throw InputError("unknown activation scheme '" + s
                     + "' (expected none, per-token-dynamic, per-channel-static, per-tensor-dynamic or "
                       "per-tensor-static)");
}

bool isPerTensor(ActScheme s)
{
    return s == ActScheme::PerTensorDynamic || s == ActScheme::PerTensorStatic;
}

const char* dispersionFormName(DispersionForm f)
{
    return f == DispersionForm::Paper ? "paper" : "code";
}

DispersionForm parseDispersionForm(const std::string& s)
{
    if (s == "paper") return DispersionForm::Paper;
    if (s == "code") return DispersionForm::Code;
    throw InputError("unknown dispersion form '" + s + "' (expected paper or code)");
}

std::vector<std::string> QuantSettings::passes() const
{
    std::vector<std::string> p;
    if (!rotation.empty())
        p.push_back("rotate " + rotation);
    if (smooth) {
        char a[32];
        std::snprintf(a, sizeof a, "%.3g", smoothAlpha);
        p.push_back(std::string("smooth ") + a);
    }
    if (weight.format != WeightFormat::None)
        p.push_back("weights " + std::string(gptq.enabled ? "gptq " : "round-to-nearest ") + weight.label()
                    + (gptq.enabled && gptq.clipSteps > 0 ? " (clip search)" : "")
                    + (gptq.enabled && gptq.fpTarget ? " (fp target)" : ""));
    // Before a plan exists act is not set yet: the method implies it (preparePlan).
    const bool perToken = act == ActScheme::PerTokenDynamic || (act == ActScheme::None && method == "rtn");
    const bool perChannel = act == ActScheme::PerChannelStatic || (act == ActScheme::None && method == "morphoquant");
    if (isPerTensor(act) && abits < 16) {
        p.push_back(std::string("activations per-tensor ") + (act == ActScheme::PerTensorStatic ? "static" : "dynamic")
                    + " int" + std::to_string(abits) + (actAsym ? " asymmetric" : "")
                    + (actClipSearch > 0 ? (actClipMorphology ? " (clip search by morphology loss)" : " (clip search)")
                                         : (actClip != 1.0 ? " (clip)" : "")));
    } else if (perToken && abits < 16) {
        std::string a = "activations per-token " + std::string(actFormatName(actFormat));
        if (actFormat == ActFormat::Int)
            a += std::to_string(abits) + (actAsym ? " asymmetric" : "")
                + (actGroupSize > 0 ? " (groups of " + std::to_string(actGroupSize) + ")" : "")
                + (actClipSearch > 0 ? (actClipMorphology ? " (clip search by morphology loss)" : " (clip search)")
                                     : (actClip != 1.0 ? " (clip)" : ""));
        p.push_back(a);
    } else if (perChannel && abits < 16) {
        if (dabc.enabled)
            p.push_back("dabc");
        p.push_back(std::string(mdqfo.enabled ? "mdqfo" : "max") + " per-channel static int" + std::to_string(abits));
    }
    if (quantizeEncoders)
        p.push_back("encoders quantized (weights round-to-nearest " + weight.label() + ", activations as above)");
    return p;
}

std::string QuantSettings::label() const
{
    const int wb = weight.format == WeightFormat::None ? 16 : (weight.format == WeightFormat::Int ? weight.bits : 4);
    const std::string rot = rotation.empty() ? "" : rotation.substr(0, rotation.find(':')) + ", ";
    std::string w = (smooth ? "smooth, " : "") + weight.label();
    if (gptq.enabled)
        w += std::string(gptq.fpTarget ? ", gptaq" : ", gptq") + (gptq.clipSteps > 0 ? "+clip" : "");
    std::string a = actSchemeName(act);
    if (act == ActScheme::PerTokenDynamic && actFormat != ActFormat::Int)
        a += std::string("-") + actFormatName(actFormat);
    const bool clipped = act == ActScheme::PerTokenDynamic || isPerTensor(act);
    if (clipped && (actAsym || actClip != 1.0)) {
        char clip[32];
        std::snprintf(clip, sizeof clip, "%.3g", actClip);
        a += std::string(actAsym ? "-asym" : "") + (actClip != 1.0 ? std::string("-clip") + clip : "");
    }
    if (act == ActScheme::PerTokenDynamic && actFormat == ActFormat::Int && actGroupSize > 0)
        a += "-g" + std::to_string(actGroupSize);
    if (clipped && actClipSearch > 0 && actClipMorphology)
        a += "-morphclip";
    const int ab = act == ActScheme::PerTokenDynamic && actFormat == ActFormat::HiF8 ? 8
        : (act == ActScheme::PerTokenDynamic && actFormat != ActFormat::Int ? 4 : abits);
    return method + " W" + std::to_string(wb) + "A" + std::to_string(ab) + " (" + rot + w + ", " + a + ", "
        + mode + (quantizeEncoders ? ", encoders too" : "") + ")";
}

} // namespace mq::core
