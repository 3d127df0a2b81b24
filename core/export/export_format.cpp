#include "export/export_format.h"

#include "common/error.h"
#include "quant/quant_settings.h"
#include "session.h"

namespace mq::core {

const char* exportFormatName(ExportFormat f)
{
    switch (f) {
    case ExportFormat::MorphoquantSim: return "morphoquant-sim";
    case ExportFormat::CompressedTensors: return "compressed-tensors";
    case ExportFormat::Nvfp4: return "nvfp4";
    case ExportFormat::Morphoquant: return "morphoquant";
    }
    return "?";
}

ExportFormat parseExportFormat(const std::string& s)
{
    for (ExportFormat f : {ExportFormat::MorphoquantSim, ExportFormat::CompressedTensors, ExportFormat::Nvfp4,
                           ExportFormat::Morphoquant})
        if (s == exportFormatName(f))
            return f;
    throw InputError("unknown export format '" + s + "' (expected morphoquant-sim, compressed-tensors, nvfp4 or morphoquant)");
}

const char* exportFormatServedBy(ExportFormat f)
{
    switch (f) {
    case ExportFormat::MorphoquantSim:
        return "this tool only: dequantized float32 weights plus the plan's activation tensors";
    case ExportFormat::CompressedTensors:
        return "vLLM (compressed-tensors: W4A16/W8A16 through its WNA16 kernels, INT W4A4 through its WNA4 INT "
               "scheme, W8A8 through its INT8 scheme), llm-compressor and transformers";
    case ExportFormat::Nvfp4:
        return "vLLM's NVFP4 scheme (native FP4 GEMM on Blackwell; emulated or Marlin weight-only elsewhere) and "
               "transformers";
    case ExportFormat::Morphoquant:
        return "this tool (eval --model), as packed int weights with static per-channel activation scales and DABC "
               "masks; no serving stack runs DABC yet";
    }
    return "";
}


std::string exportRefusal(const QuantSettings& given, ExportFormat f)
{
    // The activation scheme the method implies (the plan sets it when it is built).
    QuantSettings st = given;
    if (st.abits < 16 && st.act == ActScheme::None)
        st.act = st.method == "morphoquant" ? ActScheme::PerChannelStatic : ActScheme::PerTokenDynamic;
    const std::string F = std::string("--export-format ") + exportFormatName(f) + ": ";
    if (st.quantizeEncoders)
        return F + "the plan quantizes the encoders too (--quantize-encoders), and the export formats here write the "
                   "thinker's decoder only (its encoders would be written in full precision, not as evaluated): "
                   "quantize without --quantize-encoders to export";
    if (st.smooth && !st.rotation.empty())
        return F + "a rotated plan's norms are folded into its weights, so SmoothQuant's factors (--smooth) have no "
                   "norm to fold into";
    if (f == ExportFormat::MorphoquantSim)
        return "";
    if (!st.rotation.empty() && f != ExportFormat::Morphoquant)
        return F + "the plan works in a rotated basis (" + st.rotation
               + "): its down_proj inputs need the online rotation at run time, which this format cannot name "
                 "(--export-format morphoquant or morphoquant-sim carry it)";
    const bool act = st.act != ActScheme::None && st.abits < 16;
    if (act && st.actGroupSize > 0)
        return F + "activations quantized per group of " + std::to_string(st.actGroupSize) + " channels "
                   "(--agroup-size) are not written into packed exports yet; --export-format morphoquant-sim keeps "
                   "them";
    // Static per-tensor INT8 activations with INT8 weights: compressed-tensors' W8A8 with an
    // input_scale per Linear (the clip ratio is folded into it); nothing else per tensor yet.
    const bool staticW8A8 = act && st.act == ActScheme::PerTensorStatic && st.abits == 8 && !st.actAsym
        && st.actFormat == ActFormat::Int && st.weight.format == WeightFormat::Int && st.weight.bits == 8
        && st.weight.symmetric && st.weight.groupSize == 0 && !st.weight.perTensor;
    if (act && isPerTensor(st.act) && !(staticW8A8 && f == ExportFormat::CompressedTensors))
        return F + "per-tensor activations (" + actSchemeName(st.act) + ") are written only as compressed-tensors "
                   "W8A8 (symmetric static 8-bit activations, 8-bit weights per output channel); "
                   "--export-format morphoquant-sim keeps any of them (this tool's eval --model)";
    if (st.weight.format == WeightFormat::None)
        return F + "the weights are not quantized (--wbits 16): there is nothing to pack";
    if (f == ExportFormat::Nvfp4) {
        if (st.weight.format != WeightFormat::NVFP4)
            return F + "needs NVFP4 weights (--wformat nvfp4), the plan has " + st.weight.label();
        if (act && (st.act != ActScheme::PerTokenDynamic || st.actFormat != ActFormat::NVFP4))
            return F + "activations must be NVFP4 (--aformat nvfp4) or unquantized (--abits 16); the plan has "
                   + actSchemeName(st.act) + " " + actFormatName(st.actFormat);
        return "";
    }
    // Integer weights: compressed-tensors and morphoquant.
    if (st.weight.format != WeightFormat::Int)
        return F + "holds integer weights, the plan has " + st.weight.label()
               + (st.weight.format == WeightFormat::NVFP4 ? " (use --export-format nvfp4)" : " (no packed layout here)");
    if (st.weight.perTensor)
        return F + "per-tensor integer weights (--per-tensor) are not packed here (one scale per output channel or "
                   "group is)";
    if (st.weight.bits != 4 && st.weight.bits != 8)
        return F + "packs 4- or 8-bit weights, the plan has " + std::to_string(st.weight.bits) + "-bit ones";
    if (f == ExportFormat::Morphoquant) {
        if (act && st.act == ActScheme::PerTokenDynamic && st.actFormat != ActFormat::Int)
            return F + "carries integer activations, the plan has " + actFormatName(st.actFormat) + " ones";
        return "";
    }
    if (act) {
        if (st.act == ActScheme::PerChannelStatic)
            return F + "static per-channel activation bounds and DABC masks have no field in compressed-tensors "
                       "(vLLM's INT schemes scale each token at run time): use --export-format morphoquant, or "
                       "--method rtn (per-token activations)";
        if (st.actFormat != ActFormat::Int)
            return F + std::string(actFormatName(st.actFormat)) + " activations are not an INT scheme (NVFP4 ones: "
                   "--export-format nvfp4)";
        if (st.actAsym)
            return F + "asymmetric per-token activations (--aasym): vLLM's INT W4A4 and W8A8 schemes read symmetric "
                       "dynamic ones";
        if ((st.actClip != 1.0 || st.actClipSearch > 0) && !staticW8A8)
            return F + "activation clipping (--aclip / --aclip-search) has no field in compressed-tensors: a server "
                       "scales each token by its max |x|";
        if (st.abits != 4 && st.abits != 8)
            return F + "per-token activations of " + std::to_string(st.abits) + " bits (4 or 8 are expressible)";
        if (st.weight.bits == 8 && st.abits != 8)
            return F + "8-bit weights go with 8-bit activations (W8A8) or none";
        if (st.weight.bits == 8 && st.weight.groupSize > 0)
            return F + "W8A8 (int-quantized) takes one weight scale per output channel: --wgroup 0";
        if (st.weight.bits == 8 && !st.weight.symmetric)
            return F + "W8A8 (int-quantized) takes symmetric weights";
    }
    return "";
}

std::string exportRefusal(const QuantSettings& st, ExportFormat f, const std::vector<ModuleInfo>& modules)
{
    const std::string why = exportRefusal(st, f);
    if (!why.empty() || f != ExportFormat::Nvfp4)
        return why;
    for (const ModuleInfo& m : modules)
        if (m.inFeatures % 16 != 0)
            return std::string("--export-format nvfp4: ") + m.name + " has " + std::to_string(m.inFeatures)
                   + " inputs, not a multiple of NVFP4's 16-element blocks";
    return "";
}

} // namespace mq::core
