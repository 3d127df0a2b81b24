#pragma once
// The stages of a MorphoQuant study, shared by the CLI and the GUI's jobs:
// calibrate (statistics into the session) -> plan (DABC masks, MDQFO clipping bounds) ->
// simulate / evaluate -> export. Each takes a ProgressSink and a CancelToken and leaves the
// session untouched when it throws (work happens on copies that are swapped in at the end).
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

// Sets session.model / modules / groups from a loaded model (clears stats and plans when the
// model differs from what the session held).
void attachModel(Session& s, const DecoderModel& model);

// Runs the calibration sequences through the full-precision model and stores per-group,
// per-modality statistics and CalibrationInfo in the session. async: statistics on a
// background thread (identical results; pays off when the forward runs on a GPU — on a CPU the
// inline path measured cheaper, see bench/README.md).
void calibrate(Session& s, const DecoderModel& model, const CalibrationData& calib, const ProgressSink& progress = {},
               const CancelToken* cancel = nullptr, bool async = false);
void calibrate(Session& s, const DecoderModel& model, const TokenDataset& calib, int batchSize,
               const ProgressSink& progress = {}, const CancelToken* cancel = nullptr, bool async = false);

// Builds the quantization plan: for morphoquant, DABC masks from the statistics, then MDQFO
// per input group in network order, each group's inputs captured through the model whose
// earlier groups are already quantized. Stores settings, plans and loss curves.
void buildPlan(Session& s, const DecoderModel& model, const CalibrationData& calib, const QuantSettings& settings,
               const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);
void buildPlan(Session& s, const DecoderModel& model, const TokenDataset& calib, const QuantSettings& settings,
               int batchSize, const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);

// The simulated quantized model and its activation hook, from the session's plan.
struct QuantizedModel {
    DecoderModel model;
    std::unique_ptr<QuantSimHook> hook;
};
// quantizeWeightsToo false: the model's weights are already quantized (a loaded export).
QuantizedModel makeQuantizedModel(const DecoderModel& model, const Session& s, bool quantizeWeightsToo = true);

// "fnv1a64:<hex>" of config.json and every shard's header and size (not the tensor bytes: a 7B
// model would take minutes to hash).
std::string modelFingerprint(const std::string& dir);

} // namespace mq::core
