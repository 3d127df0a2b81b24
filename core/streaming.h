#pragma once
// Layer-wise runs of the pipeline's stages, for models larger than memory: every batch's
// hidden state advances one decoder layer at a time, so only one layer's weights are
// materialized at once (a streamed DecoderModel reads them from the mapped checkpoint and gives
// the pages back afterwards) and each layer is read once per stage instead of once per batch.
// The hidden states are kept in memory up to StreamOptions::memBudget bytes and spilled to an
// unlinked temporary file past it (nothing is left behind when a run is killed).
//
// Each stage computes what its in-memory counterpart in pipeline.h / eval/ computes, batch by
// batch with the same operations: calibrateStreamed == calibrate and buildPlanStreamed ==
// buildPlan bit for bit (tests/tst_streaming.cpp), evaluateStreamed == evaluateNll up to the
// float32 GEMM's summation order over vocabulary chunks.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "calib/calib_data.h"
#include "common/progress.h"
#include "eval/layer_error.h"
#include "eval/perplexity.h"
#include "io/token_data.h"
#include "model/decoder.h"
#include "pipeline.h"
#include "session.h"
#include "streaming_options.h"

namespace mq::core {

// Hidden states of a set of batches, slot by slot: in memory while the budget allows, else in
// a temporary file (opened, then unlinked at once). Each slot keeps its shape and dtype.
// Not thread-safe.
class StateStore {
public:
    explicit StateStore(const StreamOptions& options);
    ~StateStore();
    StateStore(const StateStore&) = delete;
    StateStore& operator=(const StateStore&) = delete;
    // Stores t (float32) in slot i; a slot written again keeps its place (same shape required).
    // put and get of different slots that exist already may run at the same time (the
    // batches of a layer side by side); a new slot may not.
    void put(size_t i, const at::Tensor& t);
    at::Tensor get(size_t i) const;
    int64_t residentBytes() const { return m_resident; }
    int64_t spilledBytes() const { return m_spilled; }

private:
    struct Slot {
        at::Tensor resident;
        int64_t offset = -1; // in the spill file
        std::vector<int64_t> shape;
    };
    void openSpill();
    StreamOptions m_opt;
    std::vector<Slot> m_slots;
    int m_fd = -1;
    int64_t m_resident = 0, m_spilled = 0;
};

// calibrate() of pipeline.h, layer by layer.
void calibrateStreamed(Session& s, const DecoderModel& model, const CalibrationData& calib,
                       const ProgressSink& progress = {}, const CancelToken* cancel = nullptr,
                       const StreamOptions& options = {});

// buildPlan() of pipeline.h, layer by layer: each group's input is captured through the layers
// and groups already quantized before it, exactly as buildPlan does, but computed once (the
// batches stop at each group's input and go on from there after its MDQFO: one forward of the
// layer in all instead of one per group). onCapture sees, per group, the rows MDQFO works on
// (every n-th row, MdqfoSettings::sampleElements) and alpha0 (max |X_c| over every row).
// With errors non-null, the layer errors of the new plan (computeLayerErrorsStreamed with
// errorBatches) are measured in the same pass, each layer's weights read once for both.
using SampledCaptureObserver = std::function<void(int group, const at::Tensor& rows, const at::Tensor& alpha0)>;
void buildPlanStreamed(Session& s, const DecoderModel& model, const CalibrationData& calib,
                       const QuantSettings& settings, const ProgressSink& progress = {},
                       const CancelToken* cancel = nullptr, const SampledCaptureObserver& onCapture = {},
                       const StreamOptions& options = {}, std::vector<ModuleError>* errors = nullptr,
                       int errorBatches = 2);

// computeLayerErrors() of eval/layer_error.h, layer by layer (on the same error sample,
// errorInputs()).
std::vector<ModuleError> computeLayerErrorsStreamed(const DecoderModel& fp, const Session& s,
                                                    const CalibrationData& calib, int maxBatches = 2,
                                                    const ProgressSink& progress = {},
                                                    const CancelToken* cancel = nullptr,
                                                    const StreamOptions& options = {});

// evaluateNll() of eval/perplexity.h, layer by layer; the logits are never held whole
// (DecoderModel::nextTokenNll).
NllResult evaluateStreamed(const DecoderModel& model, const TokenDataset& data, ForwardHook* hook = nullptr,
                           int batchSize = 8, const ProgressSink& progress = {}, const CancelToken* cancel = nullptr,
                           const StreamOptions& options = {});

// A quantized model and its full-precision reference evaluated together, layer by layer, on
// the same batches: both perplexities and the mean per-token KL(reference || quantized) of the
// next-token distributions (nats). q is a quantized copy of fp (quantizeWeights: each layer's
// weights are then read once for both) or another folder with the same architecture, final
// norm and lm_head (an export); qHook is its activation quantization. Memory: the hidden states
// of both runs, within options.memBudget together.
struct EvalPair {
    NllResult ref, quantized;
    double kl = 0.0; // mean over predicted tokens
    // Mean KL by the modality of the compared position (-1 where none), and those positions.
    std::array<double, kNumModalities> klByModality{-1.0, -1.0, -1.0, -1.0};
    std::array<int64_t, kNumModalities> tokensByModality{};
};
EvalPair evaluatePairStreamed(const DecoderModel& fp, const DecoderModel& q, ForwardHook* qHook,
                              const TokenDataset& data, int batchSize = 8, const ProgressSink& progress = {},
                              const CancelToken* cancel = nullptr, const StreamOptions& options = {});

// The same on prepared inputs (a Qwen2.5-Omni manifest: encoder features placed, modality tags
// and multimodal positions), with the KL per modality of the compared positions. The targets are
// every position's next token, media placeholders included. encoders: the quantized model's
// inputs come from these quantized encoders (the reference's from full-precision ones).
EvalPair evaluatePairStreamed(const DecoderModel& fp, const DecoderModel& q, ForwardHook* qHook,
                              const CalibrationData& data, const ProgressSink& progress = {},
                              const CancelToken* cancel = nullptr, const StreamOptions& options = {},
                              const EncoderQuant* encoders = nullptr);

// The n of "every n-th row" MDQFO keeps of `rows` captured rows of a group of `channels`:
// at most st.sampleRows rows when set, else rows * channels <= st.sampleElements (0: all).
int64_t sampleStride(int64_t rows, int64_t channels, const MdqfoSettings& st);

} // namespace mq::core
