#pragma once
// The stages of a MorphoQuant study, shared by the CLI and the GUI's jobs:
// calibrate (statistics into the session) -> plan (DABC masks, MDQFO clipping bounds) ->
// simulate / evaluate -> export. Each takes a ProgressSink and a CancelToken and leaves the
// session untouched when it throws (work happens on copies that are swapped in at the end).
#include <functional>
#include <memory>
#include <string>

#include "calib/calib_data.h"
#include "common/progress.h"
#include "eval/perplexity.h"
#include "io/token_data.h"
#include "model/decoder.h"
#include "quant/quant_linear.h"
#include "session.h"

namespace mq::core {

// Sets session.model / modules / groups from a loaded model (clears stats, plans, curves,
// evaluations and errors when the model differs from what the session held).
void attachModel(Session& s, const DecoderModel& model);

// Runs the calibration sequences through the full-precision model and stores per-group,
// per-modality statistics and CalibrationInfo (source, kind, batch size, counts) in the
// session; clears the plan, curves and errors built on earlier statistics. async: statistics on a
// background thread (identical results; pays off when the forward runs on a GPU — on a CPU the
// inline path measured cheaper, see bench/README.md).
void calibrate(Session& s, const DecoderModel& model, const CalibrationData& calib, const ProgressSink& progress = {},
               const CancelToken* cancel = nullptr, bool async = false);
void calibrate(Session& s, const DecoderModel& model, const TokenDataset& calib, int batchSize,
               const ProgressSink& progress = {}, const CancelToken* cancel = nullptr, bool async = false);

// Builds the quantization plan: for morphoquant, DABC masks from the statistics, then MDQFO
// per input group in network order, each group's inputs captured through the model whose
// earlier groups are already quantized. Stores settings, plans and loss curves; clears
// Session::errors (they described the old plan).
// onCapture, when set, sees each decoder group's captured input x [rows, K] (float32, all
// calibration rows in batch order) right after its capture and before MDQFO runs on it; it
// is called only for static per-channel activations (the only case that captures). It must
// not modify x.
using CaptureObserver = std::function<void(int group, const at::Tensor& x)>;
void buildPlan(Session& s, const DecoderModel& model, const CalibrationData& calib, const QuantSettings& settings,
               const ProgressSink& progress = {}, const CancelToken* cancel = nullptr,
               const CaptureObserver& onCapture = {});
void buildPlan(Session& s, const DecoderModel& model, const TokenDataset& calib, const QuantSettings& settings,
               int batchSize, const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);

// Counts the tokens of the decoder's first group (every decoder token passes it once) and
// passes every input on to inner (null: returns it unchanged).
class CountingHook : public ForwardHook {
public:
    explicit CountingHook(ForwardHook* inner) : m_inner(inner) {}
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        if (group == 0)
            m_tokens += x.size(0);
        return m_inner ? m_inner->onLinearInput(group, x, modality) : x;
    }
    bool observeAsMade(int group, const at::Tensor& out, const at::Tensor& modality, const RowMaker& make) override
    {
        if (!m_inner || !m_inner->observeAsMade(group, out, modality, make))
            return false;
        if (group == 0)
            m_tokens += out.size(0);
        return true;
    }
    int64_t tokens() const { return m_tokens; }

private:
    ForwardHook* m_inner;
    int64_t m_tokens = 0;
};

// Pieces of calibrate shared with its layer-wise twin: the input groups statistics are kept
// for (the decoder's, then the calibration source's encoder groups, whose width 0 is learnt
// from their first input);
void calibrationGroups(const DecoderModel& model, const CalibrationData& calib, std::vector<std::string>* names,
                       std::vector<int64_t>* channels);
// attaches the model and stores the
// statistics of `names` (decoder groups, then encoder groups) and CalibrationInfo in s;
// clears the plan, curves and errors built on earlier statistics.
void storeCalibration(Session& s, const DecoderModel& model, const CalibrationData& calib,
                      const std::vector<std::string>& names, std::map<std::string, InputStats> stats);

// Pieces of buildPlan shared with its layer-wise twin (streaming.h):
// the settings as the method implies them (rtn: per-token activations, no DABC/MDQFO;
// morphoquant: static per-channel activations and DABC masks computed into w.plans); clears
// curves and errors and sets w.settings;
// A working copy of s for a stage that leaves the statistics as they are (the plan): every
// field is copied except the statistics, which the copy borrows (moved in, and moved back to s
// however the stage ends). commit() replaces s by the copy. A 7B session's statistics are
// 27 MB per layer; a full copy per stage showed in the peak memory of a 28-layer run.
class PlanWorkingCopy {
public:
    explicit PlanWorkingCopy(Session& s);
    ~PlanWorkingCopy();
    PlanWorkingCopy(const PlanWorkingCopy&) = delete;
    PlanWorkingCopy& operator=(const PlanWorkingCopy&) = delete;
    Session& get() { return m_w; }
    void commit();

private:
    Session& m_s;
    Session m_w;
    bool m_done = false;
};

QuantSettings preparePlan(Session& w, const QuantSettings& settings);
// one group's plan from its captured input x [rows, K] and alpha0 [K] (max |X_c| over every
// captured row): MDQFO's bounds (or alpha0 without MDQFO) and loss curve into w; returns what
// the simulation hook applies to the group;
GroupQuant planGroup(Session& w, const std::string& name, const at::Tensor& x, const at::Tensor& alpha0,
                     const QuantSettings& settings, const CancelToken* cancel);
// the "mdqfo" progress event of group g of n, with its loss curve as series.
void reportGroupPlan(const ProgressSink& progress, size_t g, size_t n, const std::string& name, const Session& w);

// The simulated quantized model and its activation hook, from the session's plan.
struct QuantizedModel {
    DecoderModel model;
    std::unique_ptr<QuantSimHook> hook;
};
// SmoothQuant's 1/s of each layer's q/k/v and gate/up groups folded into the RMSNorms before
// them: the model with those norms divided (DecoderModel::withNormsDividedBy), the factors moved
// out of `groups` (the hook no longer divides there). The evaluation and the exports both fold
// through here, so an export's norms are the evaluated ones bit for bit.
DecoderModel foldSmoothingIntoNorms(const DecoderModel& model, std::vector<GroupQuant>& groups);
// quantizeWeightsToo false: the model's weights are already quantized (a loaded export).
// foldSmoothing: SmoothQuant's 1/s of the q/k/v and gate/up groups folded into the norms
// before them (DecoderModel::withNormsDividedBy) instead of dividing in the hook, so that the
// model computes exactly what its export computes (evaluation); false keeps the division in
// the hook (the layer errors feed the full-precision model's inputs to the hook).
QuantizedModel makeQuantizedModel(const DecoderModel& model, const Session& s, bool quantizeWeightsToo = true,
                                  bool foldSmoothing = false);

// The decoder's input groups of a session (those of its modules, network order): the groups
// a plan quantizes, without the encoder towers' groups a manifest calibration adds.
std::vector<std::string> decoderGroups(const Session& s);

// DABC-compensated input channels and all input channels over the decoder's groups (a group
// without a plan counts its channels as unmasked).
struct ChannelCount {
    int64_t masked = 0;
    int64_t total = 0;
};
ChannelCount maskedChannels(const Session& s);

// "fnv1a64:<hex>" of config.json and every shard's header and size (not the tensor bytes: a 7B
// model would take minutes to hash).
std::string modelFingerprint(const std::string& dir);

} // namespace mq::core
