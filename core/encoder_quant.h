#pragma once
// --quantize-encoders (QuantSettings::quantizeEncoders): the Qwen2.5-Omni thinker's vision and
// audio encoders quantized as the decoder is. Every encoder input group (VisionEncoder /
// AudioEncoder::groups) gets the plan's activation scheme:
//  - morphoquant: static per-channel bounds, with the DABC mask computeMasks gave the group from
//    its own statistics and MDQFO's clipping from its own input, captured through the encoder
//    whose earlier groups are already quantized (network order, as the decoder's plan);
//  - rtn: per-token (or per-tensor, from the group's calibration range) as the settings say, at
//    the settings' clip ratio (the clip search and SmoothQuant stay with the decoder).
// Weights are rounded to nearest in the plan's weight format (NVFP4's global scale shared by
// a group's Linears); GPTQ stays with the decoder. The encoders run in no rotated basis.
// The towers run every sample's inputs in lockstep, one step (block, layer) at a time, with
// only that step's Linears rounded in float32 (a block's worth of memory, not a tower's); their
// outputs are kept per sample. The decoder's plan then captures its inputs from these
// quantized features, and a manifest evaluation compares the thinker with quantized encoders
// against full precision.
#include <memory>
#include <string>
#include <vector>

#include "calib/calib_data.h"
#include "model/omni_model.h"
#include "common/progress.h"
#include "model/decoder.h"
#include "quant/quant_linear.h"
#include "session.h"

namespace mq::core {

// The quantized encoders' outputs for every sample of one manifest, and the hook that quantized
// their Linear inputs (group indices as OmniCalibration numbers them: after the decoder's).
class EncoderQuant {
public:
    EncoderQuant(const QuantSettings& settings, std::vector<GroupQuant> groups, size_t samples);
    ~EncoderQuant();
    const OmniCalibration::EncoderOutputs& outputs(size_t i) const { return m_outputs.at(i); }
    ForwardHook* hook() const { return m_hook.get(); }
    QuantSimHook& simHook() const { return *m_hook; }

    // The runner's (encoder_quant.cpp): sample i's outputs.
    OmniCalibration::EncoderOutputs& outputsOf(size_t i) { return m_outputs.at(i); }

private:
    std::unique_ptr<QuantSimHook> m_hook;
    std::vector<OmniCalibration::EncoderOutputs> m_outputs;
};

// The weight map that rounds an encoder group's Linears to nearest in `spec` (what the quantized
// towers run with; NVFP4's global scale shared within the group). tower names the tensors in
// errors.
LinearWeightMap roundedWeights(const WeightQuantSpec& spec, const char* tower);

// Throws InputError unless calib is a Qwen2.5-Omni manifest whose samples run an encoder
// (what --quantize-encoders needs), naming the calibration.
void requireEncoderCalibration(const CalibrationData& calib);

// Plans every encoder group of w (after preparePlan: masks computed, settings set) in network
// order, vision then audio: alpha0/alpha and the loss curve into w.plans / w.curves, one "mdqfo"
// progress event per group. Returns the quantized encoders for the decoder's plan.
std::unique_ptr<EncoderQuant> planEncoders(Session& w, const DecoderModel& model, const CalibrationData& calib,
                                           const QuantSettings& settings, const ProgressSink& progress = {},
                                           const CancelToken* cancel = nullptr);

// The quantized encoders' outputs on calib under a session's plan (s.settings->quantizeEncoders),
// to evaluate it (an "encoders" progress event per step). Throws Error where the plan lacks an encoder group the settings need.
std::unique_ptr<EncoderQuant> encoderQuantFromPlan(const Session& s, const DecoderModel& model,
                                                   const CalibrationData& calib, const ProgressSink& progress = {},
                                                   const CancelToken* cancel = nullptr);

// Each encoder's output error over the manifest: the quantized encoder's output tokens against
// the full-precision encoder's on every sample (ModuleError named "vision" or "audio", per
// modality it served and pooled; SQNR and cosine as ErrorStat defines them).
std::vector<ModuleError> encoderOutputErrors(const CalibrationData& calib, const DecoderModel& model,
                                             const EncoderQuant& q, const ProgressSink& progress = {},
                                             const CancelToken* cancel = nullptr);

} // namespace mq::core
