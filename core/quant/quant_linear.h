#pragma once
// Simulation of a quantized decoder: weights replaced by their dequantized quantized values,
// and a ForwardHook that quantizes each Linear input as the plan says (per-token dynamic, or
// static per-channel with the MDQFO bounds plus the DABC compensation of Eq. 7).
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "model/decoder.h"
#include "session.h"

namespace mq::core {

// Per input group: what the simulation applies to its input.
struct GroupQuant {
    at::Tensor alpha; // [K] clipping bounds (per-channel static)
    at::Tensor mask;  // [K] float 0/1 DABC mask (per-channel static)
    double tokenClip = 0.0; // per-token or per-tensor: this group's clip ratio (0: the settings')
    float actAmax = 0.f;    // NVFP4 activations: the calibration's max |x| of the group (static global scale)
    float actGlobalScale = 0.f; // ... or the global scale itself (> 0: read from an export's input_global_scale)
    at::Tensor smooth;      // [K] SmoothQuant factors: the input is divided by them first (undefined: none)
    // The calibration's per-channel range of the group's input [K] (pooled statistics), and the
    // range of the whole input as the Linear sees it (smoothed: each channel's bounds divided by
    // its factor), which static per-tensor activations quantize with (setInputRange).
    at::Tensor channelMin, channelMax;
    double rangeMin = 0.0, rangeMax = 0.0;
};

// rangeMin/rangeMax and actAmax of g from channelMin/channelMax and g.smooth (call again once the
// smoothing factors are set; folding them into a norm later leaves the range as it is).
void setInputRange(GroupQuant& g);

// The clip ratio group g quantizes with: its searched one, else the settings' (as float32, the
// value an export stores).
double effectiveClip(const GroupQuant& g, const QuantSettings& st);
// RTN's integer activations of group g at a clip ratio: per token (whole, or per st.actGroupSize
// channels), per tensor static (g's calibration range) or per tensor dynamic, by st.act. The
// simulation (QuantSimHook) and the plan's clip search both quantize through it.
at::Tensor fakeQuantIntActivations(const at::Tensor& x, const QuantSettings& st, const GroupQuant& g, double clip);

class QuantSimHook : public ForwardHook {
public:
    QuantSimHook(const QuantSettings& settings, std::vector<GroupQuant> groups);
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override;
    // It only reads its settings and groups while a forward runs; the GPU kernels' path
    // (--device cuda) is not claimed.
    bool concurrent() const override;
    // Groups with index >= limit pass their input through unchanged (MDQFO's network order).
    void setActiveLimit(int limit) { m_limit = limit; }
    // Group g's quantization parameters (MDQFO fills them in as it goes).
    void setGroup(int g, GroupQuant q) { m_groups[size_t(g)] = std::move(q); }
    const GroupQuant& group(int g) const { return m_groups.at(size_t(g)); }

private:
    QuantSettings m_settings;
    std::vector<GroupQuant> m_groups;
    int m_limit = 1 << 30;
};

// A copy of the model whose Linear weights are quantized per settings.weight (simulated); a
// Linear with a weight in `stored` (the plan's GPTQ weights, by module name) gets that instead.
// NVFP4 weights of one input group share one global scale (nvfp4SharedGlobalScale).
// smoothByGroup (SmoothQuant, by input group index): each weight's columns multiplied by its
// group's factors before it is quantized (stored weights include them already).
// foldByGroup (the deployable mode, by input group index): each weight's columns multiplied by
// its group's activation scales s before it is quantized and divided by them after,
// Q(W diag(s)) diag(1/s) (foldQuantWeight).
DecoderModel quantizeWeights(const DecoderModel& model, const WeightQuantSpec& spec,
                             const std::map<std::string, StoredWeight>* stored = nullptr,
                             const std::vector<at::Tensor>* smoothByGroup = nullptr,
                             const std::vector<at::Tensor>* foldByGroup = nullptr);

// The deployable mode's activation scales of each group, s_c = alpha_c / (2^(abits-1) - 1)
// (undefined where a group has no bounds).
std::vector<at::Tensor> foldScales(const std::vector<GroupQuant>& groups, int abits);
// Q(W diag(s)) diag(1/s): the weight an integer GEMM with folded activation scales computes with.
at::Tensor foldQuantWeight(const at::Tensor& w, const at::Tensor& s, const WeightQuantSpec& spec);

// NVFP4's global scale shared by fused siblings (one input group's Linears): 448 * 6 over the
// largest |w| of them all.
float nvfp4SharedGlobalScale(const std::vector<at::Tensor>& weights);

// What the hook takes from the calibration statistics alone (NVFP4 activations' static global
// scale: max |x| of each group), groups in model order.
std::vector<GroupQuant> groupQuantFromStats(const DecoderModel& model, const Session& s);

// The hook's parameters from a session plan (groups in model order). Throws Error when the
// plan lacks a group the settings need.
std::vector<GroupQuant> groupQuantFromPlan(const DecoderModel& model, const Session& s);

} // namespace mq::core
