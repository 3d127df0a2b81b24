#pragma once
// The quantization error of every decoder Linear under a plan (Session::errors, see ErrorStat
// in session.h): the full-precision model runs the calibration batches; at each decoder input
// group the hook takes the full-precision input x and, for every member Linear i, compares
//   y  = W_i x + b_i                       (full precision)
//   yq = W_Q,i q(x) + b_i                  (the plan: quantized weight, and q = the plan's
//                                           activation quantization incl. DABC compensation)
// token by token, per modality and pooled (outputs in float32, per-token sums in float64,
// accumulated in float64). The forward continues
// with the full-precision x, so every module's error is its own, not the accumulated error of
// the layers before it.
#include <array>
#include <functional>
#include <vector>

#include "calib/calib_data.h"
#include "common/progress.h"
#include "model/decoder.h"
#include "session.h"

namespace mq::core {

// SQNR is stored clamped to [-kSqnrClampDb, +kSqnrClampDb] dB: identical outputs (no error at
// all, e.g. weights and activations both unquantized) read +200 dB instead of +inf, and an
// all-zero reference with a nonzero error -200 dB, finite values that HDF5 attributes, JSON
// and plots all hold. 200 dB is far above float32's own resolution (~140 dB), so a clamped
// value never hides a real error.
constexpr double kSqnrClampDb = 200.0;

// Sums over tokens of one module and one modality (or pooled).
struct ErrorSums {
    double signal = 0.0;  // sum_t ||y_t||^2
    double noise = 0.0;   // sum_t ||y_t - yq_t||^2
    double cosine = 0.0;  // sum_t cos(y_t, yq_t); a token with yq_t == y_t counts 1
    int64_t tokens = 0;
};

// The stored figures from the sums: tokens 0 gives {0, 0, 0}; otherwise
// sqnrDb = clamp(10 log10(signal / noise)) (noise 0: +kSqnrClampDb) and cosine = mean.
ErrorStat errorStat(const ErrorSums& sums);
// A module's figures from its sums per modality: each modality's, and the pooled ones from
// their totals.
ModuleError moduleError(const std::string& module, const std::array<ErrorSums, kNumModalities>& sums);

// The hook that measures them: at each decoder group it compares every member's output on the
// full-precision input x with its output through the plan (quantHook's q(x), the member's
// quantized weight), accumulates the sums per module and modality, and passes x on unchanged.
// qWeight gives a module's quantized weight (a layer-wise run hands in the current layer's
// materialized weights); the full-precision output is the forward's own (onLinearOutput).
class LayerErrorHook : public ForwardHook {
public:
    using WeightOf = std::function<at::Tensor(int module)>;
    LayerErrorHook(const DecoderModel& fp, ForwardHook* quantHook, WeightOf qWeight);
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override;
    // The forward's own full-precision output of a member is the reference (not computed again).
    void onLinearOutput(int module, const at::Tensor& input, const at::Tensor& y) override;
    // Sums of module i (all zero when no token reached it).
    std::array<ErrorSums, kNumModalities> sums(size_t i) const;
    // One ModuleError per decoder Linear in network order.
    std::vector<ModuleError> results() const;
    // Tokens seen so far (every decoder token passes group 0 once).
    int64_t tokens() const { return m_tokens; }

private:
    const DecoderModel& m_fp;
    ForwardHook* m_quantHook;
    WeightOf m_qWeight;
    std::vector<std::vector<int>> m_members;
    std::vector<at::Tensor> m_acc; // per module: [modalities, columns] float64
    int64_t m_tokens = 0;
    int m_pendingGroup = -1;       // group whose members run next, and its inputs
    at::Tensor m_x, m_xq, m_index;
    void accumulate(int module, const at::Tensor& y, const at::Tensor& yq);
};

// The error sample: the first maxBatches batches of calib (maxBatches <= 0: all of them), cut
// to whole sequences so that tokens x hidden stays within maxElements (at least one sequence).
// The default, 2^21 elements (8 MB of float32 hidden states), leaves stories260K's two batches
// of 8 x 257 tokens whole (263K elements) and takes 2 sequences of 256 tokens on a 7B-shaped
// model (hidden 3584): the error pass then costs about a quarter of a forward over a
// 2048-token calibration set instead of two (bench/README.md, "Where the time goes").
constexpr int64_t kErrorSampleElements = int64_t(1) << 21;
std::vector<DecoderInput> errorInputs(const CalibrationData& calib, const DecoderModel& model, int maxBatches,
                                      int64_t maxElements = kErrorSampleElements);

// Session::errors for the session's plan: one ModuleError per decoder Linear in network order,
// measured on the error sample (errorInputs). fp is the
// full-precision model the plan was built for. Reports stage "errors" after each batch and
// checks cancel before each. Throws Error when the session has no plan.
std::vector<ModuleError> computeLayerErrors(const DecoderModel& fp, const Session& s, const CalibrationData& calib,
                                            int maxBatches = 2, const ProgressSink& progress = {},
                                            const CancelToken* cancel = nullptr);

} // namespace mq::core
